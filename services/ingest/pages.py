"""Raw page parsing: the text of a think-tank page (copied, or extracted from HTML) as an article.

Sites dump pages in many shapes: site name, slogan, menus, breadcrumbs, section labels, dates and
share lines before the title; WPML/Polylang language lines at the top, after the title or at the
bottom; footnote markers as ``[1]``, ``[i]``, superscripts or digits stuck to punctuation; reference
lists under a heading or as bracketed lines; none, one or several author boxes. ``parse_page``
finds the body first (the first line that reads as prose), the title among the lines before it,
and the references and author boxes after it; everything else is chrome. It is pure and runs in
time linear in the page (every regular expression is anchored, bounded or possessive-free and
scans a line once), and it raises only ``NotAnArticle``.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date

from shared.content import roman_value
from shared.errors import InvalidInput

from .language import identify, language_name, language_names, parse_language_line, switcher_codes

MIN_BODY_WORDS = 60
MAX_NAME_WORDS = 8
MAX_TITLE_WORDS = 40
MAX_AUTHORS = 12
UNKNOWN_AUTHOR = "Unknown author"


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
    authors: list[dict] = field(default_factory=list)
    source_url: str | None = None
    published: str | None = None

    def article_input(self, group_id: str | None = None) -> dict:
        """The page as a ``POST /api/articles`` body (validated by ``parse_article_input``)."""
        return {"lang": self.lang, "title": self.title, "body": self.body, "author": self.author,
                "references": self.references, "tags": [], "group_id": group_id}

    def summary(self) -> dict:
        """The ``import`` object of the API answer."""
        out = {"lang": self.lang, "lang_detected": self.lang_detected, "language_line": self.language_line,
               "original_languages": self.original_languages, "references": len(self.references),
               "warnings": self.warnings}
        if self.authors and (len(self.authors) > 1 or self.authors[0]["name"] == UNKNOWN_AUTHOR):
            out["authors"] = [a["name"] for a in self.authors]
        for key in ("source_url", "published"):
            if getattr(self, key):
                out[key] = getattr(self, key)
        return out


# ---------------------------------------------------------------- line classes

def _fold(text: str) -> str:
    """Lower-case that keeps Turkish dotted capital I as plain i."""
    return text.replace("İ", "i").replace("I", "i").lower()


def _words(text: str) -> int:
    return len(text.split())


_CHROME_LINES = {
    "paylaş", "share", "share this", "share this post", "share this article", "поделиться", "teilen",
    "print", "yazdır", "печать", "drucken", "email", "e-mail", "e-posta", "menu", "menü", "меню",
    "search", "search for", "ara", "arama", "поиск", "suche", "search …", "search ...", "skip to content", "içeriğe geç", "перейти к содержимому",
    "home", "ana sayfa", "anasayfa", "главная", "startseite", "subscribe", "abone ol", "подписаться",
    "facebook", "twitter", "x", "linkedin", "whatsapp", "telegram", "vk", "pinterest", "reddit",
    "tweet", "copy link", "bağlantıyı kopyala", "копировать ссылку", "font size", "a a a", "a+ a-",
    "advertisement", "reklam", "реклама", "anzeige", "subscribe to our newsletter", "bültenimize abone olun",
    "подпишитесь на рассылку", "pdf", "download pdf", "pdf indir", "скачать pdf", "pdf herunterladen", "listen", "dinle", "слушать", "back to top", "başa dön", "наверх", "toggle navigation",
    "previous", "next", "önceki", "sonraki", "назад", "далее",
    # section labels
    "analysis", "analyses", "commentary", "opinion", "op-ed", "report", "reports", "policy brief", "brief",
    "interview", "news", "article", "articles", "blog", "publications", "expert opinion", "featured",
    "analiz", "analizler", "yorum", "görüş", "makale", "makaleler", "rapor", "haber", "röportaj", "yayınlar",
    "аналитика", "комментарий", "мнение", "статья", "статьи", "доклад", "новости", "интервью", "публикации",
    "analyse", "kommentar", "meinung", "bericht", "nachrichten",
}
_SOCIAL = {"facebook", "twitter", "x", "linkedin", "whatsapp", "telegram", "vk", "pinterest", "reddit",
           "email", "e-mail", "print", "копировать", "ссылку", "copy", "link", "share", "paylaş", "поделиться",
           "вконтакте", "одноклассники", "mail", "messenger", "bluesky", "threads", "|", "·", "•"}
# Headings that open the site's list of other posts (or comments, or the footer): the article is over.
_END_HEADINGS = {
    "similar posts", "related posts", "related articles", "related", "you may also like", "read also",
    "more from this author", "more on this topic", "recent posts", "popular posts", "latest posts",
    "comments", "leave a reply", "leave a comment", "post navigation",
    "benzer içerikler", "benzer yazılar", "ilgili yazılar", "ilgili içerikler", "ilginizi çekebilir",
    "son yazılar", "yorumlar", "yorum yap", "bir cevap yazın", "bir yanıt yazın",
    "похожие записи", "похожие статьи", "читайте также", "другие материалы", "комментарии",
    "добавить комментарий", "оставьте комментарий", "последние записи", "навигация по записям",
    "ähnliche beiträge", "das könnte sie auch interessieren", "kommentare",
}
_REFERENCES_HEADINGS = {
    "references", "notes", "footnotes", "endnotes", "sources", "bibliography", "notes and references",
    "kaynakça", "kaynaklar", "dipnotlar", "notlar", "sonnotlar",
    "источники", "примечания", "сноски", "литература", "список литературы", "список источников",
    "quellen", "anmerkungen", "fußnoten", "literatur", "quellenverzeichnis", "einzelnachweise",
}
_BODY_HEADINGS = {
    "introduction", "summary", "executive summary", "abstract", "key points", "key findings", "background",
    "giriş", "özet", "yönetici özeti", "öz", "temel bulgular",
    "введение", "аннотация", "резюме", "краткое содержание", "ключевые выводы",
    "einleitung", "zusammenfassung", "einführung",
}
_ABOUT_AUTHOR = {
    "about the author", "about the authors", "author", "authors", "the author", "the authors",
    "yazar hakkında", "yazarlar hakkında", "yazar", "yazarlar",
    "об авторе", "об авторах", "автор", "авторы", "über den autor", "über die autoren", "autor", "autoren",
}

_MONTHS = {
    **{m: i for i, m in enumerate(("january", "february", "march", "april", "may", "june", "july", "august",
                                   "september", "october", "november", "december"), 1)},
    **{m: i for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct",
                                   "nov", "dec"), 1)},
    "sept": 9,
    **{m: i for i, m in enumerate(("ocak", "şubat", "mart", "nisan", "mayıs", "haziran", "temmuz", "ağustos",
                                   "eylül", "ekim", "kasım", "aralık"), 1)},
    **{m: i for i, m in enumerate(("января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа",
                                   "сентября", "октября", "ноября", "декабря"), 1)},
    **{m: i for i, m in enumerate(("январь", "февраль", "март", "апрель", "май", "июнь", "июль", "август",
                                   "сентябрь", "октябрь", "ноябрь", "декабрь"), 1)},
    **{m: i for i, m in enumerate(("januar", "februar", "märz", "april", "mai", "juni", "juli", "august",
                                   "september", "oktober", "november", "dezember"), 1)},
}
_MONTH = "(?:" + "|".join(sorted((re.escape(m) for m in _MONTHS), key=len, reverse=True)) + ")"
_DATE = (r"(?:\d{1,2}[./-]\d{1,2}[./-]\d{4}|\d{4}-\d{1,2}-\d{1,2}|\d{1,2}\.? " + _MONTH + r"\.?,? \d{4}|"
         + _MONTH + r"\.? \d{1,2},? \d{4})")
_DATE_RE = re.compile(_DATE, re.IGNORECASE)
_DATE_PREFIX = re.compile(
    r"^(?:date|published|updated|posted|posted on|last updated|tarih|yayın tarihi|yayınlanma tarihi|"
    r"güncelleme|güncellenme tarihi|дата|опубликовано|дата публикации|обновлено|datum|veröffentlicht|"
    r"aktualisiert)\b", re.IGNORECASE)
_READING_TIME = re.compile(r"^\d{1,3} ?(?:min(?:ute)?s?|dk|dakika|мин(?:ут[аы]?)?)\.?(?: read| okuma| чтения| lesezeit)?$",
                           re.IGNORECASE)
_SHARE_PREFIX = re.compile(r"^(?:share|paylaş|поделиться|teilen|bu yazıyı paylaş|share on|share this)\b",
                           re.IGNORECASE)
_IMAGE_LABEL = re.compile(
    r"^(?:photo|image|picture|featured image|photo credit|cover image|illustration|source of image|"
    r"fotoğraf|foto|görsel|kapak görseli|resim|фото|изображение|иллюстрация|источник фото|bild|"
    r"bildquelle)\s*[:：]", re.IGNORECASE)
_FIELD_LINE = re.compile(
    r"^(?:tags?|etiketler|etiket|метки|теги|тэги|schlagwörter|schlagworte|keywords|anahtar kelimeler|"
    r"ключевые слова|categor(?:y|ies)|kategori(?:ler)?|рубрик[аи]|категори[яи]|kategorien?|filed under|"
    r"posted in|section|bölüm|раздел|views|görüntülenme|просмотры)\s*[:：]", re.IGNORECASE)
_LISTING_LINE = re.compile(
    r"^(?:category|kategori|рубрика|категория|kategorie|archives?|arşiv|архив|tag|etiket|метка|тег)\s*[:：]",
    re.IGNORECASE)
_PAGINATION = re.compile(
    r"^(?:page \d{1,4} of \d{1,4}|sayfa \d{1,4} ?/ ?\d{1,4}|страница \d{1,4} из \d{1,4}|seite \d{1,4} von \d{1,4}|"
    r"« ?older posts|older posts|newer posts|önceki yazılar|sonraki yazılar|load more|daha fazla yükle|"
    r"показать ещё|(?:« ?)?(?:\d{1,4} ){2,}(?:… ?)?\d{1,4}(?: next ?»?| sonraki| далее)?)$",
    re.IGNORECASE)
_COUNTS = re.compile(
    r"^(?:\d[\d,.]{0,9} ?(?:comments?|responses?|views?|shares?|yorum|görüntülenme|okunma|комментари\w{0,3}|"
    r"просмотр\w{0,3}|kommentare?)|no comments|yorum yok|yorum yapılmamış|комментариев нет|нет комментариев|"
    r"keine kommentare|(?:views|hits|okunma|görüntülenme|просмотры|просмотров) ?[:：]? ?\d[\d,.]{0,9})$", re.IGNORECASE)
_SITE_NAME = re.compile(
    r"\b(?:cent(?:er|re)|institute|foundation|think tank|policy studies|research (?:group|network)|"
    r"merkezi|enstitüsü|vakfı|derneği|центр|институт|фонд|stiftung|zentrum)\b", re.IGNORECASE)
_READ_ALSO = re.compile(
    r"^(?:read also|also read|read more|see also|related|related article|ayrıca bakınız|ayrıca okuyun|ayrıca|"
    r"ilgili haber|ilgili yazı|читайте также|см\. также|по теме|lesen sie auch|siehe auch)\s?[:：]", re.IGNORECASE)
_BYLINE_START = re.compile(r"^(?:posted by|written by|by|yazan|автор)[: ]", re.IGNORECASE)
_POST_NAV = re.compile(r"^(?:←|«)? ?(?:previous|next|önceki|sonraki|предыдущая|следующая|vorheriger|nächster)"
                       r" (?:post|article|yazı|haber|makale|запись|статья|beitrag)\b", re.IGNORECASE)
_COPYRIGHT = re.compile(r"^(?:©|\(c\) |copyright\b)|all rights reserved|tüm hakları saklıdır|"
                        r"все права защищены|alle rechte vorbehalten", re.IGNORECASE)
# Separators are matched with at most one space either side: ``\s*X\s*`` retried from every
# position of a long run of spaces is quadratic.
_BYLINE = re.compile(r"^(?:by|written by|author|authors|yazar|yazarlar|yazan|автор|авторы|von)(?: ?[:：] ?| )"
                     r"(?P<names>\S.*)$", re.IGNORECASE)
_NAME_SPLIT = re.compile(r" ?[,;&] ?| (?:and|ve|и|und) ", re.IGNORECASE)
_MENU_SPLIT = re.compile(r" ?[|•·»›→] ?| > | / ")
_TEASER_END = re.compile(
    r"(?:…|\.\.\.|\[…\]|\[\.\.\.\]|read more|continue reading|devamını oku|devamı|подробнее|читать далее|"
    r"weiterlesen)\s*»?$", re.IGNORECASE)
_SENTENCE_END = re.compile(r"[.!?…]\W{0,3}$")


def _clean_line(line: str) -> str:
    line = line.replace("\u00a0", " ").replace("\ufeff", "").replace("\u00ad", "")
    line = re.sub(r"[\u200b\u200c\u200d\u2060]", "", line)
    return " ".join(line.split())


def _without_markers(text: str) -> str:
    text = _MARKER_RE.sub("", _SUPERSCRIPTS.sub("", text)).rstrip()
    return _TRAILING_NUMBER.sub("", text)


def _is_date_line(line: str) -> bool:
    if _words(line) > 12:
        return False
    if _DATE_PREFIX.match(line) and (":" in line[:30] or _DATE_RE.search(line)):
        return True
    match = _DATE_RE.search(line)
    return bool(match) and _words(line[:match.start()] + line[match.end():]) <= 6 and not _SENTENCE_END.search(line)


def _is_menu(line: str) -> bool:
    parts = [p for p in _MENU_SPLIT.split(line) if p]
    if _SENTENCE_END.search(line) or not all(_words(p) <= 4 for p in parts):
        return False
    return len(parts) >= 3 or (len(parts) == 2 and "|" in line and all(_words(p) <= 3 for p in parts))


def _is_share_line(line: str) -> bool:
    if _SHARE_PREFIX.match(line) and _words(line) <= 12:
        return True
    tokens = _fold(line).replace(",", " ").split()
    return bool(tokens) and len(tokens) <= 12 and all(t.strip(":") in _SOCIAL for t in tokens)


def chrome_kind(line: str) -> str | None:
    """Why a line is page chrome rather than article text ("share", "date", "menu", ...), or None."""
    folded = _fold(line).strip(" :|•·")
    if folded in _CHROME_LINES:
        return "label"
    if _is_share_line(line):
        return "share"
    if _READING_TIME.match(line) or _is_date_line(line):
        return "date"
    if _IMAGE_LABEL.match(line) and _words(line) <= 30:
        return "image"
    if _FIELD_LINE.match(line) and _words(line) <= 30:
        return "field"
    if _PAGINATION.match(line) or _POST_NAV.match(line):
        return "pagination"
    if _COUNTS.match(line):
        return "count"
    if _READ_ALSO.match(line) and _words(line) <= 25:
        return "link"
    if _COPYRIGHT.search(line[:200]) and _words(line) <= 25:
        return "footer"
    if _is_menu(line):
        return "menu"
    return None


def byline_names(line: str) -> list[str] | None:
    """The names of a byline ("By A and B", "Yazar: A", "Автор: A"), or None if the line is not one."""
    match = _BYLINE.match(line)
    if not match or _words(line) > 14:
        return None
    names = match["names"].split("|")[0]
    names = _DATE_RE.sub("", names).strip(" ,-–—")
    parts = [n.strip() for n in _NAME_SPLIT.split(names) if n.strip()]
    return parts if parts and all(is_name(p) for p in parts) else None


def is_name(line: str) -> bool:
    """Whether a line can be a person's name (short, capitalised, not a sentence or chrome)."""
    words = line.split()
    return (0 < len(words) <= MAX_NAME_WORDS and len(line) <= 100 and not line.startswith("[")
            and not line.endswith((":", "?", "!", ",")) and any(c.isupper() for c in line) and chrome_kind(line) is None)


