"""Extraction profiles: the resolution the features are computed at.

A profile fixes how an image is decoded before the feature families run, and so what every
column's values mean. A feature table records its profile in ``attrs["featrisk_profile"]``;
a model records the profile it was fitted on and reads only tables of that profile.

``"default"``
    Decode at native resolution; most families work on a 224 px working image (see
    :mod:`featrisk.features`), and the native-resolution measures (JPEG blockiness, noise,
    native sharpness, pixel repeats) read the full image. The accurate profile.
``"fast"``
    Shrink every image to fit 40 x 400 px (short x long side; a 4:3 photo becomes 53 x 40)
    and compute every family on that one small image. JPEGs are decoded directly at 1/2,
    1/4 or 1/8 scale (libjpeg DCT scaling), which skips most of the decode. The price is
    the detail only full resolution shows: measured AUROC and speed of both profiles are in
    BENCHMARKS.md. Models and the degradation estimator are fitted per profile.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["PROFILES", "Profile", "get_profile", "profile_of"]


@dataclass(frozen=True)
class Profile:
    """How images are decoded before the features are computed.

    Attributes
    ----------
    name : str
        ``"default"`` or ``"fast"``.
    fit : (int, int) or None
        (short side, long side) in pixels the decoded image is shrunk to fit (never
        upscaled), or None to keep the native resolution.
    """

    name: str
    fit: tuple[int, int] | None

    @property
    def suffix(self) -> str:
        """File-name suffix of this profile's shipped models and cached tables ("" or "_fast")."""
        return "" if self.name == "default" else f"_{self.name}"


#: The profiles featrisk knows, by name. The fast profile's long side (400 px) keeps the
#: thinnest accepted strip (200:1, :data:`featrisk.io.MAX_SIDE_RATIO`) at least 2 px across.
PROFILES: dict[str, Profile] = {
    "default": Profile("default", None),
    "fast": Profile("fast", (40, 400)),
}


def get_profile(name: str) -> Profile:
    """The :class:`Profile` called ``name``; ValueError naming the choices otherwise."""
    try:
        return PROFILES[name]
    except (KeyError, TypeError):
        raise ValueError(f"profile must be one of {', '.join(map(repr, PROFILES))}, "
                         f"got {name!r}") from None


def profile_of(table: object) -> str:
    """The profile a feature table was extracted with (``"default"`` when it does not say)."""
    attrs = getattr(table, "attrs", None) or {}
    return str(attrs.get("featrisk_profile", "default"))
