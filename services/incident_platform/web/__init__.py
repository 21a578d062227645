"""The web server on :8080: the UI bundle and the services' APIs on one origin."""