def _is_prose(line: str) -> bool:
    """A line that reads as a paragraph of the article rather than a title, label or heading."""
    words = _words(line)
    if words >= 25:
        return True
    text = _without_markers(line)
    ends = _SENTENCE_END.search(text) is not None
    if text.endswith("?") and words < 15:
        return False  # a question is more often a headline than a paragraph this short
    capitalised = sum(1 for w in line.split() if len(w) > 3 and w[0].isupper())
    long_words = sum(1 for w in line.split() if len(w) > 3)
    if long_words >= 2 and capitalised * 10 >= long_words * 8 and (words < 12 or not text.endswith(".")):
        return False  # Title Case is a headline, even with a period
    if words >= 8:
        return ends or text.endswith((":", ";", "”", "»", "\""))
    return words >= 4 and ends


# ---------------------------------------------------------------- markers and references

_MARKER = r"\[(?:\d{1,3}|[ivxlcdm]{1,8})\]"
_MARKER_RE = re.compile(_MARKER, re.IGNORECASE)
_SUPERSCRIPT_DIGITS = "⁰¹²³⁴⁵⁶⁷⁸⁹"
_SUPERSCRIPTS = re.compile("[" + _SUPERSCRIPT_DIGITS + "]{1,3}")
_TO_DIGITS = str.maketrans(_SUPERSCRIPT_DIGITS, "0123456789")
# A number stuck to the end of a sentence or clause: "region.3", "said,12", "”4".
_BARE_MARKER = re.compile(r"(?<=[^\W\d_][.,;:!?])(\d{1,3})(?=\s|$)|(?<=[”\"’»)])(\d{1,3})(?=[\s.,;:]|$)")
_TRAILING_NUMBER = re.compile(r"(?<=[.!?…”\"»])\d{1,3}$")
_REF_BRACKET = re.compile(r"^\[(?P<n>\d{1,3}|[ivxlcdm]{1,8})\]\s*(?P<text>.*)$", re.IGNORECASE)
_REF_SUPER = re.compile("^(?P<n>[" + _SUPERSCRIPT_DIGITS + r"]{1,3})\s*(?P<text>\S.*)$")
_REF_NUMBERED = re.compile(r"^(?P<n>\d{1,3})(?:[.)]|\s)\s*(?P<text>\S.*)$")
_REF_ROMAN = re.compile(r"^(?P<n>[ivxlcdm]{1,8})[.)]\s+(?P<text>\S.*)$", re.IGNORECASE)
_URL = re.compile(r"https?://[^\s<>\"“”«»]+")
_ACCESSED = re.compile(
    r"[(\[]?(?:Date of Accession|Date of Access|Access(?:ed)?(?: on| date)?|Retrieved(?: on)?|Last accessed|"
    r"Erişim Tarihi|Erişim tarihi|Erişim|Ulaşım Tarihi|Дата обращения|Zugriff am|Zugriff|abgerufen am|"
    r"Abgerufen am|Abrufdatum)"
    r" ?[:：]? ?(?P<date>" + _DATE + r")(?: ?г\.)?\)?\]?", re.IGNORECASE)
