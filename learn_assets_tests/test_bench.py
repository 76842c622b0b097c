"""The benchmark harness's pure helpers (the benchmark itself is `make bench`, not a test)."""

import importlib.util
import sys
from pathlib import Path

import pytest

RUN = Path(__file__).resolve().parents[1] / "bench" / "run.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_run", RUN)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def staging():
    spec = importlib.util.spec_from_file_location("bench_staging", RUN.with_name("staging.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_results_sections_are_replaced_per_size_in_size_order(bench):
    text = bench.replace_section("# Benchmark\n\n", "M", "## Size M: old\n")
    text = bench.replace_section(text, "S", "## Size S: one\n")
    text = bench.replace_section(text, "M", "## Size M: new\n")
    assert text == "# Benchmark\n\n## Size S: one\n\n## Size M: new\n\n"


def test_ratios_verdicts_and_sizes(bench, tmp_path):
    assert bench.ratio(5, 2) == 2.5
    assert bench.ratio(1, 0) == float("inf")
    assert bench.verdict(True, "x") == "**PASS** x"
    assert bench.verdict(False, "x") == "**MISS** x"
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "f").write_bytes(b"12345")
    (tmp_path / "g").write_bytes(b"12")
    assert bench.tree_size(tmp_path) == 7
    assert bench.fmt_s(None) == "n/a" and bench.fmt_s(1234.56) == "1,234.6 s"


def test_export_file_sizes_of_a_snapshot(bench, tmp_path):
    (tmp_path / "2026-10-01").mkdir()
    (tmp_path / "2026-10-01" / "report.html").write_bytes(b"x" * 7)
    assert bench.export_file_sizes(tmp_path, "2026-10-01") == {
        "report.html": 7,
        "reports.xlsx": None,
    }
    assert bench.HTML_LIMIT == 5 * 1024**2


def test_landing_names_keep_formats_apart(bench):
    assert bench.landing_name(2000, 30) == "landing-2000-30d-a6-g0.003"
    assert bench.landing_name(100000, 30, "parquet") == "landing-100000-30d-a6-g0.003-parquet"
    assert bench.landing_name(2000, 4, corrections=True) == "landing-2000-4d-a6-g0.003-corrections"


def test_staging_drill_down_times_each_statement_and_passes_the_rest_through(staging):
    import duckdb

    with duckdb.connect() as conn:
        probe = staging.TimedConnection(conn)
        probe.execute("CREATE TABLE t AS SELECT range AS i FROM range(200000)")
        probe.execute("SELECT count(*) FROM t")
        assert probe.fetchall() == [(200000,)]  # passed through to the connection
        result, rows = staging.timed(conn, 1, "raw", lambda c: c.execute("SELECT 2").fetchall())
    assert [sql for _, sql in probe.seconds] == [
        "CREATE TABLE t AS SELECT range AS i FROM range(200000)",
        "SELECT count(*) FROM t",
    ]
    assert all(seconds >= 0 for seconds, _ in probe.seconds)
    # The ranking, on durations set here (measured ones swap places on a loaded machine).
    probe.seconds = [(0.5, "SELECT 1"), (2.25, "CREATE TABLE u"), (1.0, "SELECT 3")]
    assert probe.slowest(2) == ["  2.25 s  CREATE TABLE u", "  1.00 s  SELECT 3"]
    assert result == [(2,)] and len(rows) == 1 and rows[0].startswith("|   raw:")
    assert rows[0].endswith("SELECT 2 | | | | |")


def test_staging_drill_down_finds_csv_or_parquet_and_names_a_missing_file(staging, tmp_path):
    (tmp_path / "Users.parquet").write_bytes(b"")
    assert staging.dataset_file(tmp_path, "Users") == tmp_path / "Users.parquet"
    with pytest.raises(SystemExit, match="no Progress.csv or Progress.parquet"):
        staging.dataset_file(tmp_path, "Progress")


def test_the_peer_script_stages_exactly_what_the_staged_layer_stages(bench, tmp_path):
    """The benchmark's peer (one DuckDB script, no history) is an honest comparison only if it
    keeps and quarantines the same rows; checked on a snapshot with rule-breaking rows."""
    import datetime as dt
    import json

    import duckdb

    from learn_assets.contracts.datasets import DATASETS
    from learn_assets.contracts.sql import compile_contract
    from learn_assets.generator import generate_sample
    from learn_assets.staged.stage import stage_snapshot
    from learn_assets_tests.helpers import load_day

    landing = tmp_path / "landing"
    generate_sample(landing, 60, 1, dt.date(2026, 11, 1), seed=5, faults=True)
    day = dt.date.fromisoformat(
        json.loads((landing / "faults.json").read_text())["row_faults"]["snapshot"]
    )
    with duckdb.connect(str(tmp_path / "peer.duckdb")) as conn:
        conn.execute(bench.peer_script(landing / day.isoformat(), day.isoformat()))
    with duckdb.connect(str(tmp_path / "w.duckdb")) as conn:
        load_day(conn, landing, day)
        for dataset in DATASETS:
            stage_snapshot(conn, dataset, day)
        conn.execute(f"ATTACH '{tmp_path / 'peer.duckdb'}' AS peer (READ_ONLY)")
        quarantined = 0
        for dataset in DATASETS:
            columns = ", ".join(f'"{c}"' for c in compile_contract(dataset.contract).types)
            ours = f'SELECT {columns} FROM staged."{dataset.table}" WHERE snapshot_date = ?'
            theirs = f'SELECT {columns} FROM peer.staged."{dataset.table}"'
            for a, b, params in ((ours, theirs, [day]), (theirs, ours, [day])):
                assert conn.execute(
                    f"SELECT count(*) FROM ({a} EXCEPT ALL {b})", params
                ).fetchone() == (0,), dataset.name
            ours_q = conn.execute(
                f'SELECT count(*) FROM quarantine."{dataset.table}" WHERE snapshot_date = ?', [day]
            ).fetchone()[0]
            theirs_q = conn.execute(
                f'SELECT count(*) FROM peer.quarantine."{dataset.table}"'
            ).fetchone()[0]
            assert ours_q == theirs_q, dataset.name
            quarantined += ours_q
    assert quarantined > 0  # the snapshot has rows the contracts refuse
