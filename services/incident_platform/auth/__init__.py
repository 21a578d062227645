"""Credentials: integration keys for senders and role tokens for people and tools."""
