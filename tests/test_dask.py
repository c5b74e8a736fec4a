"""extract(backend="dask") on a local dask.distributed cluster of two worker processes."""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import pytest

import featrisk

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(processes=True, n_workers=2, threads_per_worker=1,
                                       dashboard_address=None)
    with distributed.Client(cluster) as c:
        yield c
    cluster.close()


@pytest.fixture(scope="module")
def mixed_paths(photo_paths, tmp_path_factory):
    bad = tmp_path_factory.mktemp("dask") / "not_an_image.jpg"
    bad.write_bytes(b"<html>not an image</html>")
    return [*photo_paths, bad, *photo_paths[::-1] * 9]  # two chunks, an error row at 4


def test_dask_matches_local_in_order(client, mixed_paths):
    local = featrisk.extract(mixed_paths, n_jobs=1)
    dask = featrisk.extract(mixed_paths, backend="dask")
    pd.testing.assert_frame_equal(dask, local)
    assert dask.attrs == local.attrs
    assert dask["error"].notna().sum() == 1 and dask.loc[4, "error"].startswith(str(mixed_paths[4]))


def test_bad_backend_is_named():
    with pytest.raises(ValueError, match='backend must be "local" or "dask", got \'spark\''):
        featrisk.extract([], backend="spark")


def test_missing_dask_names_the_extra(monkeypatch, photo_paths):
    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(ImportError, match=r'pip install "featrisk\[dask\]"'):
        featrisk.extract(photo_paths[:1], backend="dask")


# lightgbm.dask sets the worker thread count itself and warns that n_jobs is ignored
@pytest.mark.filterwarnings("ignore:Parameter n_jobs will be ignored:UserWarning")
def test_lightgbm_dask_fits_a_dask_dataframe(client):
    pytest.importorskip("sklearn")  # lightgbm.dask builds on lightgbm.sklearn
    dd = pytest.importorskip("dask.dataframe")
    lgb_dask = pytest.importorskip("lightgbm.dask")
    rng = np.random.default_rng(0)
    x = pd.DataFrame(rng.normal(size=(400, 4)), columns=[f"f{i}" for i in range(4)])
    y = pd.Series((x["f0"] + 0.3 * rng.normal(size=400) > 0).astype(int), name="correct")
    dx, dy = dd.from_pandas(x, npartitions=2), dd.from_pandas(y, npartitions=2)
    model = lgb_dask.DaskLGBMClassifier(n_estimators=20, num_leaves=7, verbose=-1, client=client)
    model.fit(dx, dy)
    proba = model.predict_proba(dx).compute()
    assert proba.shape == (400, 2)
    assert np.corrcoef(proba[:, 1], x["f0"])[0, 1] > 0.5
