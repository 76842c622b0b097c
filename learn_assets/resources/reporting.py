"""Report settings: what reaches the reports, and how.

The expiry window, privacy mode (the pseudonym key is a secret) and the snapshot sanity gates:
how far Users may drop and how much of a dataset may be quarantined before a snapshot is held
back from the reports, and the snapshot dates whose anomalies a person accepted.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import dagster as dg

from learn_assets.privacy import Privacy
from learn_assets.settings import DEFAULTS, check_share, guid, parse_dates


@dataclass(frozen=True)
class ReportSettingsValues:
    expiry_window_days: int = DEFAULTS.expiry_window_days
    pseudonymize: bool = DEFAULTS.pseudonymize
    pseudonym_key: str = field(default="", repr=False)


@dataclass(frozen=True)
class SanityGates:
    """Limits of the blocking snapshot sanity checks (staged/checks.py)."""

    max_user_drop: float = DEFAULTS.max_user_drop  # LEARN_MAX_USER_DROP, a share 0..1
    max_quarantine_share: float = DEFAULTS.max_quarantine_share  # LEARN_MAX_QUARANTINE_SHARE
    accepted: frozenset[dt.date] = frozenset()  # LEARN_ACCEPT_ANOMALY
    tenant_id: str = ""  # LEARN_TENANT_ID: the tenant every snapshot must be (empty: any one)

    def accepts(self, snapshot: dt.date | None) -> bool:
        return snapshot is not None and snapshot in self.accepted


class ReportSettings(dg.ConfigurableResource):
    """LEARN_EXPIRY_WINDOW_DAYS, LEARN_PSEUDONYMIZE, LEARN_PSEUDONYM_KEY (secret),
    LEARN_MAX_USER_DROP, LEARN_MAX_QUARANTINE_SHARE, LEARN_ACCEPT_ANOMALY, LEARN_TENANT_ID."""

    expiry_window_days: int = DEFAULTS.expiry_window_days
    pseudonymize: bool = DEFAULTS.pseudonymize
    pseudonym_key: str = ""
    max_user_drop: float = DEFAULTS.max_user_drop
    max_quarantine_share: float = DEFAULTS.max_quarantine_share
    accept_anomaly: str = ""  # comma-separated snapshot dates
    tenant_id: str = ""  # LEARN_TENANT_ID (a tenant's from the tenants file)

    def values(self) -> ReportSettingsValues:
        if self.expiry_window_days < 0:
            raise ValueError(
                f"LEARN_EXPIRY_WINDOW_DAYS must be >= 0, got {self.expiry_window_days}"
            )
        if self.pseudonymize and not self.pseudonym_key:
            raise ValueError("LEARN_PSEUDONYMIZE=true needs a secret in LEARN_PSEUDONYM_KEY")
        return ReportSettingsValues(self.expiry_window_days, self.pseudonymize, self.pseudonym_key)

    def privacy(self) -> Privacy:
        """Privacy mode for check samples and log lines (validated like the reports' settings)."""
        values = self.values()
        return Privacy(values.pseudonymize, values.pseudonym_key)

    def gates(self) -> SanityGates:
        return SanityGates(
            check_share("LEARN_MAX_USER_DROP", self.max_user_drop),
            check_share("LEARN_MAX_QUARANTINE_SHARE", self.max_quarantine_share),
            parse_dates("LEARN_ACCEPT_ANOMALY", self.accept_anomaly),
            guid("LEARN_TENANT_ID", self.tenant_id) if self.tenant_id else "",
        )
