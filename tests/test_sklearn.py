"""RiskModel and FeatureExtractor as scikit-learn estimators."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import GroupKFold, cross_val_predict
from sklearn.pipeline import Pipeline
from sklearn.utils import estimator_checks as checks

import featrisk
from featrisk import metrics

#: scikit-learn's checks that apply to an estimator whose input is images or their feature
#: table (the rest fit on random numeric arrays, which carry none of the feature columns).
APPLICABLE = ("check_estimator_cloneable", "check_estimator_repr",
              "check_no_attributes_set_in_init", "check_get_params_invariance",
              "check_set_params", "check_parameters_default_constructible",
              "check_do_not_raise_errors_in_init_or_set_params", "check_mixin_order",
              "check_estimators_unfitted")


@pytest.mark.parametrize("check", APPLICABLE)
@pytest.mark.parametrize("estimator", [featrisk.RiskModel(), featrisk.FeatureExtractor()],
                         ids=["RiskModel", "FeatureExtractor"])
def test_applicable_estimator_checks_pass(estimator, check) -> None:
    if check == "check_estimators_unfitted" and not hasattr(estimator, "predict"):
        pytest.skip("a transformer has no predict")
    getattr(checks, check)(type(estimator).__name__, estimator)


def test_clone_and_params_round_trip() -> None:
    model = featrisk.RiskModel(num_leaves=5, hybrid="stack", params={"max_bin": 63})
    copy = clone(model)
    assert copy is not model and copy.get_params() == model.get_params()
    assert copy.set_params(cv=3).cv == 3 and model.cv == 5


@pytest.fixture(scope="module")
def demo(demo_set):
    _, features, outcomes = demo_set
    return features, outcomes


def test_cross_val_predict_gives_out_of_fold_risk(demo) -> None:
    features, outcomes = demo
    y = outcomes["correct"].to_numpy(bool)
    proba = cross_val_predict(featrisk.RiskModel(cv=3), features, y, cv=GroupKFold(3),
                              groups=outcomes["crop"].to_numpy(), method="predict_proba",
                              params={"groups": outcomes["crop"].to_numpy()})
    assert proba.shape == (len(y), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert metrics.auroc((~y).astype(int), proba[:, 0]) > 0.7  # column 0: P(misclassified)


def test_fit_takes_y_or_correct_and_predicts_the_classes(demo) -> None:
    features, outcomes = demo
    y = outcomes["correct"].to_numpy(bool)
    groups = outcomes["crop"].to_numpy()
    model = featrisk.RiskModel(cv=3).fit(features, y, groups=groups)
    same = featrisk.RiskModel(cv=3).fit(features, correct=y, groups=groups)
    np.testing.assert_array_equal(model.predict_risk(features), same.predict_risk(features))
    assert list(model.classes_) == [False, True]
    np.testing.assert_array_equal(model.predict_proba(features)[:, 0], model.predict_risk(features))
    predicted = model.predict(features)
    assert predicted.dtype == bool
    np.testing.assert_array_equal(predicted, model.predict_risk(features) < model.threshold_)
    assert model.score(features, y) == pytest.approx((predicted == y).mean())
    with pytest.raises(ValueError, match="y and correct are the same argument"):
        featrisk.RiskModel().fit(features, y, correct=y)
    with pytest.raises(featrisk.NotFittedError):
        _ = featrisk.RiskModel().classes_


def test_pipeline_from_images_to_risk(demo_set) -> None:
    _, features, outcomes = demo_set
    rows = np.arange(0, len(outcomes), 4)  # 363 images keep the test short
    paths = outcomes["path"].to_numpy()[rows].tolist()
    y = outcomes["correct"].to_numpy(bool)[rows]
    groups = outcomes["crop"].to_numpy()[rows]
    pipe = Pipeline([("features", featrisk.FeatureExtractor()),
                     ("risk", featrisk.RiskModel(cv=3))])
    pipe.fit(paths, y, risk__groups=groups)
    direct = featrisk.RiskModel(cv=3).fit(featrisk.extract(paths), y, groups=groups)
    np.testing.assert_allclose(pipe.predict_proba(paths[:20])[:, 0],
                               direct.predict_risk(paths[:20]))
    assert clone(pipe).get_params()["risk__cv"] == 3


def test_grid_search_over_one_parameter(demo) -> None:
    from sklearn.model_selection import GridSearchCV

    features, outcomes = demo
    y = outcomes["correct"].to_numpy(bool)
    groups = outcomes["crop"].to_numpy()
    search = GridSearchCV(featrisk.RiskModel(cv=3), {"num_leaves": [3, 7]}, cv=GroupKFold(3),
                          scoring="roc_auc")
    search.fit(features, y, groups=groups)
    assert search.best_params_["num_leaves"] in (3, 7)
    scores = search.cv_results_["mean_test_score"]
    assert np.all((scores > 0.6) & (scores <= 1.0))  # AUROC of P(correct): risk ranks failures
    assert search.best_estimator_.num_leaves == search.best_params_["num_leaves"]
    assert search.predict_proba(features.iloc[:5]).shape == (5, 2)
