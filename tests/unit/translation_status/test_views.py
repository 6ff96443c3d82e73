"""The dashboard's cells (``services/translation_status/templates/dashboard.html``, rendered by ``views.py``)."""
from __future__ import annotations

from flask import render_template
from lxml import html

from services.translation_status import status as svc
from services.translation_status.app import create_app
from shared.config import load_settings


def _cell(tmp_path, **language) -> html.HtmlElement:
    app = create_app({"SETTINGS": load_settings({"DATA_DIR": str(tmp_path), "API_TOKEN": "t",
                                                 "REDIS_URL": "redis://127.0.0.1:1/0"})})
    cell = {"status": svc.PUBLISHED, "url": None, "translator": None, "vendor": None, "overdue": False, "due_at": None,
            "title": "Su"}
    cell.update(language)
    row = {"group_id": "g1", "source_lang": "en", "languages": {
        "en": dict(cell, status=svc.PUBLISHED, title="Water", translator=None, vendor=None), "tr": cell}}
    with app.test_request_context("/"):
        page = render_template("dashboard.html", rows=[row], languages=("en", "tr"), statuses=svc.STATUSES,
                               filters={"lang": "", "status": "", "overdue": False},
                               current_user={"role": "editor", "email": "ed@example.org"})
    return html.fromstring(page).xpath("//tbody/tr/td")[2]


def test_a_cell_names_the_translator_and_the_vendor(tmp_path):
    cell = _cell(tmp_path, status=svc.IN_REVIEW, translator="Ayşe Kaya", vendor="Lingo")
    assert cell.xpath("string(.//small[@class='translator'])") == "Ayşe Kaya"
    assert cell.xpath("string(.//small[@class='vendor'])") == "via Lingo"


def test_a_published_translation_can_be_requested_again(tmp_path):
    cell = _cell(tmp_path, status=svc.PUBLISHED)
    assert cell.xpath(".//a[text()='request']"), "a second round starts from the dashboard"
