"""Learning rules and snapshot semantics of a generated sample, checked on the written CSV files."""

from __future__ import annotations

import datetime as dt
import re

from learn_assets.contracts.datasets import DATASETS, DATASETS_BY_NAME
from learn_assets.generator import SampleSummary
from learn_assets_tests.generator.conftest import USERS, cutoff, fetch, table_name

TENANT = [d for d in DATASETS if d.tenant]
GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def tables(day: dt.date, **names: str) -> dict[str, str]:
    """Placeholder -> table name for `fetch`, e.g. progress='Progress'."""
    return {k: table_name(day, DATASETS_BY_NAME[v].table) for k, v in names.items()}


def test_badge_only_after_every_unit_of_the_module(sample: SampleSummary, db) -> None:
    for day in sample.snapshots:
        t = tables(day, progress="Progress", ach="Achievements", unit="HierarchyUnit")
        badges, bad = fetch(
            db,
            """
            WITH done AS (
                SELECT p.userId, u.moduleUid, count(DISTINCT p.SourceUid) AS units,
                       max(CAST(p.AwardedOn AS TIMESTAMPTZ)) AS last_unit
                FROM {progress} p JOIN {unit} u ON u.unitUid = p.SourceUid
                WHERE p.SourceType = 'Unit' GROUP BY ALL),
            size AS (SELECT moduleUid, count(*) AS units FROM {unit} GROUP BY ALL)
            SELECT count(*), count(*) FILTER (
                WHERE done.units IS DISTINCT FROM size.units
                   OR NOT done.last_unit < CAST(b.AwardedOn AS TIMESTAMPTZ)
                   OR b.awardUid <> b.SourceUid || '.badge'
                   OR b.SourceType <> 'Module'
                   OR b.awardReason <> 'badge.module.basic.completed')
            FROM {ach} b
            JOIN size ON size.moduleUid = b.SourceUid
            LEFT JOIN done ON done.userId = b.userId AND done.moduleUid = b.SourceUid
            WHERE b.awardType = 'Badge'
            """,
            **t,
        )[0]
        assert badges > 100, day
        assert bad == 0, day


def test_trophy_only_after_every_module_of_the_path_has_a_badge(sample: SampleSummary, db) -> None:
    for day in sample.snapshots:
        t = tables(day, ach="Achievements", link="HierarchyLearningPathModule")
        trophies, bad = fetch(
            db,
            """
            WITH trophy AS (
                SELECT userId, SourceUid AS path, CAST(AwardedOn AS TIMESTAMPTZ) AS at,
                       awardUid = SourceUid || '.trophy' AND SourceType = 'LearningPath'
                       AND awardReason = 'trophy.path.basic.completed' AS well_formed
                FROM {ach} WHERE awardType = 'Trophy'),
            badge AS (
                SELECT userId, SourceUid AS module, CAST(AwardedOn AS TIMESTAMPTZ) AS at
                FROM {ach} WHERE awardType = 'Badge')
            SELECT count(DISTINCT (t.userId, t.path)),
                   count(*) FILTER (WHERE b.at IS NULL OR NOT b.at < t.at OR NOT t.well_formed)
            FROM trophy t
            JOIN {link} l ON l.LearningPathUid = t.path
            LEFT JOIN badge b ON b.userId = t.userId AND b.module = l.ModuleUid
            """,
            **t,
        )[0]
        assert trophies > 10, day
        assert bad == 0, day


def test_module_and_path_xp_exist_exactly_with_badges_and_trophies(
    sample: SampleSummary, db
) -> None:
    for day in sample.snapshots:
        t = tables(day, progress="Progress", ach="Achievements")
        for source_type, award in (("Module", "Badge"), ("LearningPath", "Trophy")):
            xp_only, award_only, xp = fetch(
                db,
                """
                WITH xp AS (SELECT userId, SourceUid, AwardedOn FROM {progress}
                            WHERE SourceType = $1),
                     aw AS (SELECT userId, SourceUid, AwardedOn FROM {ach} WHERE awardType = $2)
                SELECT (SELECT count(*) FROM (FROM xp EXCEPT ALL FROM aw)),
                       (SELECT count(*) FROM (FROM aw EXCEPT ALL FROM xp)),
                       (SELECT count(*) FROM xp)
                """,
                [source_type, award],
                **t,
            )[0]
            assert xp > 0 and xp_only == 0 and award_only == 0, (day, source_type)


