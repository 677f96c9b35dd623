"""API of counter and dossier-desk staff (session or bearer token, their centre): logging
in, counters, dossiers, ratings."""
