"""Privacy mode for what this project writes outside the reports: check samples and log lines.

In privacy mode (LEARN_PSEUDONYMIZE) no display name, given name, surname, mail, UPN or Entra
object id may reach the Dagster event log (check metadata, shown in the UI) or a log line. A
sample cell of such a column is `(redacted)`; a Learn user id becomes the learner's pseudonym,
the one the reports show (`reports/build.py`: 'Learner ' || left(sha256(key || ':' || user_id),
10)), so a reader can find the learner in the reports.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field

REDACTED = "(redacted)"
PSEUDONYM_PREFIX = "Learner "
PSEUDONYM_HEX = 10
# Columns about a person, as delivered or staged, compared by `_plain` (case and `_` ignored):
# the directory's names, mail, UPN, object id (Users.AADObjectId = Entra id / objectId), and the
# export's other contact columns in case they ever reach a sample.
PERSONAL_COLUMNS = frozenset(
    {
        "id",
        "objectid",
        "aadobjectid",
        "displayname",
        "givenname",
        "surname",
        "mail",
        "othermails",
        "userprincipalname",
        "employeeid",
        "streetaddress",
        "businessphones",
        "mobilephone",
        "faxnumber",
        "proxyaddresses",
    }
)
USER_ID_COLUMNS = frozenset({"userid"})


def _plain(column: str) -> str:
    return column.replace("_", "").lower()


def pseudonym(key: str, user_id: str) -> str:
    """The reports' pseudonym of a Learn user id, from its delivered text (trimmed of spaces
    and lowercased, as staging stores a GUID)."""
    digest = hashlib.sha256(f"{key}:{user_id.strip(' ').lower()}".encode()).hexdigest()
    return PSEUDONYM_PREFIX + digest[:PSEUDONYM_HEX]


@dataclass(frozen=True)
class Privacy:
    """Privacy mode on or off, with the pseudonym key (never shown: not in the repr)."""

    on: bool = False
    key: str = field(default="", repr=False)

    def value(self, column: str, value: object) -> object:
        """`value` of `column` as it may be shown: redacted, pseudonymized or as it is."""
        if not self.on or value is None:
            return value
        plain = _plain(column)
        if plain in PERSONAL_COLUMNS:
            return REDACTED
        if plain in USER_ID_COLUMNS:
            return pseudonym(self.key, str(value))
        return value

    def sample(
        self, columns: Sequence[str], rows: Sequence[Sequence[object]]
    ) -> tuple[list[str], list[tuple]]:
        """A sample table (column names, rows) as it may be shown: each cell judged by the name
        of its column, so a sample names its columns after the data they hold."""
        shown = [tuple(self.value(c, v) for c, v in zip(columns, r, strict=True)) for r in rows]
        return list(columns), shown
