"""Localised labels, dates and language names of the public site."""
from __future__ import annotations

from datetime import date

from babel import Locale
from babel.dates import format_date

LABELS = {
    "en": {
        "also_available": "This post is also available in:",
        "share": "Share",
        "similar": "Similar Posts",
        "references": "References",
        "accessed": "Date of Accession",
        "latest": "Latest articles",
        "feed": "Atom feed",
        "back_to_text": "Back to text",
        "by": "By",
        "not_found": "Page not found",
    },
    "tr": {
        "also_available": "Bu yazı şu dillerde de mevcut:",
        "share": "Paylaş",
        "similar": "Benzer İçerikler",
        "references": "Kaynakça",
        "accessed": "Erişim Tarihi",
        "latest": "Son yazılar",
        "feed": "Atom beslemesi",
        "back_to_text": "Metne dön",
        "by": "Yazar",
        "not_found": "Sayfa bulunamadı",
    },
    "ru": {
        "also_available": "Эта запись также доступна на:",
        "share": "Поделиться",
        "similar": "Похожие записи",
        "references": "Источники",
        "accessed": "Дата обращения",
        "latest": "Последние статьи",
        "feed": "Лента Atom",
        "back_to_text": "Назад к тексту",
        "by": "Автор",
        "not_found": "Страница не найдена",
    },
}


def labels(lang: str) -> dict:
    """The site labels in ``lang`` (English for a language without its own)."""
    return {**LABELS["en"], **LABELS.get(lang, {})}


def native_name(lang: str) -> str:
    """The language's name in itself, capitalised as a menu item: English, Türkçe, Русский."""
    name = Locale.parse(lang).get_display_name(lang) or lang
    return name[:1].upper() + name[1:]


def long_date(value: date, lang: str) -> str:
    """A date as '13 October 2022', '13 Ekim 2022', '13 октября 2022'."""
    return format_date(value, format="d MMMM y", locale=lang)
