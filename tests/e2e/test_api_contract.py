"""Schemathesis over the four live services' ``/openapi.json``: no answer >= 500, every answer as documented.

The stack is the real one (``tests/stack.py``: the Procfile's processes). For every operation of every
document, Schemathesis generates requests that fit the declarations (positive) and requests that break
them (negative: wrong types, missing fields, out-of-range numbers, malformed date-times), sends them
with the stack's bearer token (webhook bodies signed with its ``INBOUND_WEBHOOK_SECRET``, so they
reach the handlers), and checks each answer: not a server error, a documented status, a documented
content type and a body that matches its schema. A stateful run then chains operations through the
links Schemathesis finds (create an article, read it, edit it, move it). Every failure of every
operation is collected and reported together.

``FUZZ_EXAMPLES`` (default 25) sets the examples per operation and generation mode; the stateful run
takes ``FUZZ_EXAMPLES`` scenarios of up to 6 steps.
"""
from __future__ import annotations

import json
import os
import uuid
from collections import Counter
from datetime import datetime, timezone

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import FlakyStrategyDefinition
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (content_type_conformance, negative_data_rejection,
                                               response_schema_conformance, status_code_conformance)
from standardwebhooks.webhooks import Webhook

from shared.config import SERVICES
from tests.helpers import start_receiver, wait_for

pytestmark = pytest.mark.integration

MAX_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "25"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          negative_data_rejection]
# Answers by service, operation and status class: printed (pytest -s) and checked to reach the handlers.
TALLY: Counter = Counter()
SETTINGS = settings(max_examples=MAX_EXAMPLES, deadline=None, database=None, derandomize=True,
                    phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))


def send(stack, base: str, case):
    """Send one generated request with the stack's token (webhook bodies signed the way partners sign them)."""
    response = _send(stack, base, case)
    TALLY[(base, case.operation.label, f"{response.status_code // 100}xx")] += 1
    return response


def _send(stack, base: str, case):
    headers = {"Authorization": f"Bearer {stack.token}"}
    signing = {"webhook-id", "webhook-timestamp", "webhook-signature"}
    # A case that leaves a signature header out (negative) is sent unsigned, as generated.
    if (case.path.startswith("/webhooks/") and case.media_type == "application/json" and case.body is not None
            and signing <= {name.lower() for name in (case.headers or {})}):
        # Negative cases may carry bytes that are not JSON at all; they are signed and sent as they are.
        raw = case.body if isinstance(case.body, bytes) else json.dumps(case.body).encode()
        msg_id = f"msg_{uuid.uuid4().hex}"
        now = datetime.now(timezone.utc)
        signature = Webhook(stack.settings.inbound_webhook_secret).sign(msg_id, now, raw.decode("utf-8", "replace"))
        signed = {"webhook-id": msg_id, "webhook-timestamp": str(int(now.timestamp())), "webhook-signature": signature}
        kept = {k: v for k, v in (case.headers or {}).items() if k.lower() not in signing}
        return requests.post(base + case.formatted_path, data=raw, timeout=30,
                             headers={**kept, **headers, **signed, "Content-Type": "application/json"})
    return case.call(base_url=base, headers=headers, timeout=30)


@pytest.fixture(scope="module", autouse=True)
def fuzzed_subscriptions_disabled_afterwards(stack):
    """The fuzzer creates subscriptions to made-up hosts; they are disabled when it is done, so the tests that
    share the stack afterwards do not wait behind deliveries to addresses that never answer."""
    before = {s["id"] for s in stack.api("notification", "GET", "/api/subscriptions").json()["subscriptions"]}
    yield
    for sub in stack.api("notification", "GET", "/api/subscriptions").json()["subscriptions"]:
        if sub["id"] not in before and sub.get("enabled"):
            resp = stack.api("notification", "PATCH", f"/api/subscriptions/{sub['id']}", json={"enabled": False})
            assert resp.status_code == 200, resp.text


