"""The CIFAR CNN's dropout option and the CIFAR path of ``featrisk bench signals``.

Fast and self-contained: untrained CNNs and a few synthetic 32 px images in ``tmp_path``;
neither the shared datasets nor the benchmark cache are read.
"""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest

torch = pytest.importorskip("torch")

from featrisk.bench import cifar, signals  # noqa: E402

SUMMARY = {"test_accuracy": 0.1, "train_seconds": 1.0, "epochs": 0, "n_params": 0}


def _save(model, path: Path, **rates: float) -> None:
    torch.save(model.state_dict(), path)
    summary = {**SUMMARY, **rates, "n_params": sum(p.numel() for p in model.parameters())}
    path.with_suffix(".json").write_text(json.dumps(summary))


def _dropout_modules(model) -> list[str]:
    return [type(m).__name__ for m in model.modules()
            if isinstance(m, torch.nn.Dropout | torch.nn.Dropout2d)]


def _images(folder: Path, n: int, seed: int = 0) -> list[str]:
    """``n`` smooth random 32 x 32 JPEG files (blurred noise: some structure for the CNN)."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        img = cv2.GaussianBlur(rng.integers(0, 256, (32, 32, 3), dtype=np.uint8), (5, 5), 1.5)
        path = folder / f"{i:03d}.jpg"
        cv2.imwrite(str(path), img)
        paths.append(str(path))
    return paths


def test_default_cnn_is_the_network_without_dropout_module_for_module() -> None:
    plain = cifar._build_cnn(torch)
    assert _dropout_modules(plain) == []
    assert len(plain) == 21 and isinstance(plain[20], torch.nn.Linear)
    with_dropout = cifar._build_cnn(torch, dropout=0.3, conv_dropout=0.1)
    assert _dropout_modules(with_dropout) == ["Dropout2d"] * 3 + ["Dropout"]
    assert isinstance(with_dropout[-2], torch.nn.Dropout) and with_dropout[-2].p == 0.3
    shapes = [t.shape for t in plain.state_dict().values()]
    assert [t.shape for t in with_dropout.state_dict().values()] == shapes


@pytest.mark.parametrize("kwargs", [{"dropout": 1.0}, {"conv_dropout": -0.1}],
                         ids=["dropout-1", "conv-negative"])
def test_build_cnn_refuses_a_rate_outside_0_1(kwargs) -> None:
    name = next(iter(kwargs))
    with pytest.raises(ValueError, match=rf"{name} must be in \[0, 1\); received"):
        cifar._build_cnn(torch, **kwargs)


@pytest.mark.parametrize("rates", [{}, {"dropout": 0.3, "conv_dropout": 0.1}, {"dropout": 0.5}],
                         ids=["none", "both", "head-only"])
def test_load_cnn_rebuilds_the_architecture_of_the_summary(tmp_path, rates) -> None:
    torch.manual_seed(0)
    model = cifar._build_cnn(torch, **rates).eval()
    _save(model, tmp_path / "cnn.pt", **rates)
    loaded = cifar.load_cnn(tmp_path / "cnn.pt")
    assert _dropout_modules(loaded) == _dropout_modules(model)
    x = np.random.default_rng(0).integers(0, 256, (4, 32, 32, 3), dtype=np.uint8)
    np.testing.assert_array_equal(cifar.predict_probs(loaded, x), cifar.predict_probs(model, x))


def test_load_cnn_without_a_summary_builds_the_network_without_dropout(tmp_path) -> None:
    torch.save(cifar._build_cnn(torch).state_dict(), tmp_path / "cnn.pt")
    assert _dropout_modules(cifar.load_cnn(tmp_path / "cnn.pt")) == []


def test_mc_passes_spread_with_dropout_and_agree_without(tmp_path) -> None:
    """With the dropout layers on, the passes differ (mutual information > 0); with every
    rate set to 0 they all equal the plain forward pass."""
    from featrisk.signals import logit_scores

    torch.manual_seed(0)
    model = cifar._build_cnn(torch, dropout=0.3, conv_dropout=0.1).eval()
    paths = _images(tmp_path, 12)
    logits, emb, mc = signals.cnn_signals(model, paths, passes=8)
    assert logits.shape == (12, 10) and emb.shape == (12, 128) and len(mc) == 12
    assert (mc["signal_mc_mutual_information"] > 1e-6).all()
    for m in model.modules():
        if isinstance(m, torch.nn.Dropout | torch.nn.Dropout2d):
            m.p = 0.0
    logits0, _, still = signals.cnn_signals(model, paths, passes=8)
    np.testing.assert_allclose(logits0, logits, rtol=1e-6)
    np.testing.assert_allclose(still["signal_mc_max_softmax"],
                               logit_scores(logits0)["signal_max_softmax"], atol=1e-6)
    assert np.allclose(still["signal_mc_mutual_information"], 0, atol=1e-6)
    assert not model.training  # run() restores the eval state


def test_classifier_signals_caches_per_weights(tmp_path, monkeypatch) -> None:
    torch.manual_seed(0)
    weights = tmp_path / signals.CNN_MODELS["cnn-dropout"][0]
    _save(cifar._build_cnn(torch, dropout=0.3, conv_dropout=0.1), weights,
          dropout=0.3, conv_dropout=0.1)
    paths = _images(tmp_path / "images", 6)
    first = signals.classifier_signals(paths, "cnn-dropout", tmp_path, log=lambda _: None)
    assert first["meta"]["mc_dropout"] == "network" and first["meta"]["conv_dropout"] == 0.1
    assert first["mc"].shape == (6, 4)

    def no_run(*_args, **_kwargs):
        raise AssertionError("ran the CNN although its signals are cached")

    monkeypatch.setattr(signals, "_run_cnn", no_run)
    again = signals.classifier_signals(paths, "cnn-dropout", tmp_path, log=lambda _: None)
    np.testing.assert_array_equal(again["logits"], first["logits"])
    torch.manual_seed(1)  # other weights: the cache no longer fits
    _save(cifar._build_cnn(torch, dropout=0.3, conv_dropout=0.1), weights,
          dropout=0.3, conv_dropout=0.1)
    with pytest.raises(AssertionError, match="although"):
        signals.classifier_signals(paths, "cnn-dropout", tmp_path, log=lambda _: None)


def test_missing_weights_name_the_training_call(tmp_path) -> None:
    with pytest.raises(FileNotFoundError, match=r"train_cnn\(.*dropout=0.3, conv_dropout=0.1"):
        signals.classifier_signals(_images(tmp_path, 2), "cnn-dropout", tmp_path)


def _tiny_cifar_set(root: Path, n_sources: int = 24) -> None:
    """``root/cifar``: clean and degraded synthetic images, a dropout CNN, and outcomes.csv
    whose labels make the untrained CNN right on about half the images."""
    from featrisk import degrade
    from featrisk.io import read_image

    cache = root / "cifar"
    folder = cache / "images"
    folder.mkdir(parents=True)
    rows = []
    for s, path in enumerate(_images(cache / "sources", n_sources, seed=3)):
        rgb = cv2.cvtColor(cv2.imread(path), cv2.COLOR_BGR2RGB)
        for deg, sev in (("none", 0), ("gaussian_blur", 3), ("gaussian_noise", 4)):
            img = rgb if sev == 0 else degrade.apply(rgb, deg, sev, seed=s)
            out = folder / f"{len(rows):03d}.jpg"
            cv2.imwrite(str(out), cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
            rows.append((str(out), f"test/x/{s:04d}", deg, sev))
    table = pd.DataFrame(rows, columns=["path", "source_id", "degradation", "severity"])
    torch.manual_seed(0)
    model = cifar._build_cnn(torch, dropout=0.3, conv_dropout=0.1)
    _save(model, cache / "cnn_dropout.pt", dropout=0.3, conv_dropout=0.1)
    pred = cifar.predict_probs(model, np.stack([read_image(Path(p)).rgb
                                                for p in table["path"]])).argmax(1)
    wrong = np.random.default_rng(3).random(len(table)) < 0.5
    table["true_class"] = np.where(wrong, (pred + 1) % 10, pred)
    table.to_csv(cache / "outcomes.csv", index=False)


def test_bench_signals_on_a_tiny_cifar_set_writes_every_approach(tmp_path, capsys) -> None:
    """``featrisk bench signals --dataset cifar`` end to end: the CNN's own outcomes, every
    approach a row overall and on the clean images, rendered with the CNN's dropout."""
    from featrisk.bench.report_md import signals_section
    from featrisk.cli import main

    _tiny_cifar_set(tmp_path)
    out = tmp_path / "signals_cifar.json"
    code = main(["bench", "signals", "--cache-root", str(tmp_path), "--dataset", "cifar",
                 "--folds", "3", "--n-boot", "20", "--n-jobs", "1", "--out", str(out)])
    assert code == 0
    result = json.loads(out.read_text())
    assert result["dataset"] == "cifar" and result["n_images"] == 72 and result["n_clean"] == 24
    assert "transfer" not in result
    c = result["classifiers"]["cnn-dropout"]
    logits = np.load(tmp_path / "cifar" / "signals_cnn-dropout_logits.npy")
    y = pd.read_csv(tmp_path / "cifar" / "outcomes.csv")["true_class"].to_numpy()
    assert c["accuracy"] == pytest.approx(np.mean(logits.argmax(1) == y))
    approaches = {r["approach"] for r in c["table"] if r["subset"] == "all"}
    assert {"signal_max_softmax", "signal_mc_max_softmax", "signal_mc_mutual_information",
            "signal_knn_distance", "featrisk (image only)", "stacked hybrid"} <= approaches
    assert {r["approach"] for r in c["table"] if r["subset"] == "clean photos"}
    d = c["clean_stack_minus_best"]
    assert d["low"] <= d["value"] <= d["high"] and d["best_single"] != "stacked hybrid"
    text = "\n".join(signals_section(result))
    assert "## Every failure predictor on the cifar set" in text
    assert "passes of the whole network with every dropout layer on" in text
    assert "`Dropout2d(0.1)` after each pooling stage and `Dropout(0.3)`" in text
    assert f"On the clean photos the stacked hybrid minus {d['best_single']}" in text


def test_bench_signals_refuses_a_model_that_does_not_fit_the_set(tmp_path, capsys) -> None:
    from featrisk.cli import main

    code = main(["bench", "signals", "--cache-root", str(tmp_path), "--dataset", "cifar",
                 "--models", "lite0"])
    assert code == 2
    assert "--models lite0 cannot classify the cifar set's images; use cnn-dropout" \
        in capsys.readouterr().err
