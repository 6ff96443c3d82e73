"""The JSON API contract: pydantic declarations that validate requests and make each service's ``/openapi.json``.

A route declares what it takes and answers with ``@operation(...)``, the innermost decorator (under
``require_token`` or ``signed_endpoint``). Its ``query`` and ``body`` models validate the request
before the view runs (a mismatch is a 422 naming the field and the fix, like every other refusal);
``document(app)`` builds the OpenAPI 3.1 document from the same models, the app's URL map and the
authentication markers the route review reads. Nothing is written twice, so the two cannot drift.
Domain rules that need the settings or the database (site languages, the SSRF guard, who may edit)
stay in the service functions the views call.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any, Callable

from flask import Blueprint, Flask, current_app, g, has_app_context, jsonify, request
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.json_schema import models_json_schema

from shared import __version__
from shared.auth import public
from shared.errors import InvalidInput
from shared.web import json_body

OPENAPI_VERSION = "3.1.0"
BEARER = "bearerAuth"
_RULE_ARG = re.compile(r"<(?:(?P<converter>[a-z]+):)?(?P<name>\w+)>")


# One line of text with something in it: no control characters (C0, DEL, C1) nor direction overrides
# and isolates (they can make a title read differently from what it holds), and not blank.
_CONTROLS = r"\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069"
ONE_LINE = rf"^[^{_CONTROLS}]*[^\s{_CONTROLS}][^{_CONTROLS}]*$"
_CONTROL_RE = re.compile(f"[{_CONTROLS}]")


def single_line_problem(value: str) -> str | None:
    """Why ``value`` cannot be a title or a name (a control or direction-override character), or None."""
    if found := _CONTROL_RE.search(value):
        return (f"contains the control character U+{ord(found.group()):04X}; remove it "
                "(titles and names are one line of text)")
    return None


# A name in a list (tag, category): one line, blank allowed (blank entries are dropped).
NAME = rf"^[^{_CONTROLS}]*$"


def _site_languages(schema: dict) -> None:
    """Name the serving app's languages (LANGUAGES) in the document; outside an app, any short code."""
    if has_app_context():
        schema["enum"] = list(current_app.extensions["pipeline"].settings.languages)


def site_language(default: Any = ..., **kwargs) -> Any:
    """A field holding one of the site's languages (checked against the settings by the service)."""
    return Field(default, max_length=8, json_schema_extra=_site_languages, **kwargs)


class Body(BaseModel):
    """Base of request body models: exact JSON types (``"3"`` is not a number), unknown fields refused."""

    model_config = ConfigDict(extra="forbid", strict=True)


class Query(BaseModel):
    """Base of query-string models: values arrive as text and are converted; unknown arguments are refused
    (a misspelt filter would otherwise be silently ignored)."""

    model_config = ConfigDict(extra="forbid")


class Answer(BaseModel):
    """Base of response models: the fields a client may rely on; answers may carry more."""

    model_config = ConfigDict(extra="allow")


class Error(Answer):
    """Every refusal: what is wrong and how to fix it, and the field (or header) at fault when there is one."""

    error: str
    field: str | None = None


@dataclass(frozen=True)
class Header:
    """A request header an operation reads (checked by the view, which answers its own status)."""

    name: str
    required: bool
    description: str


@dataclass(frozen=True)
class Link:
    """An operation a client can call next with values from this answer (an OpenAPI link).

    ``parameters`` maps the next operation's parameters (``header.If-Match`` for a header) to runtime
    expressions such as ``$response.body#/id``.
    """

    endpoint: str
    parameters: dict[str, str]


@dataclass(frozen=True)
class Operation:
    """What one route takes and answers."""

    responses: dict[int, type[BaseModel] | None]
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    headers: tuple[Header, ...] = ()
    # Bodies that are not JSON (a raw page, a WordPress export): media types of one string.
    raw_body: tuple[str, ...] = ()
    links: dict[str, Link] | None = None
    # A multipart form (an upload): its fields, documented; the handler reads and checks the parts.
    form: type[BaseModel] | None = None


