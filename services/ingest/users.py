"""Editor accounts (ingest owns them): roles, password hashes, authentication, password changes and resets."""
from __future__ import annotations

import hashlib
import re
import secrets
from datetime import timedelta
from typing import Callable

from sqlalchemy import and_, func, select, update
from sqlalchemy.engine import Connection
from werkzeug.security import check_password_hash, generate_password_hash

from shared.errors import InvalidInput, NotFound
from shared.events import PasswordResetRequested, aware, iso, utcnow
from shared.i18n import LOCALES
from shared.outbox import emit
from shared.runtime import Runtime
from shared.workflow import Role

from .db import outbox, password_resets, users


ROLES = (Role.AUTHOR.value, Role.EDITOR.value, Role.TRANSLATOR.value, Role.ADMIN.value)
# The app extension holding the failed-login throttle (per account and per client address).
LOGIN_THROTTLE = "ingest_login_throttle"
# The app extension holding the password-reset request throttle (every request counts, per address and per email).
RESET_THROTTLE = "ingest_reset_throttle"
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")


def create_user(conn: Connection, email: str, password: str, role: str, name: str | None = None,
                lang: str = "en", with_token: bool = False, language: str | None = None) -> dict:
    """Create an account (scrypt password hash); with ``with_token`` the result carries a personal API token once."""
    email = email.strip().lower()
    if not _EMAIL.match(email):
        raise InvalidInput("email", f"{email!r} is not an email address")
    if role not in ROLES:
        raise InvalidInput("role", f"must be one of {', '.join(ROLES)}")
    if language is not None and language not in LOCALES:
        raise InvalidInput("language", f"must be one of {', '.join(LOCALES)}, or empty to follow the browser")
    _check_password(password)
    if conn.execute(select(users.c.id).where(users.c.email == email)).first():
        raise InvalidInput("email", f"{email} already has an account", status=409)
    token = secrets.token_urlsafe(24) if with_token else None
    row = {"email": email, "name": name or email.split("@")[0], "role": role, "lang": lang, "language": language,
           "active": True,
           "password_hash": generate_password_hash(password), "created_at": utcnow(),
           "token_hash": _token_hash(token) if token else None}
    conn.execute(users.insert().values(**row))
    return dict(row, token=token)


def _check_password(password: str, field: str = "password") -> None:
    if len(password) < 10:
        raise InvalidInput(field, "use at least 10 characters")


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def user_for_token(conn: Connection, token: str) -> dict | None:
    """The account a personal API token belongs to."""
    row = conn.execute(select(users).where(and_(users.c.token_hash == _token_hash(token),
                                                users.c.active.is_(True)))).mappings().first()
    return dict(row) if row else None


def authenticate(conn: Connection, email: str, password: str) -> dict | None:
    """The user when the password matches, else None (same answer for unknown emails)."""
    row = conn.execute(select(users).where(and_(users.c.email == email.strip().lower(),
                                                users.c.active.is_(True)))).mappings().first()
    if row is None:
        check_password_hash(generate_password_hash("x"), password)  # similar timing for unknown emails
        return None
    return dict(row) if check_password_hash(row["password_hash"], password) else None


def user_count(conn: Connection) -> int:
    """How many accounts exist."""
    return conn.execute(select(func.count()).select_from(users)).scalar_one()


def token_resolver(rt: Runtime) -> Callable[[str], tuple[str, str] | None]:
    """For the shared bearer check: a personal API token -> (email, role) of its account, or None."""

    def resolve(token: str) -> tuple[str, str] | None:
        with rt.engine.begin() as conn:
            user = user_for_token(conn, token)
        return (user["email"], user["role"]) if user else None

    return resolve


def record_login(conn: Connection, email: str) -> None:
    """Note when an account last logged in."""
    conn.execute(update(users).where(users.c.email == email.lower()).values(last_login_at=utcnow()))


def change_user(conn: Connection, email: str, *, role: str | None = None, active: bool | None = None) -> dict:
    """Change an account's role or active flag; the caller ends its sessions. NotFound for an unknown email."""
    email = email.strip().lower()
    row = conn.execute(select(users).where(users.c.email == email)).mappings().first()
    if row is None:
        raise NotFound(f"no account with email {email}")
    values = {}
    if role is not None:
        if role not in ROLES:
            raise InvalidInput("role", f"must be one of {', '.join(ROLES)}")
        values["role"] = role
    if active is not None:
        if not isinstance(active, bool):
            raise InvalidInput("active", "must be true or false")
        values["active"] = active
    if not values:
        raise InvalidInput("role", "nothing to change; send role and/or active")
    conn.execute(update(users).where(users.c.email == email).values(**values))
    return dict(conn.execute(select(users).where(users.c.email == email)).mappings().one())


