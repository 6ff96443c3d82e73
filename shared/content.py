"""Content rules more than one service applies: text fields, references, date-times, page paths, roman numerals."""
from __future__ import annotations

import re
from datetime import date, datetime, timezone
from urllib.parse import urlparse

from pydantic import Field

from shared.errors import InvalidInput
from shared.openapi import Body, single_line_problem

MAX_REFERENCES = 200
_ROMAN = re.compile(r"^c{0,3}(xc|xl|l?x{0,3})(ix|iv|v?i{0,3})$")
_ROMAN_VALUES = {"i": 1, "v": 5, "x": 10, "l": 50, "c": 100}


def page_path(lang: str, slug: str) -> str:
    """The public site path of a language version: ``/<lang>/<slug>/``."""
    return f"/{lang}/{slug}/"


def roman_value(marker: str) -> int | None:
    """The value of a roman numeral up to 399 (``iv`` or ``IV`` -> 4), None when it is not one."""
    marker = (marker or "").lower()
    if not marker or not _ROMAN.match(marker):
        return None
    total = 0
    for i, ch in enumerate(marker):
        value = _ROMAN_VALUES[ch]
        nxt = _ROMAN_VALUES[marker[i + 1]] if i + 1 < len(marker) else 0
        total += -value if value < nxt else value
    return total


def parse_datetime(raw, field: str, *, naive_is_utc: bool = True) -> datetime | None:
    """An ISO date-time (or date) from an API argument or form as an aware datetime; None when empty.

    A value without an offset is read as UTC when ``naive_is_utc`` (forms and filters), and refused
    otherwise (embargo times must say their zone). The result is in UTC: an offset is applied, never
    dropped (a database column may keep no zone). InvalidInput names ``field`` and an example.
    """
    if raw is None or raw == "":
        return None
    try:
        value = datetime.fromisoformat(str(raw).strip())
    except ValueError:
        raise InvalidInput(field, f"{str(raw)[:40]!r} is not an ISO date-time; send one such as 2026-12-01T09:00:00+00:00")
    if value.tzinfo is None:
        if not naive_is_utc:
            raise InvalidInput(field, "needs a timezone offset, e.g. 2026-12-01T09:00:00+00:00")
        value = value.replace(tzinfo=timezone.utc)
    try:
        return value.astimezone(timezone.utc)
    except OverflowError:
        raise InvalidInput(field, "is outside the representable range of date-times; send a date between years 1 and 9999")


def text_field(data: dict, name: str, *, required: bool, max_len: int, default: str = "",
               single_line: bool = False, field: str | None = None) -> str:
    """A stripped string field of ``data``, or InvalidInput naming it (as ``field``, default ``name``) and the limit.

    ``single_line`` refuses control characters (titles and names).
    """
    value = data.get(name, None)
    name = field or name
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
    if single_line and (problem := single_line_problem(value)):
        raise InvalidInput(name, problem)
    return value


class Reference(Body):
    """One reference of an article; ``parse_references`` adds the rules between fields."""

    number: int = Field(None, ge=1, description="its footnote number (default: its place in the list)")
    title: str | None = Field(None, max_length=1000)
    source: str | None = Field(None, max_length=300)
    url: str | None = Field(None, max_length=2000, description="an absolute http(s) URL")
    accessed: str | None = Field(None, description="an ISO date such as 2022-10-14")
    note: str | None = Field(None, max_length=1000)


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
        title = text_field(ref, "title", required=False, max_len=1000, field=f"{where}.title", single_line=True)
        source = text_field(ref, "source", required=False, max_len=300, field=f"{where}.source", single_line=True)
        url = text_field(ref, "url", required=False, max_len=2000, field=f"{where}.url")
        note = text_field(ref, "note", required=False, max_len=1000, field=f"{where}.note")
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
