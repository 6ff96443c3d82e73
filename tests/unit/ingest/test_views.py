"""The ingest pages' pure helpers: audit notes (written in English by the domain layer) in the editor's language."""
from __future__ import annotations

import flask_login
import pytest
from flask import Flask

from services.ingest.views import audit_note
from shared.i18n import init_i18n


@pytest.fixture
def app() -> Flask:
    app = Flask(__name__)
    app.config["SECRET_KEY"] = "s"
    flask_login.LoginManager(app).user_loader(lambda token: None)
    init_i18n(app)
    return app


@pytest.mark.parametrize("lang, expected", [
    ("en", "approves revision 2; ships revision 2"),
    ("tr", "2. sürümü onaylar; 2. sürümü yayına gönderir"),
    ("ru", "одобряет редакцию 2; выпускает редакцию 2"),
])
def test_known_audit_notes_are_shown_in_the_editors_language(app, lang, expected):
    with app.test_request_context(headers={"Accept-Language": lang}):
        assert audit_note("approves revision 2; ships revision 2") == expected


def test_unknown_parts_stay_as_written_and_no_note_is_empty(app):
    with app.test_request_context(headers={"Accept-Language": "tr"}):
        assert audit_note("vendor Acme; revision 3 waits for approval; revision 2 stays live") == \
            "vendor Acme; 3. sürüm onay bekliyor; 2. sürüm yayında kalıyor"
        assert audit_note(None) == ""
