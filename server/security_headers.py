"""Security headers on every response, and cookies that match the public URL's scheme.

The Content-Security-Policy forbids inline scripts: a page's code comes from our own static
files. A page that still has an inline script marks it with the request's nonce
(``<script nonce="{{ csp_nonce() }}">``); an injected script has no nonce and does not
run, nor does an inline event handler (``onclick=…``). Styles may stay inline (attributes).
"""

from __future__ import annotations

import secrets

from flask import Flask, Response, g

#: Sent on every response, HTML or not.
STATIC_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
}
#: The one exception: the public live waits page asks for the citizen's position ("use my
#: position", docs/province.md), from this origin only.
GEOLOCATION_SELF_POLICY = STATIC_HEADERS["Permissions-Policy"].replace(
    "geolocation=()", "geolocation=(self)"
)


def csp_nonce() -> str:
    """This request's script nonce (one per request, made on first use)."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(18)
    return g.csp_nonce


def content_security_policy(nonce: str) -> str:
    return "; ".join(
        (
            "default-src 'self'",
            f"script-src 'self' 'nonce-{nonce}'",
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data: blob:",
            "media-src 'self' data: blob:",
            "font-src 'self'",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        )
    )


def init_security_headers(app: Flask) -> None:
    config = app.config["TTHCC"]
    https = config.public_url.lower().startswith("https://")
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=https,
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_SECURE=https,
    )
    app.jinja_env.globals["csp_nonce"] = csp_nonce

    defaults = list(STATIC_HEADERS.items())
    if https:
        defaults.append(("Strict-Transport-Security", "max-age=31536000"))
    # The policy around its nonce, joined once: this runs on every response.
    before_nonce, after_nonce = content_security_policy("\0").split("\0")

    @app.after_request
    def _security_headers(response: Response) -> Response:
        headers = response.headers
        # werkzeug's setdefault scans the headers twice per name; one set of names instead
        present = {name.lower() for name, _ in headers.items()}
        headers.extend([(n, v) for n, v in defaults if n.lower() not in present])
        headers["Content-Security-Policy"] = before_nonce + csp_nonce() + after_nonce
        return response
