"""Public search benchmark: build a search index of N pages directly and time queries per language and engine.

Usage: .venv/bin/python bench/search.py [--n 30000] [--words 300] [--queries 200] [--engines sqlite,postgresql]

Pages (a third each in English, Turkish and Russian) are generated here from seeded pseudo-words
drawn Zipf-like from a per-language vocabulary, with a few real words of each language mixed in
(so the queries include inflected forms that stem), and written into a fresh rendering database
(``pages`` rows and ``services.rendering.search.index_page``: the same code a render flush runs; no
Celery, no HTML files). The PostgreSQL database is created at ``BENCH_POSTGRES_URL`` (default the
local server, trust auth) and dropped afterwards; an engine that is not reachable is skipped.

Each query (one or two words: frequent, middling and rare words, and the real words inflected) is
timed as the search page runs it: the matching ids of the first page, the total count, and the
hits with their highlighted title and snippet. Prints p50 / p95 / max in milliseconds per
language and engine and writes ``bench/results/search-<timestamp>.json``. Never asserts timings.
"""
from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402

from bench.common import percentile  # noqa: E402
from deploy import migrate  # noqa: E402
from services.rendering import search  # noqa: E402
from services.rendering.db import pages  # noqa: E402
from shared.db import make_engine  # noqa: E402

LANGS = ("en", "tr", "ru")
VOCAB = 8000
SYLLABLES = {
    "en": "ba con de fi gor han ist jo ker lan mo nor pel qua ros sta ter ul ven wex yor zan an el or er al".split(),
    "tr": "ka lar ler bi ği çe şı dı ün öz ma ne si ya tü ri ça ğu kı mü sö ta ye lı zi ha cı pe rü ve".split(),
    "ru": "ка ло ни ра ст во пе ди жу мы ше цо ба ге зы ку ля мо ну от пр ре сы ти фа хо чи щу ем".split(),
}
# Real words (and the inflected forms queried) so that stemming has work to do.
REAL = {
    "en": (["security", "securities", "negotiation", "negotiations", "border", "borders", "energy"],
           ["securities", "negotiating", "borders"]),
    "tr": (["güvenlik", "güvenliği", "müzakere", "müzakereleri", "sınır", "sınırları", "enerji"],
           ["güvenliği", "müzakereler", "sınırlarında"]),
    "ru": (["безопасность", "безопасности", "переговоры", "переговорах", "граница", "границы", "энергия"],
           ["безопасности", "переговорам", "границе"]),
}
BENCH_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def vocabulary(lang: str, rng: random.Random) -> list[str]:
    """``VOCAB`` distinct pseudo-words of two to four syllables."""
    words: dict[str, None] = {}
    while len(words) < VOCAB:
        words["".join(rng.choice(SYLLABLES[lang]) for _ in range(rng.randint(2, 4)))] = None
    return list(words)


def make_pages(n: int, words_per_page: int, seed: int = 7):
    """Yield ``n`` snapshots (the fields the index reads), languages in turn."""
    rng = random.Random(seed)
    vocab = {lang: vocabulary(lang, rng) for lang in LANGS}
    weights = [1 / (rank + 1) for rank in range(VOCAB)]
    start = datetime(2020, 1, 1, tzinfo=timezone.utc)
    for i in range(n):
        lang = LANGS[i % 3]
        real = REAL[lang][0]
        body = rng.choices(vocab[lang], weights=weights, k=words_per_page)
        for _ in range(3):
            body[rng.randrange(len(body))] = rng.choice(real)
        title = " ".join(rng.choices(vocab[lang], weights=weights, k=5) + [rng.choice(real)]).capitalize()
        published = (start + timedelta(minutes=i)).isoformat()
        yield {"article_id": str(uuid.UUID(int=i + 1)), "group_id": str(uuid.UUID(int=i + 1)), "lang": lang,
               "slug": f"page-{i}", "revision": 1, "title": title, "published_at": published, "updated_at": published,
               "tags": rng.sample(vocab[lang][:50], 2), "categories": [],
               "body_html": "<p>" + " ".join(body) + ".</p>"}, vocab


def queries(lang: str, vocab: list[str], count: int, rng: random.Random) -> list[str]:
    """One- and two-word queries: frequent, middling and rare pseudo-words and inflected real words."""
    out = []
    for i in range(count):
        kind = i % 5
        if kind == 0:
            out.append(rng.choice(vocab[:20]))  # very frequent: many matches to rank and count
        elif kind == 1:
            out.append(rng.choice(vocab[200:2000]))
        elif kind == 2:
            out.append(rng.choice(vocab[4000:]))
        elif kind == 3:
            out.append(rng.choice(REAL[lang][1]))
        else:
            out.append(f"{rng.choice(REAL[lang][1])} {rng.choice(vocab[:500])}")
    return out


