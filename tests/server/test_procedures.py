"""The procedure catalogue: demo seeding, diacritic- and case-insensitive search, the API,
import/export and the public /thu-tuc pages."""

from __future__ import annotations

import pytest

from server.domain.textfold import fold, search_terms
from tests.kiosk.test_kiosk_routes import page_config


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Đăng ký khai sinh", "dang ky khai sinh"),
        ("ĐĂNG KÝ KẾT HÔN", "dang ky ket hon"),
        ("Chứng thực bản sao – từ bản chính", "chung thuc ban sao tu ban chinh"),
        ("  Hộ   tịch ", "ho tich"),
        ("1.001193", "1.001193"),
        ("Giấy chứng nhận quyền sử dụng đất", "giay chung nhan quyen su dung dat"),
    ],
)
def test_fold_drops_diacritics_case_and_punctuation(text, folded):
    assert fold(text) == folded


def test_search_terms_are_folded_words():
    assert search_terms(" Khai  SINH ") == ["khai", "sinh"]
    assert search_terms("") == []


def names(response) -> list[str]:
    assert response.status_code == 200, response.get_json()
    return [p["name"] for p in response.get_json()]


@pytest.mark.parametrize(
    "query",
    [
        "dang ky khai sinh",
        "Đăng ký khai sinh",
        "ĐĂNG KÝ KHAI SINH",
        "khai sinh",
        "sinh khai",
        "DANG KY khai SINH",
    ],
)
def test_search_ignores_diacritics_case_and_word_order(client, demo, query):
    assert "Đăng ký khai sinh" in names(client.get("/api/v1/procedures", query_string={"q": query}))


def test_search_by_national_code_and_partial_words(client, demo):
    assert names(client.get("/api/v1/procedures?q=1.001193")) == ["Đăng ký khai sinh"]
    found = names(client.get("/api/v1/procedures?q=chung thuc"))
    assert "Chứng thực bản sao từ bản chính giấy tờ, văn bản" in found
    assert all("Chứng thực" in n for n in found)
    assert names(client.get("/api/v1/procedures?q=xyz khong co")) == []
    # "_" is a LIKE wildcard: searched literally; "%" is punctuation, folded away.
    assert names(client.get("/api/v1/procedures?q=_")) == []
    assert len(names(client.get("/api/v1/procedures?q=%25"))) == len(
        names(client.get("/api/v1/procedures"))
    )


def test_filter_by_field(client, demo):
    fields = {f["name"]: f["id"] for f in client.get("/api/v1/catalog").get_json()["fields"]}
    land = client.get("/api/v1/procedures", query_string={"field_id": fields["Đất đai"]})
    assert names(land) and all(p["field_name"] == "Đất đai" for p in land.get_json())
    both = client.get(
        "/api/v1/procedures", query_string={"field_id": fields["Hộ tịch"], "q": "ket hon"}
    )
    assert names(both) == ["Đăng ký kết hôn"]


def test_demo_has_the_domain_samples_and_more(client, demo):
    rows = client.get("/api/v1/procedures").get_json()
    by_code = {p["code"]: p for p in rows}
    for code in ("1.001193", "1.000894", "1.000656", "2.000815", "2.000884", "1.012783"):
        assert code in by_code
    assert len(rows) >= 18
    assert len({p["field_name"] for p in rows}) >= 6
    birth = by_code["1.001193"]
    assert birth["same_day"] and birth["cutoff_15h"] and birth["processing_days"] == 0
    assert birth["processing_text"].startswith("Trong ngày")
    assert birth["service_name"] == "Khai sinh, kết hôn, khai tử"
    copies = by_code["2.000815"]
    assert "2.000 đồng/trang" in copies["fee_text"] and "200.000" in copies["fee_text"]
    land = by_code["1.012783"]
    assert land["processing_days"] == 5 and land["fee_amount"] == 50000
    assert land["processing_text"] == "05 ngày làm việc"
    assert all(p["papers"] for p in rows)


def test_demo_seeding_is_idempotent_and_keeps_edits(app, database, demo):
    from sqlalchemy import func, select

    from server.demo import load_demo
    from server.models import Procedure

    with database.transaction() as session:
        count = session.execute(select(func.count()).select_from(Procedure)).scalar_one()
        birth = session.execute(select(Procedure).where(Procedure.code == "1.001193")).scalar_one()
        birth.fee_text = "Sửa bởi quản trị"
    with database.transaction() as session:
        load_demo(session)
    with database.transaction() as session:
        assert session.execute(select(func.count()).select_from(Procedure)).scalar_one() == count
        birth = session.execute(select(Procedure).where(Procedure.code == "1.001193")).scalar_one()
        assert birth.fee_text == "Sửa bởi quản trị"


