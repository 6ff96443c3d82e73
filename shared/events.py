"""Events: small frozen dataclasses named in the past tense, and their JSON envelope.

An envelope is ``{"id", "type", "occurred_at", "correlation_id", "data"}``; ``id`` is the
idempotency key every consumer records in its inbox.
"""
from __future__ import annotations

import dataclasses
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import ClassVar

ARTICLE_CREATED = "article.created"
ARTICLE_UPDATED = "article.updated"
ARTICLE_SUBMITTED = "article.submitted"
ARTICLE_CHANGES_REQUESTED = "article.changes_requested"
ARTICLE_APPROVED = "article.approved"
ARTICLE_SCHEDULED = "article.scheduled"
ARTICLE_UNSCHEDULED = "article.unscheduled"
ARTICLE_PUBLISH_REQUESTED = "article.publish_requested"
ARTICLE_RENDERED = "article.rendered"
ARTICLE_RENDER_FAILED = "article.render_failed"
ARTICLE_PUBLISHED = "article.published"
ARTICLE_PUBLISH_FAILED = "article.publish_failed"
ARTICLE_UNPUBLISHED = "article.unpublished"
ARTICLE_ARCHIVED = "article.archived"
ARTICLE_RESTORED = "article.restored"
ARTICLE_SCHEDULE_MISSED = "article.schedule_missed"
TRANSLATION_STATUS_CHANGED = "translation.status_changed"
TRANSLATION_REQUESTED = "translation.requested"
TRANSLATION_DELIVERED = "translation.delivered"
PASSWORD_RESET_REQUESTED = "account.password_reset_requested"


def utcnow() -> datetime:
    """Timezone-aware now in UTC."""
    return datetime.now(timezone.utc)


def aware(value: datetime | None) -> datetime | None:
    """The value with a timezone: naive values (SQLite returns them) are taken as UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=timezone.utc)


def iso(value: datetime | None) -> str | None:
    """ISO 8601 in UTC; naive values are taken as UTC."""
    if value is None:
        return None
    return aware(value).astimezone(timezone.utc).isoformat()


@dataclass(frozen=True)
class Event:
    """Base of all events; subclasses set ``TYPE``."""

    TYPE: ClassVar[str] = ""

    def envelope(self, correlation_id: str | None = None) -> dict:
        """The JSON-ready envelope carrying this event with a fresh id."""
        return {
            "id": str(uuid.uuid4()),
            "type": self.TYPE,
            "occurred_at": utcnow().isoformat(),
            "correlation_id": correlation_id,
            "data": dataclasses.asdict(self),
        }

    @classmethod
    def from_envelope(cls, envelope: dict):
        """Rebuild the event from an envelope, ignoring fields a newer producer added."""
        if envelope.get("type") != cls.TYPE:
            raise ValueError(f"envelope of type {envelope.get('type')!r} is not {cls.TYPE!r}")
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in envelope["data"].items() if k in names})


@dataclass(frozen=True)
class ArticleChanged(Event):
    """Fields common to every event about one language version of an article."""

    article_id: str
    group_id: str
    lang: str
    state: str
    revision: int
    content_hash: str
    title: str
    is_source: bool
    source_lang: str
    actor: str = "system"
    # For a translation: the source's content hash and revision it was made from.
    source_hash: str | None = None
    source_revision: int | None = None
    # People to email about this event: [{"email", "lang"}] (ingest owns the accounts).
    recipients: list = field(default_factory=list)
    # The article's sequence number: ingest bumps it with every event of the article, so a consumer
    # applies an event only when its seq is newer than the one it holds (0: sent before seq existed).
    seq: int = 0
    # A revision newer than the approved (or live) one that waits for an editor, while the article
    # keeps its state; None when there is none.
    waiting_revision: int | None = None
    # For a published translation: the source's hash its live revision was made from.
    live_source_hash: str | None = None


@dataclass(frozen=True)
class ArticleCreated(ArticleChanged):
    TYPE: ClassVar[str] = ARTICLE_CREATED


@dataclass(frozen=True)
class ArticleUpdated(ArticleChanged):
    TYPE: ClassVar[str] = ARTICLE_UPDATED


@dataclass(frozen=True)
class ArticleSubmitted(ArticleChanged):
    TYPE: ClassVar[str] = ARTICLE_SUBMITTED


@dataclass(frozen=True)
class ArticleChangesRequested(ArticleChanged):
    TYPE: ClassVar[str] = ARTICLE_CHANGES_REQUESTED


@dataclass(frozen=True)
class ArticleApproved(ArticleChanged):
    TYPE: ClassVar[str] = ARTICLE_APPROVED


@dataclass(frozen=True)
class ArticleScheduled(ArticleChanged):
    TYPE: ClassVar[str] = ARTICLE_SCHEDULED


@dataclass(frozen=True)
class ArticleUnscheduled(ArticleChanged):
    TYPE: ClassVar[str] = ARTICLE_UNSCHEDULED


@dataclass(frozen=True)
class ArticleArchived(ArticleChanged):
    TYPE: ClassVar[str] = ARTICLE_ARCHIVED


@dataclass(frozen=True)
class ArticleRestored(ArticleChanged):
    TYPE: ClassVar[str] = ARTICLE_RESTORED


@dataclass(frozen=True)
class ArticlePublishFailed(ArticleChanged):
    TYPE: ClassVar[str] = ARTICLE_PUBLISH_FAILED
    error: str = ""


@dataclass(frozen=True)
class ArticlePublishRequested(ArticleChanged):
    """Carries the full snapshot rendering needs, so rendering never reads ingest's database."""

    TYPE: ClassVar[str] = ARTICLE_PUBLISH_REQUESTED
    snapshot: dict = field(default_factory=dict)


