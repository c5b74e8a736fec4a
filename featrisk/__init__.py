"""featrisk: tell, before an image classifier runs, which images it will probably get wrong.

Hand-crafted image statistics (blur, exposure, contrast, noise, JPEG artefacts, edges,
colour, occlusion, geometry, natural-scene statistics) computed without the classifier feed a
calibrated LightGBM model of P(misclassified), fitted on the classifier's validation outcomes
and explained with TreeSHAP contributions.
"""

from featrisk import signals
from featrisk.api import default_model_path, fit, predict
from featrisk.compare import Comparison, compare
from featrisk.errors import DecodeError, FeatriskError, ModelFileError, NotFittedError, SchemaError
from featrisk.extract import extract
from featrisk.model import RiskModel
from featrisk.persist import load, save
from featrisk.prefilter import Filtered, Prefilter
from featrisk.profiles import PROFILES
from featrisk.report import report, write_junit
from featrisk.schema import FEATURE_COLUMNS, SCHEMA_VERSION, feature_docs
from featrisk.softmax import softmax_features
from featrisk.transformer import FeatureExtractor

__version__ = "0.1.0"

__all__ = [
    "FEATURE_COLUMNS",
    "Comparison",
    "Filtered",
    "PROFILES",
    "SCHEMA_VERSION",
    "DecodeError",
    "FeatriskError",
    "FeatureExtractor",
    "ModelFileError",
    "NotFittedError",
    "Prefilter",
    "RiskModel",
    "SchemaError",
    "__version__",
    "compare",
    "default_model_path",
    "extract",
    "feature_docs",
    "fit",
    "load",
    "predict",
    "report",
    "save",
    "signals",
    "softmax_features",
    "write_junit",
]