def test_xp_values_and_reasons_follow_the_catalog(sample: SampleSummary, db) -> None:
    day = sample.snapshots[-1]
    t = tables(
        day,
        progress="Progress",
        unit="HierarchyUnit",
        module="HierarchyModule",
        path="HierarchyLearningPath",
    )
    (bad,) = fetch(
        db,
        """
        WITH points AS (
            SELECT 'Unit' AS st, unitUid AS uid, points, 'points.unit.basic.completed' AS reason
            FROM {unit}
            UNION ALL SELECT 'Module', moduleUid, points, 'points.module.basic.completed'
            FROM {module}
            UNION ALL SELECT 'LearningPath', LearningPathUid, points, 'points.path.basic.completed'
            FROM {path})
        SELECT count(*) FROM {progress} p
        LEFT JOIN points c ON c.st = p.SourceType AND c.uid = p.SourceUid
        WHERE c.uid IS NULL OR p.XP <> c.points OR p.XPReason <> c.reason
        """,
        **t,
    )[0]
    assert bad == 0


def test_each_snapshot_holds_only_earlier_events_and_every_day_adds_some(
    sample: SampleSummary, db
) -> None:
    for i, day in enumerate(sample.snapshots):
        t = tables(
            day, progress="Progress", ach="Achievements", users="Users", skills="AppliedSkills"
        )
        since = cutoff(day) - dt.timedelta(days=1)
        latest, newest_day_rows = fetch(
            db,
            """
            SELECT max(CAST(AwardedOn AS TIMESTAMPTZ)),
                   count(*) FILTER (WHERE CAST(AwardedOn AS TIMESTAMPTZ) >= $1)
            FROM {progress}
            """,
            [since],
            **t,
        )[0]
        # Offsets up to 10 h: a wrongly converted instant would land past the cutoff.
        assert latest < cutoff(day)
        assert newest_day_rows > 0, f"no new Progress events in the day before {day}"
        for template in (
            "SELECT max(CAST(AwardedOn AS TIMESTAMPTZ)) FROM {ach}",
            "SELECT max(CAST(CreatedOn AS TIMESTAMPTZ)) FROM {users}",
            "SELECT max(CAST(examScoredDate AS TIMESTAMP) AT TIME ZONE 'UTC') FROM {skills}",
        ):
            assert fetch(db, template, **t)[0][0] < cutoff(day), (day, template)
        if i:
            prev = tables(sample.snapshots[i - 1], progress="Progress")["progress"]
            (added,) = fetch(
                db,
                "SELECT count(*) FROM (FROM {cur} EXCEPT ALL FROM {prev})",
                cur=t["progress"],
                prev=prev,
            )[0]
            assert added > 0, day


def test_snapshots_are_full_copies(sample: SampleSummary, db) -> None:
    """Every row of D-1 whose user is still present on D is in D (certifications may age out)."""
    for prev_day, day in zip(sample.snapshots, sample.snapshots[1:], strict=False):
        users = table_name(day, "users")
        for ds in TENANT:
            prev, cur = table_name(prev_day, ds.table), table_name(day, ds.table)
            is_cert = ds.name == "Certifications"
            aged_out = (
                "CertificationEndDate NOT IN ('0', '18991229') AND "  # placeholders never expire
                "try_strptime(CertificationEndDate, '%Y%m%d') < $1::DATE - INTERVAL 730 DAY"
                if is_cert
                else "false"
            )
            missing, kept = fetch(
                db,
                f"""
                WITH kept AS (SELECT * FROM {{prev}}
                              WHERE userId IN (SELECT userId FROM {{users}}) AND NOT ({aged_out}))
                SELECT (SELECT count(*) FROM (FROM kept EXCEPT ALL FROM {{cur}})),
                       (SELECT count(*) FROM kept)
                """,
                [day] if is_cert else None,
                prev=prev,
                cur=cur,
                users=users,
            )[0]
            assert kept > 0 and missing == 0, (day, ds.name, missing)


def _user_sets(sample: SampleSummary, db) -> list[set[str]]:
    return [
        {r[0] for r in fetch(db, "SELECT userId FROM {u}", u=table_name(day, "users"))}
        for day in sample.snapshots
    ]


def test_leavers_vanish_from_every_tenant_dataset(sample: SampleSummary, db) -> None:
    present = _user_sets(sample, db)
    gone: set[str] = set()
    for i, day in enumerate(sample.snapshots):
        if i:
            gone |= present[i - 1] - present[i]
        assert not gone & present[i], day
        for ds in TENANT:
            ids = {
                r[0]
                for r in fetch(db, "SELECT DISTINCT userId FROM {t}", t=table_name(day, ds.table))
            }
            assert not ids & gone, (day, ds.name)
    assert gone, "the sample should contain leavers"


