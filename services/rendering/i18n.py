"""Localised labels, dates and language names of the public site."""
from __future__ import annotations

from datetime import date
from functools import lru_cache

from babel import Locale
from babel.core import LOCALE_ALIASES
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
        "by_many": "By",
        "and": "and",
        "category": "Category",
        "categories": "Categories",
        "category_title": "Category: {category}",
        "not_found": "Page not found",
        "home": "Home",
        "languages": "Languages",
        "page_n": "Page {n}",
        "pagination": "Pages",
        "newer": "Newer articles",
        "older": "Older articles",
        "tags": "Tags",
        "related_topics": "Related topics",
        "tag_title": "Articles tagged “{tag}”",
        "author_title": "Articles by {name}",
        "no_articles": "No articles yet.",
        "not_found_text": "The page you asked for is not here. It may have moved or been withdrawn.",
        "go_home": "Go to the latest articles",
        "moved": "This page has moved",
        "moved_text": "The article is now at",
        "published": "Published",
        "updated": "Updated",
        "skip": "Skip to content",
        "site_name": "Analysis",
        "search": "Search",
        "search_label": "Search the articles",
        "search_title": "Search",
        "search_results": "Results for “{q}”",
        "search_count": "{n} articles found",
        "search_none": "No article matches “{q}”. Try another word or a shorter query.",
        "search_empty": "Type one or more words to search the articles.",
        "search_newer": "Previous results",
        "search_older": "More results",
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
        "by_many": "Yazarlar",
        "and": "ve",
        "category": "Kategori",
        "categories": "Kategoriler",
        "category_title": "Kategori: {category}",
        "not_found": "Sayfa bulunamadı",
        "home": "Ana sayfa",
        "languages": "Diller",
        "page_n": "Sayfa {n}",
        "pagination": "Sayfalar",
        "newer": "Daha yeni yazılar",
        "older": "Daha eski yazılar",
        "tags": "Etiketler",
        "related_topics": "İlgili konular",
        "tag_title": "“{tag}” etiketli yazılar",
        "author_title": "{name} yazıları",
        "no_articles": "Henüz yazı yok.",
        "not_found_text": "Aradığınız sayfa burada değil. Taşınmış ya da yayından kaldırılmış olabilir.",
        "go_home": "Son yazılara git",
        "moved": "Bu sayfa taşındı",
        "moved_text": "Yazının yeni adresi:",
        "published": "Yayın tarihi",
        "updated": "Güncellenme",
        "skip": "İçeriğe geç",
        "site_name": "Analiz",
        "search": "Ara",
        "search_label": "Yazılarda ara",
        "search_title": "Arama",
        "search_results": "“{q}” için sonuçlar",
        "search_count": "{n} yazı bulundu",
        "search_none": "“{q}” ile eşleşen yazı yok. Başka bir sözcük ya da daha kısa bir arama deneyin.",
        "search_empty": "Yazılarda aramak için bir ya da birkaç sözcük yazın.",
        "search_newer": "Önceki sonuçlar",
        "search_older": "Daha fazla sonuç",
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
        "by_many": "Авторы",
        "and": "и",
        "category": "Рубрика",
        "categories": "Рубрики",
        "category_title": "Рубрика: {category}",
        "not_found": "Страница не найдена",
        "home": "Главная",
        "languages": "Языки",
        "page_n": "Страница {n}",
        "pagination": "Страницы",
        "newer": "Более новые статьи",
        "older": "Более ранние статьи",
        "tags": "Метки",
        "related_topics": "Связанные темы",
        "tag_title": "Статьи с меткой «{tag}»",
        "author_title": "Статьи автора: {name}",
        "no_articles": "Статей пока нет.",
        "not_found_text": "Запрошенной страницы здесь нет. Возможно, она перемещена или снята с публикации.",
        "go_home": "К последним статьям",
        "moved": "Страница перемещена",
        "moved_text": "Статья теперь находится по адресу",
        "published": "Опубликовано",
        "updated": "Обновлено",
        "skip": "Перейти к содержанию",
        "site_name": "Аналитика",
        "search": "Найти",
        "search_label": "Поиск по статьям",
        "search_title": "Поиск",
        "search_results": "Результаты по запросу «{q}»",
        "search_count": "Найдено статей: {n}",
        "search_none": "По запросу «{q}» ничего не найдено. Попробуйте другое слово или более короткий запрос.",
        "search_empty": "Введите одно или несколько слов, чтобы найти статьи.",
        "search_newer": "Предыдущие результаты",
        "search_older": "Ещё результаты",
    },
}


def labels(lang: str) -> dict:
    """The site labels in ``lang`` (English for a language without its own)."""
    return {**LABELS["en"], **LABELS.get(lang, {})}


def list_separators(count: int, lang: str) -> list[str]:
    """What follows each of ``count`` names in a running list: ", " between them and the language's
    "and" before the last ("A, B and C", "A, B ve C", "A, B и C"); the last is followed by nothing."""
    if count <= 0:
        return []
    last = f" {labels(lang)['and']} "
    return [", "] * (count - 2) + ([last] if count > 1 else []) + [""]


def join_names(names: list[str], lang: str) -> str:
    """Names joined as a running list in ``lang``: "A and B", "A, B ve C"."""
    return "".join(n + sep for n, sep in zip(names, list_separators(len(names), lang)))


@lru_cache(maxsize=256)
def native_name(lang: str) -> str:
    """The language's name in itself, capitalised as a menu item: English, Türkçe, Русский."""
    name = Locale.parse(lang).get_display_name(lang) or lang
    return name[:1].upper() + name[1:]


def og_locale(lang: str) -> str:
    """The OpenGraph locale of a language: en_US, tr_TR, ru_RU."""
    return LOCALE_ALIASES.get(lang, lang)


@lru_cache(maxsize=8192)  # a listing page shows dates the previous flush formatted already
def long_date(value: date, lang: str) -> str:
    """A date as '13 October 2022', '13 Ekim 2022', '13 октября 2022'."""
    return format_date(value, format="d MMMM y", locale=lang)
