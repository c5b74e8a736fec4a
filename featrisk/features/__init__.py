"""Feature families: an explicit, ordered registry.

Each family module declares ``COLUMNS`` (a tuple of :class:`Column`) and one pure function
``compute(ctx) -> dict[str, float]`` that reads an :class:`ImageContext`. The order of
:data:`FAMILIES` is the order of the columns in every feature table.
"""

from __future__ import annotations

from types import ModuleType

from featrisk.features import (
    blur,
    color,
    contrast,
    edges,
    exposure,
    geometry,
    jpeg,
    noise,
    nss,
    occlusion,
    overlay,
    warp,
)
from featrisk.features._base import Column, ImageContext

#: Family modules in column order.
FAMILIES: tuple[ModuleType, ...] = (
    geometry, blur, exposure, contrast, noise, jpeg, edges, color, occlusion, nss, warp, overlay,
)

#: Documentation of every feature column, in schema order.
COLUMNS: tuple[Column, ...] = tuple(c for fam in FAMILIES for c in fam.COLUMNS)


def compute_all(ctx: ImageContext) -> dict[str, float]:
    """Run every family on one image context; return values keyed by column name."""
    row: dict[str, float] = {}
    for fam in FAMILIES:
        row.update(fam.compute(ctx))
    return row


__all__ = ["COLUMNS", "FAMILIES", "Column", "ImageContext", "compute_all"]
