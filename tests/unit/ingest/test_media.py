"""The media library's input rules: alt texts and captions per language, and the images a body embeds."""
from __future__ import annotations

import pytest

from services.ingest.media import inline_ids, parse_texts
from shared.errors import InvalidInput

LANGS = ("en", "tr", "ru")
ID = "0b1c2d3e-1234-4abc-8def-0123456789ab"


def test_texts_for_the_request_language_and_per_language():
    texts = parse_texts({"alt": " A crane ", "alt_tr": "Bir vinç", "caption_ru": "Кран", "credit": "Photo: A"},
                        LANGS, default_lang="en")
    assert texts == {"alt": {"en": "A crane", "tr": "Bir vinç"}, "caption": {"ru": "Кран"}, "credit": "Photo: A"}
    assert parse_texts({"alt_tr": "x"}, LANGS, default_lang="en", partial=True) == {"alt": {"tr": "x"}}


@pytest.mark.parametrize("data,lang,field", [
    ({"alt": "x\u202ey"}, "en", "alt"),
    ({"alt_en": "x" * 501}, "en", "alt_en"),
    ({"caption": 7}, "en", "caption"),
    ({"alt": "x"}, "de", "lang"),
])
def test_bad_texts_name_their_field(data, lang, field):
    with pytest.raises(InvalidInput) as caught:
        parse_texts(data, LANGS, default_lang=lang)
    assert caught.value.field == field


def test_inline_ids_in_order_once():
    other = ID.replace("0b", "ff", 1)
    body = f"![](media:{ID})\n\ntext ![a]( media:{other} ) and ![](media:{ID}) [link](https://x/media:{ID})"
    assert inline_ids(body) == [ID, other]
    assert inline_ids("no images") == []
