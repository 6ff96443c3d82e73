"""Worker metrics in Redis and their Prometheus exposition.

Worker metrics live in Redis hashes (``metrics:<service>:...``) rather than in each process's
memory: a SIGKILLed worker keeps its counts, any gunicorn worker of the service's web app can
answer a scrape, and no extra port per worker is needed. Every web app exposes its own service's
figures on ``GET /metrics`` (Prometheus text format, see ``shared.health``) by reading those hashes
at scrape time, plus live gauges (its queue's depth from ``LLEN``, its outbox backlog).

The Celery signal hooks here also carry the correlation id (``shared.logs``) into and out of tasks.
A failing metrics backend never breaks a task or a request: the failure is logged and the scrape
reports ``pipeline_metrics_backend_up 0``.
"""
from __future__ import annotations

import logging
import math
import os
import threading
import weakref
from typing import Callable, Iterable

import redis
from celery import Celery, signals
from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily

from shared import tasks
from shared.logs import CORRELATION_TASK_HEADER, configure_logging, correlation_id, current_task

log = logging.getLogger(__name__)

TASK_OUTCOMES = ("succeeded", "failed", "retried")
DELIVERY_OUTCOMES = ("succeeded", "retry", "gone", "exhausted", "cancelled", "skipped")
LATENCY_SERVICE = tasks.INGEST
DELIVERY_SERVICE = tasks.NOTIFICATION
# Publish-to-live latency buckets (seconds): tens of ms normally, minutes when a worker dies mid-task.
LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 1800.0, math.inf)
# Kombu's Redis transport keeps priority levels 3, 6 and 9 in sibling lists of the queue's list.
_PRIORITY_SEP, _PRIORITY_STEPS = "\x06\x16", (3, 6, 9)


# --- keys -----------------------------------------------------------------------------------------

def tasks_key(service: str) -> str:
    """The Redis hash of a service's task outcome counters (field ``<task>|<outcome>``)."""
    return f"metrics:{service}:tasks"


def latency_key() -> str:
    """The Redis hash of the publish-to-live histogram (per-bucket counts, sum, count)."""
    return f"metrics:{LATENCY_SERVICE}:publish_latency"


def deliveries_key() -> str:
    """The Redis hash of webhook delivery outcome counters."""
    return f"metrics:{DELIVERY_SERVICE}:webhook_deliveries"


def _le(bound: float) -> str:
    return "+Inf" if math.isinf(bound) else repr(float(bound))


# --- Redis client ---------------------------------------------------------------------------------

_clients: dict[str, redis.Redis] = {}
_clients_lock = threading.Lock()
_default_url: str | None = None


def set_metrics_redis(url: str) -> None:
    """Use ``url`` for metrics written by this process (called by ``instrument_worker``/``init_metrics``)."""
    global _default_url
    _default_url = url


def metrics_redis(url: str | None = None) -> redis.Redis:
    """The shared Redis client for metrics at ``url`` (short timeouts)."""
    url = url or _default_url or os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
    with _clients_lock:
        client = _clients.get(url)
        if client is None:
            # Short timeouts: a metric must never hold a task or a request for long.
            client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
            _clients[url] = client
        return client


# --- recording (workers) --------------------------------------------------------------------------

def count_task(service: str, task_name: str, outcome: str, *, url: str | None = None) -> None:
    """Add one to a task's outcome counter; a Redis failure is logged, never raised."""
    if outcome not in TASK_OUTCOMES:
        raise ValueError(f"outcome must be one of {TASK_OUTCOMES}, not {outcome!r}")
    try:
        metrics_redis(url).hincrby(tasks_key(service), f"{task_name}|{outcome}", 1)
    except redis.RedisError as exc:
        log.warning("metrics: could not count %s %s: %s", task_name, outcome, exc)


def observe_publish_latency(seconds: float, *, url: str | None = None) -> None:
    """Record one publish-to-live latency (seconds from the ``publish`` audit entry to ``rendered``)."""
    seconds = max(0.0, float(seconds))
    bucket = next(b for b in LATENCY_BUCKETS if seconds <= b)
    try:
        pipe = metrics_redis(url).pipeline(transaction=True)
        pipe.hincrby(latency_key(), f"b:{_le(bucket)}", 1)
        pipe.hincrbyfloat(latency_key(), "sum", seconds)
        pipe.hincrby(latency_key(), "count", 1)
        pipe.execute()
    except redis.RedisError as exc:
        log.warning("metrics: could not record a publish latency of %.3f s: %s", seconds, exc)


