"""What a kiosk's scanner read: a chip ID card's QR code, a check-in code, or neither.

The QR code printed on the chip ID card (CCCD, "Căn cước công dân gắn chip", and the
2024 "Căn cước") holds one line of fields separated by ``|``::

    001089012345|012345678|Nguyễn Thị Minh Khai|05071989|Nữ|Số 12 ngõ 34 …, Hà Nội|15042021

ID number (12 digits, the personal identification number) | old ID number (9 digits, the
former CMND; empty when there was none) | full name | date of birth ``ddmmyyyy`` | sex
(``Nam``/``Nữ``) | permanent address | date of issue ``ddmmyyyy``. Public descriptions of
the code (and the readers sold for it) agree on these seven; newer cards may add fields
after them, which are ignored. We accept dates with separators too (``05/07/1989``) and
a birth date that is only a year (``00001989``: people whose day and month are unknown),
and refuse anything whose ID number is not 12 digits or whose name is empty: a damaged
read is better scanned again than half understood.

The ID number never leaves this module in clear towards storage: :func:`id_number_digest`
is a keyed hash (HMAC-SHA256 with the server's secret), so a copy of the database cannot
be matched to people by hashing the ~10^12 possible numbers (in practice far fewer: the
first six digits are province, century/sex and birth year).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from dataclasses import dataclass
from datetime import date

#: What a check-in code scanned as a QR looks like: a bare code (the six digits of a number
#: taken from the phone, the ten of an appointment, whose QR holds just that) or
#: ``TTHCC:CHECKIN:<code>`` (for other QR codes of ours; docs/privacy.md).
_BARE_CODE = re.compile(r"\d{6}|\d{10}")
_TAGGED_CODE = re.compile(r"TTHCC:CHECKIN:(?P<code>[A-Za-z0-9-]{4,12})", re.IGNORECASE)
_DATE = re.compile(r"(\d{2})[/.-]?(\d{2})[/.-]?(\d{4})")

#: Purpose label mixed into the key, so the same secret never yields the same digest
#: for an ID number as for, say, a phone number.
_DIGEST_LABEL = b"tthcc:id-number:v1:"


@dataclass(frozen=True, slots=True)
class IdCard:
    """The fields of a chip ID card's QR code that the centre may use."""

    number: str
    full_name: str
    birth_date: date | None
    birth_year: int | None
    sex: str | None
    address: str
    issued_on: date | None
    old_number: str | None = None

    @property
    def masked_number(self) -> str:
        """The ID number as the kiosk may show it: only the last 3 digits."""
        return "•" * 9 + self.number[-3:]


@dataclass(frozen=True, slots=True)
class CheckInCode:
    """A code that checks a citizen in (a remote number's, an appointment's)."""

    code: str


@dataclass(frozen=True, slots=True)
class Unrecognised:
    """Neither an ID card nor a check-in code (a product barcode, a damaged read…)."""

    reason: str


Scan = IdCard | CheckInCode | Unrecognised


def read_scan(text: str) -> Scan:
    """Classify and parse one scan's text."""
    text = unicodedata.normalize("NFC", text or "").strip()
    if not text:
        return Unrecognised("empty")
    if _BARE_CODE.fullmatch(text):
        return CheckInCode(text)
    tagged = _TAGGED_CODE.fullmatch(text)
    if tagged:
        return CheckInCode(tagged["code"])
    if "|" in text:
        return parse_id_card(text)
    return Unrecognised("not an ID card or a check-in code")


def parse_id_card(text: str) -> IdCard | Unrecognised:
    """Parse a chip ID card's QR text (module docstring); Unrecognised with the reason."""
    fields = [_clean(f) for f in text.split("|")]
    if len(fields) < 7:
        return Unrecognised(f"{len(fields)} fields, an ID card has at least 7")
    number, old, name, birth, sex, address, issued = fields[:7]
    if not re.fullmatch(r"\d{12}", number):
        return Unrecognised("the ID number is not 12 digits")
    if old and not re.fullmatch(r"\d{9}", old):
        old = ""  # some cards carry something else here; it is not used anyway
    if not name or not any(c.isalpha() for c in name) or any(c.isdigit() for c in name):
        return Unrecognised("no full name")
    birth_date, birth_year = _birth(birth)
    if birth_year is None:
        return Unrecognised("no date of birth")
    return IdCard(
        number=number,
        old_number=old or None,
        full_name=" ".join(name.split())[:200],
        birth_date=birth_date,
        birth_year=birth_year,
        sex=_sex(sex),
        address=" ".join(address.split())[:300],
        issued_on=_date(issued),
    )


def id_number_digest(number: str, key: str | bytes) -> str:
    """The keyed hash kept instead of an ID number (64 hex digits)."""
    secret = key.encode() if isinstance(key, str) else key
    return hmac.new(secret, _DIGEST_LABEL + number.encode("ascii"), hashlib.sha256).hexdigest()


def _clean(field: str) -> str:
    # Drop control characters a scanner may slip in; keep the letters as NFC.
    return "".join(c for c in field if unicodedata.category(c)[0] != "C").strip()


def _date(text: str) -> date | None:
    match = _DATE.fullmatch(text)
    if not match:
        return None
    day, month, year = (int(g) for g in match.groups())
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _birth(text: str) -> tuple[date | None, int | None]:
    full = _date(text)
    if full is not None and 1900 <= full.year <= 2100:
        return full, full.year
    match = _DATE.fullmatch(text)
    if match and 1900 <= int(match[3]) <= 2100 and match[1] == match[2] == "00":
        return None, int(match[3])  # only the year is known
    return None, None


def _sex(text: str) -> str | None:
    folded = unicodedata.normalize("NFC", text).casefold()
    return {"nam": "Nam", "nữ": "Nữ", "nu": "Nữ"}.get(folded)
