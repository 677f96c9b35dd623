"""The tolerant procedure search a kiosk user needs: no spaces, one typo, no diacritics,
extra words; ranked. Pure ranking first, then through the API on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from server.domain.search import rank

CATALOGUE = [
    "1.001193 Đăng ký khai sinh",
    "1.000894 Đăng ký kết hôn",
    "1.000656 Đăng ký khai tử",
    "1.0001 Đăng ký nhận cha, mẹ, con",
    "2.000815 Chứng thực bản sao từ bản chính giấy tờ, văn bản",
    "2.000884 Chứng thực chữ ký trong các giấy tờ, văn bản",
    "1.012783 Cấp đổi Giấy chứng nhận quyền sử dụng đất",
    "1.0009 Đăng ký khai sinh có yếu tố nước ngoài",
]


def ranked(query: str) -> list[str]:
    return [CATALOGUE[hit.index].split(" ", 1)[1] for hit in rank(query, CATALOGUE)]


@pytest.mark.parametrize(
    "query",
    [
        "khaisinh",  # spaces missing
        "dangkykhaisinh",
        "khai snh",  # a letter missing
        "khai sinhh",  # a letter extra
        "khia sinh",  # two letters swapped
        "khai sonh",  # a wrong letter
        "khaisnh",  # both: no space and a typo
        "khai sinh cho con",  # extra words
        "tôi muốn làm khai sinh",
        "KHAI SINH",
        "khai sinh",
    ],
)
def test_birth_registration_is_first_for_what_people_type(query):
    assert ranked(query)[0] == "Đăng ký khai sinh"


def test_a_precise_query_gives_a_precise_list():
    assert sorted(ranked("chung thuc")) == [
        "Chứng thực bản sao từ bản chính giấy tờ, văn bản",
        "Chứng thực chữ ký trong các giấy tờ, văn bản",
    ]
    assert ranked("sinh khai") == ["Đăng ký khai sinh", "Đăng ký khai sinh có yếu tố nước ngoài"]


def test_ranking_puts_the_closer_name_first():
    # Both contain "khai sinh"; the plain one is shorter.
    assert ranked("khai sinh")[:2] == [
        "Đăng ký khai sinh",
        "Đăng ký khai sinh có yếu tố nước ngoài",
    ]
    # A typo still ranks "khai sinh" above "khai tử", which matches one word only.
    found = ranked("khai snh")
    assert found.index("Đăng ký khai sinh") < found.index("Đăng ký khai tử")


@pytest.mark.parametrize("query", ["xyz khong co", "qq", "_", "meo meo", "zzzz"])
def test_nonsense_finds_nothing(query):
    assert ranked(query) == []


def test_empty_query_keeps_the_catalogue_order():
    assert [hit.index for hit in rank("  ", CATALOGUE)] == list(range(len(CATALOGUE)))


def names(client, query: str) -> list[str]:
    response = client.get("/api/v1/procedures", query_string={"q": query})
    assert response.status_code == 200, response.get_json()
    return [p["name"] for p in response.get_json()]


@pytest.mark.parametrize(
    "query",
    ["khaisinh", "khai snh", "khai sinh", "khai sinh cho con", "Khai Sinh", "đăng kí khai sinh"],
)
def test_api_search_is_tolerant_on_the_database(client, demo, query):
    assert names(client, query)[0] == "Đăng ký khai sinh"


def test_api_search_keeps_field_filter_and_refuses_nonsense(client, demo):
    fields = {f["name"]: f["id"] for f in client.get("/api/v1/catalog").get_json()["fields"]}
    land = client.get(
        "/api/v1/procedures", query_string={"q": "chuyen nhuong dat", "field_id": fields["Đất đai"]}
    ).get_json()
    assert land and all(p["field_name"] == "Đất đai" for p in land)
    assert land[0]["name"].startswith("Đăng ký biến động quyền sử dụng đất")
    assert names(client, "xyz khong co") == []


def test_public_page_uses_the_same_search(client, demo):
    page = client.get("/thu-tuc?q=khaisinh").get_data(as_text=True)
    assert "Đăng ký khai sinh" in page and "Chứng thực chữ ký" not in page