def field_name(loc: tuple) -> str:
    """A pydantic error location as the API names fields: ``authors[0].name``."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "body"


def _message(error: dict, model: type[BaseModel]) -> str:
    kind, msg = error["type"], error["msg"]
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        return "unknown field; known fields are " + ", ".join(sorted(f.alias or n for n, f in model.model_fields.items()))
    if kind == "string_type":
        return f"must be a string, not {type(error['input']).__name__}"
    if kind == "model_type" or kind == "dict_type":
        return "must be an object"
    ctx = error.get("ctx", {})
    if kind == "string_too_long":
        return f"is longer than {ctx['max_length']} characters; shorten it"
    if kind == "string_too_short":
        return "is required" if ctx.get("min_length") == 1 else f"needs at least {ctx['min_length']} characters"
    if kind == "too_long":
        return f"has more than {ctx['max_length']} entries; send at most {ctx['max_length']}"
    if kind == "too_short":
        return f"needs at least {ctx['min_length']} entries"
    if kind == "string_pattern_mismatch" and ctx["pattern"] in (ONE_LINE, NAME):
        return single_line_problem(str(error["input"])) or "is required"
    if kind == "string_pattern_mismatch":
        return f"{str(error['input'])[:40]!r} does not have the expected form ({ctx['pattern']})"
    msg = msg.removeprefix("Value error, ")
    return "must be " + msg.removeprefix("Input should be ") if msg.startswith("Input should be ") else msg


def validate(model: type[BaseModel], data: Any, *, prefix: str = ""):
    """``data`` as ``model``, or InvalidInput (422) naming the first field at fault and what it must be."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        raise InvalidInput(prefix + field_name(first["loc"]), _message(first, model)) from None


def operation(*, responses: dict[int, type[BaseModel] | None], body: type[BaseModel] | None = None,
              query: type[BaseModel] | None = None, headers: tuple[Header, ...] = (),
              raw_body: tuple[str, ...] = (), check_body: bool = True, links: dict[str, Link] | None = None,
              form: type[BaseModel] | None = None) -> Callable:
    """Declare a route's contract; its query (``g.query``) and JSON body (``g.body``) are validated before it runs.

    ``check_body=False`` for signed webhooks: the body is validated by the handler, after the signature.
    ``links`` name what a client can do next with a successful answer. ``form`` documents a multipart
    upload, whose parts the handler checks (file bytes are judged by content, not by a schema).
    """
    op = Operation(responses=responses, body=body, query=query, headers=headers, raw_body=raw_body, links=links,
                   form=form)

    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            if query is not None:
                g.query = validate(query, request.args.to_dict())
            if body is not None and check_body:
                g.body = validate(body, json_body())
            return view(*args, **kwargs)

        wrapper.openapi = op
        return wrapper

    return decorate


def _path(rule: str) -> tuple[str, list[dict]]:
    params = []
    for m in _RULE_ARG.finditer(rule):
        schema = {"type": "integer"} if m["converter"] == "int" else {"type": "string"}
        params.append({"name": m["name"], "in": "path", "required": True, "schema": schema})
    return _RULE_ARG.sub(lambda m: "{" + m["name"] + "}", rule), params


def _inline(node, defs: dict):
    """``node`` with its ``$ref``s to ``defs`` replaced by what they name (query parameters stand alone)."""
    if isinstance(node, dict):
        if "$ref" in node:
            return _inline(defs[node["$ref"].rsplit("/", 1)[1]], defs)
        return {k: _inline(v, defs) for k, v in node.items()}
    if isinstance(node, list):
        return [_inline(v, defs) for v in node]
    return node


def _query_params(model: type[BaseModel]) -> list[dict]:
    schema = model.model_json_schema()
    required = set(schema.get("required", ()))
    out = []
    for name, prop in schema.get("properties", {}).items():
        prop = _inline(prop, schema.get("$defs", {}))
        # A query argument is absent or text: "null" is not something a client can send.
        if "anyOf" in prop:
            branches = [b for b in prop.pop("anyOf") if b.get("type") != "null"]
            prop.update(branches[0] if len(branches) == 1 else {"anyOf": branches})
        if prop.get("default") is None:
            prop.pop("default", None)
        description = prop.pop("description", None)
        prop.pop("title", None)
        param = {"name": name, "in": "query", "required": name in required, "schema": prop}
        if description:
            param["description"] = description
        out.append(param)
    return out


def _summary(view: Callable) -> tuple[str, str]:
    doc = (view.__doc__ or "").strip()
    first, _, rest = doc.partition("\n")
    return first.strip(), " ".join(line.strip() for line in rest.splitlines() if line.strip())


