"""Pages for anyone: citizens in the hall and on their phones (no credential)."""
