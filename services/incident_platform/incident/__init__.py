"""Incidents: lifecycle rules, timeline, MTTA/MTTR."""
