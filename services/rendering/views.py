"""The public site rendering serves: static files from SITE_DIR, 301s for moved articles, the 404 page,
the one dynamic public page, search (``/<lang>/search?q=``), and editors' previews
(``/preview/<article_id>/<revision>``, logged-in only, never cached or indexed)."""
from __future__ import annotations

import unicodedata
from urllib.parse import urlencode, urlsplit

from flask import Blueprint, make_response, redirect, render_template_string, request, send_from_directory
from werkzeug.exceptions import NotFound

from shared.auth import login_required, public
from shared.content import page_path
from shared.db import read_only
from shared.runtime import runtime

from . import i18n, preview, render, search, site

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


MAX_QUERY_CHARS = 200


def _search_path(lang: str, query: str, page: int) -> str:
    args = {"q": query} if page == 1 else {"q": query, "page": page}
    return f"/{lang}/search?{urlencode(args)}"


@bp.get("/<lang>/search")
@public("the public site: search of the live pages of a language")
def search_page(lang: str):
    """Search results (never indexed by search engines); works without JavaScript (a GET form)."""
    settings = runtime().settings
    if lang not in settings.languages:
        return _not_found(lang + "/")
    query = " ".join(request.args.get("q", "").split())[:MAX_QUERY_CHARS]
    raw_page = request.args.get("page", "1")
    if not raw_page.isdigit() or not 1 <= int(raw_page) <= search.MAX_PAGE:
        return _not_found(lang + "/")
    page = int(raw_page)
    results = search.Results(0, [])
    if query:
        with read_only(runtime().engine) as conn:
            results = search.search(conn, lang, query, page)
    if page > 1 and not results.hits:
        return _not_found(lang + "/")
    t = i18n.labels(lang)
    pages_total = -(-results.total // search.PAGE_SIZE)
    heading = t["search_results"].format(q=query) if query else t["search_title"]
    site = render.site_identity(settings, lang)
    body = render.search_page(
        lang=lang, t=t, site=site, query=query, page=page, total=results.total,
        languages=[(code, i18n.native_name(code)) for code in settings.languages],
        heading=heading, title=f"{heading} – {site['name']}" if page == 1 else
        f"{heading} – {t['page_n'].format(n=page)} – {site['name']}",
        url=settings.site_url + (_search_path(lang, query, page) if query else f"/{lang}/search"),
        first=(page - 1) * search.PAGE_SIZE + 1,
        results=[{"url": page_path(h.lang, h.slug), "title": h.title, "snippet": h.snippet,
                  "date_iso": h.published_at.isoformat(), "date_text": i18n.long_date(h.published_at.date(), lang)}
                 for h in results.hits],
        prev_path=_search_path(lang, query, page - 1) if page > 1 else None,
        next_path=_search_path(lang, query, page + 1) if page < min(pages_total, search.MAX_PAGE) else None,
    )
    response = make_response(body)
    response.headers["X-Robots-Tag"] = "noindex"
    response.cache_control.no_cache = True
    return response


def _local_path(path: str) -> bool:
    """Whether ``path`` can only ever name a page of this site (no ``//host``, backslash, blank, control
    character or hidden file)."""
    if path.startswith(("/", "\\")) or "\\" in path or "//" in path:
        return False
    if any(part.startswith(".") for part in path.split("/")):
        return False  # hidden files: renders staged but not yet in place, never part of the site
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
    if file_path.startswith("media/"):
        # Image variants are named by content hash and width: they never change, so browsers keep them.
        try:
            return send_from_directory(site_dir, file_path, max_age=31_536_000)
        except NotFound:
            # Never kept: the variant may be made a moment later under this very (immutable) URL.
            missing = make_response(_not_found(path))
            missing.cache_control.no_store = True
            missing.cache_control.max_age = None
            return missing
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