def count_delivery_outcome(outcome: str, *, url: str | None = None) -> None:
    """Add one to a webhook delivery outcome counter (unknown outcomes count as ``other``)."""
    label = outcome if outcome in DELIVERY_OUTCOMES else "other"
    try:
        metrics_redis(url).hincrby(deliveries_key(), label, 1)
    except redis.RedisError as exc:
        log.warning("metrics: could not count delivery outcome %s: %s", label, exc)


# --- Celery hooks ---------------------------------------------------------------------------------

_instrumented: "weakref.WeakKeyDictionary[Celery, str]" = weakref.WeakKeyDictionary()
_signals_connected = False
_signals_lock = threading.Lock()


def _service_of(task) -> str | None:
    app = getattr(task, "app", None) if task is not None else None
    return _instrumented.get(app) if app is not None else None


def _on_success(sender=None, **_):
    service = _service_of(sender)
    if service:
        count_task(service, sender.name, "succeeded", url=sender.app.conf.broker_url)


def _on_failure(sender=None, task_id=None, exception=None, **_):
    service = _service_of(sender)
    if service:
        count_task(service, sender.name, "failed", url=sender.app.conf.broker_url)


def _on_retry(sender=None, **_):
    service = _service_of(sender)
    if service:
        count_task(service, sender.name, "retried", url=sender.app.conf.broker_url)


def _on_prerun(sender=None, task_id=None, task=None, kwargs=None, **_):
    task = task or sender
    if _service_of(task) is None:
        return
    event = (kwargs or {}).get("event")
    cid = event.get("correlation_id") if isinstance(event, dict) else None
    cid = cid or getattr(task.request, CORRELATION_TASK_HEADER, None)
    # The threads pool runs one task at a time per thread, so plain sets (undone in postrun) suffice.
    correlation_id.set(cid if isinstance(cid, str) and cid else None)
    current_task.set((task.name, task_id or ""))


def _on_postrun(sender=None, task=None, **_):
    if _service_of(task or sender) is None:
        return
    correlation_id.set(None)
    current_task.set(None)


def _on_publish(sender=None, headers=None, **_):
    cid = correlation_id.get()
    if cid and isinstance(headers, dict):
        headers.setdefault(CORRELATION_TASK_HEADER, cid)


def connect_signals() -> None:
    """Hook task counting and correlation-id passing into Celery's signals (once per process)."""
    global _signals_connected
    with _signals_lock:
        if _signals_connected:
            return
        signals.task_success.connect(_on_success, weak=False, dispatch_uid="pipeline.metrics.success")
        signals.task_failure.connect(_on_failure, weak=False, dispatch_uid="pipeline.metrics.failure")
        signals.task_retry.connect(_on_retry, weak=False, dispatch_uid="pipeline.metrics.retry")
        signals.task_prerun.connect(_on_prerun, weak=False, dispatch_uid="pipeline.context.prerun")
        signals.task_postrun.connect(_on_postrun, weak=False, dispatch_uid="pipeline.context.postrun")
        signals.before_task_publish.connect(_on_publish, weak=False, dispatch_uid="pipeline.context.publish")
        _signals_connected = True


def instrument_worker(celery_app: Celery, service: str) -> Celery:
    """Count ``celery_app``'s task outcomes in Redis and carry correlation ids through its tasks."""
    if service not in tasks.QUEUES:
        raise ValueError(f"unknown service {service!r}; expected one of {tasks.QUEUES}")
    _instrumented[celery_app] = service
    set_metrics_redis(celery_app.conf.broker_url)
    connect_signals()

    # Celery configures logging only when nobody answers setup_logging: we answer with JSON logs.
    def _setup_logging(loglevel=None, **_):
        configure_logging(service, level=loglevel)

    signals.setup_logging.connect(_setup_logging, weak=False, dispatch_uid="pipeline.logging.setup")
    return celery_app



# --- exposition (web apps) ------------------------------------------------------------------------

