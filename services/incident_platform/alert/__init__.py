"""Alerts: ingestion from every sender, deduplication and correlation into incidents."""
