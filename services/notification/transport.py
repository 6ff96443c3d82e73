"""The HTTP transport of webhook deliveries: one POST to a pinned, checked address, never following redirects."""
from __future__ import annotations

from datetime import timezone
from email.utils import parsedate_to_datetime

import certifi
import urllib3

from shared.events import utcnow

SNIPPET_BYTES = 1024
USER_AGENT = "policy-pipeline-webhooks/0.1"


def post_signed(target, body: str, headers: dict, timeout: float) -> tuple[int, str, dict]:
    """POST to the pinned address without following redirects; return status, body snippet, headers."""
    pool_kwargs = {"timeout": urllib3.Timeout(total=timeout), "retries": False, "maxsize": 1}
    if target.scheme == "https":
        pool = urllib3.HTTPSConnectionPool(
            target.ip, target.port, server_hostname=target.host, assert_hostname=target.host,
            cert_reqs="CERT_REQUIRED", ca_certs=certifi.where(), **pool_kwargs)
    else:
        pool = urllib3.HTTPConnectionPool(target.ip, target.port, **pool_kwargs)
    try:
        response = pool.urlopen("POST", target.path, body=body.encode("utf-8"), headers=dict(headers, Host=target.host_header),
                                redirect=False, retries=False, preload_content=False, assert_same_host=False)
        snippet = response.read(SNIPPET_BYTES, decode_content=True).decode("utf-8", "replace")
        response.release_conn()
        return response.status, snippet, dict(response.headers)
    finally:
        pool.close()


def retry_after_seconds(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (seconds or an HTTP date); None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - utcnow()).total_seconds())
