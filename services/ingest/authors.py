"""Authors the editor forms pick from: a name and a bio per language.

An article still stores its own copy of the author as ``{name, bio, bio_lang}`` (what
``articles.py`` validates and rendering shows); this table only saves retyping names and bios.
"""
from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from shared.events import utcnow

from .db import authors


def list_authors(conn: Connection) -> list[dict]:
    """Every author, by name."""
    return [dict(r) for r in conn.execute(select(authors).order_by(authors.c.name)).mappings()]


def get_author(conn: Connection, author_id: int) -> dict | None:
    """One author by id, or None."""
    row = conn.execute(select(authors).where(authors.c.id == author_id)).mappings().first()
    return dict(row) if row else None


def find_by_name(conn: Connection, name: str) -> dict | None:
    """The author called exactly ``name`` (surrounding spaces ignored), or None."""
    row = conn.execute(select(authors).where(authors.c.name == name.strip())).mappings().first()
    return dict(row) if row else None


def save_author(conn: Connection, name: str, bios: dict[str, str]) -> dict:
    """Create the author called ``name`` or add ``bios`` to it; empty bios leave stored ones alone."""
    name = name.strip()
    given = {lang: bio.strip() for lang, bio in bios.items() if bio and bio.strip()}
    now = utcnow()
    existing = find_by_name(conn, name)
    if existing is None:
        conn.execute(authors.insert().values(name=name, bios=given, created_at=now, updated_at=now))
    elif given and {**existing["bios"], **given} != existing["bios"]:
        conn.execute(update(authors).where(authors.c.id == existing["id"])
                     .values(bios={**existing["bios"], **given}, updated_at=now))
    return find_by_name(conn, name)


def article_author(author: dict, lang: str, languages: tuple[str, ...]) -> dict:
    """The ``{name, bio, bio_lang}`` an article in ``lang`` stores: the bio in ``lang``, else another one."""
    bios = author["bios"] or {}
    for candidate in (lang, *languages):
        if bios.get(candidate):
            return {"name": author["name"], "bio": bios[candidate], "bio_lang": candidate}
    return {"name": author["name"], "bio": "", "bio_lang": None}
