"""TTHCC kiosk package."""
