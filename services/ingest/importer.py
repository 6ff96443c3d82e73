"""Raw page import: turn a page copied from the think tank's site into a structured article.

A raw page is plain text, one paragraph per line: the title first, page chrome ("Paylaş",
"Similar Posts", ...), an "also available in" line, paragraphs and quotations carrying footnote
markers ``[1]``, a numbered reference list, the author's name twice and a bio. ``parse_page`` is
pure (text in, ``ImportedPage`` out, or ``NotAnArticle``); ``create_from_page`` stores the result
through the same ``commands.create_article`` path as ``POST /api/articles``.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy.engine import Connection

from shared.events import utcnow

from shared.errors import InvalidInput

from .commands import create_article
from .validation import parse_article_input
from .db import article_imports

MIN_BODY_WORDS = 60
MAX_NAME_WORDS = 8

# Language names as the old site prints them (each in its own language), plus common variants.
LANGUAGE_NAMES = {
    "english": "en", "ingilizce": "en", "английский": "en",
    "türkçe": "tr", "turkish": "tr", "турецкий": "tr", "türkce": "tr",
    "русский": "ru", "russian": "ru", "rusça": "ru", "rusca": "ru",
}
_LANGUAGE_LINE = re.compile(
    r"^(?:This post is also available in|Bu yazı şu dillerde de mevcut(?:\(?tur\)?)?|Эта запись также доступна на)"
    r"\s*:\s*(?P<names>.*)$",
    re.IGNORECASE,
)
_CHROME = {"paylaş", "share", "поделиться"}
# Everything from one of these headings on is the site's list of other posts, not the article.
_END_HEADINGS = {"similar posts", "benzer içerikler", "похожие записи"}
_DATE_LINE = re.compile(r"^(?:Tarih|Date|Дата)\s*:.{0,40}$", re.IGNORECASE)
_REFERENCES_HEADING = {"references", "notes", "footnotes", "kaynakça", "kaynaklar", "dipnotlar",
                       "источники", "примечания", "сноски"}

_MARKER = r"\[(?:\d{1,3}|[ivxlcdm]{1,8})\]"
_REF_LINE = re.compile(r"^\[(?P<n>\d{1,3}|[ivxlcdm]{1,8})\]\s*(?P<text>.*)$", re.IGNORECASE)
_URL = re.compile(r"https?://[^\s<>\"“”«»]+")
_ACCESSED = re.compile(
    r"\(?\s*(?:Date of Accession|Date of Access|Access(?:ed)?(?: on| date)?|Erişim Tarihi|Erişim|Дата обращения)"
    r"\s*:?\s*(?P<d>\d{1,2})[./-](?P<m>\d{1,2})[./-](?P<y>\d{4})\s*\)?",
    re.IGNORECASE,
)
_IBID = re.compile(r"^(?:ibid|İbid|a\.\s?g\.\s?e|там же)\.?(?:\s*[,;:].*)?$", re.IGNORECASE)
_QUOTED_TITLE = (
    re.compile(r"“(?P<t>.+?)”(?=\s*(?:[,.;:]|$))"),
    re.compile(r"\"(?P<t>.+?)\"(?=\s*(?:[,.;:]|$))"),
    re.compile(r"«(?P<t>.+?)»(?=\s*(?:[,.;:]|$))"),
)
# A paragraph introducing a quotation: "... stated the following:[1]" or "... şunları söyledi:".
_QUOTE_INTRO = re.compile(
    r"(?::\s*" + _MARKER + r"|(?:following|as follows|aşağıdaki|şöyle|şunları|şu şekilde|следующее|так)\s*:)\s*$",
    re.IGNORECASE,
)
_TEASER_END = re.compile(
    r"(?:…|\.\.\.|\[…\]|\[\.\.\.\]|read more|continue reading|devamını oku|devamı|подробнее|читать далее|далее)\s*$",
    re.IGNORECASE,
)

_STOPWORDS = {
    "en": set("the and of to in is that for with as on by was it this are be from which an has have not "
              "its at or will their been were would can but also these".split()),
    "tr": set("ve bir bu için ile da de olan olarak gibi daha çok ancak her ise kadar sonra göre en ki şu "
              "veya değil ayrıca üzere ne olduğu yılında arasında tarafından bölümünde ilgili".split()),
    "ru": set("и в не на что с по как это из к о для его а но от же у за то все так был при также "
              "только ее или бы уже".split()),
}
_TURKISH_LETTERS = set("ğĞşŞıİ")


class NotAnArticle(InvalidInput):
    """The page cannot become an article; ``field`` names the part and the message says why."""


@dataclass
class ImportedPage:
    """What a raw page holds, ready to be validated and stored as an article."""

    title: str
    lang: str
    lang_detected: bool
    body: str
    references: list[dict]
    author: dict
    original_languages: list[str]
    language_line: str | None
    warnings: list[str] = field(default_factory=list)

    def article_input(self, group_id: str | None = None) -> dict:
        """The page as a ``POST /api/articles`` body (validated by ``parse_article_input``)."""
        return {"lang": self.lang, "title": self.title, "body": self.body, "author": self.author,
                "references": self.references, "tags": [], "group_id": group_id}

    def summary(self) -> dict:
        """The ``import`` object of the API answer."""
        return {"lang": self.lang, "lang_detected": self.lang_detected, "language_line": self.language_line,
                "original_languages": self.original_languages, "references": len(self.references),
                "warnings": self.warnings}


def _clean_line(line: str) -> str:
    line = line.replace("\u00a0", " ").replace("\ufeff", "")
    line = re.sub(r"[\u200b\u200c\u200d\u2060]", "", line)
    return line.strip()


def _fold(text: str) -> str:
    """Lower-case that keeps Turkish dotted capital I as plain i."""
    return text.replace("İ", "i").replace("I", "i").lower()


def detect_language(text: str, candidates: tuple[str, ...] = ("en", "tr", "ru")) -> str | None:
    """The language of ``text`` among en/tr/ru from its letters and stopwords, or None if unsure."""
    letters = [c for c in text if c.isalpha()]
    if len(letters) < 20:
        return None
    cyrillic = sum(1 for c in letters if "\u0400" <= c <= "\u04ff") / len(letters)
    words = re.findall(r"\w+", _fold(text))
    if not words:
        return None
    scores = {lang: sum(1 for w in words if w in stops) / len(words) for lang, stops in _STOPWORDS.items()}
    # Turkish-only letters are a strong signal that stopword counts alone miss on short texts.
    scores["tr"] += 3 * sum(1 for c in letters if c in _TURKISH_LETTERS) / len(letters)
    if cyrillic > 0.5:
        scores = {"ru": scores["ru"] + cyrillic}
    else:
        scores.pop("ru")
    scores = {lang: score for lang, score in scores.items() if lang in candidates}
    if not scores:
        return None
    best = max(scores, key=scores.get)
    return best if scores[best] >= 0.05 else None


def parse_language_line(line: str) -> tuple[list[str], list[str]] | None:
    """(language codes, unknown names) of an "also available in" line, or None if it is not one."""
    match = _LANGUAGE_LINE.match(line.strip())
    if not match:
        return None
    codes, unknown = [], []
    for name in re.split(r"[\s,;/|]+", match.group("names").strip()):
        if not name:
            continue
        code = LANGUAGE_NAMES.get(_fold(name))
        if code is None:
            unknown.append(name)
        elif code not in codes:
            codes.append(code)
    return codes, unknown


def roman_to_int(numeral: str) -> int:
    """The value of a Roman numeral such as ``iv``."""
    values = {"i": 1, "v": 5, "x": 10, "l": 50, "c": 100, "d": 500, "m": 1000}
    total, previous = 0, 0
    for char in reversed(numeral.lower()):
        value = values[char]
        total = total - value if value < previous else total + value
        previous = max(previous, value)
    return total


def _number(token: str) -> int:
    return int(token) if token.isdigit() else roman_to_int(token)


def parse_access_date(text: str) -> tuple[str | None, str | None]:
    """(ISO access date, problem) from "(Date of Accession: 14.10.2022)" and its tr/ru forms."""
    match = _ACCESSED.search(text)
    if not match:
        return None, None
    try:
        return date(int(match["y"]), int(match["m"]), int(match["d"])).isoformat(), None
    except ValueError:
        return None, f"{match.group(0).strip()} is not a real date"


def parse_reference(number: int, text: str, previous: dict | None) -> tuple[dict, list[str]]:
    """One reference line (without its ``[n]``) as {number, title, source, url, accessed, note}."""
    warnings: list[str] = []
    text = text.strip()
    if _IBID.match(text):
        if previous is None:
            warnings.append(f"reference [{number}] says {text!r} but no reference precedes it")
            return {"number": number, "title": "", "source": "", "url": None, "accessed": None, "note": text}, warnings
        return dict(previous, number=number, note=text), warnings
    accessed, problem = parse_access_date(text)
    if problem:
        warnings.append(f"reference [{number}]: {problem}; the access date was left out")
    rest = _ACCESSED.sub("", text)
    url_match = _URL.search(rest)
    url = url_match.group(0).rstrip(".,;)") if url_match else None
    before, after = (rest[:url_match.start()], rest[url_match.end():]) if url_match else (rest, "")
    title, source = "", ""
    for pattern in _QUOTED_TITLE:
        quoted = pattern.search(before)
        if quoted:
            title = quoted["t"].strip()
            source = ", ".join(filter(None, (_trim(before[:quoted.start()]), _trim(before[quoted.end():]))))
            break
    else:
        title = _trim(before)
    note = _trim(after) or None
    return {"number": number, "title": title, "source": source, "url": url, "accessed": accessed,
            "note": note}, warnings


def _trim(text: str) -> str:
    return text.strip().strip(",.;:()").strip()


def _escape_markdown(text: str) -> str:
    """Plain text as Markdown that renders as the same text (footnote markers stay ``[n]``)."""
    text = re.sub(r"([\\`*_<])", r"\\\1", text)
    text = re.sub(r"\[(?!(?:\d{1,3}|[ivxlcdm]{1,8})\])", r"\\[", text, flags=re.IGNORECASE)
    # A paragraph that starts like a heading, list item or quote would change its meaning.
    text = re.sub(r"^(#|>|[-+=]|\d{1,9}(?=[.)]))", r"\\\1", text)
    if text.startswith("["):
        text = "\\" + text
    return text


def _is_name(line: str) -> bool:
    words = line.split()
    return 0 < len(words) <= MAX_NAME_WORDS and len(line) <= 100 and not line.startswith("[") and not line.endswith(":")


def _split_author(lines: list[str]) -> tuple[list[str], dict | None]:
    """(lines before the author, {name, bio}); the author is the last name printed twice in a row."""
    filled = [i for i, line in enumerate(lines) if line]
    for k in range(len(filled) - 2, -1, -1):
        i, j = filled[k], filled[k + 1]
        if lines[i] == lines[j] and _is_name(lines[i]):
            bio = "\n\n".join(line for line in lines[j + 1:] if line)
            return lines[:i], {"name": lines[i], "bio": bio}
    return lines, None


def _strip_chrome(lines: list[str], warnings: list[str]) -> tuple[list[str], str | None, list[str]]:
    """Lines without chrome, the language line and the codes it names."""
    kept, language_line, codes = [], None, []
    for index, line in enumerate(lines):
        folded = _fold(line).rstrip(":").strip()
        if folded in _END_HEADINGS:
            dropped = sum(1 for rest in lines[index + 1:] if rest)
            if dropped:
                warnings.append(f"dropped {dropped} line(s) after {line!r} (the site's list of other posts)")
            break
        if folded in _CHROME or _DATE_LINE.match(line):
            continue
        parsed = parse_language_line(line)
        if parsed is not None:
            language_line = language_line or line
            for code in parsed[0]:
                if code not in codes:
                    codes.append(code)
            if parsed[1]:
                warnings.append(f"unknown language name(s) in {line!r}: {', '.join(parsed[1])}")
            continue
        kept.append(line)
    return kept, language_line, codes


def _check_is_article(body: list[str], author: dict | None) -> None:
    if not body:
        raise NotAnArticle("body", "the page has a title but no body text; paste the whole article page")
    teasers = sum(1 for p in body if _TEASER_END.search(p) and len(p.split()) < 80)
    if teasers >= 2 and teasers * 2 >= len(body):
        raise NotAnArticle("body", f"this looks like a category listing: {teasers} of {len(body)} paragraphs "
                                   "are teasers ending in '…' or 'Read more'; import a single article's page")
    short = sum(1 for p in body if len(p.split()) < 25)
    if author is None and len(body) >= 3 and short * 3 >= len(body) * 2:
        raise NotAnArticle("body", f"this looks like a listing of short teasers ({short} of {len(body)} paragraphs "
                                   "under 25 words, and no author); import a single article's page")
    words = sum(len(p.split()) for p in body)
    if words < MIN_BODY_WORDS:
        raise NotAnArticle("body", f"the body has {words} words; an article has at least {MIN_BODY_WORDS}. "
                                   "Paste the whole article page")


def _markdown_body(body: list[str]) -> tuple[str, int]:
    """(Markdown, number of blockquotes): quotations follow an introduction or end in a lone ”."""
    blocks, quotes = [], 0
    for index, paragraph in enumerate(body):
        after_intro = index > 0 and _QUOTE_INTRO.search(body[index - 1]) is not None
        closing_only = (paragraph.endswith(("”", "»")) and "“" not in paragraph and "«" not in paragraph)
        text = _escape_markdown(paragraph)
        if after_intro or closing_only:
            blocks.append("> " + text)
            quotes += 1
        else:
            blocks.append(text)
    return "\n\n".join(blocks), quotes


def _normalise_markers(body: list[str], references: list[dict], roman: bool) -> list[str]:
    if not roman:
        return body
    numerals = re.compile(r"\[([ivxlcdm]{1,8})\]", re.IGNORECASE)
    known = {ref["number"] for ref in references}

    def arabic(match: re.Match) -> str:
        value = roman_to_int(match.group(1))
        return f"[{value}]" if value in known else match.group(0)

    return [numerals.sub(arabic, paragraph) for paragraph in body]


def _marker_warnings(body: list[str], references: list[dict]) -> list[str]:
    cited = {int(n) for p in body for n in re.findall(r"\[(\d{1,3})\]", p)}
    numbers = [ref["number"] for ref in references]
    warnings = []
    if missing := sorted(cited - set(numbers)):
        warnings.append(f"marker(s) {', '.join(f'[{n}]' for n in missing)} have no reference")
    if uncited := sorted(set(numbers) - cited):
        warnings.append(f"reference(s) {', '.join(f'[{n}]' for n in uncited)} are never cited in the body")
    if len(set(numbers)) != len(numbers):
        warnings.append("the reference list repeats a number")
    return warnings


def parse_page(text: str, *, lang: str | None = None, languages: tuple[str, ...] = ("en", "tr", "ru")) -> ImportedPage:
    """Parse a raw page; raise NotAnArticle (naming the field) when it is not an article."""
    warnings: list[str] = []
    lang_given = lang is not None
    lines = [_clean_line(line) for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    lines, language_line, original_languages = _strip_chrome(lines, warnings)
    filled = [line for line in lines if line]
    if not filled:
        raise NotAnArticle("body", "the page is empty (nothing but whitespace or page chrome); "
                                   "send the article's text as text/plain")
    title_index = lines.index(filled[0])
    title = lines[title_index]
    main, author = _split_author(lines[title_index + 1:])
    paragraphs = [line for line in main if line]

    ref_start = len(paragraphs)
    while ref_start > 0 and _REF_LINE.match(paragraphs[ref_start - 1]):
        ref_start -= 1
    ref_lines = paragraphs[ref_start:]
    body = paragraphs[:ref_start]
    if body and _fold(body[-1]).rstrip(":").strip() in _REFERENCES_HEADING:
        body = body[:-1]
    _check_is_article(body, author)
    if author is None:
        raise NotAnArticle("author", "no author found: the page must end with the author's name on two "
                                     "consecutive lines, followed by the bio")

    references: list[dict] = []
    roman = False
    for line in ref_lines:
        match = _REF_LINE.match(line)
        roman = roman or not match["n"].isdigit()
        ref, problems = parse_reference(_number(match["n"]), match["text"],
                                        references[-1] if references else None)
        references.append(ref)
        warnings.extend(problems)
    body = _normalise_markers(body, references, roman)
    warnings.extend(_marker_warnings(body, references))

    detected = detect_language(" ".join(re.sub(_MARKER, " ", p, flags=re.IGNORECASE) for p in body), languages)
    if lang is None:
        if detected is None:
            raise NotAnArticle("lang", f"could not tell the body's language; pass ?lang= (one of {', '.join(languages)})")
        lang = detected
    elif detected is not None and detected != lang:
        warnings.append(f"lang={lang} was given but the body reads as {detected}")
    if lang not in languages:
        raise NotAnArticle("lang", f"{lang!r} is not a site language; use one of {', '.join(languages)}")

    markdown, quotes = _markdown_body(body)
    bio_lang = detect_language(author["bio"], languages) if author["bio"] else None
    if author["bio"] and bio_lang is None:
        warnings.append("could not tell the bio's language; bio_lang left empty")
    return ImportedPage(
        title=title, lang=lang, lang_detected=not lang_given,
        body=markdown, references=references,
        author={"name": author["name"], "bio": author["bio"], "bio_lang": bio_lang},
        original_languages=original_languages, language_line=language_line, warnings=warnings,
    )


def create_from_page(conn: Connection, text: str, page: ImportedPage, *, group_id: str | None,
                     languages: tuple[str, ...], max_body: int, actor: str) -> dict:
    """Validate ``page`` like a create request, store it as a draft and record where it came from."""
    fields = parse_article_input(page.article_input(group_id), languages, max_body=max_body)
    article = create_article(conn, fields, actor=actor)
    conn.execute(article_imports.insert().values(
        article_id=article["id"], original_languages=page.original_languages, language_line=page.language_line,
        warnings=page.warnings, page_sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        imported_at=utcnow(),
    ))
    return article
