"""Regression tests for the classes of input the contract fuzzing (tests/e2e/test_api_contract.py) aims at.

Each answers 4xx naming the field (or, for a WordPress export, a per-post warning), never a 500:
non-integer or out-of-range query arguments, JSON values of the wrong type, date-times at the edge of
the representable range (years 1 and 9999 with offsets), and malformed PHP-serialized data inside a
WordPress export.
"""
from __future__ import annotations

import pytest

from services.ingest.db import articles

from .conftest import ARTICLE, FIXTURES

pytestmark = pytest.mark.integration
POLYLANG_TERM = 'a:2:{s:2:"tr";i:312;s:2:"en";i:311;}'


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    from .conftest import serve

    with serve(tmp_path_factory.mktemp("edges")) as live:
        made = live.api("POST", "/api/articles", json=ARTICLE)
        assert made.status_code == 201, made.text
        yield live, made.json()


@pytest.mark.parametrize("path,field", [
    ("/api/articles?limit=abc", "limit"), ("/api/articles?limit=1.5", "limit"), ("/api/articles?limit=0", "limit"),
    ("/api/articles?limit=501", "limit"), ("/api/articles?limit=" + "9" * 40, "limit"),
    ("/api/articles?limit=-1", "limit"), ("/api/articles?state=nonsense", "state"),
    ("/api/articles/{id}/diff?from=x", "from"), ("/api/articles/{id}/diff?to=0", "to"),
    ("/api/articles/{id}/diff?to=99", "to"), ("/api/articles/{id}/diff?from=" + "9" * 30, "from"),
])
def test_bad_query_arguments_are_422_naming_them(served, path, field):
    live, article = served
    resp = live.api("GET", path.format(id=article["id"]))
    assert resp.status_code == 422, resp.text
    assert resp.json()["field"] == field


@pytest.mark.parametrize("body,field", [
    ({**ARTICLE, "title": 5}, "title"), ({**ARTICLE, "lang": ["en"]}, "lang"), ({**ARTICLE, "tags": "energy"}, "tags"),
    ({**ARTICLE, "tags": [1]}, "tags[0]"), ({**ARTICLE, "author": "A. Writer"}, "author"),
    ({**ARTICLE, "authors": [{"name": None}]}, "authors[0].name"), ({**ARTICLE, "references": {}}, "references"),
    ({**ARTICLE, "references": [{"number": "1", "title": "x"}]}, "references[0].number"),
    ({**ARTICLE, "group_id": 7}, "group_id"),
])
def test_json_values_of_the_wrong_type_are_422_naming_the_field(served, body, field):
    live, _ = served
    before = live.count()
    resp = live.api("POST", "/api/articles", json=body)
    assert resp.status_code == 422, resp.text
    assert resp.json()["field"] == field
    assert live.count() == before, "a refused request stores nothing"


@pytest.mark.parametrize("body,field", [
    ({"action": 3}, "action"), ({"action": "schedule", "revision": "1"}, "revision"),
    ({"action": "schedule", "revision": True}, "revision"), ({"action": "schedule", "publish_at": 20261201}, "publish_at"),
    ({"action": "schedule", "publish_at": "0001-01-01T00:00:00+01:00"}, "publish_at"),
    ({"action": "schedule", "publish_at": "9999-12-31T23:59:59-01:00"}, "publish_at"),
    ({"action": "schedule", "publish_at": "9999-12-31T23:59:59"}, "publish_at"),
    ({"action": "schedule", "publish_at": "not a time"}, "publish_at"),
])
def test_transition_values_out_of_type_or_range_are_422(served, body, field):
    live, article = served
    resp = live.api("POST", f"/api/articles/{article['id']}/transitions", json=body)
    assert resp.status_code == 422, resp.text
    assert resp.json()["field"] == field


@pytest.mark.parametrize("at", ["0001-01-01T00:00:00+00:00", "9999-12-31T23:59:59+00:00"])
def test_representable_edge_datetimes_are_answered_not_500(served, at):
    live, article = served
    resp = live.api("POST", f"/api/articles/{article['id']}/transitions", json={"action": "schedule", "publish_at": at})
    assert resp.status_code < 500 and resp.headers["Content-Type"] == "application/json", resp.text


@pytest.mark.parametrize("term", [
    'a:2:{s:2:"tr";i:312;s:2:"en";i:311;',  # truncated
    'a:2:{s:9:"tr";i:312;s:2:"en";i:311;}',  # a string length past its end
    'a:999999999999:{s:2:"tr";i:312;}',  # a count far beyond the data
    "a:1:{i:0;" * 3000 + "N;" + "}" * 3000,  # nested deeper than the recursion limit
    'a:1:{s:2:"tr";i:' + "9" * 5000 + ";}",  # an integer too long to convert
    'a:1:{s:1:"\xe7";i:1;}',  # a length that splits a multi-byte character
    'a:1:{a:0:{}i:1;}',  # an array as a key
    'O:8:"stdClass":0:{}', "", "garbage", "a:-1:{}", 's:-5:"x";',
])
def test_malformed_php_serialized_data_in_an_export_is_a_warning(live, term):
    export = (FIXTURES / "wxr-polylang.xml").read_text(encoding="utf-8")
    assert POLYLANG_TERM in export
    resp = live.api("POST", "/api/articles/import-wxr", data=export.replace(POLYLANG_TERM, term).encode("utf-8"),
                    headers={"Content-Type": "application/xml"})
    assert resp.status_code == 200, resp.text
    assert "malformed serialized data" in resp.text, "the report names the malformed term"
    assert live.count(articles) >= 2, "the posts arrive all the same"


@pytest.mark.parametrize("changes,field", [
    ({"name": {"first": "A"}}, "name"), ({"name": ["A"]}, "name"), ({"lang": ["en"]}, "lang"),
    ({"email": 5}, "email"), ({"role": "owner"}, "role"), ({"password": "short"}, "password"),
])
def test_accounts_with_wrongly_typed_fields_are_422_not_500(served, changes, field):
    # Before the declarations, a name that was an object reached the database driver (a 500).
    live, _ = served
    body = {"email": "someone@example.org", "password": "long enough password", "role": "author", **changes}
    resp = live.api("POST", "/api/users", json=body)
    assert resp.status_code == 422, resp.text
    assert resp.json()["field"] == field
