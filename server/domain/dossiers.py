"""Dossier (hồ sơ) states, transitions and codes. Pure Python: no framework imports.

A dossier is received at the counter, forwarded to the competent agency, comes back with
a result, and is returned to the citizen. Two side exits: the agency (or the counter)
asks the citizen to supplement the papers, after which the dossier is received again and
its time restarts; or the dossier is refused. Every transition is a hand-off recorded on
the control slip (phiếu kiểm soát quá trình giải quyết hồ sơ).
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from server.domain.errors import IllegalTransition


class DossierStatus(StrEnum):
    RECEIVED = "received"
    FORWARDED = "forwarded"
    SUPPLEMENT_REQUESTED = "supplement_requested"
    RESULT_READY = "result_ready"
    RETURNED = "returned"
    REFUSED = "refused"


class DossierAction(StrEnum):
    FORWARD = "forward"
    REQUEST_SUPPLEMENT = "request_supplement"
    SUPPLEMENT = "supplement"
    RESULT_READY = "result_ready"
    RETURN = "return"
    REFUSE = "refuse"


_TRANSITIONS: dict[tuple[DossierStatus, DossierAction], DossierStatus] = {
    (DossierStatus.RECEIVED, DossierAction.FORWARD): DossierStatus.FORWARDED,
    (DossierStatus.RECEIVED, DossierAction.REQUEST_SUPPLEMENT): DossierStatus.SUPPLEMENT_REQUESTED,
    (DossierStatus.FORWARDED, DossierAction.REQUEST_SUPPLEMENT): DossierStatus.SUPPLEMENT_REQUESTED,
    (DossierStatus.SUPPLEMENT_REQUESTED, DossierAction.SUPPLEMENT): DossierStatus.RECEIVED,
    (DossierStatus.FORWARDED, DossierAction.RESULT_READY): DossierStatus.RESULT_READY,
    (DossierStatus.RESULT_READY, DossierAction.RETURN): DossierStatus.RETURNED,
    (DossierStatus.RECEIVED, DossierAction.REFUSE): DossierStatus.REFUSED,
    (DossierStatus.FORWARDED, DossierAction.REFUSE): DossierStatus.REFUSED,
}

#: Being processed: the deadline runs (a supplement request stops it until the papers come).
IN_PROGRESS = frozenset({DossierStatus.RECEIVED, DossierStatus.FORWARDED})
#: Nothing more will happen to these.
FINAL = frozenset({DossierStatus.RETURNED, DossierStatus.REFUSED})

STATUS_LABELS: dict[DossierStatus, tuple[str, str]] = {
    DossierStatus.RECEIVED: ("Đã tiếp nhận", "Received"),
    DossierStatus.FORWARDED: ("Đang giải quyết", "Being processed by the agency"),
    DossierStatus.SUPPLEMENT_REQUESTED: (
        "Cần bổ sung hồ sơ – mời quý khách liên hệ quầy tiếp nhận",
        "Papers missing – please contact the reception counter",
    ),
    DossierStatus.RESULT_READY: ("Đã có kết quả – mời quý khách nhận kết quả", "Result ready"),
    DossierStatus.RETURNED: ("Đã trả kết quả", "Result returned"),
    DossierStatus.REFUSED: ("Không đủ điều kiện giải quyết", "Refused"),
}

TIMING_LABELS = {"early": "Trước hạn", "on_time": "Đúng hạn", "late": "Quá hạn"}


def next_status(status: DossierStatus, action: DossierAction) -> DossierStatus:
    """The status after `action`, or IllegalTransition naming both in Vietnamese."""
    try:
        return _TRANSITIONS[(status, action)]
    except KeyError:
        raise IllegalTransition(
            f"Hồ sơ đang ở trạng thái «{STATUS_LABELS[status][0]}», không thể thực hiện "
            f"thao tác này ({action.value}).",
            f"cannot {action.value} a dossier that is {status.value}",
        ) from None


def allowed_actions(status: DossierStatus) -> list[DossierAction]:
    return [action for (state, action) in _TRANSITIONS if state is status]


def format_dossier_code(unit_code: str, day: date, number: int) -> str:
    """`<unit code>-YYMMDD-NNNN` (Circular 01/2018 Art. 19), e.g. 000.00.53.H48-220921-0099.

    More than 9,999 dossiers in a day get a fifth digit rather than a collision.
    """
    if number < 1:
        raise ValueError(f"dossier numbers start at 1, got {number}")
    return f"{unit_code}-{day:%y%m%d}-{number:04d}"
