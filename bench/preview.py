"""What an editor's preview costs the rendering worker, next to publishing the same change.

Usage: .venv/bin/python bench/preview.py [--groups 300] [--previews 30]

Publishes the generated corpus (``bench/corpus.py``: GROUPS groups of en, tr and ru) into a fresh
SQLite read model and site in one flush, then, for PREVIEWS articles, renders the preview of a new
revision (``preview.render_preview``, what ``rendering.render_preview`` runs) and publishes that
revision (``site.flush``), timing both. Prints p50 and max in milliseconds and the preview's share of
the publish. No Celery, Redis or web process is involved: this is the worker's own work.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.corpus import Corpus  # noqa: E402
from services.rendering import preview, site  # noqa: E402
from shared.config import load_settings  # noqa: E402
from shared.db import make_engine  # noqa: E402
from shared.markup import make_slug, markdown_to_html  # noqa: E402
from tests.helpers import migrated_db  # noqa: E402

START = datetime(2026, 1, 1, tzinfo=timezone.utc)


def snapshots(groups: int) -> list[dict]:
    """Publish snapshots of the corpus, shaped like ingest's ``commands.snapshot``."""
    out = []
    for index, versions in enumerate(Corpus().groups(0, groups)):
        group_id = str(uuid.UUID(int=index + 1))
        for art in versions:
            when = (START + timedelta(hours=index)).isoformat()
            out.append({"article_id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{index}-{art.lang}")), "group_id": group_id,
                        "lang": art.lang, "is_source": art.lang == "en", "source_lang": "en",
                        "slug": make_slug(art.title), "title": art.title, "body_html": markdown_to_html(art.body),
                        "author": art.author, "authors": [art.author],
                        "references": [dict(r, number=i + 1) for i, r in enumerate(art.references)],
                        "tags": art.tags, "categories": [], "revision": 1, "published_at": when, "updated_at": when})
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--groups", type=int, default=300)
    parser.add_argument("--previews", type=int, default=30)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="preview-bench-"))
    settings = load_settings({"DATA_DIR": str(tmp), "API_TOKEN": "t", "SECRET_KEY": "s",
                              "INBOUND_WEBHOOK_SECRET": "whsec_dGVzdA==", "SITE_URL": "https://bench.example"})
    engine = make_engine(migrated_db("rendering", settings.database_url("rendering")))
    snaps = snapshots(args.groups)
    started = time.perf_counter()
    with engine.begin() as conn:
        site.flush(conn, settings, [{"action": "publish", "snapshot": s} for s in snaps])
    print(f"site: {len(snaps)} pages published in {time.perf_counter() - started:.1f} s")
    previews, publishes = [], []
    step = max(1, len(snaps) // args.previews)
    for snap in snaps[::step][: args.previews]:
        edited = dict(snap, revision=2, title=snap["title"] + " (revised)",
                      body_html=snap["body_html"] + "<p>One more paragraph for the new revision.</p>")
        with engine.begin() as conn:
            t0 = time.perf_counter()
            page = preview.render_preview(conn, settings, edited)
            preview.store_preview(conn, edited, page)
            previews.append(time.perf_counter() - t0)
        with engine.begin() as conn:
            t0 = time.perf_counter()
            site.flush(conn, settings, [{"action": "publish", "snapshot": edited}])
            publishes.append(time.perf_counter() - t0)
    p50_preview, p50_publish = statistics.median(previews) * 1000, statistics.median(publishes) * 1000
    print(f"preview of one revision: p50 {p50_preview:.1f} ms, max {max(previews) * 1000:.1f} ms ({len(previews)} runs)")
    print(f"publish of the same revision: p50 {p50_publish:.1f} ms, max {max(publishes) * 1000:.1f} ms")
    print(f"a preview costs {p50_preview / p50_publish:.0%} of a publish (p50)")


if __name__ == "__main__":
    main()
