"""Pages of the province: its administrators and viewers (role viewer, no centre)."""
