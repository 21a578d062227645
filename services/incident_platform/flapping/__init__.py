"""Flap detection: alerts that keep changing state, after Nagios."""
