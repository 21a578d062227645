"""Thin HTTP adapters: parse, call the domain, persist, answer."""
