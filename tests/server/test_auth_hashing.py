"""Password hashes: werkzeug's scrypt unless TTHCC_PASSWORD_HASH names a method (the suite
names a cheap one, tests/conftest.py); a stored hash is verified by the method it names."""

from __future__ import annotations

import pytest

from server.services import auth


def test_the_production_default_is_scrypt(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv(auth.PASSWORD_HASH_ENV, raising=False)
    hashed = auth.generate_password_hash("tthcc-canbo")
    assert hashed.startswith("scrypt:32768:8:1$")


def test_a_named_method_is_used_and_hashes_are_salted(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv(auth.PASSWORD_HASH_ENV, "pbkdf2:sha256:1000")
    first, second = (auth.generate_password_hash("tthcc-canbo") for _ in range(2))
    assert first.startswith("pbkdf2:sha256:1000$") and first != second


def test_a_user_still_logs_in_after_the_method_changes(database, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv(auth.PASSWORD_HASH_ENV, raising=False)
    with database.transaction() as session:
        auth.create_user(session, username="nguyenvana", password="mat-khau-1", role="admin")
    monkeypatch.setenv(auth.PASSWORD_HASH_ENV, "pbkdf2:sha256:1000")
    with database.transaction() as session:
        assert auth.authenticate(session, "nguyenvana", "mat-khau-1") is not None
        assert auth.authenticate(session, "nguyenvana", "mat-khau-2") is None
        assert auth.authenticate(session, "khongco", "mat-khau-1") is None
