"""API of the kiosk: issuing tickets (printed only for a provisioned kiosk) and the
operations on a ticket that follow it, and what its barcode scanner read (scans)."""