_IBID = re.compile(r"^(?:ibid|ibidem|İbid|a\. ?g\. ?e|a\. ?g\. ?m|aynı eser|там же|ebd|ebenda)\.?(?:\s*[,;:].*)?$",
                   re.IGNORECASE)
_OPEN_QUOTES = {"“": "”", "\"": "\"", "«": "»", "„": "“"}


def roman_to_int(numeral: str) -> int:
    """The value of a Roman numeral such as ``iv`` (0 when it is not one: no reference has that number)."""
    return roman_value(numeral) or 0


def _number(token: str) -> int:
    token = token.translate(_TO_DIGITS)
    return int(token) if token.isdigit() else roman_to_int(token)


def _parse_date(text: str) -> date:
    """A date as written in a reference ("14.10.2022", "2022-10-14", "14 October 2022", "10 марта 2023 г.")."""
    text = text.strip().rstrip(".")
    numeric = re.match(r"^(\d{1,2})[./-](\d{1,2})[./-](\d{4})$", text)
    if numeric:
        return date(int(numeric[3]), int(numeric[2]), int(numeric[1]))
    iso = re.match(r"^(\d{4})-(\d{1,2})-(\d{1,2})$", text)
    if iso:
        return date(int(iso[1]), int(iso[2]), int(iso[3]))
    parts = [p.strip(".,") for p in text.split()]
    if parts[0].isdigit():
        day, month, year = parts
    else:
        month, day, year = parts
    return date(int(year), _MONTHS[_fold(month)], int(day))


