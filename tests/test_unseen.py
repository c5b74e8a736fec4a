"""The independent outcome set: its albumentations plan and damage, and the evaluation and
report of damage featrisk never generated, on the demo set's real outcomes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import photo

from featrisk import metrics
from featrisk.bench.report_unseen import section
from featrisk.bench.unseen import batch_calibration, evaluate_unseen


def test_plan_has_one_clean_and_one_variant_per_family_per_source() -> None:
    from featrisk.bench.independent import FAMILIES, plan_independent

    plan = plan_independent(["a", "b", "c"], seed=4)
    assert len(plan) == 3 * (1 + len(FAMILIES))
    assert plan["file_name"].is_unique
    per_source = plan.groupby("source_id")["degradation"].apply(list)
    assert all(v == ["none", *FAMILIES] for v in per_source)
    damaged = plan[plan["degradation"] != "none"]
    assert damaged["severity"].between(1, 5).all()
    assert (plan.loc[plan["degradation"] == "none", "severity"] == 0).all()
    # a source's rows do not depend on which other sources are planned
    alone = plan_independent(["b"], seed=4)
    pd.testing.assert_frame_equal(alone.reset_index(drop=True),
                                  plan[plan["source_id"] == "b"].reset_index(drop=True))
    with pytest.raises(ValueError, match="families: unknown"):
        plan_independent(["a"], families=["frost"])


def test_albumentations_damage_is_seeded_and_grows_with_severity() -> None:
    pytest.importorskip("albumentations", reason="albumentations is not installed")
    from featrisk.bench.independent import FAMILIES, make_transform

    crop = np.ascontiguousarray(photo("chelsea")[:224, 100:324])
    grew = 0
    for fam in FAMILIES:
        mild, severe = (make_transform(fam, s, seed=7)(crop.copy()) for s in (1, 5))
        assert severe.shape == crop.shape and severe.dtype == np.uint8, fam
        np.testing.assert_array_equal(severe, make_transform(fam, 5, seed=7)(crop.copy()))
        diff = [np.abs(x.astype(float) - crop).mean() for x in (mild, severe)]
        grew += diff[1] > diff[0]
    assert grew >= len(FAMILIES) - 2, f"only {grew} of {len(FAMILIES)} families grow with severity"
    with pytest.raises(ValueError, match="severity must be 1-5"):
        make_transform("fog", 0, seed=0)


def test_batch_calibration_sets_each_batch_error_rate_against_its_mean_risk() -> None:
    outcomes = pd.DataFrame({"degradation": ["fog", "fog", "fog", "none"],
                             "severity": [2, 2, 2, 0]})
    table = batch_calibration(np.array([1, 1, 0, 0]), np.array([0.1, 0.2, 0.3, 0.1]), outcomes)
    fog = table[table["damage"] == "fog"].iloc[0]
    assert fog["n"] == 3 and fog["error_rate"] == pytest.approx(2 / 3)
    assert fog["gap"] == pytest.approx(0.2 - 2 / 3)
    assert table.iloc[0]["damage"] == "fog"  # the largest gap first


def test_unseen_evaluation_on_real_outcomes_and_its_report(demo_set) -> None:
    _, features, outcomes = demo_set
    outcomes = outcomes.assign(source_id=outcomes["crop"])
    # the demo set serves as its own reference set (same photos, featrisk.degrade damage)
    families = sorted(set(outcomes["degradation"]) - {"none"})
    kin = {f: (f if i % 2 else None) for i, f in enumerate(families)}  # half "known"
    res = evaluate_unseen(features, outcomes, (features, outcomes), folds=2, n_boot=50,
                          kin=kin, log=lambda _: None)
    error = (~outcomes["correct"].to_numpy(bool)).astype(int)
    for method in ("featrisk", "featrisk_direct", "featrisk_hybrid_lgbm", "featrisk_hybrid_stack",
                   "oracle", "default_model", "default_model_arrays", "max_softmax"):
        assert 0.5 < res["methods"][method]["auroc"]["value"] <= 1.0, method
        assert res["methods"][method]["ece"] is not None
    assert res["methods"]["default_atypicality"]["ece"] is None
    with pytest.raises(ValueError, match="same source ids"):
        evaluate_unseen(features, outcomes, (features, outcomes.assign(source_id=outcomes["path"])),
                        folds=2, n_boot=10, log=lambda _: None)
    assert res["methods"]["max_softmax"]["auroc"]["value"] == pytest.approx(
        metrics.auroc(error, 1 - outcomes["max_prob"].to_numpy(float)))
    batches = pd.DataFrame(res["default_batches"])
    assert batches["n"].sum() == len(outcomes)
    assert res["default_batch_mae"] == pytest.approx(
        float((batches["n"] * batches["gap"].abs()).sum() / batches["n"].sum()))
    d = res["differences"]["featrisk_minus_oracle"]
    assert d["low"] <= d["value"] <= d["high"]
    text = "\n".join(section("independent", res, []))
    assert "damage featrisk never generated" in text
    assert f"{res['methods']['default_model']['auroc']['value']:.3f}" in text
    assert text.count("- [") == 6  # every target listed, met or not
    arrays = res["differences"]["arrays_minus_files"]
    assert arrays["low"] <= arrays["value"] <= arrays["high"]
    assert "as decoded arrays (no file facts; filled as a model fills them): AUROC " in text
    # the kinship split: each side holds its own families plus every clean image
    known, unknown = res["kinship"]["with_kin"], res["kinship"]["without_kin"]
    assert known["families"] == families[1::2] and unknown["families"] == families[::2]
    n_clean = int((outcomes["degradation"] == "none").sum())
    assert known["n_images"] + unknown["n_images"] == len(outcomes) + n_clean
    assert 0 < known["batch_mae"] and 0.5 < unknown["auroc"] <= 1.0
    assert f"| featrisk never generates it | {len(families[::2])} | {unknown['n_images']} |" in text


def test_no_training_code_imports_the_independent_damage_library() -> None:
    from pathlib import Path

    import featrisk

    root = Path(featrisk.__file__).parent
    users = sorted(str(p.relative_to(root)) for p in root.rglob("*.py")
                   if "albumentations" in p.read_text() and "import albumentations" in p.read_text())
    assert users == ["bench/independent.py"], users
