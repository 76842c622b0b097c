"""Staged layer: typed, validated tables; rule breakers quarantined with a reason."""
