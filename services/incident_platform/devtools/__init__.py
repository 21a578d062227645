"""Helpers for developing and testing the platform on one machine (not used in production)."""
