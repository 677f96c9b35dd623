"""API between a centre box and the province hub: the box's batches (its own token) and
the state of its link (the box's supervisors and administrator)."""
