"""The raw page importer: the real sample page and our own Turkish and Russian pages."""
from pathlib import Path

import pytest

from services.ingest.importer import (
    UNKNOWN_AUTHOR, NotAnArticle, detect_language, parse_access_date, parse_language_line, parse_page, parse_reference,
    roman_to_int,
)
from shared.markup import markdown_to_html
from tests.sample_page import sample_facts, sample_text

ROOT = Path(__file__).resolve().parents[3]
FIXTURES = ROOT / "tests" / "fixtures" / "ingest"
CHROME = ("Paylaş", "Share", "Similar Posts", "Benzer İçerikler", "Похожие записи", "Поделиться", "Tarih:",
          "This post is also available in", "Bu yazı şu dillerde", "Эта запись также доступна")


@pytest.fixture(scope="module")
def facts():
    return sample_facts(sample_text())


@pytest.fixture(scope="module")
def sample():
    return parse_page(sample_text())


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def assert_no_chrome(page):
    for chrome in CHROME:
        assert chrome not in page.body, chrome
    assert page.author["name"] not in page.body
    assert not any(line.lstrip("> ").startswith("[") for line in page.body.splitlines())  # no reference lines


def test_sample_title_language_and_chrome(sample, facts):
    assert sample.title == facts["title"]
    assert sample.lang == "en" and sample.lang_detected
    assert sample.original_languages == ["tr", "ru"]
    assert sample.language_line == facts["language_line"]
    assert_no_chrome(sample)
    assert sample.warnings == []


def test_sample_references(sample, facts):
    refs = sample.references
    expected = facts["references"]
    assert [r["number"] for r in refs] == [1, 2, 3, 4]
    assert refs[0] == expected[0] and refs[1] == expected[1]
    assert all(r["accessed"] == "2022-10-14" for r in (refs[0], refs[1], refs[3]))
    # "Ibid." is resolved to the reference before it and keeps its note.
    assert expected[2]["note"] == "Ibid."
    assert refs[2] == dict(refs[1], number=3, note="Ibid.")
    assert refs[3] == expected[3]


def test_sample_author_and_bio_language(sample, facts):
    assert sample.author["name"] == facts["author"]
    assert sample.author["bio"] == facts["bio"]
    assert sample.author["bio_lang"] == "tr"


def test_sample_body_quotes_and_markers(sample, facts):
    paragraphs = sample.body.split("\n\n")
    quotes = [p for p in paragraphs if p.startswith("> ")]
    assert len(quotes) == len(facts["quotes"]) == 3
    for quote, source in zip(quotes, facts["quotes"]):
        assert quote.startswith("> " + source[:40])
    assert paragraphs[0].startswith(facts["paragraphs"][0][:60])
    assert paragraphs[-1].endswith(facts["paragraphs"][-1][-40:])
    for n in (1, 2, 3, 4):
        assert sample.body.count(f"[{n}]") == 1
    html = markdown_to_html(sample.body)
    assert html.count("<blockquote>") == 3 and "[1]" in html


def test_turkish_page():
    page = parse_page(fixture("su-diplomasisi-orta-asya.tr.txt"))
    assert page.title == "Orta Asya’da Su Diplomasisi: Yeni Bir Dönemin Eşiğinde"
    assert page.lang == "tr" and page.original_languages == ["en", "ru"]
    assert_no_chrome(page)
    assert "03.02.2023" not in page.body and "Kafkasya" not in page.body  # date line, similar posts
    assert [r["accessed"] for r in page.references] == ["2023-02-01", "2023-02-02", "2023-02-02"]
    assert page.references[0]["title"] == "Bölgesel Su Toplantısı Sona Erdi"
    assert page.references[0]["source"] == "Örnek Haber Ajansı"
    assert page.references[2] == dict(page.references[1], number=3, note="a.g.e.")
    assert page.author == {"name": "Doç. Dr. Elif KARATAŞ", "bio_lang": "en",
                           "bio": page.author["bio"]} and page.author["bio"].startswith("Elif Karataş studied")
    assert "> Suyu bir anlaşmazlık konusu" in page.body
    assert page.warnings == ["dropped 2 line(s) after 'Benzer İçerikler' (the site's list of other posts)"]


def test_russian_page_with_roman_markers():
    page = parse_page(fixture("energeticheskaya-bezopasnost.ru.txt"))
    assert page.title == "Энергетическая безопасность Каспийского региона"
    assert page.lang == "ru" and page.original_languages == ["en", "tr"]
    assert_no_chrome(page)
    assert [r["number"] for r in page.references] == [1, 2, 3]
    assert page.references[1]["title"] == "Трубопроводы и инвестиции: обзор проектов"
    assert page.references[1]["accessed"] == "2023-03-11"
    assert page.references[2]["note"] == "Там же." and page.references[2]["url"] == page.references[1]["url"]
    # Roman markers become the reference numbers, so rendering can link them.
    assert "[i]" not in page.body and "[1]" in page.body and "[3]" in page.body
    assert "> Мы не ищем одного маршрута" in page.body
    assert page.author["name"] == "Анна ПЕТРОВА" and page.author["bio_lang"] == "ru"
    assert page.warnings == []


def test_given_language_wins_with_a_warning():
    page = parse_page(fixture("su-diplomasisi-orta-asya.tr.txt"), lang="en")
    assert page.lang == "en" and not page.lang_detected
    assert "lang=en was given but the body reads as tr" in page.warnings


