"""Report settings: the expiry window and privacy mode (the pseudonym key is a secret)."""

from dataclasses import dataclass

import dagster as dg


@dataclass(frozen=True)
class ReportSettingsValues:
    expiry_window_days: int = 90
    pseudonymize: bool = False
    pseudonym_key: str = ""


class ReportSettings(dg.ConfigurableResource):
    """LEARN_EXPIRY_WINDOW_DAYS, LEARN_PSEUDONYMIZE, LEARN_PSEUDONYM_KEY (secret)."""

    expiry_window_days: int = 90
    pseudonymize: bool = False
    pseudonym_key: str = ""

    def values(self) -> ReportSettingsValues:
        if self.expiry_window_days < 0:
            raise ValueError(
                f"LEARN_EXPIRY_WINDOW_DAYS must be >= 0, got {self.expiry_window_days}"
            )
        if self.pseudonymize and not self.pseudonym_key:
            raise ValueError("LEARN_PSEUDONYMIZE=true needs a secret in LEARN_PSEUDONYM_KEY")
        return ReportSettingsValues(self.expiry_window_days, self.pseudonymize, self.pseudonym_key)
