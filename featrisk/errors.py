"""Exceptions raised by featrisk.

Every error names the thing that failed, the reason and, where there is one, the fix.
"""

from __future__ import annotations

from sklearn.exceptions import NotFittedError as _SklearnNotFittedError


class FeatriskError(Exception):
    """Base class of every error featrisk raises on purpose."""


class DecodeError(FeatriskError, ValueError):
    """An input file could not be read or decoded as an image.

    The message starts with the file path and says why (file not found, not an image,
    truncated, above the pixel limit, ...).
    """


class SchemaError(FeatriskError, ValueError):
    """A feature table or a saved model does not match this version's feature schema."""


class NotFittedError(FeatriskError, _SklearnNotFittedError):
    """A model method was called before ``fit`` (also scikit-learn's ``NotFittedError``,
    hence an ``AttributeError`` and a ``ValueError``)."""


class ModelFileError(FeatriskError, ValueError):
    """A saved model file is unreadable, altered, truncated or not a featrisk model."""
