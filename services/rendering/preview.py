"""Editors' previews: an article's page exactly as publishing it now would render it.

ingest sends ``rendering.render_preview`` with the snapshot a publish would carry (of the article's
newest revision). The rendering worker renders it with the same ``Renderer`` and templates as the
site, on the site model it keeps (live translations for the language line, similar posts, author and
category links, the site identity), seen through ``PreviewModel``: the model as it would be with that
page published, without changing the model, the read model or any file of the site. The HTML is kept
in ``previews`` (the newest revision per article) and served to logged-in editors by ``views.py``.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, delete, select
from sqlalchemy.engine import Connection

from shared.config import Settings
from shared.events import aware, utcnow

from . import images
from .db import previews
from .render import Renderer
from .site import SiteModel, fetch_fragments, live_model, lock, make_fragments, model_meta, write_atomic


class PreviewModel:
    """The live model as it would be with one more (or a newer) page; it only reads."""

    def __init__(self, live: SiteModel, page: dict, frags: dict):
        self.live = live
        self.page = page
        self.frags = frags
        self.settings = live.settings
        self.languages = live.languages if page["lang"] in live.languages else live.languages + [page["lang"]]

    def siblings(self, page: dict) -> list[dict]:
        """The group's live versions with the previewed one in its place, in configured language order."""
        order = {code: i for i, code in enumerate(self.languages)}
        group = [p for p in self.live.by_group.get(self.page["group_id"], []) if p["article_id"] != self.page["article_id"]]
        return sorted(group + [self.page], key=lambda p: (order.get(p["lang"], len(order)), p["article_id"]))

    def fragment(self, page: dict) -> dict:
        """The previewed body for the previewed page, the stored one for any other."""
        return self.frags if page["article_id"] == self.page["article_id"] else self.live.fragment(page)

    def similar(self, article_id: str) -> list[dict]:
        """The similar posts the previewed page would list (scored without changing the index)."""
        if article_id != self.page["article_id"]:
            return self.live.similar(article_id)
        index = self.live.similar_index.get(self.page["lang"])
        if index is None:
            return []
        pairs = list(zip(self.frags["terms"]["t"], self.frags["terms"]["c"]))
        return [self.live.by_id[i] for i in index.peek(article_id, pairs) if i in self.live.by_id]


def preview_page(snapshot: dict) -> tuple[dict, dict]:
    """The page dict and fragments of a snapshot, shaped as the read model holds a published one."""
    frags = make_fragments(snapshot)
    frags["references"] = snapshot.get("references") or []
    page = {k: snapshot[k] for k in ("article_id", "group_id", "lang", "slug", "revision", "title")}
    page["published_at"] = aware(datetime.fromisoformat(snapshot["published_at"]))
    page["updated_at"] = aware(datetime.fromisoformat(snapshot["updated_at"]))
    page["snapshot"] = model_meta(frags["meta"])
    return page, frags


def render_preview(conn: Connection, settings: Settings, snapshot: dict) -> str:
    """The HTML of the article page ``snapshot`` would get if it were published now."""
    lock(conn)  # a model (re)load writes similar tables, as a flush does: one at a time
    # The preview shows the images as the page will: their variants are made now (once, as a publish would).
    images.ensure_variants(conn, settings, snapshot.get("images") or {}, write_atomic)
    live = live_model(conn, settings)
    page, frags = preview_page(snapshot)
    model = PreviewModel(live, page, frags)
    live.loader = lambda ids: fetch_fragments(conn, ids)
    try:
        return Renderer(model).article(page)
    finally:
        live.loader = None
        live.forget_fragments()


def store_preview(conn: Connection, snapshot: dict, html: str) -> None:
    """Keep the preview of this revision (and only the newest revision's of the article)."""
    article_id, revision = snapshot["article_id"], snapshot["revision"]
    conn.execute(delete(previews).where(previews.c.article_id == article_id))
    conn.execute(previews.insert().values(article_id=article_id, revision=revision, lang=snapshot["lang"],
                                          html=html, rendered_at=utcnow()))


def find_preview(conn: Connection, article_id: str, revision: int) -> str | None:
    """The stored preview of that revision, None until the worker has rendered it."""
    return conn.execute(select(previews.c.html).where(and_(previews.c.article_id == article_id,
                                                           previews.c.revision == revision))).scalar()

