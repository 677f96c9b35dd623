"""Users, passwords and bearer tokens (only hashes are stored)."""

from __future__ import annotations

import hashlib
import os
import secrets
from datetime import datetime, timedelta
from functools import lru_cache

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash
from werkzeug.security import generate_password_hash as _werkzeug_hash

from server.domain.errors import InvalidRequest
from server.models import ApiToken, Role, Station, User

TOKEN_LIFETIME = timedelta(hours=12)
#: werkzeug's method for new password hashes: its scrypt unless TTHCC_PASSWORD_HASH names
#: another (werkzeug's syntax, e.g. "pbkdf2:sha256:600000"). The test suite sets a cheap one,
#: as Django's test settings do: a thousand tests each create the demo's nine users.
PASSWORD_HASH_ENV = "TTHCC_PASSWORD_HASH"
DEFAULT_PASSWORD_HASH = "scrypt"


def password_hash_method() -> str:
    return os.environ.get(PASSWORD_HASH_ENV, "").strip() or DEFAULT_PASSWORD_HASH


def generate_password_hash(password: str) -> str:
    """A salted hash of `password` by the configured method (verified by werkzeug, whatever
    method the stored hash names)."""
    return _werkzeug_hash(password, method=password_hash_method())


@lru_cache(maxsize=4)
def _dummy_hash(method: str) -> str:
    """A constant hash to compare against when the user does not exist, so timing doesn't
    tell: made with the method real hashes are made with."""
    return _werkzeug_hash("not-a-real-password", method=method)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_user(
    session: Session,
    *,
    username: str,
    password: str,
    role: str,
    full_name: str = "",
    centre_id: int | None = None,
    agency_id: int | None = None,
) -> User:
    """Create a user; refuses unknown roles, short passwords and taken usernames."""
    if role not in {r.value for r in Role}:
        raise InvalidRequest(
            f"Vai trò «{role}» không hợp lệ.",
            f"unknown role {role!r}; use one of {', '.join(r.value for r in Role)}",
        )
    if len(password) < 8:
        raise InvalidRequest("Mật khẩu phải có ít nhất 8 ký tự.", "password must be 8+ characters")
    if session.execute(select(User).where(User.username == username)).scalar_one_or_none():
        raise InvalidRequest(
            f"Tên đăng nhập «{username}» đã tồn tại.", f"username {username!r} is taken"
        )
    user = User(
        username=username,
        password_hash=generate_password_hash(password),
        role=role,
        full_name=full_name,
        centre_id=centre_id,
        agency_id=agency_id,
    )
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, username: str, password: str) -> User | None:
    user = session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    if user is None:
        check_password_hash(_dummy_hash(password_hash_method()), password)
        return None
    if not user.active or not check_password_hash(user.password_hash, password):
        return None
    return user


def issue_token(session: Session, user: User, now: datetime) -> str:
    token = secrets.token_urlsafe(32)
    session.add(
        ApiToken(
            user_id=user.id,
            token_hash=hash_token(token),
            created_at=now,
            expires_at=now + TOKEN_LIFETIME,
        )
    )
    session.flush()
    return token


def revoke_token(session: Session, token: str) -> None:
    """Log a bearer token out: it stops working at once."""
    row = session.execute(
        select(ApiToken).where(ApiToken.token_hash == hash_token(token))
    ).scalar_one_or_none()
    if row is not None:
        session.delete(row)
        session.flush()


# --- browser sessions: the signed cookie carries a session id; the row is the truth ---------
#
# A session is an ApiToken row whose hash is of "session:" + id, so the id in a cookie is
# never a bearer token and a bearer token never a session. Logging out deletes the row:
# a copy of the cookie taken before stops working. Changing a password deletes them all.

_SESSION = "session:"


def start_session(session: Session, user: User, now: datetime, lifetime: timedelta) -> str:
    """A new browser session for `user`; returns the id to keep in the signed cookie."""
    sid = secrets.token_urlsafe(32)
    session.add(
        ApiToken(
            user_id=user.id,
            token_hash=hash_token(_SESSION + sid),
            created_at=now,
            expires_at=now + lifetime,
        )
    )
    session.flush()
    return sid


def end_session(session: Session, sid: str) -> None:
    """Log a browser session out on the server: its cookie stops working at once."""
    session.execute(delete(ApiToken).where(ApiToken.token_hash == hash_token(_SESSION + sid)))


def user_for_session(session: Session, sid: str, now: datetime, lifetime: timedelta) -> User | None:
    """The session's user while it lives; an active session is extended (a write at most
    every half lifetime, not on every request)."""
    row = session.execute(
        select(User, ApiToken.id, ApiToken.expires_at)
        .join(ApiToken, ApiToken.user_id == User.id)
        .where(
            ApiToken.token_hash == hash_token(_SESSION + sid),
            ApiToken.expires_at > now,
            User.active.is_(True),
        )
    ).first()
    if row is None:
        return None
    user, token_id, expires_at = row
    if expires_at - now < lifetime / 2:
        session.execute(
            update(ApiToken).where(ApiToken.id == token_id).values(expires_at=now + lifetime)
        )
        session.commit()
    return user


def revoke_all_sessions(session: Session, user: User) -> int:
    """Every bearer token and browser session of `user` stops working (password change)."""
    result = session.execute(delete(ApiToken).where(ApiToken.user_id == user.id))
    return result.rowcount or 0


def change_password(session: Session, user: User, password: str) -> None:
    """Set a new password (8+ characters); every session and token of the user ends."""
    if not 8 <= len(password) <= 200:
        raise InvalidRequest(
            "Mật khẩu phải có từ 8 đến 200 ký tự.", "password must be 8 to 200 characters"
        )
    user.password_hash = generate_password_hash(password)
    revoke_all_sessions(session, user)
    session.flush()


#: Built once: this runs on every staff API request (call next included), and building
#: the statement cost about as much as running it.
_USER_FOR_TOKEN = (
    select(User)
    .join(ApiToken, ApiToken.user_id == User.id)
    .where(
        ApiToken.token_hash == bindparam("token_hash"),
        ApiToken.expires_at > bindparam("now"),
        User.active.is_(True),
    )
)


def user_for_token(session: Session, token: str, now: datetime) -> User | None:
    # One statement.
    return session.execute(
        _USER_FOR_TOKEN, {"token_hash": hash_token(token), "now": now}
    ).scalar_one_or_none()


def issue_station_token(session: Session, station: Station) -> str:
    """A new token for the station's agent; the previous one stops working."""
    token = secrets.token_urlsafe(32)
    station.token_hash = hash_token(token)
    station.token_revoked_at = None
    session.flush()
    return token


def revoke_station_token(session: Session, station: Station, now: datetime) -> None:
    """Refuse the station's agent from now on, and its kiosk page (services/kiosks.py)."""
    from server.services.kiosks import revoke_pages

    station.token_hash = None
    station.token_revoked_at = now
    revoke_pages(session, station)
    session.flush()


def station_for_token(session: Session, token: str) -> Station | None:
    if not token:
        return None
    return session.execute(
        select(Station).where(Station.token_hash == hash_token(token))
    ).scalar_one_or_none()
