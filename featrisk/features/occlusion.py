"""Occlusion heuristics: large flat regions, textureless tiles, centre-vs-border texture,
and large uniform dark or bright blobs.

These read a 32x32 cell grid of the working image (each cell the area mean of a per-pixel
map), so the values mean the same on a 32 px and on a 4000 px image. A sticker, a finger
over the lens, a black bar or a blown-out patch shows as one large flat connected region.
"""

from __future__ import annotations

import functools

import cv2
import numpy as np

from featrisk.features._base import Column, ImageContext, grid_means

#: Cells per side of the occlusion grid.
CELLS = 32
#: Local std (grey levels) below which a cell counts as flat.
FLAT_STD = 2.0
#: Cell mean luminance (grey levels) below / above which a flat cell is a dark / bright blob.
DARK_MEAN, BRIGHT_MEAN = 20.0, 235.0
#: Tiles per side for the textureless-tile share, and their std threshold (grey levels).
TILES, TILE_STD = 8, 3.0
#: Rows (or columns) in the running-median baseline of the edge profile.
PROFILE_WINDOW = 9
#: Smallest luminance step (grey levels) across a pasted patch's border.
PATCH_STEP = 12
#: A border step must be at least this many times the steps just before and after it: a
#: pasted border is one pixel sharp at native resolution (two once resized), natural edges
#: spread over more.
PATCH_SHARPNESS = 2
#: Gaps of up to this many pixels less one are closed along a border before measuring it.
PATCH_GAP = 5

COLUMNS = (
    Column("occlusion_flat_region_share", "share", "[0, 1]", "higher",
           "Area share of the largest 4-connected region of flat cells (local std < 2).",
           low="smaller flat region than usual", high="larger flat region than usual"),
    Column("occlusion_textureless_tile_share", "share", "[0, 1]", "higher",
           "Share of 8x8-grid tiles whose luminance std is below 3 grey levels.",
           low="fewer blank patches than usual", high="more blank patches than usual"),
    Column("occlusion_center_border_texture", "log10 ratio", "[-3, 3]", "lower",
           "log10 of mean gradient magnitude in the central half of the area over that in "
           "the border; low when the centre (where subjects sit) is covered or empty.",
           low="centre plainer than usual", high="centre busier than usual"),
    Column("occlusion_dark_blob_share", "share", "[0, 1]", "higher",
           "Area share of the largest connected region of flat cells darker than 20/255.",
           low="smaller flat dark area than usual", high="larger flat dark area than usual"),
    Column("occlusion_bright_blob_share", "share", "[0, 1]", "higher",
           "Area share of the largest connected region of flat cells brighter than 235/255.",
           low="smaller flat bright area than usual", high="larger flat bright area than usual"),
    Column("occlusion_line_strength", "share", "[0, 1]", "higher",
           "Largest share of one row or one column of the working image lying on Canny edges: "
           "the straight borders of pasted patches, bars and frames raise it.",
           low="shorter straight lines than usual", high="longer straight lines than usual"),
    Column("occlusion_row_edge_prominence", "ratio", "[0, ~20]", "higher",
           "Largest excess of one row's summed vertical-derivative magnitude (horizontal "
           "edges) over the running median of the 9 rows around it, divided by the mean row "
           "sum: the top and bottom borders of a pasted patch stand out even when they cover "
           "only part of the row; median about 1 on photos.",
           low="horizontal borders fainter than usual", high="horizontal borders stronger than usual"),
    Column("occlusion_col_edge_prominence", "ratio", "[0, ~20]", "higher",
           "The same for columns and horizontal derivatives (vertical edges: left and right "
           "borders of a patch).",
           low="vertical borders fainter than usual", high="vertical borders stronger than usual"),
    Column("occlusion_edge_prominence", "ratio", "[0, ~20]", "higher",
           "The larger of the row and column prominences.",
           low="straight borders fainter than usual", high="straight borders stronger than usual"),
    Column("occlusion_patch_share", "share", "[0, 1]", "higher",
           "Area share of a pasted rectangular patch as its straight borders imply: mean length "
           "of the two longest sharp horizontal borders over the width, times that of the two "
           "longest vertical ones over the height. A sharp border is a run of one-pixel steps "
           "of at least 12 grey levels, twice the steps just before and after (two-pixel "
           "steps when the working image is a resize, which spreads borders). Reads flat and "
           "contrasting patches best; a patch of noise-like texture barely shows (its borders "
           "are no sharper than its inside).",
           low="smaller pasted-looking patch than usual", high="larger pasted-looking patch than usual"),
    Column("occlusion_straight_border", "share", "[0, 1]", "higher",
           "Length of the longest sharp horizontal or vertical border (as in "
           "occlusion_patch_share) over the width or height it runs along.",
           low="shorter sharp straight border than usual", high="longer sharp straight border than usual"),
)


