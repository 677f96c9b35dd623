"""TTHCC server package."""