@pytest.fixture(scope="module")
def known(stack):
    """Rows the generated requests can name (path parameters), so they reach past a 404: an article with
    its translation group, an account, a subscription to a loopback receiver and one delivery to it."""
    receiver = start_receiver()
    article = stack.api("ingest", "POST", "/api/articles", json={
        "lang": "en", "title": "Rivers that cross borders", "body": "Two provinces share one river.[1]",
        "author": {"name": "A. Writer"}, "references": [{"title": "A source", "url": "https://example.org/a"}]}).json()
    wait_for(lambda: stack.api("translation_status", "GET", f"/api/groups/{article['group_id']}").ok,
             timeout=30, message="the translation group exists")
    user = stack.api("ingest", "POST", "/api/users", json={"email": f"fuzz-{uuid.uuid4().hex[:8]}@example.org",
                                                          "password": "long enough password", "role": "author"}).json()
    sub = stack.api("notification", "POST", "/api/subscriptions", json={
        "url": receiver.url + "/fuzz", "events": ["article.published"]}).json()
    test = stack.api("notification", "POST", f"/api/subscriptions/{sub['id']}/test").json()
    yield {"article_id": [article["id"]], "group_id": [article["group_id"]], "lang": ["tr", "ru"],
           "email": [user["email"]], "subscription_id": [sub["id"]], "delivery_id": [test["delivery_id"]]}
    receiver.close()


def cases(operation, mode: GenerationMode, known: dict):
    """Generated requests; half of those with path parameters name known rows instead of random ones."""
    free = operation.as_strategy(generation_mode=mode)
    names = [p.name for p in operation.path_parameters]
    if not names or not all(name in known for name in names):
        return free
    return st.one_of(free, st.fixed_dictionaries({n: st.sampled_from(known[n]) for n in names}).flatmap(
        lambda values: operation.as_strategy(generation_mode=mode, path_parameters=values)))


def load(base: str):
    """A service's document, with gunicorn's 414 (a request line over its limit, answered before the app) counted
    as a refusal of invalid data: an over-long query value can only be refused there."""
    schema = schemathesis.openapi.from_url(base + "/openapi.json")
    rejection = schema.config.checks.negative_data_rejection
    rejection.expected_statuses = [*rejection.expected_statuses, "414"]
    return schema


def failures_of(stack, service: str, mode: GenerationMode, known: dict) -> list[str]:
    """Every operation's failure (the first counterexample each) in one generation mode."""
    base = stack.url(service)
    schema = load(base)
    found = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=cases(operation, mode, known))
        @SETTINGS
        def run(case):
            case.validate_response(send(stack, base, case), checks=CHECKS)

        try:
            run()
        except Exception as exc:  # one entry per operation; the message holds the request to replay
            found.append(f"{mode.value} {operation.label}: {exc}")
    return found


@pytest.mark.parametrize("service", SERVICES)
def test_every_operation_answers_as_documented_and_never_5xx(stack, known, service):
    failures = [failure for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
                for failure in failures_of(stack, service, mode, known)]
    tally = {key[1:]: n for key, n in sorted(TALLY.items()) if key[0] == stack.url(service)}
    print(f"\n{service}: {sum(tally.values())} requests", *(f"  {op} {cls}: {n}" for (op, cls), n in tally.items()),
          sep="\n")
    assert not failures, "\n\n".join(failures)
    assert any(cls == "2xx" for _, cls in tally), "generated requests must get through to the handlers"


# rendering's API is one read-only operation: nothing to chain.
@pytest.mark.parametrize("service", ["ingest", "translation_status", "notification"])
def test_chained_operations_answer_as_documented(stack, service):
    base = stack.url(service)
    machine = load(base).as_state_machine()

    class Chained(machine):
        def call(self, case, **kwargs):
            return send(stack, base, case)

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            case.validate_response(response, checks=CHECKS)

    before = sum(n for key, n in TALLY.items() if key[0] == base)
    for attempt in range(3):
        try:
            Chained.run(settings=settings(SETTINGS, stateful_step_count=6, derandomize=False))
            break
        except FlakyStrategyDefinition:
            # Which links a run can follow depends on the live answers, so Hypothesis can find a replayed
            # choice no longer available and call its own strategy flaky; that says nothing of the API.
            # A fresh run (new seed) is drawn; a real failure of a check is raised as itself above.
            if attempt == 2:
                raise
    steps = {key[1:]: n for key, n in sorted(TALLY.items()) if key[0] == base}
    print(f"\n{service} (chained): {sum(steps.values()) - before} requests; by operation, with the runs before:",
          *(f"  {op} {cls}: {n}" for (op, cls), n in steps.items()), sep="\n")
