"""A self-signed certificate for a hub on this machine (tests, benchmarks, a demo).

Real hubs use real certificates (docs/deployment.md): this one is valid for localhost,
127.0.0.1 and ::1 only, and is its own authority, so a client that is given the file
(`requests.get(url, verify=cert)`) verifies the connection instead of skipping the check.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path


def self_signed_certificate(folder: Path, *, days: int = 30) -> tuple[Path, Path]:
    """(certificate, key) in `folder`, made with Debian's openssl when absent."""
    folder.mkdir(parents=True, exist_ok=True)
    cert, key = folder / "hub-cert.pem", folder / "hub-key.pem"
    if cert.exists() and key.exists():
        return cert, key
    openssl = shutil.which("openssl") or "/usr/bin/openssl"
    subprocess.run(
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            str(days),
            "-subj",
            "/CN=localhost/O=TTHCC local hub",
            "-addext",
            "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    key.chmod(0o600)
    return cert, key
