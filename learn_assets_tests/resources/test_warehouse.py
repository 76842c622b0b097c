"""The warehouse resource: DuckDB's memory cap comes from the environment and is validated."""

import pytest

from learn_assets.resources import WarehouseResource, resources_from_env


def test_connections_are_capped_at_the_configured_memory(tmp_path):
    assert resources_from_env({})["warehouse"].memory_limit == "2GB"
    warehouse = resources_from_env(
        {"LEARN_WAREHOUSE": str(tmp_path / "w.duckdb"), "LEARN_DUCKDB_MEMORY_LIMIT": "512MB"}
    )["warehouse"]
    with warehouse.get_connection() as conn:
        limit = conn.execute("SELECT current_setting('memory_limit')").fetchone()[0]
    assert limit in ("488.2 MiB", "512.0 MB"), limit  # DuckDB shows it in its own units


@pytest.mark.parametrize("bad", ["lots", "2GB; DROP TABLE x", ""])
def test_a_bad_memory_limit_is_refused_by_name(tmp_path, bad):
    warehouse = WarehouseResource(database=str(tmp_path / "w.duckdb"), memory_limit=bad)
    with pytest.raises(ValueError, match="LEARN_DUCKDB_MEMORY_LIMIT"):
        with warehouse.get_connection():
            pass