def test_joiners_appear_with_a_creation_time_inside_the_interval(sample: SampleSummary, db) -> None:
    present = _user_sets(sample, db)
    joined = 0
    for i in range(1, len(sample.snapshots)):
        day, prev_day = sample.snapshots[i], sample.snapshots[i - 1]
        new = present[i] - present[i - 1]
        joined += len(new)
        created = fetch(
            db,
            "SELECT CAST(CreatedOn AS TIMESTAMPTZ) FROM {u} WHERE list_contains($1, userId)",
            [sorted(new)],
            u=table_name(day, "users"),
        )
        assert len(created) == len(new)
        assert all(cutoff(prev_day) <= c < cutoff(day) for (c,) in created), day
    assert joined > 0.2 * USERS
    # Every learner of the history shows up in some snapshot (leavers before they leave).
    assert len(set().union(*present)) == USERS


def test_tenant_rows_reference_present_users_of_one_tenant(sample: SampleSummary, db) -> None:
    tenant_ids: set[str] = set()
    for day in sample.snapshots:
        users = table_name(day, "users")
        for ds in TENANT:
            tenant_col = next(c.name for c in ds.columns if c.name.lower() == "tenantid")
            rows = fetch(
                db,
                f'SELECT DISTINCT "{tenant_col}" FROM {{t}}',  # column name from DATASETS
                t=table_name(day, ds.table),
            )
            tenant_ids |= {r[0] for r in rows}
            (orphans,) = fetch(
                db,
                "SELECT count(*) FROM {t} WHERE userId NOT IN (SELECT userId FROM {users})",
                t=table_name(day, ds.table),
                users=users,
            )[0]
            assert orphans == 0, (day, ds.name)
        ids = fetch(db, "SELECT userId, AADObjectId FROM {u}", u=users)
        assert all(GUID.match(a) and GUID.match(b) for a, b in ids)
    assert tenant_ids == {sample.tenant_id}
    assert GUID.match(sample.tenant_id)


def test_progress_rows_per_learner(sample: SampleSummary) -> None:
    last = sample.rows[sample.snapshots[-1].isoformat()]
    assert 30 <= last["Progress"] / last["Users"] <= 70


def test_certifications_cover_active_expiring_expired_and_no_date(
    sample: SampleSummary, db
) -> None:
    day = sample.snapshots[0]
    t = tables(day, cert="Certifications", catalog="HierarchyCertification")
    rows = fetch(
        db,
        """
        SELECT c.AwardType, c.TranscriptName = k.title, k.title LIKE '% Fundamentals',
               CAST(c.AwardedOn AS INTEGER), CAST(c.CertificationStartDate AS INTEGER),
               CAST(c.CertificationEndDate AS INTEGER),
               CAST(c.StayCurrentEligibilityStartDate AS INTEGER)
        FROM {cert} c LEFT JOIN {catalog} k ON k.certificationUid = c.SourceUid
        """,
        **t,
    )

    def date(value: int) -> dt.date:
        return dt.datetime.strptime(str(value), "%Y%m%d").date()

    placeholders, expired, expiring, active = set(), 0, 0, 0
    for award_type, title_ok, fundamentals, awarded, start, end, stay in rows:
        assert award_type == "Certification" and title_ok
        assert awarded == start and date(awarded) < day
        if fundamentals:
            assert end == stay and end in (0, 18991229)
            placeholders.add(end)
            continue
        assert 365 <= (date(end) - date(start)).days <= 366
        assert date(end) - date(stay) == dt.timedelta(days=180)
        assert date(end) >= day - dt.timedelta(days=730), "expired more than two years ago"
        expired += date(end) < day
        expiring += day <= date(end) < day + dt.timedelta(days=90)
        active += date(end) >= day
    assert placeholders == {0, 18991229}
    assert expired > 5 and expiring > 3 and active > expiring


def test_applied_skills_reference_the_catalog(sample: SampleSummary, db) -> None:
    day = sample.snapshots[-1]
    t = tables(day, skills="AppliedSkills", catalog="HierarchyAppliedSkills")
    rows = fetch(
        db,
        "SELECT s.labProfileName, k.title, s.examScoredDate FROM {skills} s "
        "LEFT JOIN {catalog} k USING (appliedSkillsUid)",
        **t,
    )
    assert len(rows) > 0.05 * USERS
    for lab, title, scored in rows:
        assert title is not None and re.fullmatch(rf"APL-\d{{4}}: {re.escape(title)}", lab)
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", scored)
