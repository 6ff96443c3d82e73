"""Every page of our corpus (tests/fixtures/ingest/pages, built by corpus.py) imports right or is refused
for its true reason: title, language, body free of chrome, markers, references, authors."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from services.ingest.importer import NotAnArticle, parse_page

PAGES = Path(__file__).resolve().parents[2] / "fixtures" / "ingest" / "pages"
NAMES = sorted(p.stem for p in PAGES.glob("*.txt"))


def test_the_corpus_is_large_enough():
    expected = [json.loads((PAGES / f"{n}.json").read_text(encoding="utf-8")) for n in NAMES]
    assert len(NAMES) >= 40 and sum(1 for e in expected if "refused" not in e) >= 30


@pytest.mark.parametrize("name", NAMES)
def test_page(name):
    text = (PAGES / f"{name}.txt").read_text(encoding="utf-8")
    expected = json.loads((PAGES / f"{name}.json").read_text(encoding="utf-8"))
    if "refused" in expected:
        with pytest.raises(NotAnArticle) as info:
            parse_page(text)
        assert info.value.field == expected["refused"]["field"], info.value.message
        assert expected["refused"]["says"] in info.value.message
        return
    page = parse_page(text)
    assert page.title == expected["title"]
    assert page.lang == expected["lang"]
    assert page.original_languages == expected["original_languages"]
    assert page.language_line == expected["language_line"]
    paragraphs = page.body.split("\n\n")
    assert paragraphs[0].startswith(expected["body_starts"][:30])
    assert re.sub(r"\[\d+\]$", "", paragraphs[-1]).endswith(expected["body_ends"])
    for chrome in expected["chrome"]:
        # Short chrome ("Share") may be part of a word of the text ("Shared"); it must not stand alone.
        assert chrome not in paragraphs if len(chrome.split()) < 3 else chrome not in page.body, chrome
    assert len(re.findall(r"\[\d{1,3}\]", page.body)) == expected["markers"]
    assert [f"[{n}]" for n in range(1, expected["markers"] + 1)] == re.findall(r"\[\d{1,3}\]", page.body)
    assert len(page.references) == expected["references"]
    assert [r["accessed"] for r in page.references] == expected["accessed"]
    assert all(r["url"] is None or not r["url"].endswith((".", ",")) for r in page.references)
    assert [a["name"] for a in page.authors] == expected["authors"]
    for name_ in expected["authors"]:
        assert name_ not in page.body
    if "warning" in expected:
        assert any(expected["warning"] in w for w in page.warnings), page.warnings
