"""Demo procedure catalogue of the demo centre (phường Kinh Bắc), loaded by `load_demo`.

The six procedures of DOMAIN.md carry their national codes (Cơ sở dữ liệu quốc gia về
thủ tục hành chính). The others are realistic procedures of the same fields with
*local demo codes* (``BN.<field>.<n>``): a real centre replaces the whole list with its
province's by importing it (`POST /api/v1/procedures/import`). Fees and times vary by
province; these are typical values, not legal advice.

Idempotent: only procedures whose code the centre does not have yet are added, so an
administrator's edits survive a second `tthcc demo`. Centre settings used by dossiers and
feedback are filled in only when absent.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.models import Centre, Procedure
from server.services.procedures import upsert_procedures

WARD = "UBND phường Kinh Bắc"
RECEPTION = "Bộ phận tiếp nhận và trả kết quả, Trung tâm Phục vụ hành chính công phường Kinh Bắc"
RESULT_PLACE = "Quầy 7 – Trả kết quả, Trung tâm Phục vụ hành chính công phường Kinh Bắc"
LAND_OFFICE = "Chi nhánh Văn phòng đăng ký đất đai Bắc Ninh"
URBAN = "Phòng Kinh tế, Hạ tầng và Đô thị phường Kinh Bắc"
SOCIAL = "Phòng Văn hóa – Xã hội phường Kinh Bắc"
HOTICH = "Luật Hộ tịch 2014; Nghị định 123/2015/NĐ-CP; Thông tư 04/2020/TT-BTP"
CHUNGTHUC = "Nghị định 23/2015/NĐ-CP; Thông tư 226/2016/TT-BTC (lệ phí)"
ID_PAPERS = {
    "name": "Giấy tờ tùy thân có ảnh (CCCD/hộ chiếu) của người yêu cầu",
    "originals": 1,
    "copies": 0,
    "note": "Xuất trình, không nộp",
}

#: Settings the dossier and feedback features read from Centre.settings.
DEMO_SETTINGS = {
    # The centre's identification code for dossier codes; a demo value: put the code of
    # the unit from the national list of identification codes here.
    "dossier_unit_code": "000.00.27.H04",
    "place_name": "Bắc Ninh",
    "cutoff_time": "15:00",
    "feedback_working_days": 10,
    "dossier_return_time": "08:00",
    "same_day_return_time": "16:30",
    "result_return_service_code": "TK",
}


def _p(name: str, originals: int = 1, copies: int = 0, note: str = "") -> dict[str, Any]:
    return {"name": name, "originals": originals, "copies": copies, "note": note}


PROCEDURES: list[dict[str, Any]] = [
    # --- Hộ tịch -------------------------------------------------------------------------
    {
        "code": "1.001193",
        "name": "Đăng ký khai sinh",
        "field_code": "HT",
        "service_code": "HT1",
        "papers": [
            _p("Tờ khai đăng ký khai sinh (theo mẫu)"),
            _p("Giấy chứng sinh (hoặc văn bản của người làm chứng / giấy cam đoan)"),
            ID_PAPERS,
        ],
        "fee_text": "Miễn lệ phí khi đăng ký đúng hạn (trong 60 ngày kể từ ngày sinh)",
        "fee_amount": 0,
        "processing_days": 0,
        "same_day": True,
        "cutoff_15h": True,
        "agency": WARD,
        "result_place": RESULT_PLACE,
        "legal_basis": HOTICH,
    },
    {
        "code": "1.000894",
        "name": "Đăng ký kết hôn",
        "field_code": "HT",
        "service_code": "HT1",
        "papers": [
            _p("Tờ khai đăng ký kết hôn (theo mẫu), hai bên nam, nữ cùng có mặt"),
            _p(
                "Giấy xác nhận tình trạng hôn nhân",
                note="Khi đăng ký tại nơi không phải nơi thường trú",
            ),
            ID_PAPERS,
        ],
        "fee_text": "Miễn lệ phí",
        "fee_amount": 0,
        "processing_days": 0,
        "same_day": True,
        "cutoff_15h": True,
        "processing_note": "Trường hợp cần xác minh: không quá 05 ngày làm việc",
        "agency": WARD,
        "result_place": RESULT_PLACE,
        "legal_basis": HOTICH,
    },
    {
        "code": "1.000656",
        "name": "Đăng ký khai tử",
        "field_code": "HT",
        "service_code": "HT1",
        "papers": [
            _p("Tờ khai đăng ký khai tử (theo mẫu)"),
            _p("Giấy báo tử hoặc giấy tờ thay thế Giấy báo tử"),
            ID_PAPERS,
        ],
        "fee_text": "Miễn lệ phí khi đăng ký đúng hạn (trong 15 ngày kể từ ngày chết)",
        "fee_amount": 0,
        "processing_days": 0,
        "same_day": True,
        "cutoff_15h": True,
        "agency": WARD,
        "result_place": RESULT_PLACE,
        "legal_basis": HOTICH,
    },
    {
        "code": "BN.HT.04",
        "name": "Cấp bản sao trích lục hộ tịch",
        "field_code": "HT",
        "service_code": "HT2",
        "papers": [_p("Tờ khai yêu cầu cấp bản sao trích lục hộ tịch (theo mẫu)"), ID_PAPERS],
        "fee_text": "8.000 đồng/bản sao trích lục",
        "fee_amount": 8000,
        "processing_days": 0,
        "same_day": True,
        "cutoff_15h": True,
        "agency": WARD,
        "result_place": RESULT_PLACE,
        "legal_basis": HOTICH + "; Thông tư 281/2016/TT-BTC",
    },
    {
        "code": "BN.HT.05",
        "name": "Đăng ký thay đổi, cải chính, bổ sung thông tin hộ tịch",
        "field_code": "HT",
        "service_code": "HT2",
        "papers": [
            _p("Tờ khai đăng ký thay đổi, cải chính, bổ sung thông tin hộ tịch (theo mẫu)"),
            _p("Giấy tờ làm căn cứ cho việc thay đổi, cải chính, bổ sung", 0, 1),
            ID_PAPERS,
        ],
        "fee_text": "Theo Nghị quyết của HĐND tỉnh Bắc Ninh",
        "processing_days": 3,
        "processing_note": "Trường hợp cần xác minh: không quá 06 ngày làm việc",
        "agency": WARD,
        "result_place": RESULT_PLACE,
        "legal_basis": HOTICH,
    },
    {
        "code": "BN.HT.06",
        "name": "Đăng ký nhận cha, mẹ, con",
        "field_code": "HT",
        "service_code": "HT2",
        "papers": [
            _p("Tờ khai đăng ký nhận cha, mẹ, con (theo mẫu)"),
            _p("Chứng cứ chứng minh quan hệ cha, mẹ, con (văn bản giám định ADN…)"),
            ID_PAPERS,
        ],
        "fee_text": "Theo Nghị quyết của HĐND tỉnh Bắc Ninh",
        "processing_days": 3,
        "processing_note": "Trường hợp cần xác minh: không quá 08 ngày làm việc",
        "agency": WARD,
        "result_place": RESULT_PLACE,
        "legal_basis": HOTICH,
    },
    {
        "code": "BN.HT.07",
        "name": "Cấp Giấy xác nhận tình trạng hôn nhân",
        "field_code": "HT",
        "service_code": "HT2",
        "papers": [_p("Tờ khai cấp Giấy xác nhận tình trạng hôn nhân (theo mẫu)"), ID_PAPERS],
        "fee_text": "Theo Nghị quyết của HĐND tỉnh Bắc Ninh",
        "processing_days": 3,
        "agency": WARD,
        "result_place": RESULT_PLACE,
        "legal_basis": HOTICH,
    },
    # --- Chứng thực ----------------------------------------------------------------------
    {
        "code": "2.000815",
        "name": "Chứng thực bản sao từ bản chính giấy tờ, văn bản",
        "field_code": "CT",
        "service_code": "CT1",
        "papers": [
            _p("Bản chính giấy tờ, văn bản làm cơ sở để chứng thực bản sao", note="Xuất trình"),
            _p("Bản sao cần chứng thực", 0, 1, "Hoặc đề nghị chụp tại Trung tâm"),
        ],
        "fee_text": "2.000 đồng/trang; từ trang thứ ba trở lên 1.000 đồng/trang, "
        "tối đa không quá 200.000 đồng/bản",
        "fee_amount": 2000,
        "processing_days": 0,
        "same_day": True,
        "cutoff_15h": True,
        "processing_note": "Tiếp nhận sau 15 giờ: trả kết quả trong ngày làm việc tiếp theo",
        "agency": WARD,
        "result_place": RESULT_PLACE,
        "legal_basis": CHUNGTHUC,
    },
    {
        "code": "2.000884",
        "name": "Chứng thực chữ ký trong các giấy tờ, văn bản",
        "field_code": "CT",
        "service_code": "CT2",
        "papers": [
            ID_PAPERS,
            _p("Giấy tờ, văn bản mà mình sẽ ký", note="Ký trước mặt người thực hiện chứng thực"),
        ],
        "fee_text": "10.000 đồng/trường hợp",
        "fee_amount": 10000,
        "processing_days": 0,
        "same_day": True,
        "cutoff_15h": True,
        "agency": WARD,
        "result_place": RESULT_PLACE,
        "legal_basis": CHUNGTHUC,
    },
    {
        "code": "BN.CT.03",
        "name": "Chứng thực hợp đồng, giao dịch liên quan đến tài sản là động sản",
        "field_code": "CT",
        "service_code": "CT2",
        "papers": [
            _p("Dự thảo hợp đồng, giao dịch"),
            _p("Bản sao giấy tờ tùy thân của người yêu cầu chứng thực", 0, 1),
            _p("Bản sao giấy chứng nhận quyền sở hữu tài sản", 0, 1),
        ],
        "fee_text": "50.000 đồng/hợp đồng, giao dịch",
        "fee_amount": 50000,
        "processing_days": 2,
        "processing_note": "Trong ngày nếu nhận trước 15 giờ và hồ sơ đơn giản",
        "agency": WARD,
        "result_place": RESULT_PLACE,
        "legal_basis": CHUNGTHUC,
    },
    {
        "code": "BN.CT.04",
        "name": "Chứng thực văn bản thỏa thuận phân chia di sản",
        "field_code": "CT",
        "service_code": "CT2",
        "papers": [
            _p("Dự thảo văn bản thỏa thuận phân chia di sản"),
            _p("Bản sao giấy chứng tử của người để lại di sản", 0, 1),
            _p("Bản sao giấy tờ chứng minh quan hệ với người để lại di sản", 0, 1),
        ],
        "fee_text": "50.000 đồng/văn bản",
        "fee_amount": 50000,
        "processing_days": 2,
        "agency": WARD,
        "result_place": RESULT_PLACE,
        "legal_basis": CHUNGTHUC,
    },
    # --- Đất đai -------------------------------------------------------------------------
    {
        "code": "1.012783",
        "name": "Cấp đổi Giấy chứng nhận quyền sử dụng đất, quyền sở hữu tài sản gắn liền với đất",
        "field_code": "DD",
        "service_code": "DD",
        "papers": [
            _p("Đơn đăng ký biến động đất đai, tài sản gắn liền với đất (Mẫu 11/ĐK)"),
            _p("Bản gốc Giấy chứng nhận đã cấp"),
        ],
        "fee_text": "50.000 đồng/giấy chứng nhận",
        "fee_amount": 50000,
        "processing_days": 5,
        "agency": LAND_OFFICE,
        "result_place": RESULT_PLACE,
        "legal_basis": "Luật Đất đai 2024; Nghị định 101/2024/NĐ-CP",
    },
    {
        "code": "BN.DD.02",
        "name": "Đăng ký biến động quyền sử dụng đất do chuyển nhượng, tặng cho, thừa kế",
        "field_code": "DD",
        "service_code": "DD",
        "papers": [
            _p("Đơn đăng ký biến động đất đai, tài sản gắn liền với đất (Mẫu 11/ĐK)"),
            _p("Hợp đồng, văn bản chuyển nhượng, tặng cho, thừa kế đã công chứng/chứng thực"),
            _p("Bản gốc Giấy chứng nhận đã cấp"),
        ],
        "fee_text": "Lệ phí, phí thẩm định theo Nghị quyết của HĐND tỉnh; thuế thu nhập cá nhân, "
        "lệ phí trước bạ theo thông báo của cơ quan thuế",
        "processing_days": 8,
        "agency": LAND_OFFICE,
        "result_place": RESULT_PLACE,
        "legal_basis": "Luật Đất đai 2024; Nghị định 101/2024/NĐ-CP",
    },
    {
        "code": "BN.DD.03",
        "name": "Cung cấp thông tin, dữ liệu đất đai",
        "field_code": "DD",
        "service_code": "DD",
        "papers": [_p("Phiếu yêu cầu cung cấp thông tin, dữ liệu đất đai (theo mẫu)")],
        "fee_text": "Theo Nghị quyết của HĐND tỉnh Bắc Ninh",
        "processing_days": 2,
        "agency": LAND_OFFICE,
        "result_place": RESULT_PLACE,
        "legal_basis": "Luật Đất đai 2024; Nghị định 101/2024/NĐ-CP",
    },
    # --- Xây dựng ------------------------------------------------------------------------
    {
        "code": "BN.XD.01",
        "name": "Cấp giấy phép xây dựng nhà ở riêng lẻ",
        "field_code": "XD",
        "service_code": "XD",
        "papers": [
            _p("Đơn đề nghị cấp giấy phép xây dựng (theo mẫu)"),
            _p("Bản sao giấy tờ chứng minh quyền sử dụng đất", 0, 1),
            _p("Bản vẽ thiết kế xây dựng", 2, 0, "02 bộ"),
        ],
        "fee_text": "75.000 đồng/giấy phép",
        "fee_amount": 75000,
        "processing_days": 15,
        "agency": URBAN,
        "result_place": RESULT_PLACE,
        "legal_basis": "Luật Xây dựng 2014 (sửa đổi 2020); Nghị định 175/2024/NĐ-CP",
    },
    {
        "code": "BN.XD.02",
        "name": "Gia hạn giấy phép xây dựng",
        "field_code": "XD",
        "service_code": "XD",
        "papers": [
            _p("Đơn đề nghị gia hạn giấy phép xây dựng"),
            _p("Bản chính giấy phép xây dựng đã cấp"),
        ],
        "fee_text": "10.000 đồng/giấy phép",
        "fee_amount": 10000,
        "processing_days": 5,
        "agency": URBAN,
        "result_place": RESULT_PLACE,
        "legal_basis": "Luật Xây dựng 2014 (sửa đổi 2020); Nghị định 175/2024/NĐ-CP",
    },
    # --- Hộ kinh doanh -------------------------------------------------------------------
    {
        "code": "BN.KD.01",
        "name": "Đăng ký thành lập hộ kinh doanh",
        "field_code": "KD",
        "service_code": "KD",
        "papers": [
            _p("Giấy đề nghị đăng ký hộ kinh doanh (theo mẫu)"),
            _p(
                "Bản sao biên bản họp thành viên hộ gia đình (nếu các thành viên cùng kinh doanh)",
                0,
                1,
            ),
        ],
        "fee_text": "100.000 đồng/lần đăng ký (miễn khi đăng ký trực tuyến)",
        "fee_amount": 100000,
        "processing_days": 3,
        "agency": URBAN,
        "result_place": RESULT_PLACE,
        "legal_basis": "Nghị định 168/2025/NĐ-CP về đăng ký doanh nghiệp",
    },
    {
        "code": "BN.KD.02",
        "name": "Đăng ký thay đổi nội dung đăng ký hộ kinh doanh",
        "field_code": "KD",
        "service_code": "KD",
        "papers": [_p("Thông báo thay đổi nội dung đăng ký hộ kinh doanh (theo mẫu)")],
        "fee_text": "50.000 đồng/lần",
        "fee_amount": 50000,
        "processing_days": 3,
        "agency": URBAN,
        "result_place": RESULT_PLACE,
        "legal_basis": "Nghị định 168/2025/NĐ-CP về đăng ký doanh nghiệp",
    },
    {
        "code": "BN.KD.03",
        "name": "Tạm ngừng kinh doanh, tiếp tục kinh doanh trước thời hạn của hộ kinh doanh",
        "field_code": "KD",
        "service_code": "KD",
        "papers": [_p("Thông báo tạm ngừng / tiếp tục kinh doanh (theo mẫu)")],
        "fee_text": "Miễn phí",
        "fee_amount": 0,
        "processing_days": 3,
        "agency": URBAN,
        "result_place": RESULT_PLACE,
        "legal_basis": "Nghị định 168/2025/NĐ-CP về đăng ký doanh nghiệp",
    },
    # --- Bảo trợ xã hội – Người có công --------------------------------------------------
    {
        "code": "BN.BT.01",
        "name": "Thực hiện, điều chỉnh, thôi hưởng trợ cấp xã hội hằng tháng",
        "field_code": "BT",
        "service_code": "BT",
        "papers": [
            _p("Tờ khai đề nghị trợ giúp xã hội (theo mẫu)"),
            _p("Bản sao giấy tờ chứng minh đối tượng (giấy xác nhận khuyết tật…)", 0, 1),
        ],
        "fee_text": "Không thu phí",
        "fee_amount": 0,
        "processing_days": 15,
        "agency": SOCIAL,
        "result_place": RESULT_PLACE,
        "legal_basis": "Nghị định 20/2021/NĐ-CP; Nghị định 76/2024/NĐ-CP",
    },
    {
        "code": "BN.BT.02",
        "name": "Hỗ trợ chi phí mai táng cho đối tượng bảo trợ xã hội",
        "field_code": "BT",
        "service_code": "BT",
        "papers": [
            _p("Tờ khai đề nghị hỗ trợ chi phí mai táng (theo mẫu)"),
            _p("Bản sao giấy chứng tử", 0, 1),
        ],
        "fee_text": "Không thu phí",
        "fee_amount": 0,
        "processing_days": 3,
        "agency": SOCIAL,
        "result_place": RESULT_PLACE,
        "legal_basis": "Nghị định 20/2021/NĐ-CP",
    },
    {
        "code": "BN.BT.03",
        "name": "Giải quyết chế độ trợ cấp một lần đối với người có công với cách mạng",
        "field_code": "BT",
        "service_code": "BT",
        "papers": [
            _p("Bản khai đề nghị giải quyết chế độ (theo mẫu)"),
            _p("Bản sao giấy tờ chứng minh là người có công", 0, 1),
        ],
        "fee_text": "Không thu phí",
        "fee_amount": 0,
        "processing_days": 12,
        "agency": SOCIAL,
        "result_place": RESULT_PLACE,
        "legal_basis": "Pháp lệnh Ưu đãi người có công với cách mạng 2020; Nghị định 131/2021/NĐ-CP",
    },
]


def seed_procedures(session: Session, centre_id: int) -> int:
    """Add the demo procedures the centre lacks and its missing settings; returns how many
    procedures were added."""
    centre = session.get(Centre, centre_id)
    settings = dict(centre.settings or {})
    missing_settings = {k: v for k, v in DEMO_SETTINGS.items() if k not in settings}
    if missing_settings:
        centre.settings = {**settings, **missing_settings}  # a new dict: JSON change noticed
    have = set(
        session.execute(select(Procedure.code).where(Procedure.centre_id == centre_id)).scalars()
    )
    missing = []
    for position, item in enumerate(PROCEDURES):
        if item["code"] not in have:
            missing.append({**item, "position": position})
    if missing:
        upsert_procedures(session, centre_id, missing, now=datetime.now(UTC))
    return len(missing)
