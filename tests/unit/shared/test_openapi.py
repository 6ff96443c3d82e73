"""The API contract: declarations validate requests with the API's error shape and make the OpenAPI 3.1 documents."""
from __future__ import annotations

import pytest
import schemathesis
from pydantic import Field

from deploy.route_review import build_apps
from shared.errors import InvalidInput
from shared.openapi import Body, Query, field_name, validate


class Inner(Body):
    name: str = Field(max_length=5)


class Outer(Body):
    count: int = Field(ge=1, le=10)
    items: list[Inner] = []


class Args(Query):
    limit: int = Field(100, ge=1, le=500)


@pytest.fixture(scope="module")
def documents():
    return {name: app.test_client().get("/openapi.json") for name, app in build_apps().items()}


def test_field_names_follow_the_api_convention():
    assert field_name(("authors", 0, "name")) == "authors[0].name"
    assert field_name(()) == "body"


@pytest.mark.parametrize("data,field,words", [
    ({}, "count", "is required"),
    ({"count": "3"}, "count", "must be a valid integer"),  # JSON bodies are strict: "3" is not a number
    ({"count": True}, "count", "must be a valid integer"),
    ({"count": 11}, "count", "less than or equal to 10"),
    ({"count": 1, "items": [{"name": 5}]}, "items[0].name", "must be a string, not int"),
    ({"count": 1, "items": [{"name": "toolong"}]}, "items[0].name", "longer than 5 characters"),
    ({"count": 1, "extra": 1}, "extra", "unknown field; known fields are count, items"),
    ({"count": 1, "items": "x"}, "items", "must be a valid list"),
])
def test_a_wrong_body_is_a_422_naming_the_field(data, field, words):
    with pytest.raises(InvalidInput) as info:
        validate(Outer, data)
    assert (info.value.status, info.value.field) == (422, field)
    assert words in info.value.message


@pytest.mark.parametrize("raw", ["abc", "1.5", "0", "501", "9" * 40, "-1"])
def test_query_numbers_out_of_range_or_not_whole_are_422(raw):
    with pytest.raises(InvalidInput) as info:
        validate(Args, {"limit": raw})
    assert info.value.field == "limit"
    assert validate(Args, {"limit": "7"}).limit == 7 and validate(Args, {}).limit == 100


def test_every_service_publishes_a_valid_openapi_31_document(documents):
    for name, response in documents.items():
        assert response.status_code == 200, name
        doc = response.json
        assert doc["openapi"] == "3.1.0" and doc["paths"], name
        assert doc["components"]["securitySchemes"]["bearerAuth"] == {**doc["components"]["securitySchemes"]["bearerAuth"],
                                                                      "type": "http", "scheme": "bearer"}
        schema = schemathesis.openapi.from_dict(doc)
        assert all(result.ok() for result in schema.get_all_operations()), name


def test_every_api_and_webhook_route_is_in_its_document():
    for name, app in build_apps().items():
        doc = app.test_client().get("/openapi.json").json
        for rule in app.url_map.iter_rules():
            if rule.rule.startswith(("/api/", "/webhooks/")):
                path = rule.rule.replace("<", "{").replace(">", "}")
                for method in set(rule.methods) - {"HEAD", "OPTIONS"}:
                    assert method.lower() in doc["paths"].get(path, {}), f"{name}: {method} {rule.rule} is undeclared"


def test_security_follows_the_routes_markers(documents):
    ingest = documents["ingest"].json["paths"]
    assert ingest["/api/articles"]["post"]["security"] == [{"bearerAuth": []}]
    hook = ingest["/webhooks/articles"]["post"]
    assert hook["security"] == []
    assert {p["name"] for p in hook["parameters"]} == {"webhook-id", "webhook-timestamp", "webhook-signature"}
    assert hook["requestBody"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ArticleUpsert"}


def test_documents_are_made_from_the_declarations_that_validate(documents):
    ingest = documents["ingest"].json
    new_article = ingest["components"]["schemas"]["NewArticle"]
    assert {"lang", "title", "body"} <= set(new_article["required"]) and new_article["additionalProperties"] is False
    limit = next(p for p in ingest["paths"]["/api/articles"]["get"]["parameters"] if p["name"] == "limit")
    assert limit["schema"] == {"type": "integer", "minimum": 1, "maximum": 500, "default": 100}
    edit = ingest["paths"]["/api/articles/{article_id}"]["patch"]
    assert any(p["name"] == "If-Match" and p["required"] for p in edit["parameters"])
    links = ingest["paths"]["/api/articles"]["post"]["responses"]["201"]["links"]
    assert links["EditArticle"]["parameters"]["header.If-Match"] == "$response.header.ETag"


def test_a_vendor_delivery_with_wrongly_typed_fields_is_refused_before_it_is_stored():
    from services.translation_status.webhooks import TranslationDelivered

    good = {"type": "translation.delivered", "data": {"group_id": "g", "lang": "tr", "title": "Başlık", "body": "Metin",
                                                       "source_hash": "abc", "source_revision": 1}}
    assert validate(TranslationDelivered, good).data.lang == "tr"
    for path, value in ((("vendor",), {"name": "x"}), (("translator",), "Ayşe"), (("source_revision",), "1")):
        bad = {**good, "data": {**good["data"], path[0]: value}}
        with pytest.raises(InvalidInput) as info:
            validate(TranslationDelivered, bad)
        assert info.value.field.startswith(f"data.{path[0]}")
