"""Import many pages at once: ``python -m services.ingest.batch_import PATH...``.

Each PATH is a page (``.txt``, ``.html``, ``.htm``), a folder of them (searched recursively) or a
``.zip`` of them. Every page goes through the same parsing and duplicate check as
``POST /api/articles/import``, in its own transaction, so one refused page stores nothing and stops
nothing. Progress goes to stderr, one report line per page to stdout, and ``--report FILE`` writes
the per-page report as JSON.
"""
from __future__ import annotations

import argparse
import json
import sys
import zipfile
from pathlib import Path
from typing import Iterator

from shared.errors import ApiError
from shared.workflow import Role

from . import importer

PAGE_SUFFIXES = (".txt", ".html", ".htm")
MAX_PAGE_BYTES = 5_000_000


def iter_pages(paths: list[str]) -> Iterator[tuple[str, bytes]]:
    """(name, raw bytes) of every page under ``paths`` (files, folders, zips), in name order."""
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for child in sorted(p for p in path.rglob("*") if p.suffix.lower() in PAGE_SUFFIXES + (".zip",)):
                yield from iter_pages([str(child)])
        elif path.suffix.lower() == ".zip":
            with zipfile.ZipFile(path) as archive:
                for info in sorted(archive.infolist(), key=lambda i: i.filename):
                    if info.is_dir() or not info.filename.lower().endswith(PAGE_SUFFIXES):
                        continue
                    if info.file_size > MAX_PAGE_BYTES:
                        yield f"{path.name}:{info.filename}", b""  # refused below as empty: never inflate a bomb
                        continue
                    yield f"{path.name}:{info.filename}", archive.read(info)
        else:
            yield str(path), path.read_bytes()


def import_one(rt, name: str, data: bytes, *, lang: str | None, on_duplicate: str | None, actor: str) -> dict:
    """Import one page; the report row says what happened (created, duplicate, revised, refused)."""
    html = name.lower().endswith((".html", ".htm")) or None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if not html:
            return {"page": name, "outcome": "refused", "field": "file",
                    "error": f"not UTF-8 (byte {exc.start}); save the page as UTF-8"}
        from trafilatura.utils import decode_file

        text = decode_file(data)  # a saved page in its own charset (windows-1251, iso-8859-9, ...)
    try:
        page = importer.parse_any(text, lang=lang, languages=rt.settings.languages, html=html)
        with rt.transaction() as conn:
            article, result = importer.import_page(
                conn, text, page, on_duplicate=on_duplicate, group_id=None, languages=rt.settings.languages,
                max_body=rt.settings.max_body_bytes, actor=actor, role=Role.ADMIN)  # an operator's command
    except ApiError as exc:  # refused page, a language already in the group, or an edit the state forbids
        return {"page": name, "outcome": "refused", "field": exc.field or "page", "error": exc.message}
    return {"page": name, "outcome": result["outcome"], "article_id": article["id"], "title": article["title"],
            "lang": article["lang"], "references": len(page.references), "warnings": page.warnings,
            **({"note": result["note"]} if "note" in result else {})}


def _line(row: dict) -> str:
    if row["outcome"] == "refused":
        return f"refused   {row['page']}: {row['field']}: {row['error']}"
    warnings = f" ({len(row['warnings'])} warning(s))" if row["warnings"] else ""
    return f"{row['outcome']:<9} {row['page']}: {row['lang']} {row['article_id']} “{row['title']}”{warnings}"


def main(argv: list[str] | None = None) -> int:
    """The CLI: import pages into the configured ingest database; 1 when any page was refused."""
    from shared.config import load_settings
    from shared.runtime import build_runtime

    from .db import metadata

    parser = argparse.ArgumentParser(prog="python -m services.ingest.batch_import", description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="+", help="pages (.txt, .html), folders of them, or .zip files of them")
    parser.add_argument("--lang", default=None, help="the pages' language (default: detected per page)")
    parser.add_argument("--on-duplicate", choices=importer.ON_DUPLICATE, default="answer",
                        help="a page imported before: report it (answer) or save it as a new revision (revise)")
    parser.add_argument("--actor", default="page-import", help="the name recorded in the audit log")
    parser.add_argument("--report", type=Path, default=None, help="write the per-page report to this JSON file")
    args = parser.parse_args(argv)
    for raw in args.paths:
        if not Path(raw).exists():
            parser.error(f"{raw}: no such file or folder")
    rt = build_runtime("ingest", load_settings(), metadata)
    pages = list(iter_pages(args.paths))
    rows = []
    for done, (name, data) in enumerate(pages, 1):
        sys.stderr.write(f"\r[{done}/{len(pages)}] {name[-60:]:<60}")
        sys.stderr.flush()
        rows.append(import_one(rt, name, data, lang=args.lang, on_duplicate=args.on_duplicate, actor=args.actor))
    sys.stderr.write("\n")
    for row in rows:
        print(_line(row))
    counts = {outcome: sum(1 for r in rows if r["outcome"] == outcome)
              for outcome in ("created", "duplicate", "revised", "unchanged", "refused")}
    print(", ".join(f"{n} {outcome}" for outcome, n in counts.items()) + f" of {len(rows)} page(s)")
    if args.report:
        args.report.write_text(json.dumps(rows, ensure_ascii=False, indent=1), encoding="utf-8")
    return 1 if counts["refused"] else 0


if __name__ == "__main__":
    sys.exit(main())
