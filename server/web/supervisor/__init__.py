"""Pages of a centre's supervisors (session cookie, roles supervisor and admin)."""
