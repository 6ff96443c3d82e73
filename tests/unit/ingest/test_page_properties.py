"""Property-based and worst-case tests of the page parsers: any text either parses or is refused with
``NotAnArticle`` (never another exception), and pathological inputs are parsed in linear time.

The time budgets are generous guards against catastrophic backtracking (the old importer's quadratic
expressions took 44 s on one of these inputs; the parser takes well under a second on an idle machine
and stays under the budget on a machine shared with other test runs), not speed targets.
"""
from __future__ import annotations

import importlib
import re
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.ingest.html_import import parse_html
from services.ingest.importer import NotAnArticle, parse_page
from shared.markup import markdown_to_html

LANGS = ("en", "tr", "ru")
BUDGET_SECONDS = 10.0
PROSE = "A sentence long enough to be part of an article body, as the parser expects one to be. " * 10

# Lines as pages carry them, to reach the parser's deeper paths more often than random text does.
LINES = st.sampled_from([
    "Caspian Gas and the Long Road", "Paylaş", "Share", "Similar Posts", "Похожие записи", "Tarih: 03.02.2023",
    "This post is also available in: Türkçe Русский", "Bu yazı şu dillerde de mevcut:", "English", "EN | TR | RU",
    "Home » Analyses » Energy", "References", "Kaynakça", "Примечания", "About the author", "By Jane Doe and John Roe",
    "[1] “A title”, A source, https://example.org/a., (Date of Accession: 14.10.2022)", "[2] Ibid.", "[iii] Там же.",
    "1. “Quelle”, Verlag, https://example.de/q, abgerufen am 12. März 2023", "¹ a.g.e.", "Jane DOE", "Jane DOE",
    "Jane Doe writes on energy and water for the centre.", PROSE, PROSE + "[1]", PROSE + "region.2", PROSE + "¹",
    "The minister said the following:[1]", "We will work together.”", "Introduction", "Read more", "…",
    "Қазақстан Республикасының сыртқы саясаты көпвекторлы болып табылады.", "Page 1 of 12", "",
])
PAGES = st.lists(st.one_of(LINES, st.text(max_size=200)), max_size=40).map("\n".join)


def check(text: str, render: bool = True) -> None:
    try:
        page = parse_page(text, languages=LANGS)
    except NotAnArticle as exc:
        assert exc.field and exc.message
        return
    assert page.title and page.lang in LANGS and page.author["name"] and page.body
    if render:
        markdown_to_html(page.body)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=3000))
def test_any_text_parses_or_is_refused(text):
    check(text)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(PAGES)
def test_any_page_shaped_text_parses_or_is_refused(text):
    check(text)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(LINES, st.text(max_size=100)), max_size=20).map(
    lambda lines: "<html><body><article><h1>T</h1>" + "".join(f"<p>{line}</p>" for line in lines) + "</article></body></html>"))
def test_any_html_parses_or_is_refused(html):
    try:
        parse_html(html, languages=LANGS)
    except NotAnArticle as exc:
        assert exc.field and exc.message


def _in_page(fragment: str) -> list[str]:
    """A fragment alone, as a paragraph of an article, and inside a reference line."""
    return [fragment, f"Title\n\n{PROSE}\n\n{fragment}\n\n{PROSE}",
            f"Title\n\n{PROSE}[1]\n\n[1] {fragment}\n\nJane DOE\nJane DOE\nJane Doe writes."]


PATHOLOGICAL = {
    "quotes": "“" * 100_000, "ascii quotes": '"' * 100_000, "guillemets": "«" * 50_000,
    "brackets": "[" * 100_000, "bracketed digits": "[1" * 50_000, "digits": "1" * 100_000, "dots": "." * 100_000,
    "digit dots": "1." * 50_000, "roman markers": "[i" * 50_000, "spaces after a parenthesis": "(" + " " * 100_000 + "x",
    "spaces after by": "By" + " " * 100_000, "colons": ": " * 50_000, "ellipses": "…" * 50_000,
    "access phrases": "(Date of Accession: " * 5_000, "urls": "https://" * 12_000, "superscripts": "¹" * 50_000,
    "numbers and spaces": "1 " * 50_000, "menu separators": " | " * 30_000,
    "many short lines": "\n".join(["Heading"] * 12_000), "name pairs": "\n".join(["Jane DOE", "Jane DOE", "Bio."] * 5_000),
}


@pytest.mark.parametrize("name", PATHOLOGICAL)
def test_pathological_input_parses_in_linear_time(name):
    for text in _in_page(PATHOLOGICAL[name]):
        start = time.perf_counter()
        check(text, render=False)  # the parser's time; rendering Markdown is markdown-it's
        assert time.perf_counter() - start < BUDGET_SECONDS, f"{name}: {len(text)} characters"


def test_pathological_html_parses_in_linear_time():
    html = "<html><body><article><h1>Title</h1><p>" + "“" * 100_000 + "</p><p>" + PROSE + "</p></article></body></html>"
    start = time.perf_counter()
    try:
        parse_html(html, languages=LANGS)
    except NotAnArticle:
        pass
    assert time.perf_counter() - start < BUDGET_SECONDS


def _patterns():
    for module in ("pages", "language", "html_import", "importer", "batch_import"):
        mod = importlib.import_module(f"services.ingest.{module}")
        for name, value in sorted(vars(mod).items()):
            if isinstance(value, re.Pattern):
                yield f"{module}.{name}", value


EVIL = [s * 20_000 for s in ("“", '"', "[", "1", ".", " ", "\t", "(", "…", "<", "¹")] + \
       [s * 10_000 for s in ("[1", "1.", ": ", "1 ", "[i", "a ", "и ", "- ")] + \
       ["by" + " " * 20_000, "a" + " " * 20_000 + "b", "(Date of Accession: " * 1_000, "http://" * 3_000]


@pytest.mark.parametrize("name,pattern", list(_patterns()))
def test_every_regular_expression_is_linear_on_worst_case_strings(name, pattern):
    start = time.perf_counter()
    for text in EVIL:
        pattern.search(text)
        pattern.sub("", text)
    assert time.perf_counter() - start < BUDGET_SECONDS / 2, name
