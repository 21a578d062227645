"""Notifications: an outbox in PostgreSQL, delivered by webhook, Slack webhook or e-mail."""