def test_get_one_procedure_and_404(client, demo):
    first = client.get("/api/v1/procedures?q=khai tu").get_json()[0]
    r = client.get(f"/api/v1/procedures/{first['id']}")
    assert r.status_code == 200
    assert r.get_json()["code"] == "1.000656"
    assert next(p["name"] for p in r.get_json()["papers"]).startswith("Tờ khai đăng ký khai tử")
    missing = client.get("/api/v1/procedures/99999")
    assert missing.status_code == 404
    assert "thủ tục" in missing.get_json()["message"]


def test_export_import_round_trip(client, demo, admin_token):
    exported = client.get("/api/v1/procedures/export").get_json()
    assert {"code", "name", "field_code", "papers"} <= set(exported[0])
    csv_text = client.get("/api/v1/procedures/export?format=csv").get_data(as_text=True)
    assert csv_text.splitlines()[0].startswith("code,name,field_code")
    headers = {"Authorization": f"Bearer {admin_token}"}
    assert (
        client.post("/api/v1/procedures/import", json={"procedures": exported}).status_code == 401
    )
    r = client.post("/api/v1/procedures/import", json={"procedures": exported}, headers=headers)
    assert r.get_json() == {"created": 0, "updated": len(exported)}
    new = {
        "code": "BN.HT.99",
        "name": "Đăng ký giám hộ",
        "field_code": "HT",
        "service_code": "HT2",
        "papers": [{"name": "Tờ khai đăng ký giám hộ"}],
        "processing_days": 3,
        "fee_amount": 0,
    }
    r = client.post("/api/v1/procedures/import", json={"procedures": [new]}, headers=headers)
    assert r.get_json() == {"created": 1, "updated": 0}
    assert names(client.get("/api/v1/procedures?q=giam ho")) == ["Đăng ký giám hộ"]
    r = client.post("/api/v1/procedures/import", json={"csv": csv_text}, headers=headers)
    assert r.status_code == 200 and r.get_json()["created"] == 0
    bad = client.post(
        "/api/v1/procedures/import",
        json={"procedures": [{**new, "field_code": "NOPE"}]},
        headers=headers,
    )
    assert bad.status_code == 422 and "NOPE" in bad.get_json()["message_en"]
    log = client.get("/api/v1/admin/audit?entity=procedures", headers=headers).get_json()
    assert [e["action"] for e in log] == ["import"] * 3  # the refused import left nothing
    assert log[1]["after"] == {"created": 1, "updated": 0, "codes": ["BN.HT.99"]}
    assert log[0]["actor"] == "user:admin"


def test_public_page_lists_searches_and_shows_a_procedure(client, demo):
    page = client.get("/thu-tuc").get_data(as_text=True)
    assert "Thủ tục hành chính" in page and "Đăng ký khai sinh" in page
    assert 'name="viewport"' in page
    found = client.get("/thu-tuc?q=dang+ky+khai+sinh").get_data(as_text=True)
    assert "Đăng ký khai sinh" in found and "Chứng thực chữ ký" not in found
    procedure_id = client.get("/api/v1/procedures?q=1.012783").get_json()[0]["id"]
    detail = client.get(f"/thu-tuc/{procedure_id}").get_data(as_text=True)
    for text in (
        "05 ngày làm việc",
        "50.000 đồng",
        "Mẫu 11/ĐK",
        "Bản chính",
        "Chi nhánh Văn phòng đăng ký đất đai",
    ):
        assert text in detail
    assert client.get("/thu-tuc/99999").status_code == 404


def test_kiosk_procedure_page_is_bound_to_centre_and_station(client, demo):
    from tests.server.factories import provision_kiosk

    html = client.get("/kiosk/thu-tuc?centre=3&station=7").get_data(as_text=True)
    config = page_config(html)
    assert (config["centre_id"], config["station_id"]) == (3, None)  # no station from the URL
    assert "Tra cứu thủ tục" in html
    assert "/kiosk/?centre=3" in html
    html = provision_kiosk(client).get("/kiosk/thu-tuc?station=7").get_data(as_text=True)
    config = page_config(html)
    assert (config["centre_id"], config["station_id"]) == (demo.centre_id, demo.kiosk_station_id)
