"""TTHCC devices package."""
