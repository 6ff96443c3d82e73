"""Editor accounts (ingest owns them): roles, password hashes, authentication."""
from __future__ import annotations

import hashlib
import re
import secrets
from typing import Callable

from sqlalchemy import and_, func, select, update
from sqlalchemy.engine import Connection
from werkzeug.security import check_password_hash, generate_password_hash

from shared.errors import InvalidInput, NotFound
from shared.events import utcnow
from shared.i18n import LOCALES
from shared.runtime import Runtime
from shared.workflow import Role

from .db import users


ROLES = (Role.AUTHOR.value, Role.EDITOR.value, Role.TRANSLATOR.value, Role.ADMIN.value)
# The app extension holding the failed-login throttle (per account and per client address).
LOGIN_THROTTLE = "ingest_login_throttle"
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
    if len(password) < 10:
        raise InvalidInput("password", "use at least 10 characters")
    if conn.execute(select(users.c.id).where(users.c.email == email)).first():
        raise InvalidInput("email", f"{email} already has an account", status=409)
    token = secrets.token_urlsafe(24) if with_token else None
    row = {"email": email, "name": name or email.split("@")[0], "role": role, "lang": lang, "language": language,
           "active": True,
           "password_hash": generate_password_hash(password), "created_at": utcnow(),
           "token_hash": _token_hash(token) if token else None}
    conn.execute(users.insert().values(**row))
    return dict(row, token=token)


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


def set_language(conn: Connection, email: str, language: str | None) -> None:
    """Set the language of an account's editor pages (None: follow the browser); InvalidInput for others."""
    if language is not None and language not in LOCALES:
        raise InvalidInput("language", f"must be one of {', '.join(LOCALES)}, or empty to follow the browser")
    conn.execute(update(users).where(users.c.email == email.strip().lower()).values(language=language))
