"""API for anyone: the catalogue, the calendar, feedback, waits, numbers from the phone."""
