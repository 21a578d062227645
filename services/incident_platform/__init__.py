"""Self-hosted, Kubernetes-native incident platform.

Domain packages (one per domain, as GoAlert lays them out):
``alert`` (ingestion, correlation), ``incident`` (lifecycle, stats), ``auth``
(integrations, API tokens). ``api`` holds the thin FastAPI adapters and the
service entry points live in ``alert_ingestion`` and ``incident_management``.
"""
