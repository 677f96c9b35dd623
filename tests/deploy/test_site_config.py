"""The shipped nginx site (deploy/nginx/tthcc-hub.conf) and the systemd unit of the hub's
processes agree with what the local hub starts, and nginx accepts them."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from server.config import PROJECT_ROOT, Config
from server.hub import nginx
from server.hub.local import NGINX
from server.hub.tls import self_signed_certificate


def render(tmp_path: Path, site_file: Path = nginx.SITE_FILE) -> str:
    cert, key = self_signed_certificate(tmp_path / "tls")
    return nginx.site_config(
        app_addresses=["127.0.0.1:9101", "127.0.0.1:9102", "127.0.0.1:9103"],
        host="127.0.0.1",
        https_port=9443,
        http_port=9080,
        certificate=cert,
        key=key,
        site_file=site_file,
    )


def test_local_site_changes_only_addresses_ports_and_certificates(tmp_path):
    shipped = nginx.SITE_FILE.read_text().splitlines()
    local = render(tmp_path).splitlines()
    removed = [line.strip() for line in shipped if line not in local]
    added = [line.strip() for line in local if line not in shipped]
    assert all(
        re.match(r"(server 127\.0\.0\.1:800\d |listen |return 301 |ssl_certificate)", line)
        for line in removed
    ), removed
    assert [a for a in added if a.startswith("server ")] == [
        f"server 127.0.0.1:{port} max_fails=2 fail_timeout=3s;" for port in (9101, 9102, 9103)
    ]
    assert "listen 127.0.0.1:9443 ssl http2;" in added


def test_nginx_accepts_the_site(tmp_path):
    main = nginx.write_configs(tmp_path / "nginx", render(tmp_path))
    check = subprocess.run(
        [NGINX, "-t", "-p", str(main.parent), "-c", str(main)], capture_output=True, text=True
    )
    assert check.returncode == 0, check.stderr


def test_a_site_file_of_another_shape_is_refused(tmp_path):
    changed = tmp_path / "site.conf"
    changed.write_text(
        nginx.SITE_FILE.read_text().replace("listen 443 ssl http2;", "listen 443 ssl;")
    )
    with pytest.raises(nginx.SiteFileChanged, match="listen 443 ssl http2"):
        render(tmp_path, changed)


def test_the_hub_unit_sets_only_settings_the_server_knows():
    unit = (PROJECT_ROOT / "systemd" / "tthcc-hub@.service").read_text()
    known = {f"TTHCC_{name.upper()}" for name in Config.__dataclass_fields__}
    known |= {"TTHCC_BIND_ADDRESS"}  # the unit's own: the gunicorn --bind address
    known |= {"TTHCC_VOICE_CACHE_DIR"}  # read by display/voice (display/voice/clips.py)
    used = set(re.findall(r"\b(TTHCC_[A-Z_]+)=", unit))
    assert used and used <= known, used - known
    assert "--bind ${TTHCC_BIND_ADDRESS}:%i" in unit
    assert "TTHCC_SOCKETIO_TRANSPORTS=websocket" in unit
    # A process holds every screen of the province when its sibling restarts (~2,440 for
    # 168 centres, docs/province.md); gevent's default of 1,000 connections did not.
    connections = re.search(r"--worker-connections (\d+)", unit)
    assert connections and int(connections.group(1)) >= 2500
    assert int(re.search(r"LimitNOFILE=(\d+)", unit).group(1)) >= 2 * int(connections.group(1))
