"""Pages under /admin: the administrator only (session cookie, role admin)."""