@pytest.mark.parametrize("text,field,words", [
    ("", "body", "empty"),
    ("  \n\nPaylaş\nShare\n", "body", "empty"),
    ("Just a title\n\nPaylaş\n", "body", "no body text"),
    ("A title\n\nToo short to be an article at all.\n\nA. Writer\nA. Writer\nBio.\n", "body", "words"),
])
def test_pages_that_are_not_articles(text, field, words):
    with pytest.raises(NotAnArticle) as info:
        parse_page(text)
    assert info.value.field == field and words in info.value.message


def test_category_listing_is_refused():
    with pytest.raises(NotAnArticle) as info:
        parse_page(fixture("category-listing.en.txt"))
    assert "category listing" in info.value.message


def test_listing_without_teaser_endings_is_refused():
    teasers = "\n\n".join(f"Headline number {i}\nA short line about story number {i} today." for i in range(6))
    with pytest.raises(NotAnArticle) as info:
        parse_page("Category: Analyses\n\n" + teasers)
    assert "listing" in info.value.message


def long_paragraph(seed: str) -> str:
    return " ".join([f"This paragraph about {seed} is long enough to count as the body of the article and"] * 4)


def test_page_without_an_author_imports_with_unknown_author_and_a_warning():
    page = parse_page("Title\n\n" + long_paragraph("x") + " end.\n\n" + long_paragraph("y") + " end.")
    assert page.author == {"name": UNKNOWN_AUTHOR, "bio": "", "bio_lang": None}
    assert any("no author found" in w and "fill in the real author" in w for w in page.warnings)
    assert page.summary()["authors"] == [UNKNOWN_AUTHOR]


def test_a_list_of_headlines_is_a_listing_and_a_title_may_end_with_a_period():
    with pytest.raises(NotAnArticle) as info:
        parse_page("Latest Analyses\nCaspian Gas and Europe\n12.03.2023\nWater Wars Ahead\n10.03.2023\n"
                   "Nuclear Power Returns\n01.03.2023\nElections in the Region\n")
    assert info.value.field == "body" and "listing" in info.value.message
    page = parse_page("The End of the Caspian Gas Dream.\n\n" + long_paragraph("gas") + " end.\n\n" + long_paragraph("x") + ".")
    assert page.title == "The End of the Caspian Gas Dream."


def test_page_cut_off_mid_sentence_is_refused():
    with pytest.raises(NotAnArticle) as info:
        parse_page("Title\n\n" + long_paragraph("x") + "\n\n" + long_paragraph("y"))
    assert info.value.field == "body" and "cut off" in info.value.message


def test_closing_quote_without_opening_is_a_quotation_and_markdown_is_escaped():
    text = "\n\n".join([
        "Title", long_paragraph("quotes"),
        "This is what the minister said in the end, with no introduction at all.”",
        "1992. A paragraph starting with a year, *stars*, <script>alert(1)</script> and [a](http://x) link.",
        "# not a heading", "Writer Name", "Writer Name", "A short bio in English about the writer of the article.",
    ])
    page = parse_page(text)
    assert "> This is what the minister said" in page.body
    html = markdown_to_html(page.body)
    assert "<script" not in html and "<ol" not in html and "<h1" not in html and "<em>" not in html
    assert "<a " not in html and "&lt;script&gt;" in html and "1992. A paragraph" in html


@pytest.mark.parametrize("line,codes", [
    ("This post is also available in: Türkçe Русский", ["tr", "ru"]),
    ("Bu yazı şu dillerde de mevcut: English Русский", ["en", "ru"]),
    ("Bu yazı şu dillerde de mevcuttur: English", ["en"]),
    ("Эта запись также доступна на: English Türkçe", ["en", "tr"]),
])
def test_language_line_forms(line, codes):
    assert parse_language_line(line) == (codes, [])


def test_language_line_unknown_names_and_non_lines():
    assert parse_language_line("This post is also available in: Deutsch Türkçe") == (["tr"], ["Deutsch"])
    assert parse_language_line("The post is available everywhere") is None


@pytest.mark.parametrize("text,lang", [
    ("The meeting was held in the capital and the leaders of the region signed the final document.", "en"),
    ("Toplantı başkentte yapıldı ve bölge liderleri ortak bildiriyi imzaladı; bu belge önemlidir.", "tr"),
    ("Встреча прошла в столице, и лидеры региона подписали итоговый документ о сотрудничестве.", "ru"),
    ("short", None),
])
def test_detect_language(text, lang):
    assert detect_language(text) == lang


def test_access_dates_and_references():
    assert parse_access_date("(Date of Accession: 14.10.2022)") == ("2022-10-14", None)
    assert parse_access_date("(Erişim Tarihi: 1.2.2023)") == ("2023-02-01", None)
    assert parse_access_date("(Дата обращения: 10.03.2023)") == ("2023-03-10", None)
    assert parse_access_date("(Date of Accession: 31.02.2022)")[1].endswith("is not a real date")
    ref, warnings = parse_reference(7, 'J. Doe, "A Study", Example Press, https://example.org/a.', None)
    assert ref == {"number": 7, "title": "A Study", "source": "J. Doe, Example Press",
                   "url": "https://example.org/a", "accessed": None, "note": None}
    ibid, warnings = parse_reference(1, "Ibid.", None)
    assert ibid["note"] == "Ibid." and warnings  # nothing to resolve it to: kept, with a warning
    assert roman_to_int("iv") == 4 and roman_to_int("xii") == 12
