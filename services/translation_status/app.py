"""translation_status Flask app factory and JSON API."""
from __future__ import annotations

from flask import Blueprint, Flask, jsonify

from shared.auth import csrf, init_forms
from shared.config import load_settings
from shared.runtime import build_runtime, init_flask, runtime
from shared.web import ApiError, require_token

from . import status as svc
from .db import metadata

api_bp = Blueprint("translation_status_api", __name__, url_prefix="/api")


@api_bp.get("/groups/<group_id>")
@require_token
def get_group(group_id: str):
    """Languages, statuses, source hash and URLs of one translation group."""
    rt = runtime()
    with rt.engine.begin() as conn:
        view = svc.group_view(conn, group_id, rt.settings.languages)
    if view is None:
        raise ApiError(404, f"no translation group with id {group_id}")
    return jsonify(view)


def create_app(test_config: dict | None = None) -> Flask:
    """The translation_status web app; ``test_config`` may carry ``SETTINGS`` and Flask config."""
    test_config = dict(test_config or {})
    settings = test_config.pop("SETTINGS", None) or load_settings()
    app = Flask(__name__)
    app.config.update(test_config)
    init_flask(app, build_runtime("translation_status", settings, metadata))
    init_forms(app, "translation_status", settings.service_urls)
    app.config.setdefault("LOGIN_URL", f"{settings.service_urls['ingest']}/login")
    from .views import bp as ui_bp

    app.register_blueprint(api_bp)
    app.register_blueprint(ui_bp)
    csrf.exempt(api_bp)
    return app
