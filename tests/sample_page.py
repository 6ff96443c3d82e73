"""The real sample page (outside the repository, in ../shared/samples) and the facts tests expect of it.

The repository never holds the sample's prose: expected values are read off the page itself with
simple line rules that are independent of the importer under test.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

SAMPLE = Path(__file__).resolve().parents[1].parent / "shared" / "samples" / "new-security-approach-of-kazakhstan.en.txt"
_REF = re.compile(r"^\[(\d+)\]\s+(.*)$")


def sample_text() -> str:
    """The sample page's text, or a skip saying where it was looked for."""
    if not SAMPLE.exists():
        pytest.skip(f"the real sample page is not at {SAMPLE} (it lives outside the repository)")
    return SAMPLE.read_text(encoding="utf-8")


def _reference(number: int, text: str) -> dict:
    title = re.search(r"“(.*?)”", text)
    url = re.search(r"https?://[^\s,]+", text)
    date = re.search(r"(\d{2})\.(\d{2})\.(\d{4})", text)
    source = text[title.end():url.start()].strip(" ,") if title and url else None
    return {"number": number, "title": title.group(1) if title else None, "source": source,
            "url": url.group(0) if url else None,
            "accessed": f"{date.group(3)}-{date.group(2)}-{date.group(1)}" if date else None,
            "note": None if title else text.strip()}


def sample_facts(text: str) -> dict:
    """Title, language line, paragraphs, quotations, references and author as the page states them."""
    lines = [line.strip() for line in text.splitlines()]
    nonblank = [line for line in lines if line]
    title = nonblank[0]
    language_line = next(line for line in nonblank if line.startswith("This post is also available in:"))
    refs = [_reference(int(m.group(1)), m.group(2)) for m in map(_REF.match, nonblank) if m]
    # The author's name stands on two lines in a row; the bio is the line after them.
    i = next(i for i in range(len(nonblank) - 1) if nonblank[i] == nonblank[i + 1] and not _REF.match(nonblank[i]))
    first_ref = next(i for i, line in enumerate(nonblank) if _REF.match(line))
    body = nonblank[nonblank.index(language_line) + 1:first_ref]
    quotes = [body[j + 1] for j in range(len(body) - 1) if re.search(r":\[\d+\]$", body[j])]
    return {"title": title, "language_line": language_line, "references": refs, "author": nonblank[i],
            "bio": nonblank[i + 2], "paragraphs": body, "quotes": quotes}