def parse_access_date(text: str) -> tuple[str | None, str | None]:
    """(ISO access date, problem) from "(Date of Accession: 14.10.2022)" and its tr/ru/de forms."""
    match = _ACCESSED.search(text)
    if not match:
        return None, None
    try:
        return _parse_date(match["date"]).isoformat(), None
    except (ValueError, KeyError):
        return None, f"{match.group(0).strip()} is not a real date"


def _quoted(text: str) -> tuple[int, int, str] | None:
    """(start, end, title) of the first quoted title followed by punctuation or the end; linear time."""
    for opener, closer in _OPEN_QUOTES.items():
        start = text.find(opener)
        if start < 0:
            continue
        end = text.find(closer, start + 1)
        while end >= 0:
            rest = text[end + 1:end + 40].lstrip()
            if not rest or rest[0] in ",.;:" and end > start + 1:
                return start, end + 1, text[start + 1:end]
            end = text.find(closer, end + 1)
    return None


def parse_reference(number: int, text: str, previous: dict | None) -> tuple[dict, list[str]]:
    """One reference line (without its number) as {number, title, source, url, accessed, note}."""
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
    url = None
    if url_match:
        url = url_match.group(0)
        # A URL ending a sentence keeps the sentence's period; a parenthesis belongs only if opened in it.
        url = url.rstrip(".,;:") if "(" in url else url.rstrip(".,;:)]")
    before, after = (rest[:url_match.start()], rest[url_match.end():]) if url_match else (rest, "")
    quoted = _quoted(before)
    if quoted:
        start, end, title = quoted
        title = title.strip()
        source = ", ".join(filter(None, (_trim(before[:start]), _trim(before[end:]))))
    else:
        title, source = _trim(before), ""
    note = _trim(after) or None
    return {"number": number, "title": title[:1000], "source": source[:300], "url": url, "accessed": accessed,
            "note": note[:1000] if note else None}, warnings


