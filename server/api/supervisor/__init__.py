"""API of a centre's supervisors: reports, scorecards, live supervision, stations."""
