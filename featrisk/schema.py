"""The feature schema: column names, their order and documentation, and table validation.

Feature names are a stable, versioned schema. Renaming, removing, adding or redefining a
column bumps :data:`SCHEMA_VERSION`; saved models record the version they were trained on and
refuse tables of another.

History
-------
1
    The first release: 96 columns.
2
    12 columns added (108 in all): ``blur_edge_ratio_{half,quarter,eighth}`` with ``_max``
    and ``_min`` (scale-normalised strongest-edge ratios, which read edge width rather than
    content and separate motion blur of different lengths) and
    ``occlusion_{row,col}_edge_prominence`` and ``occlusion_edge_prominence`` (the straight
    borders of pasted patches). The Lab view became OpenCV's 8-bit conversion, about three
    times faster; on the benchmark images ``color_cast_a``, ``_b`` and ``_strength`` moved by
    at most 0.5 Lab units.
3
    4 columns added (112 in all): ``occlusion_patch_share`` (the area a pasted rectangle's
    sharp straight borders imply) and ``occlusion_straight_border`` (the longest such
    border); and
    ``blur_motion_extent`` and ``blur_motion_cepstrum`` (the length and depth of the real
    cepstrum's negative peak, which linear motion blur puts at its length).
4
    5 columns added (117 in all), for damage the first families had no words for: the
    ``warp`` family (``warp_coherence_ratio``: edges bent by elastic, grid or lens
    distortion) and the ``overlay`` family (``overlay_veil``: fog and haze lift the darkest
    parts; ``overlay_speck_share``: snow, rain, spatter; ``overlay_radial_ratio``: zoom
    blur; ``overlay_level_gaps``: posterisation and banding).
"""

from __future__ import annotations

import pandas as pd

from featrisk.errors import SchemaError
from featrisk.features import COLUMNS

#: Version of the feature schema; part of every saved model's manifest.
SCHEMA_VERSION = "4"

#: Feature column names in table order.
FEATURE_COLUMNS: tuple[str, ...] = tuple(c.name for c in COLUMNS)

#: Columns every feature table carries besides the features.
META_COLUMNS = ("path", "error")

#: Columns that describe the stored file rather than the pixels. Images given as decoded
#: arrays or PIL images have no file: these columns are NaN in their rows, and a model
#: fills them with the middle of its training images' values (:mod:`featrisk.inputs`).
FILE_COLUMNS: tuple[str, ...] = (
    "geometry_channels", "geometry_bit_depth", "geometry_has_alpha", "geometry_bytes_per_pixel",
    "geometry_format_jpeg", "geometry_format_png", "geometry_format_other", "jpeg_quality",
    "jpeg_chroma_share")


def feature_docs() -> pd.DataFrame:
    """Documentation of every feature column.

    Returns
    -------
    DataFrame
        Indexed by feature name, with columns ``family``, ``unit``, ``range``, ``worse``
        (``"lower"``, ``"higher"``, ``"both"`` or ``"none"``), ``doc``, and ``low`` and
        ``high``: what a person would see when the value is lower or higher than usual, the
        words risk reasons use (e.g. ``"darker than usual"`` for ``exposure_mean``).
    """
    rows = [
        {"feature": c.name, "family": c.name.split("_", 1)[0], "unit": c.unit,
         "range": c.range, "worse": c.worse, "doc": c.doc, "low": c.low, "high": c.high}
        for c in COLUMNS
    ]
    return pd.DataFrame(rows).set_index("feature")


def check_feature_table(table: pd.DataFrame, *, required: tuple[str, ...] = FEATURE_COLUMNS,
                        what: str = "feature table") -> None:
    """Raise SchemaError naming every missing column, and the schema versions if they differ.

    Parameters
    ----------
    table : DataFrame
        A table from :func:`featrisk.extract` (possibly with extra columns).
    required : tuple of str
        Columns that must be present.
    what : str
        How to call the table in the message.
    """
    if not isinstance(table, pd.DataFrame):
        raise SchemaError(f"{what} must be a pandas DataFrame, got {type(table).__name__}")
    missing = [c for c in required if c not in table.columns]
    version = table.attrs.get("featrisk_schema")
    if version is not None and str(version) != SCHEMA_VERSION:
        raise SchemaError(
            f"{what} was extracted with feature schema {version}, this featrisk uses schema "
            f"{SCHEMA_VERSION}; re-run featrisk.extract on the images"
        )
    if missing:
        shown = ", ".join(missing[:10]) + (f" and {len(missing) - 10} more" if len(missing) > 10 else "")
        raise SchemaError(
            f"{what} lacks {len(missing)} required column(s): {shown}; "
            "pass the output of featrisk.extract (schema " + SCHEMA_VERSION + ")"
        )
