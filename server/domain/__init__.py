"""Pure domain rules: no Flask, SQLAlchemy, Socket.IO or serial imports (a test enforces it)."""