def _content(model: type[BaseModel] | None) -> dict:
    if model is None:
        return {}
    return {"content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{model.__name__}"}}}}


def document(app: Flask, *, title: str, version: str, description: str) -> dict:
    """The OpenAPI 3.1 document of ``app``: every route declared with ``operation``."""
    paths: dict[str, dict] = {}
    models: set[type[BaseModel]] = {Error}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        view = app.view_functions[rule.endpoint]
        op: Operation | None = getattr(view, "openapi", None)
        if op is None:
            continue
        path, params = _path(rule.rule)
        for method in sorted(set(rule.methods) - {"HEAD", "OPTIONS"}):
            paths.setdefault(path, {})[method.lower()] = _operation(rule, view, op, params, models)
    schemas = _schemas(models)
    return {
        "openapi": OPENAPI_VERSION,
        "info": {"title": title, "version": version, "description": description},
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {BEARER: {
                "type": "http", "scheme": "bearer",
                "description": "the API token (acts as admin) or, on ingest, a personal token (acts with its user's role)"}},
        },
    }


def _operation(rule, view: Callable, op: Operation, path_params: list[dict], models: set) -> dict:
    summary, description = _summary(view)
    auth = getattr(view, "pipeline_auth", ("none", ""))[0]
    params = list(path_params)
    if op.query is not None:
        params += _query_params(op.query)
    params += [{"name": h.name, "in": "header", "required": h.required, "description": h.description,
                "schema": {"type": "string"}} for h in op.headers]
    out: dict = {"operationId": rule.endpoint.replace(".", "_"), "summary": summary, "tags": [rule.endpoint.split(".")[0]]}
    if description:
        out["description"] = description
    if params:
        out["parameters"] = params
    if op.body is not None:
        models.add(op.body)
        out["requestBody"] = {"required": True, **_content(op.body)}
    elif op.raw_body:
        out["requestBody"] = {"required": True, "content": {t: {"schema": {"type": "string"}} for t in op.raw_body}}
    elif op.form is not None:
        out["requestBody"] = {"required": True, "content": {"multipart/form-data": {"schema": op.form.model_json_schema()}}}
    responses = {}
    for status, model in sorted(op.responses.items()):
        if model is not None:
            models.add(model)
        responses[str(status)] = {"description": _STATUS.get(status, "success"), **_content(model)}
        if op.links:
            responses[str(status)]["links"] = {
                name: {"operationId": link.endpoint.replace(".", "_"), "parameters": link.parameters}
                for name, link in op.links.items()}
    responses["4XX"] = {"description": "refused: the answer says what is wrong, and names the field or header at fault",
                        **_content(Error)}
    # Answered by the HTTP server (gunicorn) before the app sees the request, so as its HTML page.
    responses["414"] = {"description": "the request line (path and query) is longer than the HTTP server's limit "
                                       "of 4094 bytes", "content": {"text/html": {"schema": {"type": "string"}}}}
    out["responses"] = responses
    out["security"] = [{BEARER: []}] if auth == "bearer token" else []
    return out


_STATUS = {200: "OK", 201: "created", 202: "accepted: the pipeline carries on"}


def _schemas(models: set[type[BaseModel]]) -> dict:
    ordered = sorted(models, key=lambda m: m.__name__)
    _, top = models_json_schema([(m, "validation") for m in ordered], ref_template="#/components/schemas/{model}")
    return dict(sorted(top.get("$defs", {}).items()))


DESCRIPTION = ("The {service} service's JSON API. Routes under /api take a bearer token; routes under /webhooks "
               "take a Standard Webhooks signature made with INBOUND_WEBHOOK_SECRET instead. Every refusal is "
               "JSON {{error, field}}: what is wrong, the field or header at fault, and how to fix it.")


def contract_blueprint(service: str) -> Blueprint:
    """``GET /openapi.json``: the service's API contract, public (it holds shapes, no data)."""
    bp = Blueprint("contract", __name__)

    @bp.get("/openapi.json")
    @public("the OpenAPI document: shapes of requests and answers, no data")
    def openapi_json():
        """The OpenAPI 3.1 document of this service's JSON API."""
        cached = current_app.extensions.get("pipeline_openapi")
        if cached is None:
            cached = current_app.extensions["pipeline_openapi"] = document(
                current_app, title=f"{service} API", version=__version__, description=DESCRIPTION.format(service=service))
        return jsonify(cached)

    return bp
