"""Users, passwords and bearer tokens (only hashes are stored)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from server.models import ApiToken, Role, Station, User
from server.services.tickets import InvalidRequest

TOKEN_LIFETIME = timedelta(hours=12)
# A constant hash to compare against when the user does not exist, so timing doesn't tell.
_DUMMY_HASH = generate_password_hash("not-a-real-password")


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
        check_password_hash(_DUMMY_HASH, password)
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


def user_for_token(session: Session, token: str, now: datetime) -> User | None:
    # One statement: this runs on every staff API request (call next included).
    return session.execute(
        select(User)
        .join(ApiToken, ApiToken.user_id == User.id)
        .where(
            ApiToken.token_hash == hash_token(token),
            ApiToken.expires_at > now,
            User.active.is_(True),
        )
    ).scalar_one_or_none()


def issue_station_token(session: Session, station: Station) -> str:
    """A new token for the station's agent; the previous one stops working."""
    token = secrets.token_urlsafe(32)
    station.token_hash = hash_token(token)
    station.token_revoked_at = None
    session.flush()
    return token


def revoke_station_token(session: Session, station: Station, now: datetime) -> None:
    station.token_hash = None
    station.token_revoked_at = now
    session.flush()


def station_for_token(session: Session, token: str) -> Station | None:
    if not token:
        return None
    return session.execute(
        select(Station).where(Station.token_hash == hash_token(token))
    ).scalar_one_or_none()