def _trim(text: str) -> str:
    return text.strip().strip(",.;:()[]").strip()


def _ref_line(line: str, numbered_ok: bool) -> re.Match | None:
    match = _REF_BRACKET.match(line) or _REF_SUPER.match(line)
    if match is None and numbered_ok:
        match = _REF_NUMBERED.match(line) or _REF_ROMAN.match(line)
    return match


def _looks_like_reference(text: str) -> bool:
    return bool(_URL.search(text) or _ACCESSED.search(text) or _IBID.match(text.strip()) or _quoted(text))


def _normalise_markers(body: list[str], numbers: set[int], roman: bool) -> list[str]:
    """Every footnote marker as ``[n]``: Roman ``[iv]``, superscripts ``⁴`` and bare ``region.4``."""
    def superscript(match: re.Match) -> str:
        return f"[{_number(match.group(0))}]"

    def bare(match: re.Match) -> str:
        digits = match.group(1) or match.group(2)
        return f"[{int(digits)}]" if int(digits) in numbers else digits

    def arabic(match: re.Match) -> str:
        value = roman_to_int(match.group(1))
        return f"[{value}]" if value in numbers else match.group(0)

    out = []
    for paragraph in body:
        paragraph = _SUPERSCRIPTS.sub(superscript, paragraph)
        if numbers:
            paragraph = _BARE_MARKER.sub(bare, paragraph)
        if roman or numbers:
            paragraph = re.sub(r"\[([ivxlcdm]{1,8})\]", arabic, paragraph, flags=re.IGNORECASE)
        out.append(paragraph)
    return out


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


# ---------------------------------------------------------------- Markdown

_QUOTE_INTRO = re.compile(
    r"(?::\s?" + _MARKER + r"|(?:following|as follows|aşağıdaki|şöyle|şunları|şu şekilde|следующее|так|"
    r"folgendes|wie folgt)\s?:)$", re.IGNORECASE)


def _escape_markdown(text: str) -> str:
    """Plain text as Markdown that renders as the same text (footnote markers stay ``[n]``)."""
    text = re.sub(r"([\\`*_<])", r"\\\1", text)
    text = re.sub(r"\[(?!(?:\d{1,3}|[ivxlcdm]{1,8})\])", r"\\[", text, flags=re.IGNORECASE)
    # A paragraph that starts like a heading, list item or quote would change its meaning.
    text = re.sub(r"^(#|>|[-+=]|\d{1,9}(?=[.)]))", r"\\\1", text)
    if text.startswith("["):
        text = "\\" + text
    return text


def _markdown_body(body: list[str]) -> tuple[str, int]:
    """(Markdown, number of blockquotes): quotations follow an introduction or end in a lone ”."""
    blocks, quotes = [], 0
    for index, paragraph in enumerate(body):
        after_intro = index > 0 and _QUOTE_INTRO.search(body[index - 1][-80:]) is not None
        closing_only = (paragraph.endswith(("”", "»")) and "“" not in paragraph and "«" not in paragraph)
        marked = paragraph.startswith("> ")
        text = _escape_markdown(paragraph[2:] if marked else paragraph)
        if marked:
            blocks.append("> " + text)
            quotes += 1
        elif _fold(paragraph) in _BODY_HEADINGS:
            blocks.append("## " + text)
        elif after_intro or closing_only:
            blocks.append("> " + text)
            quotes += 1
        else:
            blocks.append(text)
    return "\n\n".join(blocks), quotes


# ---------------------------------------------------------------- the page

@dataclass
class _Line:
    text: str
    kind: str  # "text", "chrome", "lang", "byline", "refs_heading", "about", "end", "box"
    chrome: str | None = None  # for chrome: what kind ("date", "share", "menu", ...)
    codes: list[str] = field(default_factory=list)
    names: list[str] = field(default_factory=list)


def _classify(lines: list[str], warnings: list[str]) -> tuple[list[_Line], str | None, list[str]]:
    """Non-blank lines with their kind, the first language line and the codes the language lines name."""
    out: list[_Line] = []
    language_line, codes = None, []
    pending_language = False
    for line in lines:
        if not line:
            continue
        folded = _fold(line).strip(" :")
        parsed = parse_language_line(line)
        if parsed is not None:
            language_line = language_line or line
            found, unknown = parsed
            if unknown:
                warnings.append(f"unknown language name(s) in {line!r}: {', '.join(unknown)}")
            codes.extend(c for c in found if c not in codes)
            pending_language = not found and not unknown  # the names follow on their own lines
            out.append(_Line(line, "lang"))
            continue
        switch = switcher_codes(line)
        if switch is None and pending_language and _words(line) <= 2:
            named, unknown = language_names(line)  # one name per line under "also available in:"
            switch = named if named and not unknown else None
        if switch is not None:
            if pending_language:
                codes.extend(c for c in switch if c not in codes)
            out.append(_Line(line, "lang", codes=switch))
            continue
        pending_language = False
        if folded in _END_HEADINGS:
            out.append(_Line(line, "end"))
        elif folded in _REFERENCES_HEADINGS:
            out.append(_Line(line, "refs_heading"))
        elif folded in _ABOUT_AUTHOR:
            out.append(_Line(line, "about"))
        elif (names := byline_names(line)) is not None:
            out.append(_Line(line, "byline", names=names))
        elif (kind := chrome_kind(line)) is not None:
            out.append(_Line(line, "chrome", chrome=kind))
        elif _BYLINE_START.match(line) and _words(line) <= 14:
            out.append(_Line(line, "chrome", chrome="date"))  # "Posted by admin": a byline without a person
        else:
            out.append(_Line(line, "text"))
    return out, language_line, codes


