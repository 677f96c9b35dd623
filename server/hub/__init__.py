"""The province hub on one machine: nginx (TLS, WebSocket) in front of several gunicorn
processes sharing PostgreSQL and Redis (docs/deployment.md).

Production runs the same pieces from systemd (`systemd/tthcc-hub@.service`) and Debian's
nginx (`deploy/nginx/tthcc-hub.conf`); `tthcc hub run`, the deployment tests and the
province benchmark start them here with `LocalHub`.
"""
