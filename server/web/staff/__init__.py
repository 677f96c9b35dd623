"""Pages of counter and dossier-desk staff: shells that log in on the page (session cookie)
and take their data from the staff API (server/api/staff/)."""
