"""Security headers on every page and answer; the CSP forbids inline scripts (item 4)."""

from __future__ import annotations

import re

from werkzeug.routing import IntegerConverter

from server.security_headers import GEOLOCATION_SELF_POLICY, STATIC_HEADERS

#: Pages that may ask the browser for the position (their own origin only).
GEOLOCATION_PAGES = {"/thoi-gian-cho"}


def _get_routes(app):
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint.endswith("static"):
            continue
        url = rule.rule
        for name, converter in rule._converters.items():
            value = "1" if isinstance(converter, IntegerConverter) else "x"
            if name == "entity":
                value = "services"
            url = re.sub(rf"<[^>]*\b{name}>", value, url)
        yield url


def _check(response, url: str = "") -> str:
    for name, value in STATIC_HEADERS.items():
        if name == "Permissions-Policy" and url in GEOLOCATION_PAGES:
            value = GEOLOCATION_SELF_POLICY
        assert response.headers.get(name) == value, (name, response.headers)
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    script_src = re.search(r"script-src ([^;]+)", csp).group(1).split()
    assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src
    assert script_src[0] == "'self'" and script_src[1].startswith("'nonce-")
    return script_src[1][len("'nonce-") : -1]


def test_every_page_and_answer_has_the_security_headers(app, client, demo, backend):
    page = client.get("/supervisor/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    client.post(
        "/supervisor/login",
        data={"username": "admin", "password": "tthcc-admin", "csrf_token": token},
    )
    html_pages, nonces = 0, set()
    for url in sorted(set(_get_routes(app))):
        response = client.get(url)
        nonce = _check(response, url)
        nonces.add(nonce)
        if response.mimetype == "text/html":
            html_pages += 1
            body = response.get_data(as_text=True)
            # every inline script left carries this response's nonce; no inline handlers
            for tag in re.findall(r"<script\b[^>]*>", body):
                if "src=" in tag or 'type="application/json"' in tag:
                    continue
                assert f'nonce="{nonce}"' in tag, (url, tag)
            assert not re.search(r"<[^>]+\son[a-z]+\s*=", body), url
    assert html_pages >= 25, html_pages
    assert len(nonces) > 25  # a fresh nonce per response
    # errors and the API too
    _check(client.get("/no-such-page"))
    _check(client.get("/api/v1/centres"))
    _check(app.test_client().post("/api/v1/auth/token", json={}))
