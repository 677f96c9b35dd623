"""TTHCC display package."""
