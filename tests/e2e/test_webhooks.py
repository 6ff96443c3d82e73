"""Outbound webhooks against a real loopback receiver: retries on schedule, 410, redirects, replay, SSRF."""
from __future__ import annotations

import json

import pytest
from standardwebhooks.webhooks import Webhook

from tests.helpers import wait_for

pytestmark = pytest.mark.integration


def _publish(stack, title):
    art = stack.api("ingest", "POST", "/api/articles", json={
        "lang": "en", "title": title, "body": "Body.", "author": {"name": "W. Riter"}}).json()
    assert stack.api("ingest", "POST", f"/api/articles/{art['id']}/transitions", json={"action": "publish"}).status_code == 202
    return art


def _subscribe(stack, url):
    resp = stack.api("notification", "POST", "/api/subscriptions", json={"url": url, "events": ["article.published"]})
    assert resp.status_code == 201, resp.text
    return resp.json()


def _deliveries(stack, sub_id):
    return stack.api("notification", "GET", f"/api/deliveries?subscription_id={sub_id}").json()["deliveries"]


def test_failing_receiver_gets_retries_with_the_same_id(stack, receiver):
    sub = _subscribe(stack, receiver.url + "/flaky")
    receiver.responses.extend([(500, {}), (502, {}), (500, {})])
    art = _publish(stack, "Retry Schedule Check")
    hits = wait_for(lambda: len(receiver.for_path("/flaky")) >= 4 and receiver.for_path("/flaky"), timeout=40,
                    message="four attempts")
    assert len({h.headers["webhook-id"] for h in hits}) == 1, "retries keep the webhook-id"
    for hit in hits:
        Webhook(sub["secret"]).verify(hit.body, hit.headers)  # every attempt is signed afresh and verifies
    assert json.loads(hits[-1].body)["data"]["article_id"] == art["id"]
    gaps = [b.at - a.at for a, b in zip(hits, hits[1:])]
    assert gaps[1] >= 0.25, f"the second retry waits the scaled 5-minute step (0.3 s here): {gaps}"
    log = wait_for(lambda: (d := _deliveries(stack, sub["id"])) and d[0]["status"] == "succeeded" and d, timeout=10,
                   message="delivery succeeded")
    assert [a["status_code"] for a in log[0]["attempt_log"]] == [500, 502, 500, 200]
    assert all(a["latency_ms"] is not None for a in log[0]["attempt_log"])


def test_410_disables_the_subscription(stack, receiver):
    sub = _subscribe(stack, receiver.url + "/gone")
    receiver.responses.append((410, {}))
    _publish(stack, "Gone Receiver Check")
    wait_for(lambda: receiver.for_path("/gone"), timeout=20, message="first attempt")
    subs = wait_for(lambda: [s for s in stack.api("notification", "GET", "/api/subscriptions").json()["subscriptions"]
                             if s["id"] == sub["id"] and not s["enabled"]], timeout=10, message="disabled")
    assert "410" in subs[0]["disabled_reason"]
    _publish(stack, "After Gone Check")
    import time
    time.sleep(2)
    assert len(receiver.for_path("/gone")) == 1, "a disabled subscription receives nothing more"


def test_redirect_is_not_followed_and_replay_keeps_the_id(stack, receiver):
    sub = _subscribe(stack, receiver.url + "/moved")
    receiver.responses.append((302, {"Location": receiver.url + "/elsewhere"}))
    _publish(stack, "Redirect Check")
    first = wait_for(lambda: len(receiver.for_path("/moved")) >= 2 and receiver.for_path("/moved"), timeout=20,
                     message="retry after the redirect")
    assert receiver.for_path("/elsewhere") == [], "the redirect target was never called"
    delivery = wait_for(lambda: (d := _deliveries(stack, sub["id"])) and d[0]["status"] == "succeeded" and d[0],
                        timeout=10, message="succeeded")
    assert "redirect 302 not followed" in delivery["attempt_log"][0]["error"]

    resp = stack.api("notification", "POST", f"/api/deliveries/{delivery['id']}/replay")
    assert resp.status_code == 202
    hits = wait_for(lambda: len(receiver.for_path("/moved")) >= 3 and receiver.for_path("/moved"), timeout=20,
                    message="replayed delivery")
    assert hits[-1].headers["webhook-id"] == first[0].headers["webhook-id"] == delivery["webhook_id"]
    assert stack.api("notification", "POST", "/api/deliveries/nope/replay").status_code == 404


@pytest.mark.parametrize("url", ["http://10.0.0.1/x", "http://169.254.169.254/", "http://[::ffff:192.168.0.1]/",
                                 "http://100.64.0.1/", "file:///etc/passwd"])
def test_private_targets_refused_at_subscription_time(stack, url):
    resp = stack.api("notification", "POST", "/api/subscriptions", json={"url": url, "events": ["article.published"]})
    assert resp.status_code == 422 and resp.json()["field"] == "url"


def test_worker_killed_mid_send_repeats_with_the_same_id(stack, receiver):
    import signal

    sub = _subscribe(stack, receiver.url + "/slow")
    receiver.responses.append((200, {}, 2.0))  # the first attempt hangs while the worker dies
    _publish(stack, "Killed Mid Send Check")
    wait_for(lambda: receiver.for_path("/slow"), timeout=20, message="first attempt in flight")
    stack.stop("notification_worker", sig=signal.SIGKILL)
    stack.start("notification_worker")
    delivery = wait_for(lambda: (d := _deliveries(stack, sub["id"])) and d[0]["status"] == "succeeded" and d[0],
                        timeout=60, message="delivery completed after the kill")
    hits = receiver.for_path("/slow")
    assert len(hits) >= 2, "the lost attempt was repeated"
    assert {h.headers["webhook-id"] for h in hits} == {delivery["webhook_id"]}


def test_subscription_api_test_event_rotation_and_patch(stack, receiver):
    sub = _subscribe(stack, receiver.url + "/api-test")
    resp = stack.api("notification", "POST", f"/api/subscriptions/{sub['id']}/test")
    assert resp.status_code == 202
    hit = wait_for(lambda: receiver.for_path("/api-test"), timeout=20, message="test event")[0]
    assert Webhook(sub["secret"]).verify(hit.body, hit.headers)["type"] == "webhook.test"

    rotated = stack.api("notification", "POST", f"/api/subscriptions/{sub['id']}/rotate-secret").json()
    assert rotated["secret"].startswith("whsec_") and rotated["secret"] != sub["secret"] and rotated["rotation_ends_at"]
    assert "secret" not in stack.api("notification", "GET", f"/api/subscriptions/{sub['id']}").json()

    resp = stack.api("notification", "PATCH", f"/api/subscriptions/{sub['id']}", json={"enabled": False})
    assert resp.status_code == 200 and resp.json()["enabled"] is False
    resp = stack.api("notification", "PATCH", f"/api/subscriptions/{sub['id']}", json={"languages": ["xx"]})
    assert resp.status_code == 422 and resp.json()["field"] == "languages"
    resp = stack.api("notification", "PATCH", f"/api/subscriptions/{sub['id']}", json={"secret": "mine"})
    assert resp.status_code == 422
    assert stack.api("notification", "POST", "/api/subscriptions/nope/test").status_code == 404
    resp = stack.api("notification", "POST", "/api/deliveries/replay", json={"since": "2026-01-01T00:00:00+00:00"})
    assert resp.status_code == 422 and resp.json()["field"] == "until"
