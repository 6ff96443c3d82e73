"""Throttling of failed logins and failed bearer tokens, counted in Redis with the ``limits`` library.

A key (an account, a client address) that failed too often in the window gets 429 with
``Retry-After`` until the window passes: someone else's guessing delays an account for one window,
never locks it for good. Counters are short-lived Redis keys, the kind of thing Redis is for here.
"""
from __future__ import annotations

import logging
import math
import time

from limits import RateLimitItem, parse
from limits.errors import StorageError
from redis.exceptions import RedisError
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter

from shared.errors import ApiError

log = logging.getLogger(__name__)


class TooManyAttempts(ApiError):
    """Too many failures for one key (429); ``retry_after`` says when to try again."""

    def __init__(self, message: str, retry_after: int):
        super().__init__(429, message, retry_after_seconds=retry_after)
        self.retry_after = retry_after


class Throttle:
    """Failures per key in a fixed window (``"10 per 5 minutes"``), shared by every process through Redis."""

    def __init__(self, redis_url: str, rule: str, namespace: str):
        self.item: RateLimitItem = parse(rule)
        self.namespace = namespace
        self.limiter = FixedWindowRateLimiter(storage_from_string(redis_url, socket_timeout=2))

    def check(self, **keys: str) -> None:
        """Raise TooManyAttempts when any of ``keys`` (kind=value) used up its failures.

        When Redis does not answer, nothing is throttled (logged): logins and API calls keep working
        through a Redis outage, as the rest of the pipeline does.
        """
        for kind, value in keys.items():
            try:
                allowed = not value or self.limiter.test(self.item, self.namespace, kind, value)
                reset = None if allowed else self.limiter.get_window_stats(self.item, self.namespace, kind, value).reset_time
            except (RedisError, StorageError) as exc:
                log.error("throttle %s unavailable (%s); not throttling", self.namespace, exc)
                return
            if not allowed:
                wait = max(1, math.ceil(reset - time.time()))
                log.warning("throttled: %s %s=%s for %d s", self.namespace, kind, value, wait)
                raise TooManyAttempts(f"too many failed attempts for this {kind}; try again in {wait} s", wait)

    def fail(self, **keys: str) -> None:
        """Count one failure against each of ``keys``."""
        try:
            for kind, value in keys.items():
                if value:
                    self.limiter.hit(self.item, self.namespace, kind, value)
        except (RedisError, StorageError) as exc:
            log.error("throttle %s unavailable (%s); this failure was not counted", self.namespace, exc)
        log.warning("failed %s: %s", self.namespace, ", ".join(f"{k}={v}" for k, v in keys.items()))
