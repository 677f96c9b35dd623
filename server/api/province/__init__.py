"""API of the province: its board and cross-centre reports (administrators, viewers)."""
