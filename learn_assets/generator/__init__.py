"""Sample tenant generator: realistic Learn Organizational Reporting snapshots for demos and tests."""
