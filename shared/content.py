"""Validation rules for article content that more than one service applies (ingest, translation_status)."""
from __future__ import annotations

from datetime import date
from urllib.parse import urlparse

MAX_REFERENCES = 200


class InvalidInput(ValueError):
    """A field of the input is wrong; ``field`` names it and the message says how to fix it."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field, self.message = field, message


def text_field(data: dict, name: str, *, required: bool, max_len: int, default: str = "") -> str:
    """A stripped string field of ``data``, or InvalidInput naming it and the limit."""
    value = data.get(name, None)
    if value is None:
        if required:
            raise InvalidInput(name, "is required")
        return default
    if not isinstance(value, str):
        raise InvalidInput(name, f"must be a string, not {type(value).__name__}")
    value = value.strip()
    if required and not value:
        raise InvalidInput(name, "must not be empty")
    if len(value) > max_len:
        raise InvalidInput(name, f"is {len(value)} characters; the limit is {max_len}")
    return value


def parse_references(refs, where_prefix: str = "references") -> list[dict]:
    """Validate a reference list: each needs a title, URL or note; URLs http(s); dates ISO."""
    if not isinstance(refs, list):
        raise InvalidInput(where_prefix, "must be a list of objects")
    if len(refs) > MAX_REFERENCES:
        raise InvalidInput(where_prefix, f"at most {MAX_REFERENCES} references")
    out = []
    for i, ref in enumerate(refs):
        where = f"{where_prefix}[{i}]"
        if not isinstance(ref, dict):
            raise InvalidInput(where, "must be an object with title, source, url, accessed")
        title = text_field(ref, "title", required=False, max_len=1000)
        source = text_field(ref, "source", required=False, max_len=300)
        url = text_field(ref, "url", required=False, max_len=2000)
        note = text_field(ref, "note", required=False, max_len=1000)
        if url:
            parsed = urlparse(url)
            if parsed.scheme not in ("http", "https") or not parsed.netloc:
                raise InvalidInput(f"{where}.url", "must be an absolute http(s) URL")
        accessed = ref.get("accessed")
        if accessed not in (None, ""):
            if not isinstance(accessed, str):
                raise InvalidInput(f"{where}.accessed", "must be an ISO date such as 2022-10-14")
            try:
                accessed = date.fromisoformat(accessed).isoformat()
            except ValueError:
                raise InvalidInput(f"{where}.accessed", f"{accessed!r} is not an ISO date such as 2022-10-14")
        else:
            accessed = None
        if not (title or url or note):
            raise InvalidInput(where, "needs at least a title, a URL or a note (such as 'Ibid.')")
        number = ref.get("number", i + 1)
        if not isinstance(number, int) or isinstance(number, bool) or number < 1:
            raise InvalidInput(f"{where}.number", "must be a positive integer")
        out.append({"number": number, "title": title, "source": source, "url": url or None,
                    "accessed": accessed, "note": note or None})
    return out
