"""Atypicality on real degradations of real photos (the embedded demo set): degraded crops
lie further from clean photos than other clean photos do, the percentile is what it says,
and it survives a save and load."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import featrisk
from featrisk import metrics
from featrisk.atypicality import Atypicality
from featrisk.modelfile import manifest_digest
from featrisk.schema import FEATURE_COLUMNS

#: Colour photos inside scikit-image's wheel used here.
PHOTOS = ("astronaut", "chelsea", "coffee", "rocket", "motorcycle", "ihc")


@pytest.fixture(scope="module")
def split(tmp_path_factory):
    """Reference: 30 random clean crops of each photo. Test: 4 other crops per photo, clean
    and degraded by every family at severity 4, all written as JPEG and extracted.

    Atypicality compares an image with the scenes of its reference; the reference here
    covers the test scenes, as a validation set covers the images it will meet."""
    import cv2

    from featrisk import degrade
    from featrisk.demo_images import PHOTOS as LOADERS
    from featrisk.demo_images import square_crop

    folder = tmp_path_factory.mktemp("atyp")
    rng = np.random.default_rng(0)
    rows = []
    for name in PHOTOS:
        image = LOADERS[name]()
        for i in range(34):
            crop = square_crop(image, *rng.uniform(0.3, 0.7, 2), rng.uniform(0.5, 0.9))
            variants = [("none", crop)]
            if i >= 30:
                variants += [(f, degrade.apply(crop, f, 4, seed=i)) for f in degrade.FAMILIES]
            if i >= 30:  # the same clean scene at 192 x 192
                variants.append(("resized", cv2.resize(crop, (192, 192),
                                                       interpolation=cv2.INTER_AREA)))
            for family, pixels in variants:
                path = folder / f"{name}_{i}_{family}.jpg"
                cv2.imwrite(str(path), cv2.cvtColor(pixels, cv2.COLOR_RGB2BGR),
                            [cv2.IMWRITE_JPEG_QUALITY, 95])
                rows.append({"path": str(path), "degradation": family, "reference": i < 30})
    table = pd.DataFrame(rows)
    x = featrisk.extract(table["path"].tolist(), n_jobs=2)[list(FEATURE_COLUMNS)].to_numpy()
    ref = table["reference"].to_numpy()
    model = Atypicality().fit(x[ref], list(FEATURE_COLUMNS))
    keep = [list(FEATURE_COLUMNS).index(c) for c in model.columns_]
    return model, x[~ref][:, keep], table[~ref].reset_index(drop=True)


def test_degraded_crops_are_more_atypical_than_clean_ones(split) -> None:
    model, x, outcomes = split
    pct = model.percentile(x)
    clean = (outcomes["degradation"] == "none").to_numpy()
    # clean crops of the reference scenes look typical; severity-4 damage does not
    assert np.median(pct[clean]) < 0.9
    assert metrics.auroc((~clean).astype(int), pct) > 0.8


@pytest.mark.parametrize("family", ["gaussian_noise", "salt_pepper", "overexposure",
                                    "gaussian_blur", "pixelate", "jpeg", "haze"])
def test_each_family_raises_atypicality(split, family) -> None:
    model, x, outcomes = split
    pct = model.percentile(x)
    clean = (outcomes["degradation"] == "none").to_numpy()
    fam = (outcomes["degradation"] == family).to_numpy()
    assert fam.sum() == clean.sum()
    assert np.median(pct[fam]) > np.median(pct[clean]) + 0.1, family


def test_another_size_is_not_damage(split) -> None:
    """Every reference crop is 224 x 224: the reference says nothing about other sizes, so
    the same clean scenes at 192 x 192 look about as typical as the clean crops (they were
    all 1.0, "more unusual than every reference image", while columns constant in the
    reference counted as extreme)."""
    model, x, outcomes = split
    assert "geometry_width" not in model.columns_ and "geometry_megapixels" not in model.columns_
    pct = model.percentile(x)
    kind = outcomes["degradation"].to_numpy()
    resized, clean = pct[kind == "resized"], pct[kind == "none"]
    assert np.median(resized) < 0.9
    assert np.median(resized) < np.median(pct[kind == "gaussian_noise"]) - 0.1
    assert np.median(resized) < np.median(clean) + 0.15


def test_constant_columns_take_the_wider_sets_spread(split) -> None:
    """A column that never varies among the typical images is judged by its spread over all
    training images when it varies there, and left out when it varies nowhere."""
    _, x, outcomes = split
    clean = x[(outcomes["degradation"] == "none").to_numpy()]
    names = [f"f{i}" for i in range(x.shape[1])]
    ref = np.column_stack([clean, np.zeros(len(clean)), np.ones(len(clean))])
    wider = np.vstack([ref, ref])
    wider[: len(clean), -2] = np.linspace(0.0, 4.0, len(clean))  # varies among all images
    model = Atypicality().fit(ref, [*names, "varies_wider", "constant"], wider=wider)
    assert model.columns_[-1] == "varies_wider" and "constant" not in model.columns_
    assert model.scale_[-1] == pytest.approx(np.percentile(wider[:, -2], 75) / 1.349)
    # a modest step on the newly scaled column is not an extreme one
    probe = np.column_stack([clean[:5], np.full(5, 0.5)])
    assert (model.percentile(probe) < 1.0).all()
    with pytest.raises(ValueError, match="no feature varies"):
        Atypicality().fit(np.ones((30, 3)), ["a", "b", "c"])


def test_percentile_is_a_cross_fitted_share(split, demo_set) -> None:
    model, _, _ = split
    q = model.reference_quantiles_
    assert np.all(np.diff(q) >= 0) and q[0] >= 0
    # far outside everything: top; NaN features: NaN, without touching the other rows
    x = np.vstack([model.median_ + 1e6 * model.scale_, model.median_,
                   np.full(len(model.median_), np.nan)])
    pct = model.percentile(x)
    assert pct[0] == 1.0 and 0.0 <= pct[1] <= 0.5 and np.isnan(pct[2])
    assert model.score(x)[1] == pytest.approx(0.0)
    with pytest.raises(ValueError, match="at least 20"):
        Atypicality().fit(x[:2], model.columns_)


def test_model_atypicality_survives_save_and_load(demo_set, tmp_path) -> None:
    _, features, outcomes = demo_set
    model = featrisk.fit(features, outcomes["correct"].to_numpy(), degradation=None, cv=3,
                         groups=outcomes["crop"].to_numpy())
    assert model.atypicality_.n_reference_ == int(outcomes["correct"].sum())
    before = model.atypicality(features.iloc[:40])
    assert np.all((before >= 0) & (before <= 1))
    path = model.save(tmp_path / "m.json")
    loaded = featrisk.load(path)
    np.testing.assert_array_equal(loaded.atypicality(features.iloc[:40]), before)
    pred = featrisk.predict(features.iloc[:40], loaded)
    np.testing.assert_array_equal(pred["atypicality"].to_numpy(), before)
    guarded = featrisk.predict(features.iloc[:40], loaded, atypicality_threshold=0.5)
    assert guarded["flagged"].sum() >= pred["flagged"].sum()
    assert (guarded["flagged"] | ~(pred["atypicality"] >= 0.5)).all()
    with pytest.raises(ValueError, match=r"in \(0, 1\)"):
        featrisk.predict(features.iloc[:5], loaded, atypicality_threshold=1.5)

    # a file saved before featrisk stored the reference still loads; atypicality is NaN
    doc = json.loads(path.read_text())
    del doc["manifest"]["atypicality"]
    doc["manifest_sha256"] = manifest_digest(doc["manifest"])
    old = tmp_path / "old.json"
    old.write_text(json.dumps(doc))
    old_model = featrisk.load(old)
    assert np.isnan(featrisk.predict(features.iloc[:3], old_model)["atypicality"]).all()
    with pytest.raises(ValueError, match="no atypicality reference"):
        featrisk.predict(features.iloc[:3], old_model, atypicality_threshold=0.9)

    # an altered reference is refused with the reason, never half-loaded
    doc["manifest"]["atypicality"] = {**model.atypicality_.to_dict(), "median": [0.0]}
    doc["manifest_sha256"] = manifest_digest(doc["manifest"])
    old.write_text(json.dumps(doc))
    with pytest.raises(featrisk.ModelFileError, match="inconsistent shapes"):
        featrisk.load(old)


def test_predict_table_keeps_row_order_with_unreadable(demo_set, tmp_path) -> None:
    _, features, outcomes = demo_set
    model = featrisk.fit(features, outcomes["correct"].to_numpy(), degradation=None, cv=3)
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"not an image")
    paths = [features["path"][0], str(bad), features["path"][1]]
    pred = featrisk.predict(paths, model)
    assert pred["path"].tolist() == paths
    assert np.isnan(pred["atypicality"][1]) and pred["atypicality"].drop(1).notna().all()
    assert isinstance(pred, pd.DataFrame)
