"""nginx for a hub on this machine, from the site file production uses.

`site_config` reads `deploy/nginx/tthcc-hub.conf` and changes only what differs on a test
machine: the upstream's `server` lines (the local processes' ports), the `listen` lines
(loopback ports instead of 80/443, no IPv6), the redirect's port and the certificate
paths. Anything else in the shipped file (WebSocket upgrade, headers, timeouts, limits,
the JSON error page) is what the tests exercise. If the shipped file changes shape so that
a substitution no longer applies, `site_config` raises instead of starting something else.
`main_config` wraps it in the few top-level lines Debian's /etc/nginx/nginx.conf provides.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from server.config import PROJECT_ROOT

SITE_FILE = PROJECT_ROOT / "deploy" / "nginx" / "tthcc-hub.conf"

_UPSTREAM = re.compile(r"(upstream tthcc_app \{)(.*?)(\n\})", re.S)
_UPSTREAM_SERVER = re.compile(r"^\s*server \S+( [^;]*)?;\n", re.M)


class SiteFileChanged(RuntimeError):
    """deploy/nginx/tthcc-hub.conf no longer has a line the local hub must change."""


def _replace(text: str, old: str, new: str, count: int = 1) -> str:
    found = text.count(old)
    if found != count:
        raise SiteFileChanged(f"expected {count} × {old!r} in {SITE_FILE.name}, found {found}")
    return text.replace(old, new)


def site_config(
    *,
    app_addresses: list[str],
    host: str,
    https_port: int,
    http_port: int,
    certificate: Path,
    key: Path,
    site_file: Path = SITE_FILE,
) -> str:
    """The shipped site, pointed at `app_addresses` ("127.0.0.1:8001") and local ports."""
    text = site_file.read_text(encoding="utf-8")
    upstream = _UPSTREAM.search(text)
    if upstream is None:
        raise SiteFileChanged(f"no `upstream tthcc_app {{…}}` in {site_file.name}")
    body = upstream.group(2)
    options = [m.group(1) or "" for m in _UPSTREAM_SERVER.finditer(body)]
    if not options:
        raise SiteFileChanged(f"no server line in the upstream of {site_file.name}")
    first = _UPSTREAM_SERVER.search(body)
    assert first is not None
    servers = "".join(f"    server {address}{options[0]};\n" for address in app_addresses)
    body = body[: first.start()] + servers + _UPSTREAM_SERVER.sub("", body[first.start() :])
    text = text[: upstream.start(2)] + body + text[upstream.end(2) :]

    text = _replace(text, "    listen 80;\n", f"    listen {host}:{http_port};\n")
    text = _replace(text, "    listen [::]:80;\n", "")
    text = _replace(
        text, "    listen 443 ssl http2;\n", f"    listen {host}:{https_port} ssl http2;\n"
    )
    text = _replace(text, "    listen [::]:443 ssl http2;\n", "")
    text = _replace(
        text,
        "return 301 https://$host$request_uri;",
        f"return 301 https://$host:{https_port}$request_uri;",
    )
    text = re.sub(r"(?m)^(\s*ssl_certificate) \S+;", rf"\1 {certificate};", text, count=1)
    text = re.sub(r"(?m)^(\s*ssl_certificate_key) \S+;", rf"\1 {key};", text, count=1)
    if str(certificate) not in text or str(key) not in text:
        raise SiteFileChanged(f"no ssl_certificate / ssl_certificate_key in {site_file.name}")
    return text


def main_config(prefix: Path, site: Path, *, worker_connections: int = 4096) -> str:
    """Top-level nginx configuration around `site`, every file under `prefix`."""
    tmp = prefix / "tmp"
    # The workers must write temporary files; as root, nginx would run them as nobody,
    # who cannot enter a private test folder.
    user = "user root;\n" if os.geteuid() == 0 else ""
    temp_paths = "".join(
        f"    {kind}_temp_path {tmp / kind};\n"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return (
        f"{user}worker_processes 1;\n"
        f"worker_rlimit_nofile {worker_connections * 2};\n"
        f"pid {prefix / 'nginx.pid'};\n"
        f"error_log {prefix / 'error.log'} warn;\n"
        f"events {{ worker_connections {worker_connections}; }}\n"
        "http {\n"
        f"    access_log {prefix / 'access.log'};\n"
        f"{temp_paths}"
        f"    include {site};\n"
        "}\n"
    )


def write_configs(prefix: Path, site_text: str, *, worker_connections: int = 4096) -> Path:
    """Write the site and the main file under `prefix`; returns the main file's path."""
    (prefix / "tmp").mkdir(parents=True, exist_ok=True)
    site = prefix / "tthcc-hub.conf"
    site.write_text(site_text, encoding="utf-8")
    main = prefix / "nginx.conf"
    main.write_text(
        main_config(prefix, site, worker_connections=worker_connections), encoding="utf-8"
    )
    return main
