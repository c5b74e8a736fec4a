"""The CIFAR-10 CNN: a compact VGG-style network trained on the CPU, saved and reloaded, run.

:func:`train_cnn` trains it on the 50,000 training images with the CPU build of PyTorch and
measures its clean accuracy on all 10,000 test images; :func:`load_cnn` rebuilds it from
the saved weights and summary; :func:`predict_probs` gives its softmax on uint8 images.
PyTorch is imported only inside the functions that need it (optional extra
``featrisk[bench]``).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import numpy as np

from featrisk.bench.cifar_data import CLASSES, IMAGE_SIDE, load_split

#: Per-channel RGB mean and standard deviation of CIFAR-10 train (pixel values in [0, 1]).
CIFAR_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR_STD = (0.2470, 0.2435, 0.2616)
#: CNN widths of the three stages (about 0.28 M parameters) and training hyper-parameters.
CNN_WIDTHS = (32, 64, 128)
CROP_PADDING = 4
MAX_LR = 0.2
WEIGHT_DECAY = 5e-4
LABEL_SMOOTHING = 0.1
TRAIN_BATCH = 256
EVAL_BATCH = 500
_EXTRA_HINT = "install the optional extra with `pip install featrisk[bench]` (torch CPU build)"


def import_torch():
    """Import torch or raise an ImportError naming the pip extra."""
    try:
        import torch
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(f"featrisk.bench.cifar needs PyTorch: {_EXTRA_HINT}.") from exc
    return torch


def _build_cnn(torch, *, dropout: float = 0.0, conv_dropout: float = 0.0):
    """Three-stage VGG-style CNN: conv-BN-ReLU blocks, max pooling, global max pool.

    ``conv_dropout`` > 0 adds ``nn.Dropout2d`` (whole feature maps) after each of the three
    pooling stages; ``dropout`` > 0 adds ``nn.Dropout`` on the 128 pooled features before
    the final linear layer. With both 0 (the default) the network is exactly the one
    without dropout, module for module, so its saved weights load unchanged.
    """
    nn = torch.nn
    for name, rate in (("dropout", dropout), ("conv_dropout", conv_dropout)):
        if not 0.0 <= rate < 1.0:
            raise ValueError(f"{name} must be in [0, 1); received {rate!r}")

    def block(c_in: int, c_out: int, pool: bool) -> list:
        layers = [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out),
                  nn.ReLU(inplace=True)]  # fmt: skip
        if not pool:
            return layers
        return layers + [nn.MaxPool2d(2)] + ([nn.Dropout2d(conv_dropout)] if conv_dropout else [])

    a, b, c = CNN_WIDTHS
    head = ([nn.Dropout(dropout)] if dropout else []) + [nn.Linear(c, len(CLASSES))]
    return nn.Sequential(
        *block(3, a, True),  # 32 -> 16 px
        *block(a, b, False), *block(b, b, True),  # 16 -> 8 px
        *block(b, c, False), *block(c, c, True),  # 8 -> 4 px
        nn.AdaptiveMaxPool2d(1), nn.Flatten(), *head,
    )  # fmt: skip


def _to_input(torch, images_u8):
    """uint8 NHWC numpy or uint8/float NCHW tensor -> normalised float NCHW channels-last."""
    x = torch.from_numpy(images_u8).permute(0, 3, 1, 2) if isinstance(images_u8, np.ndarray) \
        else images_u8  # fmt: skip
    mean = torch.tensor(CIFAR_MEAN).view(1, 3, 1, 1) * 255.0
    std = torch.tensor(CIFAR_STD).view(1, 3, 1, 1) * 255.0
    return ((x.float() - mean) / std).contiguous(memory_format=torch.channels_last)


def _augment(torch, batch_u8, generator):
    """Random crop with reflect padding of CROP_PADDING px and random horizontal flip."""
    n, pad = batch_u8.shape[0], CROP_PADDING
    padded = torch.nn.functional.pad(batch_u8.float(), (pad,) * 4, mode="reflect")
    dy, dx = (torch.randint(0, 2 * pad + 1, (n,), generator=generator) for _ in range(2))
    steps = torch.arange(IMAGE_SIDE)
    rows = (dy[:, None] + steps)[:, None, :, None]
    cols = (dx[:, None] + steps)[:, None, None, :]
    crops = padded[torch.arange(n)[:, None, None, None], torch.arange(3)[None, :, None, None],
                   rows, cols]  # fmt: skip
    flip = torch.rand(n, generator=generator) < 0.5
    return torch.where(flip[:, None, None, None], crops.flip(3), crops)


def predict_probs(model, images: np.ndarray, *, batch_size: int = EVAL_BATCH) -> np.ndarray:
    """Softmax probabilities (float32, shape ``(n, 10)``) of a CNN on uint8 RGB images."""
    torch = import_torch()
    model.eval()
    out = np.empty((len(images), len(CLASSES)), dtype=np.float32)
    with torch.inference_mode():
        for s in range(0, len(images), batch_size):
            logits = model(_to_input(torch, images[s : s + batch_size]))
            out[s : s + len(logits)] = torch.softmax(logits.float(), dim=1).numpy()
    return out


def load_cnn(path: str | os.PathLike[str]):
    """Rebuild the CNN and load weights saved by :func:`train_cnn` (``weights_only``).

    The dropout rates come from the JSON summary next to the weights (``.json``, keys
    ``dropout`` and ``conv_dropout``); a summary without them, or none, means no dropout.
    """
    torch = import_torch()
    summary_file = Path(path).with_suffix(".json")
    summary = json.loads(summary_file.read_text()) if summary_file.is_file() else {}
    model = _build_cnn(torch, dropout=float(summary.get("dropout", 0.0)),
                       conv_dropout=float(summary.get("conv_dropout", 0.0)))
    model = model.to(memory_format=torch.channels_last)
    model.load_state_dict(torch.load(Path(path), map_location="cpu", weights_only=True))
    return model.eval()


def train_cnn(
    root: str | os.PathLike[str],
    out_path: str | os.PathLike[str],
    *,
    epochs: int = 8,
    seed: int = 0,
    num_threads: int = 1,
    bf16: bool | None = None,
    dropout: float = 0.0,
    conv_dropout: float = 0.0,
    progress: bool = True,
) -> dict:
    """Train the CIFAR-10 CNN on the train split and measure it on all 10,000 test images.

    Network: three stages of 3x3 conv-BatchNorm-ReLU blocks of widths :data:`CNN_WIDTHS`
    with max pooling (32 -> 16 -> 8 -> 4 px), global max pooling and one linear layer,
    about 0.28 M parameters. Training: random 32 px crops of the image reflect-padded by
    4 px and random horizontal flips; SGD with Nesterov momentum 0.9, weight decay 5e-4,
    label smoothing 0.1, batches of 256 and a one-cycle learning-rate schedule peaking at
    0.2. Weights are saved with ``torch.save(state_dict)`` (load with ``weights_only=True``,
    see :func:`load_cnn`) and a JSON summary next to them (``.json``).

    Parameters
    ----------
    root : str or os.PathLike
        The ``cifar10-jpeg`` folder; decoded arrays are cached as ``.npy`` in
        ``out_path``'s folder.
    out_path : str or os.PathLike
        Where to save the weights (a cache folder, never the repository).
    epochs : int, default 8
        Passes over the 50,000 training images (60-80 s each on one shared AMD EPYC
        core with bf16; 8 epochs gave 84.0 % clean test accuracy in 9.7 min).
    seed : int, default 0
        Seeds weight initialisation, shuffling and augmentation.
    num_threads : int, default 1
        ``torch.set_num_threads`` value (process-wide); one is fastest on a shared machine.
    bf16 : bool, optional
        Train under bfloat16 autocast (about twice as fast on CPUs with native bf16);
        default: when the CPU supports it. Evaluation is always float32.
    dropout : float, default 0.0
        Rate of an ``nn.Dropout`` on the pooled features before the final linear layer
        (none at 0).
    conv_dropout : float, default 0.0
        Rate of an ``nn.Dropout2d`` after each of the three pooling stages (none at 0).
        Both rates go into the summary, from which :func:`load_cnn` rebuilds the network;
        with both 0 the network is the one ``cnn.pt`` of the CIFAR benchmark was trained as.
    progress : bool, default True
        Print one line per epoch.

    Returns
    -------
    dict
        ``test_accuracy`` (fraction of the 10,000 clean test images right), ``train_seconds``
        (wall time of the training loop), ``epochs``, ``seed``, ``num_threads``, ``bf16``,
        ``dropout``, ``conv_dropout``, ``n_params``, ``final_train_loss``,
        ``torch_version``, ``weights`` (path).
    """
    torch = import_torch()
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(num_threads)
    if bf16 is None:
        bf16 = bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    x_np, y_np, _ = load_split(root, "train", cache_dir=out_path.parent)
    x = torch.from_numpy(x_np).permute(0, 3, 1, 2).contiguous()
    y = torch.from_numpy(y_np)
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    model = _build_cnn(torch, dropout=dropout, conv_dropout=conv_dropout)
    model = model.to(memory_format=torch.channels_last)
    opt = torch.optim.SGD(model.parameters(), lr=MAX_LR, momentum=0.9, nesterov=True,
                          weight_decay=WEIGHT_DECAY)  # fmt: skip
    steps = len(y) // TRAIN_BATCH
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=MAX_LR, epochs=epochs,
                                                steps_per_epoch=steps, pct_start=0.25)  # fmt: skip
    loss_fn = torch.nn.CrossEntropyLoss(label_smoothing=LABEL_SMOOTHING)
    start = time.perf_counter()
    for epoch in range(epochs):
        model.train()
        order, total = torch.randperm(len(y), generator=gen), 0.0
        for i in range(steps):
            idx = order[i * TRAIN_BATCH : (i + 1) * TRAIN_BATCH]
            batch = _to_input(torch, _augment(torch, x[idx], gen))
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                loss = loss_fn(model(batch), y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item()
        if progress:
            print(
                f"epoch {epoch + 1}/{epochs}  loss {total / steps:.4f}  {time.perf_counter() - start:.0f} s",
                flush=True,
            )
    train_seconds = time.perf_counter() - start
    torch.save(model.state_dict(), out_path)
    test_x, test_y, _ = load_split(root, "test", cache_dir=out_path.parent)
    accuracy = float(np.mean(predict_probs(model, test_x).argmax(1) == test_y))
    summary = {
        "test_accuracy": accuracy, "train_seconds": round(train_seconds, 1), "epochs": epochs,
        "seed": seed, "num_threads": num_threads, "bf16": bf16, "dropout": dropout,
        "conv_dropout": conv_dropout, "n_params": sum(p.numel() for p in model.parameters()),
        "final_train_loss": total / steps, "torch_version": torch.__version__,
        "weights": str(out_path),
    }  # fmt: skip
    out_path.with_suffix(".json").write_text(json.dumps(summary, indent=2))
    return summary