def _boxes(items: list[_Line], start: int) -> list[tuple[int, int, str]]:
    """Author boxes at or after ``start``: (first index, index after the name lines, name)."""
    found = []
    k = start
    while k < len(items) - 1:
        a, b = items[k], items[k + 1]
        if a.kind == b.kind == "text" and a.text == b.text and is_name(a.text):
            found.append((k, k + 2, a.text))
            k += 2
        elif a.kind == "about" and b.kind == "text" and is_name(b.text):
            nxt = k + 3 if k + 2 < len(items) and items[k + 2].text == b.text else k + 2
            found.append((k, nxt, b.text))
            k = nxt
        else:
            k += 1
    return found


def _listing_reason(items: list[_Line]) -> str | None:
    texts = [i for i in items if i.kind == "text" and _ref_line(i.text, False) is None]
    if not texts:
        return None
    teasers = sum(1 for i in texts if _TEASER_END.search(i.text[-40:]) and _words(i.text) < 80)
    if teasers >= 2 and teasers * 2 >= len(texts) - teasers:
        return (f"this looks like a category listing: {teasers} of {len(texts)} lines are teasers ending in '…' "
                "or 'Read more'; import a single article's page")
    pairs, runs = 0, 0
    for k in range(len(texts) - 1):
        head, teaser = texts[k].text, texts[k + 1].text
        boxed = (k > 0 and texts[k - 1].text == head) or (k + 2 < len(texts) and texts[k + 2].text == teaser)
        if not boxed and not _is_prose(head) and _words(head) <= 20 and _is_prose(teaser) and _words(teaser) < 56:
            pairs += 1
        if _is_prose(head) and _is_prose(teaser):
            runs += 1  # paragraph after paragraph: an article, not a list of teasers
    long_paragraphs = sum(1 for i in texts if _words(i.text) >= 56)
    paging = any(i.kind == "chrome" and _PAGINATION.match(i.text) for i in items)
    labelled = any(_LISTING_LINE.match(i.text) for i in items[:6])
    if pairs >= 3 and runs < 2 and (paging or labelled or long_paragraphs <= 1):
        return (f"this looks like a listing of {pairs} headlines with short teasers"
                f"{' (with page numbers)' if paging else ''}; import a single article's page")
    return None


