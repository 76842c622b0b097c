"""Core layer: conformed learners, catalog and event facts that keep history across snapshots."""
