"""Language of imported text: lingua restricted to the site's languages and their neighbours.

The candidate set is small on purpose: lingua's models load lazily per language and the
low-accuracy mode keeps only trigram models, so the detector costs tens of MB in a web worker
instead of hundreds. Imported bodies are long, where low accuracy loses nothing measurable. The
neighbours are there so that a page in a language the site does not publish (Kazakh, Ukrainian,
Bulgarian, Azerbaijani, German, ...) is named as such instead of read as the nearest site language.
"""
from __future__ import annotations

import re
import threading

from lingua import IsoCode639_1, Language, LanguageDetectorBuilder

# Languages a think tank on Eurasia is sent besides its own: same-script neighbours of Russian and
# Turkish first, then the region's other languages that lingua knows (it has no Uzbek, Kyrgyz, Tajik).
NEIGHBOURS = ("en", "tr", "ru", "kk", "uk", "be", "bg", "mk", "sr", "mn", "az", "de", "fr", "es",
              "it", "ar", "fa", "ka", "hy", "pl", "ro")
MIN_LETTERS = 20

_lock = threading.Lock()
_detectors: dict[tuple[str, ...], object] = {}


def _lingua(code: str) -> Language | None:
    try:
        return Language.from_iso_code_639_1(getattr(IsoCode639_1, code.upper()))
    except (AttributeError, ValueError):
        return None


# Languages of the region lingua does not know, told apart by letters only they use.
_UNKNOWN_TO_LINGUA = {"uz": "Uzbek", "ky": "Kyrgyz", "tg": "Tajik", "tk": "Turkmen"}
_LETTERS = {
    "tg": set("ҳҷӣӯ"),  # Tajik Cyrillic
    "uz-cyrl": set("ўқғҳ"),  # Uzbek Cyrillic (ў without the Belarusian і)
    "ky": set("ңөү"),  # Kyrgyz shares these with Kazakh, which also has әғқұһі
    "kk": set("әғқұһі"),
    "tk": set("ňýž"),  # Turkmen Latin (not ä, which German has too)
}
_UZBEK_LATIN = re.compile(r"[oOgG][ʻ‘'`ʼ]")


def language_name(code: str) -> str:
    """The English name of a two-letter code ("kk" -> "Kazakh"), or the code when none is known."""
    language = _lingua(code)
    return language.name.title() if language else _UNKNOWN_TO_LINGUA.get(code, code)


def _share(text: str, letters: set[str]) -> float:
    alpha = [c for c in text.lower() if c.isalpha()]
    return sum(1 for c in alpha if c in letters) / len(alpha) if alpha else 0.0


def _refine(code: str | None, text: str) -> str | None:
    """Correct lingua's answer for the region's languages it lacks (it reads them as a neighbour)."""
    sample = text[:5000]
    if code in ("ru", "kk", "mn", "bg", "uk", "be", "sr", "mk"):
        if _share(sample, _LETTERS["tg"]) > 0.005:
            return "tg"
        if _share(sample, {"ў"}) > 0.003 and _share(sample, {"і"}) == 0:
            return "uz"
        if _share(sample, _LETTERS["ky"]) > 0.01 and _share(sample, _LETTERS["kk"]) < 0.002:
            return "ky"
    if code in ("tr", "az", "en", "de", "pl", "ro", "it", "es", "fr"):
        if _share(sample, _LETTERS["tk"]) > 0.005 and "ə" not in sample:
            return "tk"
        if len(_UZBEK_LATIN.findall(sample)) >= 3 and _share(sample, set("ışğç")) < 0.002:
            return "uz"
    return code


def _detector(languages: tuple[str, ...]):
    codes = tuple(sorted({*NEIGHBOURS, *languages}))
    with _lock:
        if codes not in _detectors:
            known = [lang for lang in map(_lingua, codes) if lang is not None]
            _detectors[codes] = LanguageDetectorBuilder.from_languages(*known).with_low_accuracy_mode().build()
        return _detectors[codes]


def identify(text: str, languages: tuple[str, ...] = ("en", "tr", "ru")) -> str | None:
    """The two-letter code of ``text``'s language among the site languages and neighbours, or None."""
    if sum(1 for c in text if c.isalpha()) < MIN_LETTERS:
        return None
    found = _detector(languages).detect_language_of(text)
    return _refine(found.iso_code_639_1.name.lower() if found is not None else None, text)


def detect_language(text: str, candidates: tuple[str, ...] = ("en", "tr", "ru")) -> str | None:
    """The language of ``text`` if it is one of ``candidates``, else None (unsure or another language)."""
    code = identify(text, candidates)
    return code if code in candidates else None


# Language names as sites print them (each in its own language, and in en/tr/ru), plus codes.
LANGUAGE_NAMES = {
    "english": "en", "ingilizce": "en", "i̇ngilizce": "en", "английский": "en", "englisch": "en", "en": "en",
    "türkçe": "tr", "turkish": "tr", "турецкий": "tr", "türkce": "tr", "türkisch": "tr", "tr": "tr",
    "русский": "ru", "russian": "ru", "rusça": "ru", "rusca": "ru", "russisch": "ru", "ru": "ru",
}
_PREFIXES = (
    r"This post is also available in|This (?:article|page) is also available in|Also available in|"
    r"Read (?:this )?in|Other languages|Languages|"
    r"Bu yazı şu dillerde de mevcut(?:\(?tur\)?)?|Bu (?:içerik|makale|sayfa) şu dillerde de mevcut(?:\(?tur\)?)?|"
    r"Diğer diller|Diller|"
    r"Эта запись также доступна на|Эта статья также доступна на|Также доступно на|Читать на|Другие языки|Языки"
)
_LANGUAGE_LINE = re.compile(r"^(?:" + _PREFIXES + r")\s*[:：]\s*(?P<names>.*)$", re.IGNORECASE)
_SEPARATORS = re.compile(r"[\s,;/|•·]+")


def _fold(text: str) -> str:
    return text.replace("İ", "i").replace("I", "i").lower()


def parse_language_line(line: str) -> tuple[list[str], list[str]] | None:
    """(language codes, unknown names) of an "also available in" line, or None if it is not one."""
    match = _LANGUAGE_LINE.match(line.strip())
    if not match:
        return None
    return language_names(match.group("names"))


def language_names(text: str) -> tuple[list[str], list[str]]:
    """(codes, unknown names) of a run of language names such as "English, Türkçe"."""
    codes, unknown = [], []
    for name in _SEPARATORS.split(text.strip()):
        name = name.strip("()[]")
        if not name:
            continue
        code = LANGUAGE_NAMES.get(_fold(name))
        if code is None:
            unknown.append(name)
        elif code not in codes:
            codes.append(code)
    return codes, unknown


def switcher_codes(line: str) -> list[str] | None:
    """The codes of a bare language switcher ("English | Türkçe | Русский", "EN TR RU"), else None."""
    if len(line) > 80:
        return None
    codes, unknown = language_names(line)
    return codes if len(codes) >= 2 and not unknown else None
