"""The public ticket page (/t/<code>) where a ticket's QR code leads."""

from __future__ import annotations

import json
import re


def issue(client, service_id: int) -> dict:
    r = client.post("/api/v1/tickets", json={"service_id": service_id})
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def first_service(client) -> dict:
    catalog = client.get("/api/v1/catalog").get_json()
    return catalog["fields"][0]["services"][0]


def test_ticket_page_shows_number_service_and_status_in_vietnamese(client, demo):
    service = first_service(client)
    ticket = issue(client, service["id"])
    r = client.get(f"/t/{ticket['public_code']}")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert f'id="ts-number">{ticket["number"]}<' in html
    assert service["name"] in html
    assert "Đang chờ đến lượt" in html
    assert "TRUNG TÂM PHỤC VỤ HÀNH CHÍNH CÔNG" in html
    block = re.search(r'<script id="ticket-config" type="application/json">(.*?)</script>', html)
    assert json.loads(block.group(1))["api"] == f"/api/v1/tickets/public/{ticket['public_code']}"
    assert "<script>" not in html  # no inline script: the page is an ES module
    assert 'name="viewport"' in html  # a phone page


def test_ticket_page_names_the_counter_once_called(client, demo, staff_token):
    ticket = issue(client, first_service(client)["id"])
    headers = {"Authorization": f"Bearer {staff_token}"}
    called = client.post(
        "/api/v1/counters/1/call", json={"ticket_id": ticket["id"]}, headers=headers
    )
    assert called.status_code == 200, called.get_json()
    html = client.get(f"/t/{ticket['public_code']}").get_data(as_text=True)
    assert "Đã đến lượt – mời quý khách đến quầy" in html
    assert f"Mời đến {called.get_json()['counter_name']}" in html


def test_unknown_code_is_a_404_page_in_vietnamese(client, demo):
    r = client.get("/t/no-such-code-here")
    assert r.status_code == 404
    assert "Không tìm thấy phiếu" in r.get_data(as_text=True)