def queue_depth(client: redis.Redis, queue: str) -> int:
    """Messages waiting in ``queue`` (all priority levels), not counting those a worker holds."""
    names = [queue] + [f"{queue}{_PRIORITY_SEP}{p}" for p in _PRIORITY_STEPS]
    pipe = client.pipeline(transaction=False)
    for name in names:
        pipe.llen(name)
    return sum(pipe.execute())


class PipelineCollector:
    """Reads one service's figures from Redis and its database at scrape time."""

    def __init__(self, service: str, redis_url: str, outbox_backlog: Callable[[], int]):
        self.service, self.redis_url, self.outbox_backlog = service, redis_url, outbox_backlog

    def collect(self) -> Iterable:
        backend_up = 1
        try:
            yield from self._from_redis(metrics_redis(self.redis_url))
        except redis.RedisError as exc:
            log.warning("metrics: Redis unreadable for %s's /metrics: %s", self.service, exc)
            backend_up = 0
        up = GaugeMetricFamily("pipeline_metrics_backend_up", "1 when the Redis holding metrics answered this scrape")
        up.add_metric([], backend_up)
        yield up
        try:
            backlog = self.outbox_backlog()
        except Exception as exc:  # the database being down is a figure to report, not a crash
            log.warning("metrics: outbox backlog of %s unreadable: %s", self.service, exc)
        else:
            gauge = GaugeMetricFamily("pipeline_outbox_pending", "Outbox events committed but not yet sent",
                                      labels=["service"])
            gauge.add_metric([self.service], backlog)
            yield gauge

    def _from_redis(self, client: redis.Redis) -> Iterable:
        pipe = client.pipeline(transaction=False)
        pipe.hgetall(tasks_key(self.service))
        for name in [self.service] + [f"{self.service}{_PRIORITY_SEP}{p}" for p in _PRIORITY_STEPS]:
            pipe.llen(name)
        pipe.hlen("unacked")
        pipe.hgetall(latency_key())
        pipe.hgetall(deliveries_key())
        counts, *rest = pipe.execute()
        depths, unacked, latency, deliveries = rest[:4], rest[4], rest[5], rest[6]
        families = []

        tasks_total = CounterMetricFamily("pipeline_tasks", "Celery tasks finished by this service's worker",
                                          labels=["service", "task", "outcome"])
        for field, value in sorted(counts.items()):
            task_name, _, outcome = field.decode().rpartition("|")
            tasks_total.add_metric([self.service, task_name, outcome], int(value))
        families.append(tasks_total)

        depth = GaugeMetricFamily("pipeline_queue_depth", "Messages waiting in the service's queue",
                                  labels=["queue"])
        depth.add_metric([self.service], sum(depths))
        families.append(depth)
        held = GaugeMetricFamily("pipeline_broker_unacked", "Messages held by workers, not yet acknowledged "
                                 "(every queue of the broker; restored after the visibility timeout)")
        held.add_metric([], unacked)
        families.append(held)

        if self.service == LATENCY_SERVICE:
            data = {k.decode(): v.decode() for k, v in latency.items()}
            cumulative, buckets = 0, []
            for bound in LATENCY_BUCKETS:
                cumulative += int(data.get(f"b:{_le(bound)}", 0))
                buckets.append((_le(bound), cumulative))
            hist = HistogramMetricFamily("pipeline_publish_latency_seconds",
                                         "Seconds from the publish request to the page being live")
            hist.add_metric([], buckets, sum_value=float(data.get("sum", 0)))
            families.append(hist)
        if self.service == DELIVERY_SERVICE:
            data = {k.decode(): int(v) for k, v in deliveries.items()}
            outcomes = CounterMetricFamily("pipeline_webhook_deliveries", "Webhook delivery attempts by outcome",
                                           labels=["outcome"])
            for label in DELIVERY_OUTCOMES + ("other",):
                outcomes.add_metric([label], data.get(label, 0))
            families.append(outcomes)
        yield from families


def metrics_registry(service: str, redis_url: str, outbox_backlog: Callable[[], int]) -> CollectorRegistry:
    """A registry (one per app, so several apps can live in one process) with the pipeline collector."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(PipelineCollector(service, redis_url, outbox_backlog))
    return registry

