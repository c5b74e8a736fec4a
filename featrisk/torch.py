"""Run a PyTorch image classifier over images and keep what :mod:`featrisk.signals` reads.

Install with ``pip install featrisk[torch]``; the rest of featrisk never imports torch.
:func:`run` takes the user's ``torch.nn.Module`` and the user's preprocessing, decodes the
images exactly as :func:`featrisk.extract` does (paths, encoded bytes, arrays, PIL images;
see :mod:`featrisk.inputs`), and returns per image:

- ``logits``: the model's output, for :func:`featrisk.signals.logit_scores`;
- ``embeddings``: the penultimate representation, caught by a forward hook on the *input*
  of a named layer (by default the last ``nn.Linear``), for
  :class:`featrisk.signals.EmbeddingScorer`;
- ``mc_probs``: softmax probabilities of T Monte Carlo dropout passes (dropout modules in
  train mode, everything else, batch norm included, in eval mode), for
  :func:`featrisk.signals.mc_scores`.

An image that cannot be decoded or preprocessed gets NaN rows and a message in ``error``;
the rest of the batch is unaffected. The model's own train/eval state is restored.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import pandas as pd

from featrisk.errors import DecodeError
from featrisk.inputs import CHANNEL_ORDERS, as_items, decode_item, item_name

__all__ = ["ClassifierOutputs", "imagenet_preprocess", "run"]

#: torchvision's ImageNet normalisation (RGB order, values in [0, 1]).
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
_INSTALL = "featrisk.torch needs PyTorch; install it with `pip install featrisk[torch]`"


def _torch() -> Any:
    try:
        import torch
    except ImportError as exc:  # pragma: no cover - the torch extra is installed in tests
        raise ImportError(_INSTALL) from exc
    return torch


def imagenet_preprocess(size: int = 224, resize: int = 256, *,
                        mean: Sequence[float] = IMAGENET_MEAN,
                        std: Sequence[float] = IMAGENET_STD) -> Callable[[np.ndarray], np.ndarray]:
    """The usual ImageNet evaluation preprocessing, as a function of an RGB uint8 array.

    Short side to ``resize`` px (area averaging when shrinking), central ``size`` x ``size``
    crop, values to [0, 1], then ``(x - mean) / std`` per channel. Returns a float32
    ``3 x size x size`` array. Give :func:`run` your own function when your model was
    trained with another pipeline.
    """
    m = np.asarray(mean, np.float32).reshape(3, 1, 1)
    s = np.asarray(std, np.float32).reshape(3, 1, 1)

    def preprocess(rgb: np.ndarray) -> np.ndarray:
        h, w = rgb.shape[:2]
        k = resize / min(h, w)
        nw, nh = max(size, round(w * k)), max(size, round(h * k))
        img = cv2.resize(rgb, (nw, nh), interpolation=cv2.INTER_AREA if k < 1 else cv2.INTER_LINEAR)
        top, left = (nh - size) // 2, (nw - size) // 2
        crop = img[top:top + size, left:left + size].astype(np.float32) / 255.0
        return (crop.transpose(2, 0, 1) - m) / s

    return preprocess


@dataclass(frozen=True)
class ClassifierOutputs:
    """What :func:`run` returns: one row per image, in input order.

    ``logits`` is ``(n, n_classes)``; ``embeddings`` ``(n, dim)`` or None; ``mc_probs``
    ``(n_passes, n, n_classes)`` or None. Rows of images that failed are NaN and ``error``
    says why (None where the image ran).
    """

    path: list[str]
    error: list[str | None]
    logits: np.ndarray
    embeddings: np.ndarray | None
    mc_probs: np.ndarray | None

    @property
    def ok(self) -> np.ndarray:
        """True for the images that ran."""
        return np.array([e is None for e in self.error], dtype=bool)

    def table(self) -> pd.DataFrame:
        """``path``, ``error`` and the predicted class (``pred_class``, -1 where it failed)."""
        pred = np.full(len(self.path), -1)
        ok = self.ok
        pred[ok] = np.argmax(self.logits[ok], axis=1)
        return pd.DataFrame({"path": self.path, "error": self.error, "pred_class": pred})


def _embedding_module(model: Any, layer: str | None) -> Any:
    torch = _torch()
    modules = dict(model.named_modules())
    if layer is None or layer == "":
        return None
    if layer == "auto":
        linear = [m for m in modules.values() if isinstance(m, torch.nn.Linear)]
        if not linear:
            raise ValueError("embedding_layer='auto' takes the input of the model's last "
                             "nn.Linear, but the model has none; pass the name of the layer "
                             "whose input is the embedding, or embedding_layer=None")
        return linear[-1]
    if layer not in modules:
        names = ", ".join(n for n in modules if n)[:300]
        raise ValueError(f"embedding_layer={layer!r} is not a module of the model; its "
                         f"modules are: {names}")
    return modules[layer]


def _dropouts(model: Any) -> list[Any]:
    nn = _torch().nn
    kinds = (nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Dropout3d, nn.AlphaDropout,
             nn.FeatureAlphaDropout)
    return [m for m in model.modules() if isinstance(m, kinds)]


def _check_args(batch_size: int, mc_passes: int, channel_order: str) -> None:
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    if isinstance(mc_passes, bool) or not isinstance(mc_passes, int) or mc_passes < 0 \
            or mc_passes == 1:
        raise ValueError(f"mc_passes must be 0 (no Monte Carlo dropout) or at least 2, got "
                         f"{mc_passes!r}")
    if channel_order not in CHANNEL_ORDERS:
        raise ValueError(f"channel_order must be one of {', '.join(CHANNEL_ORDERS)}, got "
                         f"{channel_order!r}")


def _inputs(items: list[Any], start: int, preprocess: Callable[[np.ndarray], Any],
            channel_order: str, errors: list[str | None]) -> tuple[list[int], list[np.ndarray]]:
    """Decode and preprocess one batch; failures go to ``errors`` by position."""
    rows, arrays = [], []
    for i, item in enumerate(items, start):
        name = item_name(item, i)
        try:
            rgb = decode_item(item, name, channel_order=channel_order).rgb
        except DecodeError as exc:
            errors[i] = str(exc)
            continue
        try:
            x = np.asarray(preprocess(rgb), dtype=np.float32)
        except Exception as exc:  # the user's function: any failure is this image's
            errors[i] = f"{name}: preprocess failed: {type(exc).__name__}: {exc}"
            continue
        if x.ndim != 3:
            errors[i] = (f"{name}: preprocess returned shape {x.shape}; it must return one "
                         "image as a C x H x W array")
            continue
        rows.append(i)
        arrays.append(x)
    return rows, arrays


def _logits_of(out: Any, n: int) -> Any:
    torch = _torch()
    if not isinstance(out, torch.Tensor) or out.ndim != 2 or out.shape[0] != n:
        got = (f"a tensor of shape {tuple(out.shape)}" if isinstance(out, torch.Tensor)
               else type(out).__name__)
        raise TypeError(f"the model must return logits as a tensor of shape (batch, "
                        f"n_classes); it returned {got} for a batch of {n}")
    return out


def run(model: Any, images: Any, *, preprocess: Callable[[np.ndarray], Any] | None = None,
        batch_size: int = 64, device: Any = None, embedding_layer: str | None = "auto",
        mc_passes: int = 0, channel_order: str = "RGB", seed: int = 0,
        progress: bool = False) -> ClassifierOutputs:
    """Run ``model`` over ``images`` in batches; logits, embeddings and MC dropout passes.

    Parameters
    ----------
    model : torch.nn.Module
        The classifier; it must return logits of shape (batch, n_classes).
    images : path, bytes, array or PIL image, or a list of them (mixed is fine)
        Decoded to RGB uint8 as :func:`featrisk.extract` decodes them.
    preprocess : callable, optional
        RGB uint8 ``H x W x 3`` array -> ``C x H x W`` float array or tensor, the pipeline
        the model was trained with. Default :func:`imagenet_preprocess`.
    batch_size : int, default 64
    device : str or torch.device, optional
        Where the batches go; default the device of the model's first parameter. The model
        itself is not moved.
    embedding_layer : str or None, default "auto"
        Name (as in ``model.named_modules()``) of the layer whose input is the embedding;
        "auto" the last ``nn.Linear``; None for no embeddings.
    mc_passes : int, default 0
        Monte Carlo dropout passes (0 for none, else at least 2); the model needs
        ``torch.nn`` dropout modules.
    channel_order : {"RGB", "BGR"}, default "RGB"
        Channel order of 3- and 4-channel arrays among ``images``.
    seed : int, default 0
        Seeds torch's generator for the dropout masks.
    progress : bool, default False
        Show a progress bar (tqdm).

    Returns
    -------
    ClassifierOutputs
    """
    torch = _torch()
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    _check_args(batch_size, mc_passes, channel_order)
    dropouts = _dropouts(model) if mc_passes else []
    if mc_passes and not dropouts:
        raise ValueError(f"mc_passes={mc_passes} needs dropout, but the model has no torch.nn "
                         "dropout module (Dropout, Dropout1d/2d/3d, AlphaDropout); use "
                         "mc_passes=0, or add dropout to the model and train it with it")
    preprocess = preprocess or imagenet_preprocess()
    items = as_items(images)
    params = next(model.parameters(), None)
    device = torch.device(device) if device is not None else (
        params.device if params is not None else torch.device("cpu"))
    dtype = params.dtype if params is not None and params.is_floating_point() else torch.float32
    hooked = _embedding_module(model, embedding_layer)
    caught: list[Any] = []
    catching = False

    def catch(_module: Any, args: tuple) -> None:
        if catching:
            caught.append(args[0].detach().flatten(1))

    n = len(items)
    errors: list[str | None] = [None] * n
    logits = embeddings = mc = None
    modes = {m: m.training for m in model.modules()}
    handle = hooked.register_forward_pre_hook(catch) if hooked is not None else None
    starts = range(0, n, batch_size)
    if progress:
        from tqdm.auto import tqdm

        starts = tqdm(starts, desc="featrisk.torch", unit="batch")
    generator_state = torch.random.get_rng_state()
    torch.manual_seed(seed)
    try:
        for start in starts:
            rows, arrays = _inputs(items[start:start + batch_size], start, preprocess,
                                   channel_order, errors)
            if not rows:
                continue
            x = torch.as_tensor(np.stack(arrays)).to(device=device, dtype=dtype)
            with torch.inference_mode():
                model.eval()
                catching, caught[:] = True, []
                out = _logits_of(model(x), len(rows)).float().cpu().numpy()
                catching = False
                if logits is None:
                    logits = np.full((n, out.shape[1]), np.nan, np.float32)
                logits[rows] = out
                if hooked is not None:
                    emb = caught[0].float().cpu().numpy()
                    if embeddings is None:
                        embeddings = np.full((n, emb.shape[1]), np.nan, np.float32)
                    embeddings[rows] = emb
                if mc_passes:
                    for m in dropouts:
                        m.train()
                    passes = np.stack([torch.softmax(model(x).float(), dim=1).cpu().numpy()
                                       for _ in range(mc_passes)])
                    if mc is None:
                        mc = np.full((mc_passes, n, passes.shape[2]), np.nan, np.float32)
                    mc[:, rows] = passes
    finally:
        catching = False
        if handle is not None:
            handle.remove()
        for m, training in modes.items():
            m.train(training)
        torch.random.set_rng_state(generator_state)
    if logits is None:  # no image ran: shapes unknown
        logits = np.full((n, 0), np.nan, np.float32)
    return ClassifierOutputs(path=[item_name(it, i) for i, it in enumerate(items)], error=errors,
                             logits=logits, embeddings=embeddings, mc_probs=mc)