def build(engine, n: int, words_per_page: int) -> tuple[float, dict]:
    """Index ``n`` pages; seconds taken and the vocabularies."""
    started = time.perf_counter()
    vocab = {}
    batch = 500
    conn = engine.connect()
    tx = conn.begin()
    for i, (snap, vocab) in enumerate(make_pages(n, words_per_page), 1):
        conn.execute(pages.insert().values(
            article_id=snap["article_id"], group_id=snap["group_id"], lang=snap["lang"], slug=snap["slug"],
            revision=1, title=snap["title"], snapshot={k: v for k, v in snap.items() if k != "body_html"},
            published_at=datetime.fromisoformat(snap["published_at"]),
            updated_at=datetime.fromisoformat(snap["updated_at"])))
        search.index_page(conn, snap)
        if i % batch == 0:
            tx.commit()
            tx = conn.begin()
        if i % 1000 == 0 or i == n:
            rate = i / (time.perf_counter() - started)
            print(f"  indexed {i}/{n} pages ({rate:.0f}/s)", flush=True)
    tx.commit()
    conn.close()
    if engine.dialect.name == "postgresql":
        # The state autovacuum keeps a live table in (statistics and the visibility map), which a
        # bulk load has not reached yet.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as vacuum:
            vacuum.execute(text("VACUUM ANALYZE search_docs"))
    return time.perf_counter() - started, vocab


def measure(engine, vocab: dict, count: int) -> dict:
    """p50 / p95 / max milliseconds of ``count`` queries per language (one warm-up pass first)."""
    rng = random.Random(11)
    out = {}
    with engine.connect() as conn:
        for lang in LANGS:
            qs = queries(lang, vocab[lang], count, rng)
            for q in qs[:10]:
                search.search(conn, lang, q)
            times, found = [], 0
            for q in qs:
                started = time.perf_counter()
                results = search.search(conn, lang, q)
                times.append((time.perf_counter() - started) * 1000)
                found += bool(results.hits)
            out[lang] = {"p50_ms": round(percentile(times, 50), 2), "p95_ms": round(percentile(times, 95), 2),
                         "max_ms": round(max(times), 2), "queries": len(qs), "with_results": found}
            print(f"  {lang}: p50 {out[lang]['p50_ms']} ms, p95 {out[lang]['p95_ms']} ms, "
                  f"max {out[lang]['max_ms']} ms ({found}/{len(qs)} queries found something)", flush=True)
    return out


def run_engine(name: str, args, tmp: Path) -> dict | None:
    """Build and measure on one engine; None when it is not reachable."""
    admin = dbname = None
    if name == "sqlite":
        url = f"sqlite:///{tmp / 'rendering.db'}"
    else:
        base = args.postgres_url
        try:
            admin = create_engine(base, isolation_level="AUTOCOMMIT")
            admin.connect().close()
        except Exception as exc:
            print(f"{name}: skipped ({exc.__class__.__name__}: not reachable at {base})")
            return None
        dbname = f"bench_search_{uuid.uuid4().hex[:8]}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{dbname}"'))
        url = base.rsplit("/", 1)[0] + "/" + dbname
    try:
        migrate.upgrade("rendering", url)
        engine = make_engine(url)
        print(f"{name}: building an index of {args.n} pages of {args.words} words", flush=True)
        seconds, vocab = build(engine, args.n, args.words)
        print(f"{name}: built in {seconds:.1f} s; querying", flush=True)
        figures = measure(engine, vocab, args.queries)
        engine.dispose()
        return {"build_seconds": round(seconds, 1), "languages": figures}
    finally:
        if admin is not None:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)'))
            admin.dispose()


def main() -> int:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=30000, help="pages in the index (a third per language)")
    parser.add_argument("--words", type=int, default=300, help="body words per page")
    parser.add_argument("--queries", type=int, default=200, help="timed queries per language")
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--postgres-url", default=BENCH_POSTGRES_URL)
    args = parser.parse_args()
    results = {"n": args.n, "words": args.words, "queries": args.queries, "engines": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.engines.split(","):
            figures = run_engine(name.strip(), args, Path(tmp))
            if figures:
                results["engines"][name.strip()] = figures
    print("\nsearch benchmark (milliseconds per query, the search page's work without HTTP)")
    print(f"{'engine':<12}{'lang':<6}{'p50':>8}{'p95':>8}{'max':>8}")
    for name, figures in results["engines"].items():
        for lang, f in figures["languages"].items():
            print(f"{name:<12}{lang:<6}{f['p50_ms']:>8}{f['p95_ms']:>8}{f['max_ms']:>8}")
    out_dir = ROOT / "bench" / "results"
    out_dir.mkdir(exist_ok=True)
    path = out_dir / f"search-{datetime.now(timezone.utc):%Y%m%dT%H%M%SZ}.json"
    path.write_text(json.dumps(results, indent=1))
    print(f"written {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