def largest_region_share(mask: np.ndarray) -> float:
    """Area share (0-1) of the largest 4-connected True region of a boolean grid."""
    if not mask.any():
        return 0.0
    _, _, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=4)
    return float(stats[1:, cv2.CC_STAT_AREA].max() / mask.size)


def center_border_ratio(mag: np.ndarray) -> float:
    """log10 ratio of mean gradient magnitude in the central region to the border region."""
    h, w = mag.shape
    top, left = round(h * 0.146), round(w * 0.146)  # central box of ~half the area
    center = mag[top : h - top, left : w - left]
    total, inner = float(mag.sum()), float(center.sum())
    border_n = mag.size - center.size
    if border_n == 0 or center.size == 0:
        return 0.0
    border_mean = (total - inner) / border_n
    return float(np.log10((inner / center.size + 1e-3) / (border_mean + 1e-3)))


def line_strength(edges: np.ndarray) -> float:
    """Largest share (0-1) of a single row or column that lies on edge pixels."""
    rows = cv2.reduce(edges, 1, cv2.REDUCE_SUM, dtype=cv2.CV_32S).max() / (255.0 * edges.shape[1])
    cols = cv2.reduce(edges, 0, cv2.REDUCE_SUM, dtype=cv2.CV_32S).max() / (255.0 * edges.shape[0])
    return float(max(rows, cols))


def profile_prominence(deriv: np.ndarray, axis: int) -> float:
    """Largest excess of a row (axis=1) or column (axis=0) sum over its running median.

    Parameters
    ----------
    deriv : ndarray of float32, shape (H, W)
        Absolute derivative across the lines sought (d/dy for rows, d/dx for columns).
    axis : int
        1 sums along rows (one value per row), 0 along columns.

    Returns
    -------
    float
        max(profile - running median over ``PROFILE_WINDOW`` lines), ignoring the two outer
        lines at each end, over the mean of the profile; 0 for profiles shorter than the
        window or without any edge.
    """
    prof = cv2.reduce(deriv, axis, cv2.REDUCE_SUM, dtype=cv2.CV_64F).ravel()
    n, half = len(prof), PROFILE_WINDOW // 2
    mean = float(prof.mean()) if n else 0.0
    if n < PROFILE_WINDOW or mean <= 0.0:
        return 0.0
    padded = np.concatenate((np.full(half, prof[0]), prof, np.full(half, prof[-1])))
    step = padded.strides[0]
    windows = np.lib.stride_tricks.as_strided(padded, (n, PROFILE_WINDOW), (step, step),
                                              writeable=False)
    resid = prof - np.sort(windows, axis=1)[:, half]  # the running median (odd window)
    return float(resid[2:-2].max() / (mean + 1e-6))


def two_longest_runs(mask: np.ndarray, *, apart: int = 1) -> tuple[int, int]:
    """Longest run of True along a row of a 2-D boolean array, and the longest on a row at
    least ``apart`` rows away from it (so that one border marked on adjacent rows counts once).

    Returns
    -------
    tuple of int
        Lengths in px (0 where there is no such run).
    """
    h, w = mask.shape
    padded = np.zeros((h, w + 1), dtype=bool)  # a False column ends every row's last run
    padded[:, :w] = mask
    flat = padded.ravel()
    change = np.flatnonzero(flat[1:] != flat[:-1]) + 1
    if flat[0]:
        change = np.concatenate(([0], change))
    if change.size == 0:
        return 0, 0
    starts = change[0::2]
    lengths = change[1::2] - starts
    rows = starts // (w + 1)
    best = int(lengths.argmax())
    others = lengths[np.abs(rows - rows[best]) >= apart]
    return int(lengths[best]), int(others.max()) if others.size else 0


