"""Real parts for the tests: PostgreSQL databases and service processes."""
