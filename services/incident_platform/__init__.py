"""Self-hosted, Kubernetes-native incident platform.

Domain packages, each laid out as ``rules.py`` (pure), ``tables.py`` (storage),
``models.py`` (API shapes) and ``store.py`` (persistence): ``alert``, ``incident``,
``silence``, ``schedule``, ``escalation``, ``notification``, ``user`` and ``auth``.
``api`` holds the thin FastAPI adapters (``api/routes``), ``entrypoints`` the three
services' entry points, ``web`` the web UI's server, ``devtools`` what only development
uses (the dev runner, the embedded database, the demo seed), and ``migrations`` the
schema. Shared infrastructure sits at the root: ``db``, ``settings``, ``clock``,
``metrics``, ``severity``, ``storable``.
"""
