"""Names of the approaches :func:`featrisk.compare` scores, as its tables and scores show them.

Apart from :mod:`featrisk.compare` so that the comparison page
(:mod:`featrisk.report.compare_page`), through which :class:`featrisk.compare.Comparison`
renders itself, can name them without importing :mod:`featrisk.compare`.
"""

from __future__ import annotations

__all__ = ["IMAGE", "STACK"]

#: The image-only risk model (:class:`featrisk.RiskModel` on the pixels alone).
IMAGE = "featrisk (image only)"
#: The forward-selected logistic stack of every input (:mod:`featrisk.stack`).
STACK = "stacked hybrid"
