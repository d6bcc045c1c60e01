"""``detect --engine dask``: a real distributed.LocalCluster (two worker
processes) gives the same episode table as the local streaming run."""

from __future__ import annotations

import numpy as np
import pytest

import skyfence
from skyfence._stream import detect_stream

distributed = pytest.importorskip("distributed")  # installed by `make test` (extra "dask")

from test_stream import assert_same, crafted, to_table, write_hive  # noqa: E402


@pytest.mark.shared
def test_local_cluster_matches_local_run(shared_data, tmp_path):
    tr = skyfence.read_tracks(shared_data / "tracks/opensky/switzerland.json.gz")
    tr = tr.take(np.isin(tr.icao24, np.unique(tr.icao24)[::6]))
    table = to_table(tr).take(np.argsort(tr.time, kind="stable"))
    write_hive(table, tmp_path / "ds", 3_000)
    zones = skyfence.read_zones("world:CHE,FRA,DEU,ITA,AUT") + skyfence.read_zones(
        shared_data / "airspaces/openair/Switzerland.txt"
    )
    local, info = detect_stream([str(tmp_path / "ds")], zones, batch_rows=500, flush_rows=5_000, progress=False)
    from skyfence._dask import detect_dask

    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        with distributed.Client(cluster) as client:
            got, dinfo = detect_dask([str(tmp_path / "ds")], zones, client, batch_rows=700, n_buckets=3)
    assert dinfo.stats.rows_read == info.stats.rows_read == len(tr)
    assert dinfo.n_tracks == info.n_tracks and dinfo.duplicates == info.duplicates
    assert_same(local, got)
    assert got.column("source").to_pylist() == local.column("source").to_pylist()


def test_dask_cli_without_scheduler_is_a_config_error(tmp_path):
    import pyarrow.parquet as pq

    from test_stream import run_cli

    pq.write_table(to_table(crafted()), tmp_path / "a.parquet")
    r = run_cli("detect", tmp_path / "a.parquet", "--engine", "dask", "--zones", "world:CHE")
    assert r.returncode == 2 and "--scheduler" in r.stderr and "Traceback" not in r.stderr
