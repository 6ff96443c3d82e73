"""Article input validation names the field and the fix."""
import pytest

from services.ingest.validation import InvalidInput, parse_article_input, parse_article_update

LANGS = ("en", "tr", "ru")
GOOD = {"lang": "en", "title": "T", "body": "B", "author": {"name": "A"},
        "references": [{"title": "R", "url": "https://example.org", "accessed": "2022-10-14"}, {"note": "Ibid."}]}


def parse(data):
    return parse_article_input(data, LANGS, max_body=1000)


def test_good_input_is_normalised():
    fields = parse(dict(GOOD, tags=[" a ", "a", "b"]))
    assert fields["tags"] == ["a", "b"]
    assert fields["references"][0]["number"] == 1 and fields["references"][1]["number"] == 2
    assert fields["references"][1]["note"] == "Ibid."
    assert fields["group_id"] is None


@pytest.mark.parametrize("change,field", [
    ({"lang": "de"}, "lang"), ({"lang": None}, "lang"), ({"title": ""}, "title"), ({"title": 5}, "title"),
    ({"title": "x" * 301}, "title"), ({"body": "x" * 1001}, "body"), ({"author": "Bob"}, "author"),
    ({"author": {}}, "author.name"), ({"references": {}}, "references"),
    ({"references": [{"url": "javascript:alert(1)"}]}, "references[0].url"),
    ({"references": [{"title": "x", "accessed": "14.10.2022"}]}, "references[0].accessed"),
    ({"references": [{}]}, "references[0]"), ({"tags": "a,b"}, "tags"), ({"group_id": "nope"}, "group_id"),
    ({"colour": "red"}, "colour"),
])
def test_bad_input_names_the_field(change, field):
    data = dict(GOOD)
    for k, v in change.items():
        if v is None:
            data.pop(k)
        else:
            data[k] = v
    with pytest.raises(InvalidInput) as info:
        parse(data)
    assert info.value.field == field


def test_update_only_editable_fields():
    assert parse_article_update({"title": "New"}, LANGS, max_body=10) == {"title": "New"}
    with pytest.raises(InvalidInput):
        parse_article_update({"lang": "tr"}, LANGS, max_body=10)
    with pytest.raises(InvalidInput):
        parse_article_update({}, LANGS, max_body=10)


@pytest.mark.parametrize("field,value", [
    ("title", "A title\nwith a second line"), ("title", "Bell\x07"), ("title", "Escape \x1b[31mred"),
    ("title", "Reversed \u202eedoc"), ("author.name", "Name\x00"), ("tags", "tag\ttab"),
    ("references[0].title", "Ref\x0bvertical"),
])
def test_control_characters_are_refused_in_titles_and_names(field, value):
    data = {"lang": "en", "title": "Fine", "body": "Body.\n\nSecond paragraph.", "author": {"name": "A"},
            "references": [{"title": "Ref"}], "tags": ["ok"]}
    if field == "title":
        data["title"] = value
    elif field == "author.name":
        data["author"]["name"] = value
    elif field == "tags":
        data["tags"] = [value]
    else:
        data["references"][0]["title"] = value
    with pytest.raises(InvalidInput) as info:
        parse_article_input(data, ("en",), max_body=1000)
    assert info.value.field == field and "control character" in info.value.message


def test_bodies_keep_their_newlines_and_titles_their_letters():
    clean = parse_article_input({"lang": "en", "title": "Türkçe başlık — ok", "body": "Line one.\n\nLine two.",
                                 "author": {"name": "Ayşe Yılmaz"}}, ("en",), max_body=1000)
    assert clean["body"] == "Line one.\n\nLine two." and clean["title"] == "Türkçe başlık — ok"


def test_authors_list_and_the_single_author_stay_in_step():
    fields = parse(dict(GOOD, author=None) | {"authors": [{"name": "A"}, {"name": "B", "bio": " Bio "}, {"name": "A"}]})
    assert [a["name"] for a in fields["authors"]] == ["A", "B"] and fields["author"] == fields["authors"][0]
    assert fields["authors"][1]["bio"] == "Bio"
    assert parse(GOOD)["authors"] == [{"name": "A", "bio": "", "bio_lang": None}], "author alone still works"


@pytest.mark.parametrize("authors, field", [
    ([], "authors"), ("A", "authors"), ([{"name": "A"}, {}], "authors[1].name"),
    ([{"name": "A", "bio_lang": "de"}], "authors[0].bio_lang"), ([{"name": f"n{i}"} for i in range(21)], "authors"),
])
def test_bad_authors_name_the_entry(authors, field):
    with pytest.raises(InvalidInput) as info:
        parse({k: v for k, v in GOOD.items() if k != "author"} | {"authors": authors})
    assert info.value.field == field


def test_author_that_is_not_the_first_of_authors_is_refused():
    with pytest.raises(InvalidInput) as info:
        parse(dict(GOOD, authors=[{"name": "B"}]))
    assert info.value.field == "author" and "first of authors" in info.value.message


def test_categories_are_validated_like_tags():
    assert parse(dict(GOOD, categories=[" Analysis ", "Analysis", "", "Energy"]))["categories"] == ["Analysis", "Energy"]
    assert parse(GOOD)["categories"] == []
    for bad in ("Analysis", [1], ["x" * 61], [f"c{i}" for i in range(31)]):
        with pytest.raises(InvalidInput) as info:
            parse(dict(GOOD, categories=bad))
        assert info.value.field == "categories"


def test_update_accepts_authors_and_categories():
    out = parse_article_update({"authors": [{"name": "A"}, {"name": "B"}], "categories": ["X"]}, LANGS, max_body=10)
    assert out["author"]["name"] == "A" and len(out["authors"]) == 2 and out["categories"] == ["X"]
