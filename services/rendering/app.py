"""rendering Flask app factory: serves the public static site from SITE_DIR."""
from __future__ import annotations

from flask import Blueprint, Flask, redirect, send_from_directory
from werkzeug.exceptions import NotFound

from shared.config import load_settings
from shared.runtime import build_runtime, init_flask, runtime

from .db import metadata

site_bp = Blueprint("site", __name__)


@site_bp.get("/")
def home():
    """The site root sends readers to the first language's index."""
    return redirect(f"/{runtime().settings.languages[0]}/", code=302)


@site_bp.get("/<path:path>")
def static_site(path: str):
    """Serve a rendered file; directories serve their index.html."""
    site_dir = runtime().settings.site_dir
    if path.endswith("/"):
        path += "index.html"
    elif "." not in path.rsplit("/", 1)[-1]:
        return redirect(f"/{path}/", code=301)
    try:
        response = send_from_directory(site_dir, path, max_age=60)
    except NotFound:
        return "<!DOCTYPE html><html lang=en><title>Not found</title><h1>Page not found</h1>", 404
    if path.endswith(".xml") and "feed" in path:
        response.mimetype = "application/atom+xml"
    return response


def create_app(test_config: dict | None = None) -> Flask:
    """The rendering web app; ``test_config`` may carry ``SETTINGS`` and Flask config overrides."""
    test_config = dict(test_config or {})
    settings = test_config.pop("SETTINGS", None) or load_settings()
    app = Flask(__name__)
    app.config.update(test_config)
    init_flask(app, build_runtime("rendering", settings, metadata))
    settings.site_dir.mkdir(parents=True, exist_ok=True)
    app.register_blueprint(site_bp)
    return app
