"""Sample tenant generator: realistic Learn Organizational Reporting snapshots for demos and tests.

`generate_sample(out, users, days, start, seed, fmt)` writes, for each of `days` snapshot dates
from `start`, a full copy of all 11 datasets to `out/<YYYY-MM-DD>/<Dataset>.csv` (or `.parquet`),
plus the organization's Entra users export `out/entra_users.csv`. Same arguments, same bytes.

How it works: a fixed catalog (`catalog.py`, same for every tenant and seed); learners with join
and leave instants (`population.py`); one master event history built with vectorized numpy
(`history.py`); snapshot D = the rows visible at D 00:00 UTC of learners present then, selected
and formatted by DuckDB (`frames.py`, `writer.py`).

Realism rules: badges and module XP only after every unit of the module, trophies and path XP
only after every module of the path; ~70% of learners exist before `start`, the rest join during
the window (with `days == 1` all exist before it); ~2% leave, and from the first snapshot after
leaving they and all their rows are gone; certifications in a snapshot are active or expired
within the last two years.

Documented quirks, always placed the same way:
- Certifications spells its tenant column `tenantID` (taken from `DATASETS`).
- `datetimeoffset` values (`AwardedOn` in Achievements/Progress, `CreatedOn` in Users) carry
  exactly 7 fractional digits and the learner's UTC offset from their work location
  (`-08:00`, `-05:00`, `+00:00`, `+01:00`, `+05:30`, `+09:00`, ...); the text is the local time,
  so the instant it denotes is the true UTC instant.
- CSV files with a UTF-8 byte-order mark: Users, HierarchyModule, HierarchyAppliedSkills and the
  Entra export. CSV files with CRLF line endings: Achievements, HierarchyUnit,
  HierarchyAppliedSkills. All other files: no BOM, LF.
- CSV: header row, comma, RFC 4180 quoting (a certification summary, the "Security, Compliance,
  and Identity Fundamentals" title, the JSON-array columns and the `Research, Development`
  department are quoted). Parquet: ints (XP, points, durationInMinutes, YYYYMMDD dates) as
  INTEGER, everything else VARCHAR with the same text as the CSV.
- Certification dates are YYYYMMDD integers; a certification that does not expire (fundamentals)
  has the "no date" placeholder in CertificationEndDate and StayCurrentEligibilityStartDate,
  mostly `18991229`, about 10% `0`. Role-based ones end one year after the start, stay-current
  eligibility opens 180 days before the end; some have expired, some expire within 90 days.
- Entra export: the 29 Graph-named columns, `createdDateTime` like `8/19/2021 1:25:31 PM`,
  `accountEnabled` `True`/`False`, empty cells for missing values.

Fault injection (`faults=True`, CSV only; `faults.py`): after the clean days, a row-fault
snapshot (clean day plus appended rows each breaking one rule, and Achievements schema drift) and
a file-fault snapshot (missing column, empty file, truncated last line, invalid UTF-8, and the
reading faults: UTF-16, `;` delimiter, duplicated and empty header names, a 3 MB field, plus mixed
line endings and typed Parquet, which load), listed with their counts, files and lines in
`out/faults.json`.
"""

from learn_assets.generator.sample import SampleSummary, generate_sample

__all__ = ["SampleSummary", "generate_sample"]
