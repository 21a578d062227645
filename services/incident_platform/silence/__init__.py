"""Silences: Alertmanager-compatible muting of matching alerts."""
