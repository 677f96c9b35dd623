"""API under /api/v1/admin: the administrator only (role admin), audited."""
