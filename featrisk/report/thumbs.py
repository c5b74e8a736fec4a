"""Gallery thumbnails: small JPEG data URIs, decoded by :func:`featrisk.io.read_image`."""

from __future__ import annotations

import base64

import cv2

from featrisk.errors import FeatriskError
from featrisk.io import read_image

#: Longest side of a thumbnail, in pixels.
THUMB_SIDE = 96
#: JPEG quality of thumbnails (IJG scale).
THUMB_QUALITY = 80


def thumbnail(path: str, *, side: int = THUMB_SIDE) -> str | None:
    """``data:image/jpeg;base64,...`` of the image shrunk to ``side`` px, or None if unreadable."""
    try:
        rgb = read_image(path).rgb
    except (FeatriskError, OSError):
        return None
    h, w = rgb.shape[:2]
    scale = side / max(h, w)
    if scale < 1:
        rgb = cv2.resize(rgb, (max(1, round(w * scale)), max(1, round(h * scale))),
                         interpolation=cv2.INTER_AREA)
    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR),
                           [cv2.IMWRITE_JPEG_QUALITY, THUMB_QUALITY])
    if not ok:
        return None
    return "data:image/jpeg;base64," + base64.b64encode(buf.tobytes()).decode("ascii")
