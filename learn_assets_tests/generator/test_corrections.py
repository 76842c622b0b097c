"""`--corrections`: values that change in later deliveries, and a corrected re-delivery."""

from __future__ import annotations

import datetime as dt
import filecmp
import json

import duckdb
import pytest

from learn_assets.cli import main
from learn_assets.contracts.datasets import DATASETS
from learn_assets.generator import generate_sample

START = dt.date(2026, 11, 1)
KEY = "userId, SourceType, SourceUid, XPReason"


@pytest.fixture(scope="module")
def corrected(tmp_path_factory):
    out = tmp_path_factory.mktemp("corrections")
    return generate_sample(out, 300, 4, START, 7, corrections=True)


def read(out, folder: str, dataset: str) -> str:
    return f"read_csv('{out}/{folder}/{dataset}.csv', all_varchar = true)"


def test_corrected_values_supersede_from_the_correction_day(corrected):
    fixed = corrected.corrections
    assert fixed.redelivered_day == START + dt.timedelta(days=1)
    assert fixed.correction_day == START + dt.timedelta(days=2)
    described = json.loads((corrected.out / "corrections.json").read_text())
    assert described == {
        "correction_day": "2026-11-03",
        "redelivered_day": "2026-11-02",
        "redelivery_folder": "corrections/2026-11-02",
        "corrected_progress_rows": fixed.corrected_progress,
        "renewed_certifications": fixed.renewed_certifications,
    }
    assert fixed.corrected_progress > 10 and fixed.renewed_certifications > 0
    con = duckdb.connect()
    before, after = (read(corrected.out, str(d), "Progress") for d in corrected.snapshots[1:3])
    # Same events (natural key) on both days; the corrected ones worth 50 XP more, an hour later.
    changed = con.execute(
        f"SELECT b.XP::INT AS was, a.XP::INT AS now, b.AwardedOn AS was_at, a.AwardedOn AS now_at "
        f"FROM {before} b JOIN {after} a USING ({KEY}) WHERE a.XP <> b.XP"
    ).fetchall()
    assert len(changed) == fixed.corrected_progress
    assert all(now == was + 50 for was, now, _, _ in changed)
    hour = dt.timedelta(hours=1)

    def instant(text: str) -> dt.datetime:  # 7 fractional digits: Python reads 6
        return dt.datetime.fromisoformat(text[:26] + text[27:])

    assert all(instant(now) - instant(was) == hour for _, _, was, now in changed)
    # Renewed certifications: same start date, end date one year later.
    certs = [read(corrected.out, str(d), "Certifications") for d in corrected.snapshots[1:3]]
    renewed = con.execute(
        "SELECT b.CertificationEndDate, a.CertificationEndDate "
        f"FROM {certs[0]} b JOIN {certs[1]} a "
        "USING (userId, SourceUid, CertificationStartDate) "
        "WHERE a.CertificationEndDate <> b.CertificationEndDate"
    ).fetchall()
    assert len(renewed) == fixed.renewed_certifications
    assert all(int(new) == int(old) + 10_000 for old, new in renewed)  # YYYYMMDD + 1 year


def test_the_redelivery_is_the_earlier_day_with_the_corrected_values(corrected):
    day = corrected.corrections.redelivered_day.isoformat()
    folder = corrected.out / "corrections" / day
    assert {p.name for p in folder.iterdir()} == {f"{d.name}.csv" for d in DATASETS}
    for dataset in DATASETS:
        name = f"{dataset.name}.csv"
        same = filecmp.cmp(folder / name, corrected.out / day / name, shallow=False)
        assert same == (dataset.name not in ("Progress", "Certifications")), dataset.name
    con = duckdb.connect()
    original = read(corrected.out, day, "Progress")
    redelivered = read(corrected.out, f"corrections/{day}", "Progress")
    later = read(corrected.out, str(corrected.corrections.correction_day), "Progress")
    # Row for row the same events; the corrected values are those the correction day carries.
    count = "SELECT count(*) FROM {}"
    assert (
        con.execute(count.format(original)).fetchone()
        == con.execute(count.format(redelivered)).fetchone()
    )
    differing = con.execute(
        f"SELECT count(*) FROM {original} o JOIN {redelivered} r USING ({KEY}) WHERE o.XP <> r.XP"
    ).fetchone()[0]
    assert differing == corrected.corrections.corrected_progress
    assert con.execute(
        f"SELECT count(*) FROM {redelivered} r JOIN {later} l USING ({KEY}) "
        "WHERE r.XP <> l.XP OR r.AwardedOn <> l.AwardedOn"
    ).fetchone() == (0,)


def test_corrections_need_three_days(tmp_path, capsys):
    with pytest.raises(ValueError, match="--corrections needs at least 3 days, got 2"):
        generate_sample(tmp_path, 50, 2, START, 1, corrections=True)
    assert main(["sample", "--out", str(tmp_path), "--days", "2", "--corrections"]) == 1
    assert "--corrections needs at least 3 days, got 2" in capsys.readouterr().err
