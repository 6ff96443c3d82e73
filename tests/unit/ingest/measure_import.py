"""Figures of the page importer (printed, never asserted): corpus results, worst-case input times,
and the language detector's memory. Run: ``.venv/bin/python -m tests.unit.ingest.measure_import``."""
from __future__ import annotations

import json
import time
from pathlib import Path


def rss_mb() -> float:
    """This process's resident memory in MB (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    """Print the figures."""
    before = rss_mb()
    from services.ingest import language, pages  # noqa: F401  (imports lingua)

    imported = rss_mb()
    folder = Path(__file__).resolve().parents[2] / "fixtures" / "ingest" / "pages"
    texts = {p.stem: p.read_text(encoding="utf-8") for p in sorted(folder.glob("*.txt"))}
    right = 0
    start = time.perf_counter()
    for name, text in texts.items():
        expected = json.loads((folder / f"{name}.json").read_text(encoding="utf-8"))
        try:
            page = pages.parse_page(text)
            right += "refused" not in expected and page.title == expected["title"] and page.lang == expected["lang"]
        except pages.NotAnArticle as exc:
            right += "refused" in expected and exc.field == expected["refused"]["field"]
    elapsed = time.perf_counter() - start
    for bio in ("Short bio in English.", "Kısa bir Türkçe özgeçmiş.", "Короткая биография на русском."):
        language.identify(bio * 3)
    after = rss_mb()
    print(f"corpus: {right}/{len(texts)} pages right (title and language, or refused on the expected field) "
          f"in {elapsed:.2f} s")
    print(f"memory: {before:.0f} MB before import, +{imported - before:.0f} MB importing lingua, "
          f"+{after - imported:.0f} MB for the detector's models after detecting every page (RSS {after:.0f} MB)")
    from tests.unit.ingest.test_page_properties import PATHOLOGICAL, _in_page

    worst = {}
    for name, fragment in PATHOLOGICAL.items():
        for text in _in_page(fragment):
            start = time.perf_counter()
            try:
                pages.parse_page(text)
            except pages.NotAnArticle:
                pass
            worst[name] = max(worst.get(name, 0.0), time.perf_counter() - start)
    print("worst-case inputs (25-100 KB, slowest of alone / in the body / in a reference):")
    for name, seconds in sorted(worst.items(), key=lambda kv: -kv[1]):
        print(f"  {name:<28} {seconds * 1000:7.0f} ms ({len(PATHOLOGICAL[name]) // 1000} KB)")


if __name__ == "__main__":
    main()