def sharp_borders(grey: np.ndarray, span: int = 1, *, axis: int = 0) -> np.ndarray:
    """Sharp straight luminance steps across the rows (or columns) of a uint8 image.

    Parameters
    ----------
    grey : ndarray of uint8, shape (H, W), with more than ``3 * span`` lines along ``axis``
    span : int, default 1
        Lines a step is taken over: 1 at native resolution, where a pasted border is one
        pixel sharp; 2 on a resized image, where resampling spreads it over two.
    axis : {0, 1}, default 0
        0: steps from row to row (horizontal borders); 1: from column to column (vertical).

    Returns
    -------
    ndarray of bool, shape (H - span, W) for axis 0, (H, W - span) for axis 1
        True where the step from line i to line i + span is at least :data:`PATCH_STEP` grey
        levels and :data:`PATCH_SHARPNESS` times the steps of the same span just before and
        after it, after closing gaps shorter than :data:`PATCH_GAP` px along the line.
    """
    if axis == 0:
        step = cv2.absdiff(grey[span:], grey[:-span])
    else:
        step = cv2.absdiff(grey[:, span:], grey[:, :-span])
    ends, gap = _kernels(span, axis)
    around = cv2.dilate(step, ends, borderType=cv2.BORDER_CONSTANT, borderValue=0)
    sharp = (step >= PATCH_STEP) & (around <= step // PATCH_SHARPNESS)
    return cv2.morphologyEx(sharp.view(np.uint8), cv2.MORPH_CLOSE, gap).view(bool)


@functools.cache
def _kernels(span: int, axis: int) -> tuple[np.ndarray, np.ndarray]:
    """Structuring elements of :func:`sharp_borders`: the two lines ``span`` away, the gap."""
    ends = np.zeros((2 * span + 1, 1), np.uint8)
    ends[0] = ends[-1] = 1
    gap = np.ones((1, PATCH_GAP), np.uint8)
    return (ends, gap) if axis == 0 else (ends.T.copy(), gap.T.copy())


def patch_borders(grey: np.ndarray, span: int = 1) -> tuple[float, float]:
    """Implied patch area share and longest straight border share, both in [0, 1].

    The two longest horizontal borders (on rows at least ``span`` apart) give the patch's
    width, the two longest vertical ones its height (see :func:`sharp_borders` for
    ``span``); 0 for images under ``3 * span + 1`` px on a side.
    """
    h, w = grey.shape
    if min(h, w) <= 3 * span:
        return 0.0, 0.0
    a1, a2 = two_longest_runs(sharp_borders(grey, span), apart=span)  # horizontal borders
    d1, d2 = two_longest_runs(sharp_borders(grey, span, axis=1).T, apart=span)  # vertical
    share = (a1 + a2) / (2.0 * w) * (d1 + d2) / (2.0 * h)
    return share, max(a1 / w, d1 / h)


def compute(ctx: ImageContext) -> dict[str, float]:
    """Occlusion heuristics of one image."""
    cell_std = grid_means(ctx.local_std, CELLS)
    cell_mean = grid_means(ctx.grey_f, CELLS)
    flat = cell_std < FLAT_STD
    tile_mean = grid_means(ctx.grey_f, TILES)
    tile_sq = grid_means(ctx.grey_f * ctx.grey_f, TILES)
    tile_std = np.sqrt(np.maximum(tile_sq - tile_mean * tile_mean, 0.0))
    gx, gy, mag = ctx.gradients
    rows = profile_prominence(np.abs(gy), 1)
    cols = profile_prominence(np.abs(gx), 0)
    patch_share, straight = patch_borders(ctx.grey, 1 if ctx.rgb is ctx.native_rgb else 2)
    return {
        "occlusion_flat_region_share": largest_region_share(flat),
        "occlusion_textureless_tile_share": float((tile_std < TILE_STD).mean()),
        "occlusion_center_border_texture": center_border_ratio(mag),
        "occlusion_dark_blob_share": largest_region_share(flat & (cell_mean < DARK_MEAN)),
        "occlusion_bright_blob_share": largest_region_share(flat & (cell_mean > BRIGHT_MEAN)),
        "occlusion_line_strength": line_strength(ctx.canny),
        "occlusion_row_edge_prominence": rows,
        "occlusion_col_edge_prominence": cols,
        "occlusion_edge_prominence": max(rows, cols),
        "occlusion_patch_share": patch_share,
        "occlusion_straight_border": straight,
    }
