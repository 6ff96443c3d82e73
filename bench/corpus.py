"""A deterministic generated corpus for the benchmarks: English sources with Turkish and Russian translations.

Every article is ~1,200 words of pseudo-words drawn (Zipf-like, so TF-IDF behaves like real text)
from a seeded per-language vocabulary, with four footnote markers ``[1]``..``[4]``, four references,
two or three tags from a small vocabulary and one of a few authors. The same seed always gives the
same corpus, byte for byte.
"""
from __future__ import annotations

import itertools
import random
from dataclasses import dataclass, field

LANGS = ("en", "tr", "ru")
VOCAB_SIZE = 6000
WORDS_PER_ARTICLE = 1200
FOOTNOTES = 4

_SYLLABLES = {
    "en": ("ba", "con", "de", "fi", "gor", "han", "ist", "jo", "ker", "lan", "mo", "nor", "pel", "qua", "ros",
           "sta", "ter", "ul", "ven", "wex", "yor", "zan", "an", "el", "ing", "tion", "or", "er", "al", "ment"),
    "tr": ("ka", "lar", "ler", "bi", "ği", "çe", "şı", "dı", "ün", "öz", "ma", "ne", "si", "ya", "tü", "ri",
           "ça", "ğu", "kı", "mü", "sö", "ta", "ye", "lı", "zi", "ha", "cı", "pe", "rü", "ve"),
    "ru": ("ка", "ло", "ни", "ра", "ст", "во", "пе", "ди", "жу", "мы", "ше", "цо", "ба", "ге", "зы", "ку",
           "ля", "мо", "ну", "от", "пр", "ре", "сы", "ти", "фа", "хо", "чи", "щу", "ем", "ость"),
}
_TAGS = {
    "en": ("Energy", "Security", "Trade", "Migration", "Climate", "Elections", "Economy", "Health",
           "Diplomacy", "Technology", "Education", "Media"),
    "tr": ("Enerji", "Güvenlik", "Ticaret", "Göç", "İklim", "Seçimler", "Ekonomi", "Sağlık",
           "Diplomasi", "Teknoloji", "Eğitim", "Medya"),
    "ru": ("Энергетика", "Безопасность", "Торговля", "Миграция", "Климат", "Выборы", "Экономика", "Здоровье",
           "Дипломатия", "Технологии", "Образование", "СМИ"),
}
AUTHORS = (
    {"name": "Ayla Demir", "bio": "Senior fellow for energy policy.", "bio_lang": "en"},
    {"name": "Boris Ivanov", "bio": "Researcher on security and trade.", "bio_lang": "en"},
    {"name": "Claire Martin", "bio": "Director of the migration programme.", "bio_lang": "en"},
    {"name": "Deniz Kaya", "bio": "Fellow for climate and health.", "bio_lang": "en"},
    {"name": "Elena Petrova", "bio": "Editor of the economy series.", "bio_lang": "en"},
)


@dataclass
class Article:
    """One article-language as the ingest API takes it (``group`` ties a source to its translations)."""

    group: int
    lang: str
    title: str
    body: str
    author: dict
    tags: list[str]
    references: list[dict] = field(default_factory=list)

    def payload(self, group_id: str | None = None) -> dict:
        """The POST /api/articles body."""
        data = {"lang": self.lang, "title": self.title, "body": self.body, "author": self.author,
                "tags": self.tags, "references": self.references}
        if group_id:
            data["group_id"] = group_id
        return data


class Corpus:
    """Seeded generator of article groups (en source + tr + ru translations)."""

    def __init__(self, seed: int = 1):
        self.seed = seed
        self.vocab = {lang: self._vocabulary(lang) for lang in LANGS}
        # Zipf-like weights (s ~ 1.05): a few very common words, a long tail of rare ones.
        self.cum_weights = list(itertools.accumulate(1.0 / (rank ** 1.05) for rank in range(1, VOCAB_SIZE + 1)))

    def _vocabulary(self, lang: str) -> list[str]:
        rng = random.Random(f"{self.seed}-vocab-{lang}")
        words: list[str] = []
        seen: set[str] = set()
        while len(words) < VOCAB_SIZE:
            word = "".join(rng.choice(_SYLLABLES[lang]) for _ in range(rng.choice((1, 2, 2, 3, 3, 4))))
            if len(word) >= 2 and word not in seen:
                seen.add(word)
                words.append(word)
        return words

    def _words(self, rng: random.Random, lang: str, k: int) -> list[str]:
        return rng.choices(self.vocab[lang], cum_weights=self.cum_weights, k=k)

    def _sentence(self, rng: random.Random, lang: str) -> str:
        words = self._words(rng, lang, rng.randint(8, 20))
        return words[0].capitalize() + " " + " ".join(words[1:]) + "."

    def _body(self, rng: random.Random, lang: str) -> str:
        paragraphs, count = [], 0
        while count < WORDS_PER_ARTICLE:
            sentences = []
            for _ in range(rng.randint(4, 7)):
                sentence = self._sentence(rng, lang)
                count += sentence.count(" ") + 1
                sentences.append(sentence)
            paragraphs.append(sentences)
        # Footnote markers spread over the text: [1] early ... [4] late.
        for n in range(1, FOOTNOTES + 1):
            para = paragraphs[min(len(paragraphs) - 1, (n * len(paragraphs)) // (FOOTNOTES + 1))]
            i = rng.randrange(len(para))
            para[i] = para[i][:-1] + f".[{n}]"
        return "\n\n".join(" ".join(p) for p in paragraphs)

    def _title(self, rng: random.Random, lang: str, group: int) -> str:
        words = self._words(rng, lang, rng.randint(5, 8))
        # The group number keeps titles (and so slugs) unique without a numbered suffix.
        return f"{words[0].capitalize()} {' '.join(words[1:])} {group + 1}"

    def _references(self, rng: random.Random, lang: str, group: int) -> list[dict]:
        refs = []
        for n in range(1, FOOTNOTES + 1):
            words = self._words(rng, lang, 4)
            refs.append({
                "title": " ".join(words).capitalize(),
                "source": f"{words[0].capitalize()} Review",
                "url": f"https://example.org/{group + 1}/ref-{n}",
                "accessed": f"2026-{1 + (group + n) % 12:02d}-{1 + (group * 7 + n) % 28:02d}",
            })
        return refs

    def group(self, index: int) -> list[Article]:
        """The three language versions of group ``index`` (source first)."""
        rng = random.Random(f"{self.seed}-group-{index}")
        author = AUTHORS[index % len(AUTHORS)]
        tag_ids = rng.sample(range(len(_TAGS["en"])), rng.choice((2, 3)))
        out = []
        for lang in LANGS:
            lrng = random.Random(f"{self.seed}-group-{index}-{lang}")
            out.append(Article(group=index, lang=lang, title=self._title(lrng, lang, index),
                               body=self._body(lrng, lang), author=dict(author),
                               tags=[_TAGS[lang][t] for t in tag_ids],
                               references=self._references(lrng, lang, index)))
        return out

    def groups(self, start: int, count: int) -> list[list[Article]]:
        """Groups ``start`` .. ``start + count - 1``."""
        return [self.group(i) for i in range(start, start + count)]
