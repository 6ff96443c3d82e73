"""The public site rendering serves: static files from SITE_DIR, 301s for moved articles, the 404 page."""
from __future__ import annotations

import unicodedata

from flask import Blueprint, redirect, send_from_directory
from werkzeug.exceptions import NotFound

from shared.auth import public
from shared.db import read_only
from shared.runtime import runtime

from . import site

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
    if file_path.startswith("media/"):
        # Image variants are named by content hash and width: they never change, so browsers keep them.
        try:
            return send_from_directory(site_dir, file_path, max_age=31_536_000)
        except NotFound:
            return _not_found(path)
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