def parse_page(text: str, *, lang: str | None = None, languages: tuple[str, ...] = ("en", "tr", "ru"),
               title: str | None = None, authors: list[str] | None = None) -> ImportedPage:
    """Parse a raw page; raise NotAnArticle (naming the field) when it is not an article.

    ``title`` and ``authors`` are known from elsewhere (an HTML page's metadata): the title wins
    over the text's and is dropped from the body; the authors join those found in the text.
    """
    warnings: list[str] = []
    lang_given = lang is not None
    lines = [_clean_line(line) for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    items, language_line, original_languages = _classify(lines, warnings)
    if not any(i.kind == "text" for i in items):
        raise NotAnArticle("body", "the page is empty (nothing but whitespace or page chrome); "
                                   "send the article's text as text/plain")
    if (reason := _listing_reason(items)) is not None:
        raise NotAnArticle("body", reason)

    start, top_authors = _body_start(items)
    if start is None:
        headlines = sum(1 for item in items if item.kind == "text")
        if headlines >= 4:
            raise NotAnArticle("body", f"this looks like a listing: {headlines} headlines and no line that reads as "
                                       "a paragraph; import a single article's page")
        raise NotAnArticle("body", "the page has a title but no body text (no line reads as a paragraph); "
                                   "paste the whole article page")
    # Everything after "Similar Posts" and the like is the site's, not the article's.
    end = next((k for k in range(start, len(items)) if items[k].kind == "end"), len(items))
    if end < len(items):
        dropped = len(items) - end - 1
        if dropped:
            warnings.append(f"dropped {dropped} line(s) after {items[end].text!r} (the site's list of other posts)")
        items = items[:end]

    title_text, heading_lines, _ = _find_title(items[:start], title)
    bylines = list(dict.fromkeys([*(authors or []), *(n for item in items if item.kind == "byline" for n in item.names)]))

    body, ref_items, tail_authors = _split_tail(items, start, title_text, warnings)
    body = heading_lines + body
    references, numbers, roman = _references(ref_items, warnings)
    body = _normalise_markers(body, numbers, roman)
    warnings.extend(_marker_warnings(body, references) if references or any(_MARKER_RE.search(p) for p in body) else [])

    # Boxes above the body, boxes below it, then names from bylines; each person once.
    people: dict[str, dict] = {}
    for author in [*top_authors, *tail_authors, *({"name": n, "bio": ""} for n in bylines)]:
        people.setdefault(_fold(author["name"]), author)
    author_list = list(people.values())
    if len(author_list) > MAX_AUTHORS:
        warnings.append(f"the page names {len(author_list)} authors; kept the first {MAX_AUTHORS}")
        author_list = author_list[:MAX_AUTHORS]

    # The first 20,000 characters tell the language as well as the whole text and bound the cost.
    sample = " ".join(_URL.sub(" ", _MARKER_RE.sub(" ", p)) for p in body)[:20_000]
    found = identify(sample, languages)
    if found is not None and found not in languages and not lang_given:
        raise NotAnArticle("lang", f"the body is written in {language_name(found)} ({found}), which this site does "
                                   f"not publish (site languages: {', '.join(languages)}); import it only after "
                                   "translating it, or add the language to LANGUAGES")
    if title_text is None:
        first = body[0] if body else ""
        raise NotAnArticle("title", "no title found before the first paragraph "
                                    f"({' '.join(first.split()[:8])}…); the page may be cut off at the top: "
                                    "paste it from the article's title on")
    if not body:
        raise NotAnArticle("body", "the page has a title but no body text; paste the whole article page")
    last = _without_markers(body[-1])
    if not references and not author_list:
        if _TEASER_END.search(last[-40:]):
            raise NotAnArticle("body", "the page ends with '…' or 'Read more': it is a teaser, not the whole "
                                       "article; open the article and paste its full page")
        if not re.search(r"[.!?…\"”»’)]$", last):
            raise NotAnArticle("body", f"the page looks cut off: its last paragraph ends mid-sentence "
                                       f"(…{' '.join(last.split()[-6:])}); paste the whole article page")
    words = sum(_words(p) for p in body)
    if words < MIN_BODY_WORDS:
        raise NotAnArticle("body", f"the body has {words} words; an article has at least {MIN_BODY_WORDS}. "
                                   "Paste the whole article page")

    if lang is None:
        if found is None:
            raise NotAnArticle("lang", f"could not tell the body's language; pass ?lang= (one of {', '.join(languages)})")
        lang = found
    elif found is not None and found != lang:
        warnings.append(f"lang={lang} was given but the body reads as {found}")
    if lang not in languages:
        raise NotAnArticle("lang", f"{lang!r} is not a site language; use one of {', '.join(languages)}")

    for author in author_list:
        author["bio_lang"] = None
        if author["bio"]:
            author["bio_lang"] = detect_bio_language(author["bio"], languages)
            if author["bio_lang"] is None:
                warnings.append(f"could not tell the language of {author['name']}'s bio; bio_lang left empty")
    if not author_list:
        warnings.append(f"no author found on the page; the author is set to {UNKNOWN_AUTHOR!r}: "
                        "fill in the real author before publishing")
        author_list = [{"name": UNKNOWN_AUTHOR, "bio": "", "bio_lang": None}]
    markdown, _ = _markdown_body(body)
    original_languages = [c for c in original_languages if c != lang]
    return ImportedPage(
        title=title_text, lang=lang, lang_detected=not lang_given, body=markdown, references=references,
        author=_combined(author_list), original_languages=original_languages, language_line=language_line,
        warnings=warnings, authors=author_list,
    )


def _body_start(items: list[_Line]) -> tuple[int | None, list[dict]]:
    """Index of the first line of prose, and the author boxes printed above it (their name lines marked)."""
    boxes = {after: (first, name) for first, after, name in _boxes(items, 0)}
    authors = []
    for k, item in enumerate(items):
        if item.kind != "text" or not _is_prose(item.text):
            continue
        if k in boxes and _top_box(boxes[k][1], item.text):
            first, name = boxes[k]
            authors.append({"name": name, "bio": item.text})
            for j in range(first, k + 1):
                items[j].kind = "box"
            continue
        return k, authors
    return None, authors


def _top_box(name: str, bio: str) -> bool:
    """A name printed twice above the body is an author box only if it looks like a person's name
    and the paragraph after it mentions that name (a title printed twice does neither)."""
    words = name.split()
    if len(words) > 6 or not all(w[0].isupper() for w in words):
        return False
    surname = words[-1].strip(".,")
    return len(surname) > 2 and _fold(surname)[:5] in _fold(bio)


def detect_bio_language(bio: str, languages: tuple[str, ...]) -> str | None:
    """The language of an author's bio if it is a site language, else None."""
    found = identify(bio, languages)
    return found if found in languages else None


def _combined(authors: list[dict]) -> dict:
    """The article's one author field: several authors share it, names joined, bios one per paragraph."""
    if len(authors) == 1:
        return dict(authors[0])
    bios = [a["bio"] for a in authors if a["bio"]]
    langs = {a["bio_lang"] for a in authors if a["bio"]}
    return {"name": ", ".join(a["name"] for a in authors)[:200], "bio": "\n\n".join(bios)[:5000],
            "bio_lang": langs.pop() if len(langs) == 1 else None}


def _find_title(head: list[_Line], known: str | None) -> tuple[str | None, list[str], list[str]]:
    """(title, body headings found between it and the body, bylines) from the lines before the body."""
    candidates = [k for k, item in enumerate(head)
                  if item.kind == "text" and _words(item.text) <= MAX_TITLE_WORDS and len(item.text) <= 300
                  and not (k < 3 and _is_site_name(item.text))]
    headings = [k for k in candidates if _fold(head[k].text).strip(" :") in _BODY_HEADINGS]
    titles = [k for k in candidates if k not in headings and not _is_sentence_fragment(head[k].text)]
    heading_lines = [head[k].text for k in headings]
    if known:
        return known, heading_lines, []
    if not titles:
        return None, heading_lines, []
    seen = Counter(head[k].text for k in titles)
    crumbs = {_MENU_SPLIT.split(i.text)[-1] for i in head if i.kind == "chrome"}
    repeated = [k for k in titles if seen[head[k].text] > 1 or head[k].text in crumbs]
    if repeated:
        return head[repeated[-1]].text, heading_lines, []
    ordered = [k for k in titles if _words(head[k].text) >= 2] or titles
    last = ordered[-1]
    if len(ordered) > 1:
        # A date, byline or comment count between two candidates follows the title (entry meta):
        # the line after it is a caption or a label.
        previous = ordered[-2]
        if any(item.kind == "byline" or item.chrome in ("date", "count") for item in head[previous + 1:last]):
            return head[previous].text, heading_lines, []
    return head[last].text, heading_lines, []


def _is_site_name(line: str) -> bool:
    """The site's name at the top of a page: an acronym ("ANKASAM") or an institution's name."""
    words = line.split()
    if len(words) == 1 and line.isupper() and 2 <= len(line) <= 12:
        return True
    return len(words) <= 8 and _SITE_NAME.search(line) is not None


def _is_sentence_fragment(line: str) -> bool:
    """A line that starts in lower case (the rest of a paragraph cut at the top), not a title."""
    first = next((c for c in line if c.isalpha()), "")
    return bool(first) and first.islower()


def _split_tail(items: list[_Line], start: int, title: str | None,
                warnings: list[str]) -> tuple[list[str], list[tuple[str, bool]], list[dict]]:
    """(body paragraphs, reference lines with whether they sit under a heading, authors with bios)."""
    boxes = {first: (after, name) for first, after, name in _boxes(items, start)}
    body: list[str] = []
    refs: list[tuple[str, bool]] = []
    authors: dict[str, dict] = {}
    mode = "body"  # then "refs" (after a heading or the first [n] line) or "bio"
    under_heading = False
    k = start
    while k < len(items):
        item = items[k]
        if mode != "body" and k not in boxes and _single_box(items, k):
            boxes[k] = (k + 1, item.text)  # the name printed once, then a bio that names the person
        if k in boxes:
            after, name = boxes[k]
            current = authors.setdefault(_fold(name), {"name": name, "bio": ""})
            mode, k = "bio", after
            bio: list[str] = []
            while k < len(items) and k not in boxes and items[k].kind not in ("refs_heading", "about"):
                if items[k].kind == "text" and _ref_line(items[k].text, False) is None:
                    if items[k].text != name:
                        bio.append(items[k].text)
                elif items[k].kind == "text":
                    break
                k += 1
            if bio and not current["bio"]:
                current["bio"] = "\n\n".join(bio)
            mode = "after"
            continue
        if item.kind == "refs_heading":
            mode, under_heading = "refs", True
        elif item.kind == "text":
            if mode == "body" and _ref_line(item.text, False) is not None:
                mode = "refs"
            if mode == "body":
                if item.text != title:
                    body.append(item.text)
            elif mode in ("refs", "after"):
                if mode == "after" and _ref_line(item.text, under_heading) is None:
                    warnings.append(f"left out {item.text[:60]!r}… after the author box")
                else:
                    mode = "refs"
                    refs.append((item.text, under_heading))
        k += 1
    # A numbered list closing the body whose lines read as references is the reference list.
    trailing = 0
    while trailing < len(body) and _REF_NUMBERED.match(body[-1 - trailing]):
        trailing += 1
    run = [_REF_NUMBERED.match(line)["text"] for line in body[len(body) - trailing:]]
    if trailing >= 2 and 2 * sum(1 for text in run if _looks_like_reference(text)) >= trailing:
        refs = [(line, True) for line in body[-trailing:]] + refs
        del body[-trailing:]
    if not authors and len(body) >= 3 and is_name(body[-2]) and _top_box(body[-2], body[-1]):
        name, bio = body[-2], body.pop()
        body.pop()
        authors[_fold(name)] = {"name": name, "bio": bio}
    return body, refs, list(authors.values())


def _single_box(items: list[_Line], k: int) -> bool:
    """A name on its own line followed by a paragraph about that person (an author box printing the name once)."""
    if k + 1 >= len(items) or items[k].kind != "text" or items[k + 1].kind != "text":
        return False
    name, bio = items[k].text, items[k + 1].text
    return is_name(name) and _ref_line(name, True) is None and _is_prose(bio) and _top_box(name, bio)


def _references(lines: list[tuple[str, bool]], warnings: list[str]) -> tuple[list[dict], set[int], bool]:
    """Parsed references, their numbers, and whether they were numbered in Roman numerals."""
    references: list[dict] = []
    raw: list[list] = []
    roman = False
    for line, under_heading in lines:
        match = _ref_line(line, under_heading)
        if match is not None:
            token = match["n"]
            roman = roman or not token.translate(_TO_DIGITS).isdigit()
            raw.append([_number(token), [match["text"]]])
        elif raw:
            raw[-1][1].append(line)  # a reference wrapped onto the next line
        elif under_heading:
            raw.append([len(raw) + 1, [line]])  # an unnumbered bibliography entry
    for number, parts in raw[:200]:
        ref, problems = parse_reference(number, " ".join(parts)[:5000], references[-1] if references else None)
        references.append(ref)
        warnings.extend(problems)
    return references, {r["number"] for r in references}, roman
