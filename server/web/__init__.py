"""Server-rendered pages, one package per audience (who may open them and with what
credential: server/access_policy.py, whose ``BLUEPRINTS`` is the one list the app registers).
``common.py``: what pages of several audiences share (the login gate, the page's centre).

- public/: citizens and phones (the front door, procedures, feedback, waits, a number from
  the phone, a ticket by its QR code);
- staff/: the counter page and the dossier desk (shells over the staff API);
- supervisor/: every /supervisor page (and the login page every staff page uses);
- admin/: the administrator's pages under /admin;
- province/: the province board and reports.

The kiosk's pages are kiosk/ and the lobby display's are display/ (packages of their own,
with their templates and static files: ARCHITECTURE.md).
"""
