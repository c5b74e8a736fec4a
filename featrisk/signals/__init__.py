"""Per-image failure scores from the image classifier's own outputs (NumPy and pandas only).

Where the image statistics of :func:`featrisk.extract` look at the image before the
classifier runs, these signals read what the classifier produced: its logits or softmax
probabilities (:func:`logit_scores`, with :func:`choose_pnorm`), several stochastic passes
(:func:`mc_scores`), its penultimate-layer embeddings (:class:`EmbeddingScorer`) and the
confusions of its predicted classes on validation (:class:`ConfusionScorer`).

Every function and ``transform`` returns a DataFrame with one float64 row per image (index
0..n-1) whose columns are named ``signal_<name>`` and oriented so that higher = more likely
wrong; each docstring gives the columns' ranges. The scorers are fitted on validation images
(not the images they will score) and persist as JSON-ready dicts (``to_dict`` /
``from_dict``), never pickles.
"""

from featrisk.signals.confusion import ConfusionScorer
from featrisk.signals.embedding import EmbeddingScorer
from featrisk.signals.logits import choose_pnorm, logit_scores
from featrisk.signals.montecarlo import mc_scores

__all__ = ["ConfusionScorer", "EmbeddingScorer", "choose_pnorm", "logit_scores", "mc_scores"]
