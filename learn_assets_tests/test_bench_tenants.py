"""The several-tenants benchmark's pure helpers (the benchmark is `make bench TENANTS=N`)."""

import importlib.util
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "bench" / "tenants.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_tenants", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_the_extrapolation_to_n_machines_is_the_slowest_tenant_alone_then_the_group(bench):
    timing = bench.Timing(
        sequential={"contoso": 40.0, "fabrikam": 30.0},
        parallel={"contoso": 50.0, "fabrikam": 56.0},
        parallel_wall=56.0,
        consolidation=4.0,
    )
    assert bench.extrapolate(timing) == {
        "sequential": 70.0,
        "parallel": 56.0,
        "speedup": 1.25,
        "n_machines": 44.0,
    }
    started = bench.dt.datetime(2026, 12, 1, 21, 47)
    section = bench.section(
        "2 x M", 20_000, ["contoso", "fabrikam"], timing, "make bench", started, (11.0, 10.5)
    )
    assert section.startswith("## 2 x M: 2 tenants of 20,000 learners\n")
    assert "started 2026-12-01 21:47 UTC" in section
    assert "load average 11.0 at the start and 10.5 at the end" in section
    assert "| **one after the other** | 70.0 s | sum |" in section
    assert "| **all at once** | 56.0 s | first start to last end; 1.25x the sequential" in section
    assert "| N tenants on N machines (extrapolated) | 44.0 s |" in section


def test_results_sections_are_replaced_per_key(bench):
    text = bench.replace_section("# Tenants\n\n", "2 x M", "## 2 x M: old\n")
    text = bench.replace_section(text, "3 x S", "## 3 x S: one\n")
    text = bench.replace_section(text, "2 x M", "## 2 x M: new\n")
    assert text == "# Tenants\n\n## 2 x M: new\n\n## 3 x S: one\n\n"
