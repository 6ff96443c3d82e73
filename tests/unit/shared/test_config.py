"""Settings come from the environment, with local defaults and generated (not committed) secrets."""
import pytest

from shared.config import ConfigError, load_settings


def test_defaults(tmp_path):
    s = load_settings({"DATA_DIR": str(tmp_path)})
    assert s.languages == ("en", "tr", "ru")
    assert s.ports == {"ingest": 5001, "translation_status": 5002, "rendering": 5003, "notification": 5004}
    assert s.database_url("ingest") == f"sqlite:///{tmp_path / 'ingest.db'}"
    assert s.site_dir == tmp_path / "site"
    assert s.site_url == "http://127.0.0.1:5003"
    assert s.webhook_allowlist == ()


def test_generated_secrets_are_stable_and_private(tmp_path):
    a = load_settings({"DATA_DIR": str(tmp_path)})
    b = load_settings({"DATA_DIR": str(tmp_path)})
    assert a.api_token == b.api_token and len(a.api_token) >= 24
    assert a.inbound_webhook_secret.startswith("whsec_")
    assert (tmp_path / "secrets.json").stat().st_mode & 0o077 == 0


def test_environment_wins(tmp_path):
    s = load_settings({"DATA_DIR": str(tmp_path), "API_TOKEN": "tok", "INGEST_PORT": "6001",
                       "INGEST_DATABASE_URL": "postgresql://db/ingest", "WEBHOOK_ALLOWLIST": "127.0.0.1/32, ::1/128"})
    assert s.api_token == "tok" and s.ports["ingest"] == 6001
    assert s.database_url("ingest") == "postgresql://db/ingest"
    assert [str(r.network) for r in s.webhook_allowlist] == ["127.0.0.1/32", "::1/128"]


@pytest.mark.parametrize("env,name", [({"INGEST_PORT": "x"}, "INGEST_PORT"),
                                      ({"WEBHOOK_ALLOWLIST": "localhost"}, "WEBHOOK_ALLOWLIST"),
                                      ({"WEBHOOK_ALLOWLIST": "127.0.0.1:99999"}, "WEBHOOK_ALLOWLIST"),
                                      ({"WEBHOOK_ALLOWLIST": "hooks internal:80"}, "WEBHOOK_ALLOWLIST")])
def test_bad_values_name_the_variable(tmp_path, env, name):
    with pytest.raises(ConfigError, match=name):
        load_settings(dict(env, DATA_DIR=str(tmp_path)))


def test_the_webhook_allowlist_takes_networks_and_host_port_pairs(tmp_path):
    rules = load_settings({"DATA_DIR": str(tmp_path), "WEBHOOK_ALLOWLIST":
                           "10.0.0.0/8, 127.0.0.1:8080, [::1]:9000, 192.168.0.0/16:443, Hooks.Internal:8443"}).webhook_allowlist
    assert [(str(r.network) if r.network else r.host, r.port) for r in rules] == [
        ("10.0.0.0/8", None), ("127.0.0.1/32", 8080), ("::1/128", 9000), ("192.168.0.0/16", 443), ("hooks.internal", 8443)]


def test_database_password_comes_from_a_file_not_the_url(tmp_path):
    secret = tmp_path / "pw"
    secret.write_text("p@ss:w/rd\n")
    s = load_settings({"DATA_DIR": str(tmp_path), "API_TOKEN": "t", "DATABASE_PASSWORD_FILE": str(secret),
                       "INGEST_DATABASE_URL": "postgresql://pipeline@postgres:5432/ingest"})
    from sqlalchemy.engine import make_url

    url = make_url(s.database_url("ingest"))
    assert (url.username, url.password, url.host, url.database) == ("pipeline", "p@ss:w/rd", "postgres", "ingest")
    assert s.database_url("rendering").startswith("sqlite:///"), "SQLite URLs are left alone"


def test_unreadable_password_file_names_the_setting(tmp_path):
    with pytest.raises(ConfigError, match="DATABASE_PASSWORD_FILE: cannot read .*mount the password file"):
        load_settings({"DATA_DIR": str(tmp_path), "API_TOKEN": "t", "DATABASE_PASSWORD_FILE": str(tmp_path / "nope"),
                       "INGEST_DATABASE_URL": "postgresql://pipeline@postgres:5432/ingest"})


def test_site_identity_per_language_overrides_the_plain_values(tmp_path):
    s = load_settings({"DATA_DIR": str(tmp_path), "SITE_NAME": "Steppe Policy Review", "SITE_NAME_TR": "Bozkır Politika",
                       "SITE_TAGLINE": "Analysis from the steppe", "SITE_FOOTER_RU": "Все права защищены",
                       "SITE_LOGO_URL": "/logo.svg",
                       "SITE_SOCIAL": "Mastodon=https://mastodon.example/@spr, Telegram=https://t.me/spr"})
    tr, ru = s.site.for_lang("tr"), s.site.for_lang("ru", default_name="Аналитика")
    assert tr["name"] == "Bozkır Politika" and tr["tagline"] == "Analysis from the steppe"
    assert ru["name"] == "Steppe Policy Review" and ru["footer"] == "Все права защищены"
    assert s.site.for_lang("en")["footer"] == ""
    assert [link["label"] for link in tr["social"]] == ["Mastodon", "Telegram"]
    assert load_settings({"DATA_DIR": str(tmp_path)}).site.for_lang("ru", default_name="Аналитика")["name"] == "Аналитика"


@pytest.mark.parametrize("name,value,says", [
    ("SITE_SOCIAL", "Mastodon", "label=https-URL"),
    ("SITE_SOCIAL", "X=javascript:alert(1)", "label=https-URL"),
    ("SITE_LOGO_URL", "//evil.example/logo.png", "SITE_LOGO_URL"),
    ("SITE_LOGO_URL_TR", "logo.png", "SITE_LOGO_URL_TR"),
    ("PASSWORD_RESET_MINUTES", "0", "at least 1"),
    ("PASSWORD_RESET_THROTTLE", "often", "not a rate"),
])
def test_bad_site_and_reset_settings_name_the_variable(tmp_path, name, value, says):
    with pytest.raises(ConfigError, match=says):
        load_settings({"DATA_DIR": str(tmp_path), name: value})
