"""Email through ``SMTP_URL`` (smtplib), in the recipient's language, at most once per dedupe key.

An email is a row written (with its dedupe key) in the same transaction as the change that causes
it; the send task claims the row before talking to the SMTP server, so a retried or repeated task
never mails twice.
"""
from __future__ import annotations

import logging
import smtplib
import ssl
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from email.utils import formataddr
from typing import Callable
from urllib.parse import parse_qs, unquote, urlsplit

from sqlalchemy import and_, or_, select, update
from sqlalchemy.engine import Connection, Engine

from shared.events import utcnow

from .db import emails

log = logging.getLogger(__name__)

# kind -> lang -> (subject, body); bodies are str.format templates.
TEMPLATES: dict[str, dict[str, tuple[str, str]]] = {
    "subscription_disabled": {
        "en": ("Webhook subscription disabled: {url}",
               "Your webhook subscription to {url} was disabled: {reason}.\n\n"
               "Fix the receiver, then enable the subscription again and replay the failed deliveries."),
        "tr": ("Webhook aboneliği devre dışı bırakıldı: {url}",
               "{url} adresine webhook aboneliğiniz devre dışı bırakıldı: {reason}.\n\n"
               "Alıcıyı düzeltin, aboneliği yeniden etkinleştirin ve başarısız gönderimleri tekrar gönderin."),
        "ru": ("Подписка на вебхуки отключена: {url}",
               "Ваша подписка на вебхуки по адресу {url} отключена: {reason}.\n\n"
               "Исправьте получатель, затем снова включите подписку и повторите неудачные доставки."),
    },
    "article_submitted": {
        "en": ("Submitted for review: {title}", "“{title}” ({lang}) was submitted for review by {actor}.\n\nReview it: {link}"),
        "tr": ("İncelemeye gönderildi: {title}", "“{title}” ({lang}) {actor} tarafından incelemeye gönderildi.\n\nİnceleyin: {link}"),
        "ru": ("Отправлено на проверку: {title}", "«{title}» ({lang}) отправлено на проверку: {actor}.\n\nПроверить: {link}"),
    },
    "translation_assigned": {
        "en": ("Translation assigned: {title}", "Please translate “{title}” into {lang}{due}.\n\nThe dashboard: {link}"),
        "tr": ("Çeviri atandı: {title}", "Lütfen “{title}” metnini {lang} diline çevirin{due}.\n\nPano: {link}"),
        "ru": ("Назначен перевод: {title}", "Пожалуйста, переведите «{title}» на язык {lang}{due}.\n\nПанель: {link}"),
    },
    "translation_delivered": {
        "en": ("Translation delivered: {title}", "The {lang} translation “{title}” has arrived and waits for review.\n\n{link}"),
        "tr": ("Çeviri teslim edildi: {title}", "{lang} çevirisi “{title}” geldi ve incelemeyi bekliyor.\n\n{link}"),
        "ru": ("Перевод получен: {title}", "Перевод на {lang} «{title}» получен и ждёт проверки.\n\n{link}"),
    },
    "schedule_missed": {
        "en": ("Scheduled article published late: {title}", "“{title}” was due at {publish_at} and went live {late_seconds} s late.\n\n{link}"),
        "tr": ("Zamanlanmış yazı geç yayımlandı: {title}", "“{title}” {publish_at} için planlanmıştı ve {late_seconds} sn geç yayımlandı.\n\n{link}"),
        "ru": ("Запланированная статья опубликована с опозданием: {title}", "«{title}» была запланирована на {publish_at} и опубликована с опозданием {late_seconds} с.\n\n{link}"),
    },
    # {link} is RESET_LINK_SLOT in the stored row: the signed link is made at send time (send_email).
    "password_reset": {
        "en": ("Reset your password for {site}",
               "Hello {name},\n\nSomeone, we hope you, asked to reset the password of your {site} editor account "
               "({email}). Choose a new password here; the link works once, for {minutes} minutes:\n\n{link}\n\n"
               "If you did not ask for this, ignore this email: your password stays as it is.\n\n{site}"),
        "tr": ("{site} parolanızı sıfırlayın",
               "Merhaba {name},\n\n{site} editör hesabınızın ({email}) parolasının sıfırlanması istendi; umarız "
               "isteyen sizsiniz. Yeni parolanızı buradan seçin; bağlantı bir kez ve {minutes} dakika boyunca "
               "çalışır:\n\n{link}\n\nBunu siz istemediyseniz bu e-postayı dikkate almayın: parolanız "
               "değişmez.\n\n{site}"),
        "ru": ("Сброс пароля: {site}",
               "Здравствуйте, {name}!\n\nКто-то (надеемся, вы) попросил сбросить пароль вашей учётной записи "
               "редактора {site} ({email}). Выберите новый пароль по ссылке; она действует один раз, "
               "{minutes} мин.:\n\n{link}\n\nЕсли вы этого не просили, просто не обращайте внимания на это "
               "письмо: ваш пароль не изменится.\n\n{site}"),
    },
    "test": {
        "en": ("Test message from the publishing pipeline", "This is a test message. {note}"),
        "tr": ("Yayın hattından deneme iletisi", "Bu bir deneme iletisidir. {note}"),
        "ru": ("Тестовое сообщение от системы публикации", "Это тестовое сообщение. {note}"),
    },
}


