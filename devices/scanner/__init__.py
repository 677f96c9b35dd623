"""2D barcode scanners at the kiosk: the ID card's QR code, appointment and check-in codes.

Two ways a scanner reaches the kiosk (docs/devices.md, "Barcode scanners"):

- **serial** (a USB-CDC or RS-232 scanner): :mod:`~devices.scanner.driver` reads CR/LF
  terminated lines on the station agent, which sends each scan to the server
  (``scanner.scan``); the server forwards what the page needs to the kiosk's room.
- **keyboard wedge** (the scanner types like a keyboard): the kiosk page itself tells a
  scan from a person typing by the timing of the keys (kiosk/static/js/scanner.js).

The agent never interprets a scan: the server parses it (server/domain/id_card.py), so the
ID number is hashed in one place and never leaves the server in clear.
"""