def list_users(conn: Connection) -> list[dict]:
    """Every account, active ones first, by email (for the admin page)."""
    query = select(users.c.email, users.c.name, users.c.role, users.c.lang, users.c.active, users.c.last_login_at,
                   users.c.created_at).order_by(users.c.active.desc(), users.c.email)
    return [dict(r) for r in conn.execute(query).mappings()]


def change_password(conn: Connection, email: str, current: str, new: str) -> None:
    """Set a new password when ``current`` is right; the caller ends the account's other sessions."""
    row = authenticate(conn, email, current)
    if row is None:
        raise InvalidInput("current_password", "this is not your current password")
    _check_password(new, "new_password")
    if new == current:
        raise InvalidInput("new_password", "choose a password different from the current one")
    conn.execute(update(users).where(users.c.email == row["email"]).values(password_hash=generate_password_hash(new)))


def _fingerprint(password_hash: str) -> str:
    return hashlib.sha256(password_hash.encode()).hexdigest()


def request_password_reset(conn: Connection, email: str, ttl_minutes: int) -> str | None:
    """Record a reset for an active account and emit the event that emails its link; None (and nothing
    written) for an unknown or inactive address, which the caller must not reveal."""
    row = conn.execute(select(users).where(and_(users.c.email == email.strip().lower(),
                                                users.c.active.is_(True)))).mappings().first()
    if row is None:
        return None
    now = utcnow()
    reset_id = secrets.token_urlsafe(24)
    expires_at = now + timedelta(minutes=ttl_minutes)
    conn.execute(password_resets.insert().values(
        id=reset_id, email=row["email"], password_fingerprint=_fingerprint(row["password_hash"]),
        created_at=now, expires_at=expires_at))
    emit(conn, outbox, PasswordResetRequested(reset_id=reset_id, email=row["email"], name=row["name"],
                                              lang=row["lang"] or "en", expires_at=iso(expires_at)))
    return reset_id


def usable_reset(conn: Connection, reset_id: str | None) -> dict | None:
    """The reset a link names when it may still be used (unused, unexpired, password unchanged, account active)."""
    if not reset_id:
        return None
    reset = conn.execute(select(password_resets).where(password_resets.c.id == reset_id)).mappings().first()
    if reset is None or reset["used_at"] is not None or aware(reset["expires_at"]) <= utcnow():
        return None
    user = conn.execute(select(users).where(and_(users.c.email == reset["email"],
                                                 users.c.active.is_(True)))).mappings().first()
    if user is None or _fingerprint(user["password_hash"]) != reset["password_fingerprint"]:
        return None
    return dict(reset)


def reset_password(conn: Connection, reset_id: str | None, new: str) -> str | None:
    """Use a reset once: set the new password and spend every open reset of the account; return its email,
    or None when the link may not be used (the caller says so and ends the account's sessions otherwise)."""
    reset = usable_reset(conn, reset_id)
    if reset is None:
        return None
    _check_password(new, "new_password")
    spent = conn.execute(update(password_resets).where(and_(password_resets.c.id == reset["id"],
                                                            password_resets.c.used_at.is_(None)))
                         .values(used_at=utcnow())).rowcount
    if not spent:
        return None  # another request used it a moment ago
    conn.execute(update(password_resets).where(and_(password_resets.c.email == reset["email"],
                                                    password_resets.c.used_at.is_(None))).values(used_at=utcnow()))
    conn.execute(update(users).where(users.c.email == reset["email"]).values(password_hash=generate_password_hash(new)))
    return reset["email"]


def set_language(conn: Connection, email: str, language: str | None) -> None:
    """Set the language of an account's editor pages (None: follow the browser); InvalidInput for others."""
    if language is not None and language not in LOCALES:
        raise InvalidInput("language", f"must be one of {', '.join(LOCALES)}, or empty to follow the browser")
    conn.execute(update(users).where(users.c.email == email.strip().lower()).values(language=language))
