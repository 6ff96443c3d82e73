"""WordPress import benchmark: generate an export of N posts in three languages and import it.

Usage: .venv/bin/python bench/wxr_import.py [--n 20000] [--words 400] [--keep DIR]

The export is written by this script (generated pseudo-words, never real prose): N posts in
translation groups of three (English source, Turkish and Russian translations) paired by
Polylang ``post_translations`` terms, each with categories, tags, Co-Authors Plus author terms
and about ``--words`` words of body, plus one empty post per hundred (imported as drafts with a
warning). It is imported into a fresh SQLite database with ``services.ingest.wxr.import_wxr``
(no Celery: the events wait in the outbox), then imported again (which must create nothing).

Prints posts per second for both runs, the file size and the process's peak resident memory
(``resource.getrusage``'s ru_maxrss, which covers generation, both passes and SQLite) and writes
``bench/results/wxr-import-<timestamp>.json``. Never asserts timings.
"""
from __future__ import annotations

import argparse
import json
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from services.ingest import wxr  # noqa: E402
from deploy import migrate  # noqa: E402
from shared.db import make_engine  # noqa: E402

LANGS = ("en", "tr", "ru")
SYLLABLES = {"en": "ka lo mi ren tas vor bel dun pra sil".split(), "tr": "ar ba cek dil gün hoş kır maz öz yol".split(),
             "ru": "ва ли но ски тра мир до ру ле сто".split()}
HEAD = """<?xml version="1.0" encoding="UTF-8" ?>
<rss version="2.0" xmlns:excerpt="http://wordpress.org/export/1.2/excerpt/"
 xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:dc="http://purl.org/dc/elements/1.1/"
 xmlns:wp="http://wordpress.org/export/1.2/">
<channel>
<title>Generated Bench Site</title>
<link>https://bench.example.org</link>
<wp:wxr_version>1.2</wp:wxr_version>
<wp:base_site_url>https://bench.example.org</wp:base_site_url>
<wp:author><wp:author_login><![CDATA[gen1]]></wp:author_login><wp:author_display_name><![CDATA[Gen Writer One]]></wp:author_display_name></wp:author>
<wp:author><wp:author_login><![CDATA[gen2]]></wp:author_login><wp:author_display_name><![CDATA[Gen Writer Two]]></wp:author_display_name></wp:author>
"""


def _words(rng: random.Random, lang: str, count: int) -> str:
    syl = SYLLABLES[lang]
    return " ".join("".join(rng.choice(syl) for _ in range(rng.randint(1, 3))) for _ in range(count))


