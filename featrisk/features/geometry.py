"""Geometry and file facts: size, shape, channels, format and compression rate."""

from __future__ import annotations

import math

from featrisk.features._base import Column, ImageContext
from featrisk.io import IN_MEMORY

COLUMNS = (
    Column("geometry_width", "px", "1..", "lower", "Width after EXIF orientation.",
           low="fewer pixels across than usual", high="more pixels across than usual"),
    Column("geometry_height", "px", "1..", "lower", "Height after EXIF orientation.",
           low="fewer pixels top to bottom", high="more pixels top to bottom"),
    Column("geometry_aspect_ratio", "ratio", "(0, inf)", "both",
           "Width / height; far from 1 means centre crops cut off much of the scene.",
           low="taller and narrower than usual", high="wider and flatter than usual"),
    Column("geometry_megapixels", "MP", "(0, max_pixels]", "lower", "Width x height / 1e6.",
           low="smaller picture than usual", high="larger picture than usual"),
    Column("geometry_channels", "count", "1-4",
           "none", "Channels stored in the file (1 grey, 2 grey+alpha, 3 colour, 4 colour+alpha).",
           low="fewer channels stored than usual", high="more channels stored than usual"),
    Column("geometry_bit_depth", "bits", "8, 16, 32", "none", "Bits per stored sample.",
           low="fewer bits per sample than usual", high="more bits per sample than usual"),
    Column("geometry_is_grey", "flag", "0/1", "higher",
           "1 when the decoded image has no colour (all channels equal).",
           low="in colour", high="black and white"),
    Column("geometry_has_alpha", "flag", "0/1", "higher",
           "1 when the file stores transparency (dropped on decode, as classifiers do).",
           low="no transparency stored", high="transparency stored in the file"),
    Column("geometry_bytes_per_pixel", "bytes/px", "(0, ~6]", "lower",
           "Compressed file size / pixels; very low values mean heavy compression or flat content.",
           low="fewer bytes per pixel than usual", high="more bytes per pixel than usual"),
    Column("geometry_format_jpeg", "flag", "0/1", "none", "1 for JPEG files.",
           low="not a jpeg file", high="a jpeg file"),
    Column("geometry_format_png", "flag", "0/1", "none", "1 for PNG files.",
           low="not a png file", high="a png file"),
    Column("geometry_format_other", "flag", "0/1", "none", "1 for any other format.",
           low="a jpeg or png file", high="neither a jpeg nor png file"),
)


#: Columns that describe the file (NaN for pixels given in memory).
_FILE_FACTS = ("geometry_channels", "geometry_bit_depth", "geometry_has_alpha",
               "geometry_bytes_per_pixel", "geometry_format_jpeg", "geometry_format_png",
               "geometry_format_other")


def compute(ctx: ImageContext) -> dict[str, float]:
    """Geometry and file facts of one image (no pixel statistics but the grey test)."""
    f = ctx.facts
    pixels = float(f.width * f.height)
    is_jpeg = f.format in ("JPEG", "MPO")
    is_png = f.format == "PNG"
    out = {
        "geometry_width": float(f.width),
        "geometry_height": float(f.height),
        "geometry_aspect_ratio": f.width / f.height,
        "geometry_megapixels": pixels / 1e6,
        "geometry_channels": float(f.channels),
        "geometry_bit_depth": float(f.bit_depth),
        "geometry_is_grey": float(ctx.is_grey),
        "geometry_has_alpha": float(f.has_alpha),
        "geometry_bytes_per_pixel": f.file_bytes / pixels,
        "geometry_format_jpeg": float(is_jpeg),
        "geometry_format_png": float(is_png),
        "geometry_format_other": float(not (is_jpeg or is_png)),
    }
    if f.format == IN_MEMORY:  # no file: its facts are unknown (a model fills them)
        out.update(dict.fromkeys(_FILE_FACTS, math.nan))
    return out