# The password reset link is never stored: the row holds this slot, filled when the message is sent.
RESET_LINK_SLOT = "[[password-reset-link]]"
RESET_KEY_PREFIX = "password-reset:"
# The site's name in emails when SITE_NAME is not set.
DEFAULT_SITE_NAMES = {"en": "the editorial system", "tr": "yayın sistemi", "ru": "редакционная система"}


class EmailError(ValueError):
    """An email cannot be composed or configured; the message says what to fix."""


@dataclass(frozen=True)
class SmtpConfig:
    """Where and how to send mail, parsed from ``SMTP_URL``."""

    host: str
    port: int
    username: str | None
    password: str | None
    use_ssl: bool
    starttls: bool
    sender: str


def parse_smtp_url(url: str) -> SmtpConfig:
    """``smtp://user:pass@host:587?starttls=1&from=news@example.org`` or ``smtps://...``."""
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise EmailError("SMTP_URL must look like smtp://user:password@host:587?starttls=1&from=sender@example.org")
    query = parse_qs(parts.query)
    use_ssl = parts.scheme == "smtps"
    return SmtpConfig(
        host=parts.hostname,
        port=parts.port or (465 if use_ssl else 25),
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        use_ssl=use_ssl,
        starttls=query.get("starttls", ["0"])[0] in ("1", "true", "yes"),
        sender=query.get("from", ["pipeline@localhost"])[0],
    )


def compose(kind: str, lang: str, context: dict) -> tuple[str, str]:
    """Subject and body of ``kind`` in ``lang`` (English when that language has no template)."""
    try:
        by_lang = TEMPLATES[kind]
    except KeyError:
        raise EmailError(f"unknown email kind {kind!r}; known: {', '.join(TEMPLATES)}")
    subject, body = by_lang.get(lang) or by_lang["en"]
    return subject.format(**context), body.format(**context)


def queue_email(conn: Connection, *, dedupe_key: str, to: str, lang: str, kind: str, context: dict) -> int | None:
    """Write the email row in the caller's transaction; None when that dedupe key was already queued."""
    if conn.execute(select(emails.c.id).where(emails.c.dedupe_key == dedupe_key)).first():
        return None
    subject, body = compose(kind, lang, context)
    return conn.execute(emails.insert().values(
        dedupe_key=dedupe_key, to_address=to, lang=lang, kind=kind, subject=subject, body=body,
        status="pending", attempts=0, created_at=utcnow(),
    )).inserted_primary_key[0]


def pending_emails(engine: Engine) -> list[int]:
    """Email rows waiting to be sent."""
    with engine.begin() as conn:
        return list(conn.execute(select(emails.c.id).where(and_(
            emails.c.status == "pending",
            or_(emails.c.next_attempt_at.is_(None), emails.c.next_attempt_at <= utcnow()),
        )).order_by(emails.c.id).limit(200)).scalars())


