"""The storage engine under every layer: snapshot tables kept as row versions, a change ledger,
and the SQL mechanics they share. No Dagster here: the assets are thin wiring around it.

Modules (the public API is what each one names in its docstring):
- `sql`: `quote_ident`, `quote_literal`, `relation_kind`, `transaction()`;
- `lock`: `connect_waiting`, opening the file for writing while waiting for DuckDB's lock;
- `versioned`: snapshot tables stored as row versions (`replace_snapshot`, `append_changes`,
  `delete_snapshot`, `snapshot_rows`, `changed_rows`, `loaded_snapshots`);
- `ledger`: which snapshot of which table changed, how far each derived table has caught up,
  and the pure decisions that follow (`plan_update`, `plan_snapshots`).

The invariants, which the tests check as properties:

1. **Canonical versions.** A snapshot table `<schema>.<name>` is a view over
   `<schema>.<name>_versions`: each distinct delivered row once per run of consecutive *loaded*
   snapshots that contain it (`valid_from` .. `valid_to`, `_copy` numbering identical rows of one
   snapshot). So the rows of snapshot D are exactly those with `valid_from <= D < valid_to`, and
   the same set of loaded snapshots is stored the same way whatever the order in which they were
   loaded, re-run or deleted (`learn_assets_tests/resources/test_versioned.py`).
2. **Changes are exact at the latest snapshot.** When D is loaded after every loaded snapshot,
   the rows new on D are the versions starting at D and the rows gone are the versions ending
   at D (`changed_rows`): later layers can work on the changes alone.
3. **Every write is in the ledger.** Each write of a snapshot table appends to
   `<schema>._changes` (`append` / `replace` / `delete`), in the same transaction. A derived table
   records in `<schema>._consumed` the last change of each source it took into account, so it
   knows what is stale: only appended snapshots (apply their changes) or anything else (rebuild
   from the earliest changed snapshot on). Whoever writes a derived table last has therefore
   seen every change before it: results never depend on the order of loads or on overlapping
   runs (`learn_assets_tests/test_deliveries_property.py`).

    raw file ──load──> raw.<t>_versions ──stage──> staged.<t>_versions ──> core.<t>_history
       (replace_snapshot / append_changes: one transaction each, logged in <schema>._changes)
                                       reports.<t>_versions <── refresh_report (ledger-driven)
"""
