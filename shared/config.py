"""Configuration from the environment (12-factor), with defaults that make local runs work.

Secrets (API token, session key, inbound webhook secret) are never in the repository: when the
environment does not set them, they are generated once and kept in ``DATA_DIR/secrets.json``
(mode 0600) so that every local process shares them.
"""
from __future__ import annotations

import base64
import ipaddress
import json
import os
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path

SERVICES = ("ingest", "translation_status", "rendering", "notification")
DEFAULT_PORTS = {"ingest": 5001, "translation_status": 5002, "rendering": 5003, "notification": 5004}


class ConfigError(ValueError):
    """A setting in the environment is malformed; the message names the variable and the fix."""


def private_dir(path: Path) -> Path:
    """Create ``path`` if needed and make it readable by this user only (0700): DATA_DIR holds databases and secrets."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    if path.stat().st_uid == os.getuid():
        path.chmod(0o700)
    return path


def _local_secrets(data_dir: Path) -> dict:
    path = data_dir / "secrets.json"
    private_dir(data_dir)
    if path.exists():
        return json.loads(path.read_text())
    values = {
        "API_TOKEN": secrets.token_urlsafe(24),
        "SECRET_KEY": secrets.token_urlsafe(32),
        "INBOUND_WEBHOOK_SECRET": "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode(),
    }
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(values, fh)
    try:
        os.link(tmp, path)  # first writer wins when several processes start at once
    except FileExistsError:
        pass
    tmp.unlink(missing_ok=True)
    return json.loads(path.read_text())


@dataclass(frozen=True)
class AllowRule:
    """One WEBHOOK_ALLOWLIST entry: a network (any port), or a network or host name with one port."""

    network: ipaddress.IPv4Network | ipaddress.IPv6Network | None = None
    host: str | None = None
    port: int | None = None

    def allows(self, host: str, ip, port: int) -> bool:
        """Whether a target ``host`` resolving to ``ip`` on ``port`` is let through."""
        if self.port is not None and port != self.port:
            return False
        if self.host is not None:
            return host.lower().rstrip(".") == self.host
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        return ip.version == self.network.version and ip in self.network


def _allow_rule(part: str) -> AllowRule:
    """``10.0.0.0/8``, ``127.0.0.1:8080``, ``[::1]:8080``, ``10.0.0.0/8:443`` or ``hooks.internal:443``."""
    port = None
    address = part
    if part.startswith("["):  # [v6]:port
        address, _, rest = part[1:].partition("]")
        if rest:
            port = rest.removeprefix(":")
    elif part.count(":") == 1:
        address, port = part.split(":")
    if port is not None:
        if not port.isdigit() or not 0 < int(port) < 65536:
            raise ConfigError(f"WEBHOOK_ALLOWLIST: {part!r} has no valid port; write host:port such as 127.0.0.1:8080")
        port = int(port)
    try:
        return AllowRule(network=ipaddress.ip_network(address, strict=False), port=port)
    except ValueError:
        pass
    if port is not None and re.fullmatch(r"[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?", address):
        return AllowRule(host=address.lower(), port=port)
    raise ConfigError(f"WEBHOOK_ALLOWLIST: {part!r} is neither a network (CIDR such as 127.0.0.1/32) "
                      "nor a host:port pair (such as hooks.internal:8443)")


def _networks(raw: str) -> tuple[AllowRule, ...]:
    return tuple(_allow_rule(part) for part in filter(None, (p.strip() for p in raw.split(","))))


def _rate(env: dict, name: str, default: str) -> str:
    from limits import parse

    raw = (env.get(name) or default).strip()
    try:
        parse(raw)
    except ValueError as exc:
        raise ConfigError(f"{name}: {raw!r} is not a rate; write one such as '10 per 5 minutes'") from exc
    return raw


def _int(env: dict, name: str, default: int) -> int:
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name}: {raw!r} is not an integer") from exc


def _one_of(env: dict, name: str, choices: tuple[str, ...]) -> str:
    """One of ``choices`` (the first when unset)."""
    raw = (env.get(name) or choices[0]).strip().lower()
    if raw not in choices:
        raise ConfigError(f"{name}: {raw!r} is not one of {', '.join(choices)}")
    return raw


def _positive(env: dict, name: str, default: int) -> int:
    value = _int(env, name, default)
    if value < 1:
        raise ConfigError(f"{name}: must be at least 1")
    return value


def _float(env: dict, name: str, default: float) -> float:
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise ConfigError(f"{name}: {raw!r} is not a number") from exc


def _with_password(env: dict, service: str, url: str) -> str:
    """``url`` with the password read from ``<SERVICE>_DATABASE_PASSWORD_FILE`` or ``DATABASE_PASSWORD_FILE``.

    So the password lives in a file (a compose secret), never in a URL or an environment variable.
    """
    name = next((n for n in (f"{service.upper()}_DATABASE_PASSWORD_FILE", "DATABASE_PASSWORD_FILE") if env.get(n)), None)
    if name is None or url.startswith("sqlite"):
        return url
    from sqlalchemy.engine import make_url

    try:
        password = Path(env[name]).read_text().rstrip("\r\n")
    except OSError as exc:
        raise ConfigError(f"{name}: cannot read {env[name]} ({exc.strerror}); mount the password file there "
                          "or unset the variable") from exc
    if not password:
        raise ConfigError(f"{name}: {env[name]} is empty; write the database password into it")
    return make_url(url).set(password=password).render_as_string(hide_password=False)


SITE_TEXT_FIELDS = ("name", "tagline", "footer", "logo_url")


@dataclass(frozen=True)
class SiteIdentity:
    """The public site's name, logo, tagline, footer text and social links; text fields may differ per language.

    ``SITE_NAME`` is the name in every language unless ``SITE_NAME_<LANG>`` (``SITE_NAME_TR``) overrides it;
    the same goes for ``SITE_TAGLINE``, ``SITE_FOOTER`` and ``SITE_LOGO_URL``. An empty name means the
    built-in per-language default of the theme.
    """

    name: str = ""
    tagline: str = ""
    footer: str = ""
    logo_url: str = ""
    social: tuple[tuple[str, str], ...] = ()  # (label, https URL), in the order given
    by_lang: dict = field(default_factory=dict)  # lang -> {field: value} overrides

    def for_lang(self, lang: str, default_name: str = "") -> dict:
        """``{name, tagline, footer, logo_url, social}`` for ``lang`` (its overrides, else the plain values)."""
        own = self.by_lang.get(lang, {})
        values = {f: own.get(f) or getattr(self, f) for f in SITE_TEXT_FIELDS}
        values["name"] = values["name"] or default_name
        values["social"] = [{"label": label, "url": url} for label, url in self.social]
        return values


def _site_url_value(name: str, raw: str) -> str:
    if raw and not (raw.startswith(("https://", "http://")) or (raw.startswith("/") and not raw.startswith("//"))):
        raise ConfigError(f"{name}: {raw!r} is neither an http(s) URL nor a path on the site such as /logo.svg")
    return raw


def _site_identity(env: dict, languages: tuple[str, ...]) -> SiteIdentity:
    """SITE_NAME, SITE_TAGLINE, SITE_FOOTER, SITE_LOGO_URL (each with _<LANG> overrides) and SITE_SOCIAL."""
    env_names = {"name": "SITE_NAME", "tagline": "SITE_TAGLINE", "footer": "SITE_FOOTER", "logo_url": "SITE_LOGO_URL"}
    plain = {f: (env.get(var) or "").strip() for f, var in env_names.items()}
    _site_url_value("SITE_LOGO_URL", plain["logo_url"])
    by_lang = {}
    for lang in languages:
        own = {}
        for f, var in env_names.items():
            value = (env.get(f"{var}_{lang.upper()}") or "").strip()
            if value:
                own[f] = _site_url_value(f"{var}_{lang.upper()}", value) if f == "logo_url" else value
        if own:
            by_lang[lang] = own
    social = []
    for part in filter(None, (p.strip() for p in (env.get("SITE_SOCIAL") or "").split(","))):
        label, sep, url = part.partition("=")
        if not sep or not label.strip() or not url.strip().startswith(("https://", "http://")):
            raise ConfigError(f"SITE_SOCIAL: {part!r} is not label=https-URL; write e.g. "
                              "'Mastodon=https://mastodon.social/@thinktank,Telegram=https://t.me/thinktank'")
        social.append((label.strip(), url.strip()))
    return SiteIdentity(**plain, social=tuple(social), by_lang=by_lang)


@dataclass(frozen=True)
class Settings:
    """Every setting of the pipeline, read once from the environment."""

    data_dir: Path
    redis_url: str
    site_dir: Path
    site_url: str
    languages: tuple[str, ...]
    api_token: str
    secret_key: str
    inbound_webhook_secret: str
    smtp_url: str
    webhook_allowlist: tuple
    ports: dict
    database_urls: dict
    service_urls: dict
    visibility_timeout: int = 1800
    webhook_timeout: float = 15.0
    webhook_retry_scale: float = 1.0
    webhook_secret_overlap_hours: float = 24.0
    outbox_sweep_seconds: float = 5.0
    outbox_redelivery_seconds: float = 300.0
    outbox_relay: str = "background"  # web apps: "background" (a thread sends after commit) or "inline"
    max_body_bytes: int = 2_000_000
    schedule_late_after_seconds: float = 60.0
    metrics_token: str = ""  # bearer token of /readyz and /metrics; the API token when empty
    login_throttle: str = "10 per 5 minutes"  # failed logins per account
    login_address_throttle: str = "50 per 5 minutes"  # failed logins per client address (an office shares one)
    token_throttle: str = "30 per minute"  # failed bearer tokens per client address
    password_reset_minutes: int = 60  # how long a password reset link works
    password_reset_throttle: str = "5 per hour"  # reset requests per address and per email (all count)
    site: SiteIdentity = field(default_factory=SiteIdentity)
    media_dir: Path | None = None  # originals of uploaded images (content-addressed); DATA_DIR/media
    max_image_bytes: int = 20_000_000
    max_image_pixels: int = 50_000_000  # larger images are refused as decompression bombs
    media_s3_bucket: str = ""  # when set, originals live in this S3-compatible bucket instead of media_dir
    media_s3_prefix: str = "originals/"
    media_s3_endpoint_url: str = ""  # e.g. a MinIO or Ceph endpoint; empty: AWS
    media_s3_region: str = ""
    wxr_uploads_dir: Path | None = None  # a WordPress uploads folder WXR imports read featured and body images from
    extra: dict = field(default_factory=dict)

    def database_url(self, service: str) -> str:
        """The SQLAlchemy URL of one service's own database."""
        return self.database_urls[service]


