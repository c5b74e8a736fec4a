"""featrisk.torch: a real (small, seeded) PyTorch CNN run over real photos."""

from __future__ import annotations

import subprocess
import sys

import cv2
import numpy as np
import pytest
import skimage.data


def test_the_core_never_imports_torch() -> None:
    code = ("import sys, featrisk, featrisk.signals, featrisk.prefilter; "
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


torch = pytest.importorskip("torch", reason="featrisk.torch tests need PyTorch (featrisk[torch])")
nn = torch.nn

from featrisk import signals  # noqa: E402
from featrisk.torch import imagenet_preprocess, run  # noqa: E402

PRE = imagenet_preprocess(size=48, resize=56)


class Net(nn.Module):
    def __init__(self, dropout: bool = True) -> None:
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(3, 8, 3, stride=2), nn.BatchNorm2d(8), nn.ReLU(),
                                      nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.drop = nn.Dropout(0.5) if dropout else nn.Identity()
        self.head = nn.Linear(8, 16)
        self.fc = nn.Linear(16, 5)

    def forward(self, x):
        return self.fc(torch.relu(self.head(self.drop(self.features(x)))))


@pytest.fixture(scope="module")
def net() -> Net:
    torch.manual_seed(0)
    model = Net()
    with torch.no_grad():  # non-trivial batch-norm statistics, so eval vs train mode differ
        model.features[1].running_mean.fill_(0.3)
        model.features[1].running_var.fill_(2.0)
    return model.eval()


@pytest.fixture(scope="module")
def photos() -> list[np.ndarray]:
    return [skimage.data.astronaut(), skimage.data.chelsea(), skimage.data.coffee()]


def _direct(model: Net, photos: list[np.ndarray]) -> np.ndarray:
    with torch.no_grad():
        return model(torch.as_tensor(np.stack([PRE(p) for p in photos]))).numpy()


def test_logits_match_the_model_for_every_input_kind_and_batch_size(net, photos, tmp_path) -> None:
    path = tmp_path / "chelsea.png"
    cv2.imwrite(str(path), cv2.cvtColor(photos[1], cv2.COLOR_RGB2BGR))  # lossless: same pixels
    ok, png = cv2.imencode(".png", cv2.cvtColor(photos[2], cv2.COLOR_RGB2BGR))
    out = run(net, [photos[0], str(path), png.tobytes()], preprocess=PRE, batch_size=2)
    np.testing.assert_allclose(out.logits, _direct(net, photos), rtol=1e-5, atol=1e-5)
    assert out.path == ["<array #0>", str(path), "<bytes #2>"] and out.ok.all()
    one = run(net, photos, preprocess=PRE, batch_size=1)
    np.testing.assert_allclose(one.logits, out.logits, rtol=1e-5, atol=1e-5)
    assert list(out.table()["pred_class"]) == list(np.argmax(out.logits, axis=1))


def test_a_bad_item_is_a_nan_row_with_its_reason_and_the_rest_runs(net, photos) -> None:
    items = [photos[0], b"not an image", np.zeros((3, 40, 40), np.float32), photos[1]]
    out = run(net, items, preprocess=PRE, batch_size=3)
    assert list(out.ok) == [True, False, False, True]
    assert out.error[1].startswith("<bytes #1>") and "<array #2>" in out.error[2]
    assert np.isnan(out.logits[1:3]).all() and np.isnan(out.embeddings[1:3]).all()
    np.testing.assert_allclose(out.logits[[0, 3]], _direct(net, [photos[0], photos[1]]),
                               rtol=1e-5, atol=1e-5)
    assert list(out.table()["pred_class"])[1:3] == [-1, -1]
    broken = run(net, photos[:2], preprocess=lambda rgb: rgb[0, 0])  # returns a 1-D array
    assert not broken.ok.any() and "C x H x W" in broken.error[0]


def test_embedding_is_the_input_of_the_last_linear_or_of_a_named_layer(net, photos) -> None:
    x = torch.as_tensor(np.stack([PRE(p) for p in photos]))
    with torch.no_grad():
        pooled = net.features(x)
        hidden = torch.relu(net.head(pooled))
    auto = run(net, photos, preprocess=PRE)
    np.testing.assert_allclose(auto.embeddings, hidden.numpy(), rtol=1e-5, atol=1e-5)
    named = run(net, photos, preprocess=PRE, embedding_layer="head")
    np.testing.assert_allclose(named.embeddings, pooled.numpy(), rtol=1e-5, atol=1e-5)
    assert run(net, photos, preprocess=PRE, embedding_layer=None).embeddings is None
    with pytest.raises(ValueError, match="embedding_layer='body' is not a module.*head"):
        run(net, photos, preprocess=PRE, embedding_layer="body")
    with pytest.raises(ValueError, match="has none"):
        run(nn.Sequential(nn.Conv2d(3, 2, 3), nn.Flatten(1)), photos, preprocess=PRE)


def test_mc_dropout_passes_vary_batch_norm_stays_in_eval_and_modes_are_restored(net, photos) -> None:
    before = {k: v.clone() for k, v in net.state_dict().items()}
    net.train()  # whatever mode the user left it in comes back
    out = run(net, photos, preprocess=PRE, mc_passes=8, seed=1)
    assert net.training and all(m.training for m in net.modules())
    net.eval()
    assert out.mc_probs.shape == (8, 3, 5)
    np.testing.assert_allclose(out.mc_probs.sum(axis=2), 1.0, atol=1e-5)
    assert np.ptp(out.mc_probs, axis=0).max() > 0.01  # dropout was on: the passes differ
    for k, v in net.state_dict().items():  # batch norm in eval: running stats untouched
        assert torch.equal(v, before[k]), k
    np.testing.assert_allclose(out.logits, _direct(net, photos), rtol=1e-5, atol=1e-5)
    again = run(net, photos, preprocess=PRE, mc_passes=8, seed=1)
    np.testing.assert_array_equal(again.mc_probs, out.mc_probs)  # seeded
    scores = signals.mc_scores(out.mc_probs)
    assert scores.shape[0] == 3 and scores.notna().all().all()
    assert signals.logit_scores(out.logits).notna().all().all()


def test_clear_errors_for_wrong_arguments(photos) -> None:
    with pytest.raises(ValueError, match="mc_passes=4 needs dropout"):
        run(Net(dropout=False).eval(), photos, preprocess=PRE, mc_passes=4)
    with pytest.raises(ValueError, match="mc_passes must be 0 .* or at least 2"):
        run(Net().eval(), photos, preprocess=PRE, mc_passes=1)
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        run(Net().eval(), photos, preprocess=PRE, batch_size=0)
    with pytest.raises(TypeError, match="torch.nn.Module"):
        run(lambda x: x, photos)
    with pytest.raises(TypeError, match=r"logits as a tensor of shape \(batch, n_classes\)"):
        run(nn.Sequential(nn.Conv2d(3, 2, 3), nn.Linear(46, 3)), photos, preprocess=PRE)