def send_email(engine: Engine, email_id: int, smtp_url: str, *, site=None,
               reset_link: Callable[[str], str] | None = None) -> str:
    """Claim the row, then send it once; return the outcome.

    ``site`` (a ``SiteIdentity``) names the sender in the recipient's language; ``reset_link`` makes the
    signed link of a password reset row from its reset id, so that link exists in the message only.
    """
    with engine.begin() as conn:
        claimed = conn.execute(update(emails).where(and_(emails.c.id == email_id, emails.c.status == "pending"))
                               .values(status="sending")).rowcount
        if not claimed:
            return "skipped"
        row = conn.execute(select(emails).where(emails.c.id == email_id)).mappings().one()
    if not smtp_url:
        _finish(engine, email_id, "failed", "SMTP_URL is not set; set it to send email")
        return "not-configured"
    config = parse_smtp_url(smtp_url)
    body = row["body"]
    if row["kind"] == "password_reset":
        if reset_link is None:
            _finish(engine, email_id, "failed", "password reset email without a link maker; nothing sent")
            return "failed"
        body = body.replace(RESET_LINK_SLOT, reset_link(row["dedupe_key"].removeprefix(RESET_KEY_PREFIX)))
    message = EmailMessage()
    name = site.for_lang(row["lang"])["name"] if site is not None else ""
    message["From"] = formataddr((name, config.sender)) if name else config.sender
    message["To"], message["Subject"] = row["to_address"], row["subject"]
    message["Content-Language"] = row["lang"]
    message.set_content(body)
    try:
        if config.use_ssl:
            client = smtplib.SMTP_SSL(config.host, config.port, timeout=30, context=ssl.create_default_context())
        else:
            client = smtplib.SMTP(config.host, config.port, timeout=30)
        with client:
            if config.starttls:
                client.starttls(context=ssl.create_default_context())
            if config.username:
                client.login(config.username, config.password or "")
            client.send_message(message)
    except (smtplib.SMTPException, OSError) as exc:
        # Nothing was accepted by the server: back to pending, retried by the sweep with backoff.
        log.warning("email %s not sent: %s", email_id, exc)
        attempts = row["attempts"] + 1
        with engine.begin() as conn:
            conn.execute(update(emails).where(emails.c.id == email_id).values(
                status="pending", attempts=attempts, error=f"{type(exc).__name__}: {exc}",
                next_attempt_at=utcnow() + timedelta(seconds=min(5 * 2 ** attempts, 3600))))
        return "retry"
    _finish(engine, email_id, "sent", None)
    return "sent"


def _finish(engine: Engine, email_id: int, status: str, error: str | None) -> None:
    with engine.begin() as conn:
        conn.execute(update(emails).where(emails.c.id == email_id).values(
            status=status, error=error, sent_at=utcnow() if status == "sent" else None))


EVENT_EMAILS = {
    "article.submitted": "article_submitted",
    "translation.requested": "translation_assigned",
    "translation.delivered": "translation_delivered",
    "article.schedule_missed": "schedule_missed",
}


def queue_event_emails(conn: Connection, envelope: dict, links: dict) -> list[int]:
    """Queue one email per recipient the event names (deduplicated by event id and address)."""
    kind = EVENT_EMAILS.get(envelope["type"])
    data = envelope["data"]
    if kind is None or not data.get("recipients"):
        return []
    due = f" (due {data['due_at'][:10]})" if data.get("due_at") else ""
    context = {"title": data.get("title", ""), "lang": data.get("lang", ""), "actor": data.get("actor", ""),
               "due": due, "publish_at": data.get("publish_at", ""), "late_seconds": data.get("late_seconds", 0),
               "link": links.get(kind, "")}
    queued = []
    for person in data["recipients"]:
        email_id = queue_email(conn, dedupe_key=f"{envelope['id']}:{person['email']}", to=person["email"],
                               lang=person.get("lang") or "en", kind=kind, context=context)
        if email_id:
            queued.append(email_id)
    return queued


def queue_password_reset(conn: Connection, envelope: dict, site, minutes: int) -> int | None:
    """Queue the reset email of an ``account.password_reset_requested`` event (once per reset id).

    The stored body holds ``RESET_LINK_SLOT`` where the link goes; ``send_email`` signs the link.
    """
    data = envelope["data"]
    lang = data.get("lang") or "en"
    name = site.for_lang(lang)["name"] or DEFAULT_SITE_NAMES.get(lang, DEFAULT_SITE_NAMES["en"])
    return queue_email(conn, dedupe_key=RESET_KEY_PREFIX + data["reset_id"], to=data["email"], lang=lang,
                       kind="password_reset", context={"site": name, "name": data.get("name") or data["email"],
                                                       "email": data["email"], "minutes": minutes,
                                                       "link": RESET_LINK_SLOT})
