"""The OpenAPI document is built on its first read (server/api/__init__.py, TthccApi), not
while the app is created: it must be byte for byte the one flask-smorest builds eagerly,
also when several requests ask for it at once on a fresh app."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest


def _app(tmp_path: Path, name: str):
    from server.app import create_app
    from server.config import Config

    config = Config.from_env(
        {},
        instance_path=tmp_path / name,
        database_url=f"sqlite:///{tmp_path / name}.sqlite3",  # never opened: no request reads it
        secret_key="test-secret",
        testing=True,
        async_mode="threading",
    )
    return create_app(config)


@pytest.fixture
def eager_document(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> bytes:
    """/api/v1/openapi.json of an app whose API object is flask-smorest's own Api code:
    the document built while each blueprint is registered."""
    from server.api import TthccApi

    with monkeypatch.context() as patch:  # undone before the test makes its own app
        for deferring in ("spec", "_init_spec", "register_blueprint"):
            patch.delattr(TthccApi, deferring)
        app = _app(tmp_path, "eager")
        api = app.extensions["flask-smorest"]["apis"][""]["ext_obj"]
        assert api.spec.to_dict()["paths"], "built at registration, before any request"
        response = app.test_client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.data


def test_the_document_built_on_first_read_is_the_eager_one(tmp_path, eager_document):
    app = _app(tmp_path, "lazy")
    api = app.extensions["flask-smorest"]["apis"][""]["ext_obj"]
    assert api._spec_state == "deferred"
    first = app.test_client().get("/api/v1/openapi.json")
    assert first.status_code == 200
    assert first.data == eager_document
    assert api._spec_state == "built"
    # Later reads serve the same document, not a second copy of every path appended.
    assert app.test_client().get("/api/v1/openapi.json").data == eager_document


def test_simultaneous_first_reads_all_get_the_whole_document(tmp_path, eager_document):
    app = _app(tmp_path, "lazy")
    api = app.extensions["flask-smorest"]["apis"][""]["ext_obj"]
    assert api._spec_state == "deferred"
    start = threading.Barrier(4)
    documents: list[bytes] = []

    def read() -> None:
        client = app.test_client()
        start.wait()
        documents.append(client.get("/api/v1/openapi.json").data)

    threads = [threading.Thread(target=read) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert documents == [eager_document] * 4
