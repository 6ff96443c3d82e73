"""What the chaos tests check: every article published, its page served, its webhook received under one id."""
from __future__ import annotations

import json
import statistics
import time
from collections import defaultdict
from dataclasses import dataclass, field

import redis
import requests
from celery import Celery
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from shared import tasks

LANGS = ("en", "tr", "ru")


def create_articles(stack, n: int, prefix: str) -> list[dict]:
    """Create ``n`` drafts through the API (idempotent keys, so a retried call makes no twin)."""
    made = []
    for i in range(n):
        resp = stack.api("ingest", "POST", "/api/articles", headers={"Idempotency-Key": f"{prefix}-{i}"}, json={
            "lang": LANGS[i % len(LANGS)], "title": f"{prefix} article {i}",
            "body": f"Paragraph {i} of the {prefix} run.[1]", "author": {"name": "C. Haos"},
            "references": [{"title": "A source", "url": "https://example.org/source"}]})
        assert resp.status_code == 201, resp.text
        made.append(resp.json())
    return made


def publish(stack, article_id: str) -> tuple[int, float]:
    """Ask for ``publish``; return the status code and how long the request took."""
    started = time.monotonic()
    resp = stack.api("ingest", "POST", f"/api/articles/{article_id}/transitions", json={"action": "publish"})
    return resp.status_code, time.monotonic() - started


def subscribe(stack, url: str) -> dict:
    """Subscribe ``url`` to article.published; the answer carries the signing secret."""
    resp = stack.api("notification", "POST", "/api/subscriptions", json={"url": url, "events": ["article.published"]})
    assert resp.status_code == 201, resp.text
    return resp.json()


@dataclass
class Report:
    """The outcome for a set of articles; ``lost`` is every article that missed any check."""

    articles: int
    not_published: list = field(default_factory=list)
    pages_missing: list = field(default_factory=list)
    webhooks_missing: list = field(default_factory=list)
    distinct_id_duplicates: int = 0   # an article delivered under more than one webhook-id
    same_id_repeats: int = 0          # extra deliveries that kept the webhook-id (allowed)
    bad_signatures: int = 0
    states: dict = field(default_factory=dict)  # state -> count, over every checked article

    @property
    def lost(self) -> set:
        return set(self.not_published) | set(self.pages_missing) | set(self.webhooks_missing)

    @property
    def ok(self) -> bool:
        return not self.lost and self.distinct_id_duplicates == 0 and self.bad_signatures == 0

    def summary(self) -> str:
        return (f"articles={self.articles} not_published={len(self.not_published)} "
                f"pages_missing={len(self.pages_missing)} webhooks_missing={len(self.webhooks_missing)} "
                f"duplicate_deliveries_with_distinct_ids={self.distinct_id_duplicates} "
                f"same_id_repeats={self.same_id_repeats} bad_signatures={self.bad_signatures} states={self.states}")


def check(stack, article_ids: list[str], receiver, path: str, secret: str, pages: bool = True) -> Report:
    """Check every article once, against ingest's API, the public site and what the receiver got."""
    report = Report(len(article_ids))
    urls = {}
    for article_id in article_ids:
        body = stack.api("ingest", "GET", f"/api/articles/{article_id}").json()
        report.states[body.get("state")] = report.states.get(body.get("state"), 0) + 1
        if body.get("state") != "published":
            report.not_published.append(article_id)
        urls[article_id] = body.get("public_url")
    if pages:
        for article_id, url in urls.items():
            if not url or requests.get(url, timeout=10).status_code != 200:
                report.pages_missing.append(article_id)
    ids_by_article: dict[str, set] = defaultdict(set)
    hits_by_article: dict[str, int] = defaultdict(int)
    wanted = set(article_ids)
    for hit in receiver.for_path(path):
        payload = json.loads(hit.body)
        article_id = payload.get("data", {}).get("article_id")
        if payload.get("type") != "article.published" or article_id not in wanted:
            continue
        try:
            Webhook(secret).verify(hit.body, hit.headers)
        except WebhookVerificationError:
            report.bad_signatures += 1
        ids_by_article[article_id].add(hit.headers.get("webhook-id"))
        hits_by_article[article_id] += 1
    report.webhooks_missing = [a for a in article_ids if a not in ids_by_article]
    report.distinct_id_duplicates = sum(len(ids) - 1 for ids in ids_by_article.values())
    report.same_id_repeats = sum(hits_by_article[a] - len(ids) for a, ids in ids_by_article.items())
    return report


def settle(stack, article_ids, receiver, path, secret, timeout: float, pages: bool = True) -> tuple[Report, float]:
    """Re-check until everything arrived or ``timeout`` passed; return the last report and the seconds waited."""
    started = time.monotonic()
    while True:
        # The cheap checks first; pages only once every article says published.
        report = check(stack, article_ids, receiver, path, secret, pages=False)
        if not report.lost and pages:
            report = check(stack, article_ids, receiver, path, secret, pages=True)
        if report.ok or time.monotonic() - started > timeout:
            return report, time.monotonic() - started
        time.sleep(1.0)


def percentiles(values: list[float]) -> str:
    """p50/p90/max of ``values`` in seconds, for printing."""
    if not values:
        return "n/a"
    ordered = sorted(values)
    p90 = ordered[min(len(ordered) - 1, int(round(0.9 * (len(ordered) - 1))))]
    return f"p50 {statistics.median(ordered):.3f} s, p90 {p90:.3f} s, max {ordered[-1]:.3f} s"


def scrape(stack, service: str) -> str:
    """The service's /metrics text (empty when it does not answer)."""
    try:
        return requests.get(stack.url(service) + "/metrics", timeout=10).text
    except requests.RequestException as exc:
        return f"# unreachable: {exc}"


def probe_queues(redis_url: str, timeout: float) -> dict[str, float]:
    """Send a harmless relay task to every service's queue; return when each was taken (monotonic)."""
    app = Celery("chaos-probe", broker=redis_url, set_as_current=False)
    app.conf.update(task_serializer="json", accept_content=["json"])
    client = redis.Redis.from_url(redis_url)
    # A periodic sweep of each service: harmless to run once more (notification has no outbox to relay).
    probes = dict(tasks.RELAY_TASKS, **{tasks.NOTIFICATION: tasks.SWEEP_DELIVERIES})
    for service, task_name in probes.items():
        app.send_task(task_name, queue=service)
    taken: dict[str, float] = {}
    deadline = time.monotonic() + timeout
    try:
        while len(taken) < len(probes) and time.monotonic() < deadline:
            for service in probes:
                # FIFO lists: once the queue is empty, our probe has been taken by that service's worker.
                if service not in taken and client.llen(service) == 0:
                    taken[service] = time.monotonic()
            time.sleep(0.05)
    finally:
        client.close()
    return taken
