"""The services' entry points: each builds one FastAPI application and runs it with uvicorn.

``alert_ingestion`` (:8001), ``incident_management`` (:8002), ``oncall`` (:8003);
``serve`` is the uvicorn runner they share.
"""