def generate(path: Path, n: int, words: int, seed: int = 14) -> int:
    """Write an export of ``n`` posts (groups of three languages); its size in bytes."""
    rng = random.Random(seed)
    groups = (n + 2) // 3
    with open(path, "w", encoding="utf-8") as out:
        out.write(HEAD)
        for g in range(groups):
            ids = {lang: 3 * g + i + 1 for i, lang in enumerate(LANGS)}
            members = "".join(f's:2:"{lang}";i:{pid};' for lang, pid in list(ids.items())[:n - 3 * g])
            out.write(f"<wp:term><wp:term_taxonomy><![CDATA[post_translations]]></wp:term_taxonomy>"
                      f"<wp:term_slug><![CDATA[pll_{g}]]></wp:term_slug><wp:term_description><![CDATA["
                      f"a:{min(3, n - 3 * g)}:{{{members}}}]]></wp:term_description></wp:term>\n")
        for g in range(groups):
            for i, lang in enumerate(LANGS):
                pid = 3 * g + i + 1
                if pid > n:
                    break
                body = "" if pid % 100 == 0 else "\n\n".join(
                    f"<p>{_words(rng, lang, words // 4)}.</p>" for _ in range(4))
                coauthor = '<category domain="author" nicename="cap-gen2"><![CDATA[gen2]]></category>' if g % 5 == 0 else ""
                out.write(f"""<item>
<title><![CDATA[{_words(rng, lang, 5).title()} {pid}]]></title>
<dc:creator><![CDATA[gen1]]></dc:creator>
<guid isPermaLink="false">https://bench.example.org/?p={pid}</guid>
<content:encoded><![CDATA[{body}]]></content:encoded>
<excerpt:encoded><![CDATA[]]></excerpt:encoded>
<wp:post_id>{pid}</wp:post_id>
<wp:post_date><![CDATA[2024-01-01 10:00:00]]></wp:post_date>
<wp:post_date_gmt><![CDATA[2024-01-01 07:00:00]]></wp:post_date_gmt>
<wp:status><![CDATA[{"publish" if g % 4 else "draft"}]]></wp:status>
<wp:post_type><![CDATA[post]]></wp:post_type>
<category domain="category" nicename="c{g % 12}"><![CDATA[Category {g % 12}]]></category>
<category domain="post_tag" nicename="t{g % 40}"><![CDATA[Tag {g % 40}]]></category>
<category domain="author" nicename="cap-gen1"><![CDATA[gen1]]></category>{coauthor}
<category domain="language" nicename="{lang}"><![CDATA[{lang}]]></category>
<category domain="post_translations" nicename="pll_{g}"><![CDATA[pll_{g}]]></category>
</item>
""")
        out.write("</channel>\n</rss>\n")
    return path.stat().st_size


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def main(argv: list[str] | None = None) -> int:
    """Generate, import twice, print and save the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20_000, help="posts in the export (default 20,000)")
    parser.add_argument("--words", type=int, default=400, help="words per post body (default 400)")
    parser.add_argument("--keep", type=Path, default=None, help="keep the export and database in this folder")
    args = parser.parse_args(argv)
    folder = args.keep or Path(tempfile.mkdtemp(prefix="wxr-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    export, db = folder / "export.xml", folder / "ingest.db"
    db.unlink(missing_ok=True)
    started = time.perf_counter()
    size = generate(export, args.n, args.words)
    generated = time.perf_counter() - started
    rss_before = _peak_mb()
    migrate.upgrade("ingest", f"sqlite:///{db}")
    engine = make_engine(f"sqlite:///{db}")
    done = [0]

    def progress(count: int, total: int) -> None:
        if count - done[0] >= 2000 or count == total:
            done[0] = count
            print(f"  {count}/{total} posts, {time.perf_counter() - t0:.0f} s, peak RSS {_peak_mb():.0f} MB", flush=True)

    def count_only(conn, rows) -> None:
        pass  # the report rows are not kept: the bench measures the import, not a list of 20,000 dicts

    t0 = time.perf_counter()
    first = wxr.import_wxr(engine, export, languages=LANGS, progress=progress, sink=count_only)
    first_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    second = wxr.import_wxr(engine, export, languages=LANGS, sink=count_only)
    second_s = time.perf_counter() - t0
    engine.dispose()
    result = {
        "n": args.n, "words": args.words, "file_mb": round(size / 1e6, 1), "generate_s": round(generated, 1),
        "import_s": round(first_s, 1), "posts_per_s": round(args.n / first_s, 1),
        "reimport_s": round(second_s, 1), "reimport_posts_per_s": round(args.n / second_s, 1),
        "peak_rss_mb_before_import": round(rss_before, 1), "peak_rss_mb": round(_peak_mb(), 1),
        "first": first["counts"], "second": second["counts"], "group_methods": first["group_methods"],
    }
    print(f"export: {args.n} posts, {result['file_mb']} MB (generated in {result['generate_s']} s)")
    print(f"import:   {result['import_s']} s, {result['posts_per_s']} posts/s, {first['counts']}")
    print(f"re-import: {result['reimport_s']} s, {result['reimport_posts_per_s']} posts/s, {second['counts']}")
    print(f"peak RSS: {result['peak_rss_mb']} MB (before the import: {result['peak_rss_mb_before_import']} MB)")
    results = ROOT / "bench" / "results"
    results.mkdir(exist_ok=True)
    (results / f"wxr-import-{time.strftime('%Y%m%d-%H%M%S')}.json").write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