def load_settings(env: dict | None = None) -> Settings:
    """Read the settings from ``env`` (default: ``os.environ``)."""
    env = dict(os.environ if env is None else env)
    data_dir = Path(env.get("DATA_DIR") or "var").resolve()
    local = None

    def secret(name: str) -> str:
        nonlocal local
        if env.get(name):
            return env[name]
        if local is None:
            local = _local_secrets(data_dir)
        return local[name]

    languages = tuple(filter(None, (x.strip() for x in (env.get("LANGUAGES") or "en,tr,ru").split(","))))
    if not languages:
        raise ConfigError("LANGUAGES: empty; set a comma-separated list such as en,tr,ru")
    ports = {svc: _int(env, f"{svc.upper()}_PORT", DEFAULT_PORTS[svc]) for svc in SERVICES}
    db_urls = {
        svc: _with_password(env, svc, env.get(f"{svc.upper()}_DATABASE_URL") or f"sqlite:///{data_dir / (svc + '.db')}")
        for svc in SERVICES
    }
    service_urls = {
        svc: (env.get(f"{svc.upper()}_URL") or f"http://127.0.0.1:{ports[svc]}").rstrip("/")
        for svc in SERVICES
    }
    site_url = (env.get("SITE_URL") or f"http://127.0.0.1:{ports['rendering']}").rstrip("/")
    return Settings(
        data_dir=data_dir,
        redis_url=env.get("REDIS_URL") or "redis://127.0.0.1:6379/0",
        site_dir=Path(env.get("SITE_DIR") or data_dir / "site").resolve(),
        site_url=site_url,
        languages=languages,
        api_token=secret("API_TOKEN"),
        secret_key=secret("SECRET_KEY"),
        inbound_webhook_secret=secret("INBOUND_WEBHOOK_SECRET"),
        smtp_url=env.get("SMTP_URL") or "",
        webhook_allowlist=_networks(env.get("WEBHOOK_ALLOWLIST") or ""),
        ports=ports,
        database_urls=db_urls,
        service_urls=service_urls,
        visibility_timeout=_int(env, "CELERY_VISIBILITY_TIMEOUT", 1800),
        webhook_timeout=_float(env, "WEBHOOK_TIMEOUT", 15.0),
        webhook_retry_scale=_float(env, "WEBHOOK_RETRY_SCALE", 1.0),
        webhook_secret_overlap_hours=_float(env, "WEBHOOK_SECRET_OVERLAP_HOURS", 24.0),
        outbox_sweep_seconds=_float(env, "OUTBOX_SWEEP_SECONDS", 5.0),
        outbox_redelivery_seconds=_float(env, "OUTBOX_REDELIVERY_SECONDS", 300.0),
        outbox_relay=_one_of(env, "OUTBOX_RELAY", ("background", "inline")),
        max_body_bytes=_int(env, "MAX_BODY_BYTES", 2_000_000),
        schedule_late_after_seconds=_float(env, "SCHEDULE_LATE_AFTER_SECONDS", 60.0),
        metrics_token=env.get("METRICS_TOKEN") or "",
        login_throttle=_rate(env, "LOGIN_THROTTLE", "10 per 5 minutes"),
        login_address_throttle=_rate(env, "LOGIN_ADDRESS_THROTTLE", "50 per 5 minutes"),
        token_throttle=_rate(env, "TOKEN_THROTTLE", "30 per minute"),
        password_reset_minutes=_positive(env, "PASSWORD_RESET_MINUTES", 60),
        password_reset_throttle=_rate(env, "PASSWORD_RESET_THROTTLE", "5 per hour"),
        site=_site_identity(env, languages),
        media_dir=Path(env.get("MEDIA_DIR") or data_dir / "media").resolve(),
        max_image_bytes=_int(env, "MAX_IMAGE_BYTES", 20_000_000),
        max_image_pixels=_int(env, "MAX_IMAGE_PIXELS", 50_000_000),
        media_s3_bucket=env.get("MEDIA_S3_BUCKET") or "",
        media_s3_prefix=env.get("MEDIA_S3_PREFIX") or "originals/",
        media_s3_endpoint_url=env.get("MEDIA_S3_ENDPOINT_URL") or "",
        media_s3_region=env.get("MEDIA_S3_REGION") or "",
        wxr_uploads_dir=Path(env["WXR_UPLOADS_DIR"]).resolve() if env.get("WXR_UPLOADS_DIR") else None,
    )
