"""Grouping rules: which alerts share an incident beyond one per service."""
