"""The public site rendering serves: static files from SITE_DIR, 301s for moved articles, the 404 page;
and editors' previews (``/preview/<article_id>/<revision>``, logged-in only, never cached or indexed)."""
from __future__ import annotations

import unicodedata

from urllib.parse import urlsplit

from flask import Blueprint, make_response, redirect, render_template_string, send_from_directory
from werkzeug.exceptions import NotFound

from shared.auth import login_required, public
from shared.db import read_only
from shared.runtime import runtime

from . import preview, site

bp = Blueprint("site", __name__)


@bp.get("/")
@public("the public site")
def home():
    """The site root sends readers to the first language's index."""
    return redirect(f"/{runtime().settings.languages[0]}/", code=302)


def _moved(path: str) -> str | None:
    """The current path of an article that used to live at ``/<lang>/<slug>/``."""
    parts = path.strip("/").split("/")
    if len(parts) != 2:
        return None
    with read_only(runtime().engine) as conn:
        return site.find_redirect(conn, parts[0], parts[1])


def _not_found(path: str):
    settings = runtime().settings
    lang = path.split("/", 1)[0]
    if lang not in settings.languages:
        lang = settings.languages[0]
    try:
        response = send_from_directory(settings.site_dir, f"{lang}/404.html", max_age=60)
    except NotFound:
        return "<!DOCTYPE html><html lang=en><title>Not found</title><h1>Page not found</h1>", 404
    response.status_code = 404
    return response


def _local_path(path: str) -> bool:
    """Whether ``path`` can only ever name a page of this site (no ``//host``, backslash, blank or control character)."""
    if path.startswith(("/", "\\")) or "\\" in path or "//" in path:
        return False
    return not any(ch.isspace() or unicodedata.category(ch)[0] == "C" for ch in path)


_WAITING = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="2">
<title>Preparing the preview</title></head>
<body style="font-family:system-ui,sans-serif;padding:1rem"><p role="status">Rendering the preview of revision
{{ revision }}; this page reloads by itself in a moment.</p></body></html>"""


@bp.get("/preview/<article_id>/<int:revision>")
@login_required()
def article_preview(article_id: str, revision: int):
    """An article revision's page as publishing it now would render it (ingest asks the worker to render it)."""
    rt = runtime()
    with read_only(rt.engine) as conn:
        page = preview.find_preview(conn, article_id, revision)
    response = make_response(page if page is not None else render_template_string(_WAITING, revision=revision),
                             200 if page is not None else 202)
    ingest = urlsplit(rt.settings.service_urls["ingest"])
    response.headers["Content-Security-Policy"] = f"frame-ancestors 'self' {ingest.scheme}://{ingest.netloc}"
    response.headers["X-Robots-Tag"] = "noindex"
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/<path:path>")
@public("the public site: rendered files, 301s for moved articles")
def static_site(path: str):
    """Serve a rendered file; directories serve their index.html; old article addresses answer 301."""
    site_dir = runtime().settings.site_dir
    if not _local_path(path):
        return _not_found(path)  # never a redirect that a browser could read as another host
    if path.endswith("/"):
        file_path = path + "index.html"
    elif "." not in path.rsplit("/", 1)[-1]:
        return redirect(f"/{path}/", code=301)
    else:
        file_path = path
    target = _moved(path) if path.endswith("/") else None
    if target:
        return redirect(target, code=301)
    try:
        # Revalidate every time (ETag, 304): a page's language line or similar posts change when
        # another article is published, and readers must not keep a stale copy for a minute.
        response = send_from_directory(site_dir, file_path, max_age=0)
        response.cache_control.no_cache = True
    except NotFound:
        return _not_found(path)
    if file_path.endswith("feed.xml"):
        response.mimetype = "application/atom+xml"
    elif file_path.endswith(".xml"):
        response.mimetype = "application/xml"
    return response