@dataclass(frozen=True)
class ArticlePublished(ArticleChanged):
    TYPE: ClassVar[str] = ARTICLE_PUBLISHED
    url: str = ""
    slug: str = ""
    published_at: str = ""
    translations: dict = field(default_factory=dict)  # lang -> public URL of published siblings
    # The featured image as shared: {id, url, width, height, type, alt}; None without one.
    image: dict | None = None


@dataclass(frozen=True)
class ArticleUnpublished(ArticleChanged):
    TYPE: ClassVar[str] = ARTICLE_UNPUBLISHED
    url: str = ""
    slug: str = ""


@dataclass(frozen=True)
class ArticleRendered(Event):
    """Rendering wrote the page of ``revision`` and serves it at ``url``."""

    TYPE: ClassVar[str] = ARTICLE_RENDERED
    article_id: str
    revision: int
    url: str
    files_written: int = 0
    seq: int | None = None  # the seq of the publish_requested event (its snapshot's ``seq``) this answers


@dataclass(frozen=True)
class ArticleRenderFailed(Event):
    TYPE: ClassVar[str] = ARTICLE_RENDER_FAILED
    article_id: str
    revision: int
    error: str
    seq: int | None = None  # the seq of the publish_requested event this answers


@dataclass(frozen=True)
class TranslationStatusChanged(Event):
    TYPE: ClassVar[str] = TRANSLATION_STATUS_CHANGED
    group_id: str
    lang: str
    old_status: str
    new_status: str
    article_id: str | None = None
    url: str | None = None
    title: str | None = None
    sequence: int = 0  # counts the status changes of this group and language: receivers order by it


@dataclass(frozen=True)
class ArticleScheduleMissed(ArticleChanged):
    """A scheduled article went live late (everything was down at its time) or is still overdue."""

    TYPE: ClassVar[str] = ARTICLE_SCHEDULE_MISSED
    publish_at: str = ""
    late_seconds: int = 0


@dataclass(frozen=True)
class TranslationRequested(Event):
    """A translation was asked of a translator (by email) or a vendor; carries the source to translate."""

    TYPE: ClassVar[str] = TRANSLATION_REQUESTED
    group_id: str
    lang: str
    source_lang: str
    source_article_id: str
    source_revision: int
    source_hash: str
    title: str
    body: str
    references: list
    due_at: str | None = None
    translator: str | None = None
    vendor: str | None = None
    requested_by: str | None = None
    callback_url: str | None = None
    recipients: list = field(default_factory=list)


@dataclass(frozen=True)
class TranslationDelivered(Event):
    """A vendor's signed callback delivered a translation; ingest stores it as ``in_review``."""

    TYPE: ClassVar[str] = TRANSLATION_DELIVERED
    group_id: str
    lang: str
    title: str
    body: str
    references: list
    source_revision: int
    source_hash: str
    author: dict
    vendor: str | None = None
    requested_by: str | None = None
    recipients: list = field(default_factory=list)


@dataclass(frozen=True)
class PasswordResetRequested(Event):
    """Someone asked for a password reset link for an existing, active account.

    It carries the reset's id, never a token: notification signs the link when it sends the email,
    so the working link exists in that email only.
    """

    TYPE: ClassVar[str] = PASSWORD_RESET_REQUESTED
    reset_id: str
    email: str
    name: str
    lang: str
    expires_at: str


EVENT_CLASSES: dict[str, type[Event]] = {
    cls.TYPE: cls
    for cls in (
        ArticleCreated, ArticleUpdated, ArticleSubmitted, ArticleChangesRequested, ArticleApproved,
        ArticleScheduled, ArticleUnscheduled, ArticleArchived, ArticleRestored, ArticlePublishFailed,
        ArticlePublishRequested, ArticlePublished, ArticleUnpublished, ArticleRendered,
        ArticleRenderFailed, TranslationStatusChanged, ArticleScheduleMissed, TranslationRequested,
        TranslationDelivered, PasswordResetRequested,
    )
}

# Which event ingest emits after each workflow action (the state events are ArticleChanged kinds).
ACTION_EVENTS: dict[str, type[ArticleChanged]] = {
    "submit": ArticleSubmitted,
    "request_changes": ArticleChangesRequested,
    "approve": ArticleApproved,
    "schedule": ArticleScheduled,
    "unschedule": ArticleUnscheduled,
    "publish": ArticlePublishRequested,
    "publish_due": ArticlePublishRequested,
    "rendered": ArticlePublished,
    "render_failed": ArticlePublishFailed,
    "unpublish": ArticleUnpublished,
    "archive": ArticleArchived,
    "restore": ArticleRestored,
}


def parse(envelope: dict) -> Event:
    """Rebuild any known event from its envelope."""
    try:
        cls = EVENT_CLASSES[envelope["type"]]
    except KeyError as exc:
        raise ValueError(f"unknown event type {envelope.get('type')!r}") from exc
    return cls.from_envelope(envelope)
