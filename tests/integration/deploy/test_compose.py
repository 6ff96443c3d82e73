"""docker-compose.yml and deploy/Dockerfile stay valid and in step with deploy/Procfile.

The Compose file is checked by the real validator, ``docker-compose config`` (Debian's v1 needs
no Docker engine for that), in a clean environment and with an explicit env file, so neither the
caller's shell nor a local ``.env`` can hide a missing default. The normalised configuration it
prints is then compared with the Procfile: same process names, and each container runs its
process's Procfile command (under ``sh -c``, where compose writes ``$`` as ``$$``).

Without the ``docker-compose`` binary (or PyYAML to read its output) the Compose tests skip,
or fail when ``REQUIRE_COMPOSE_VALIDATOR=1`` (as ``.ci/run`` sets). The Dockerfile tests need
neither.
"""
from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from shared.config import SERVICES
from deploy.launcher import read_procfile

ROOT = Path(__file__).resolve().parents[3]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "deploy" / "Dockerfile"
ENV_EXAMPLE = ROOT / "deploy" / "env.example"
INFRA = {"redis", "postgres", "flower", "site"}
ONE_SHOT = {"migrate"}  # runs the migrations, then exits; not a Procfile process
APP_IMAGE = "policy-pipeline:latest"
WEB_PORTS = {"ingest_web": 5001, "translation_status_web": 5002, "rendering_web": 5003, "notification_web": 5004}


def _unavailable(reason: str):
    if os.environ.get("REQUIRE_COMPOSE_VALIDATOR") == "1":
        pytest.fail(f"{reason} (REQUIRE_COMPOSE_VALIDATOR=1)")
    pytest.skip(reason)


def interpolated_variables() -> set[str]:
    """The variables docker-compose.yml takes from the environment (``$${...}`` is a literal ``$``)."""
    text = "\n".join(line for line in COMPOSE_FILE.read_text().splitlines() if not line.lstrip().startswith("#"))
    return set(re.findall(r"(?<!\$)\$\{(\w+)", text.replace("$$", "")))


def _clean_env() -> dict:
    """The caller's environment without Compose/Docker settings or any variable the file interpolates."""
    referenced = interpolated_variables()
    return {k: v for k, v in os.environ.items()
            if not k.startswith(("COMPOSE_", "DOCKER_")) and k not in referenced}


@pytest.fixture(scope="module")
def compose_bin() -> str:
    path = shutil.which("docker-compose")
    if not path:
        _unavailable("docker-compose is not installed (apt-get install docker-compose)")
    return path


def run_config(compose_bin: str, env_file: Path, *args: str) -> subprocess.CompletedProcess:
    """``docker-compose -f docker-compose.yml --env-file ENV_FILE config ARGS`` from the repo root."""
    return subprocess.run(
        [compose_bin, "-f", "docker-compose.yml", "--env-file", str(env_file), "config", *args],
        cwd=ROOT, env=_clean_env(), capture_output=True, text=True, timeout=120,
    )


def load_config(compose_bin: str, env_file: Path) -> dict:
    """The configuration as docker-compose resolves it (interpolated, merged, normalised)."""
    try:
        import yaml
    except ImportError:
        _unavailable("PyYAML is not installed (it is in the project's `test` extra)")
    result = run_config(compose_bin, env_file)
    assert result.returncode == 0, result.stderr
    return yaml.safe_load(result.stdout)


REQUIRED = {"API_TOKEN": "t", "SECRET_KEY": "s", "INBOUND_WEBHOOK_SECRET": "whsec_x", "FLOWER_BASIC_AUTH": "u:p"}


@pytest.fixture(scope="module")
def empty_env_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("compose") / "empty.env"
    path.write_text("")
    return path


@pytest.fixture(scope="module")
def required_env_file(tmp_path_factory) -> Path:
    """Only the required secrets set (placeholders): every other default in force."""
    path = tmp_path_factory.mktemp("compose") / "required.env"
    path.write_text("".join(f"{k}={v}\n" for k, v in REQUIRED.items()))
    return path


@pytest.fixture(scope="module")
def config(compose_bin, required_env_file) -> dict:
    """The resolved configuration with only the required secrets set (every default in force)."""
    return load_config(compose_bin, required_env_file)


def app_services(config: dict) -> dict:
    return {name: svc for name, svc in config["services"].items() if name not in INFRA | ONE_SHOT}


def unescape(text: str) -> str:
    return text.replace("$$", "$")


def mounts(service: dict) -> list[tuple[str, str, bool]]:
    """(source, target, read_only) of every volume, from short or long syntax."""
    found = []
    for vol in service.get("volumes", []):
        if isinstance(vol, str):
            parts = vol.split(":")
            source, target = parts[0], parts[1]
            read_only = len(parts) > 2 and "ro" in parts[2].split(",")
        else:
            source, target, read_only = vol.get("source"), vol["target"], bool(vol.get("read_only"))
        found.append((source, target, read_only))
    return found


def published_targets(service: dict) -> set[int]:
    targets = set()
    for port in service.get("ports", []):
        if isinstance(port, dict):
            targets.add(int(port["target"]))
        else:
            targets.add(int(str(port).split("/")[0].rsplit(":", 1)[-1]))
    return targets


def env_of(service: dict) -> dict:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, None) for item in env)
    return env


# --- validation ------------------------------------------------------------------------------

def test_compose_file_validates(compose_bin, required_env_file):
    result = run_config(compose_bin, required_env_file, "-q")
    assert result.returncode == 0, f"docker-compose config -q failed:\n{result.stderr}"
    assert "WARNING" not in result.stderr, result.stderr  # e.g. an unset variable with no default


@pytest.mark.parametrize("missing", sorted(REQUIRED))
def test_a_missing_secret_stops_compose_naming_it(compose_bin, tmp_path, missing):
    env_file = tmp_path / "partial.env"
    env_file.write_text("".join(f"{k}={v}\n" for k, v in REQUIRED.items() if k != missing))
    result = run_config(compose_bin, env_file, "-q")
    assert result.returncode != 0 and f"set {missing}" in result.stderr, result.stderr[-2000:]


def test_the_unfilled_env_example_does_not_start(compose_bin):
    assert run_config(compose_bin, ENV_EXAMPLE, "-q").returncode != 0, "placeholders must not pass for secrets"


def test_env_example_documents_every_interpolated_variable():
    referenced = interpolated_variables()
    assert {"API_TOKEN", "POSTGRES_PASSWORD_FILE"} <= referenced
    documented = set(re.findall(r"^(\w+)=", ENV_EXAMPLE.read_text(), flags=re.M))
    assert referenced - documented == set(), "add these to deploy/env.example"


# --- in step with the Procfile ---------------------------------------------------------------

def test_app_containers_are_the_procfile_processes(config):
    assert set(app_services(config)) == set(read_procfile())


def test_each_container_runs_its_procfile_command(config):
    procfile = read_procfile()
    for name, service in app_services(config).items():
        command = service.get("command")
        assert command, f"{name}: no command"
        if isinstance(command, str):
            command = shlex.split(command)
        command = [unescape(part) for part in command]
        expected = procfile[name]
        if command[:2] == ["sh", "-c"]:
            assert len(command) == 3, f"{name}: {command}"
            assert command[2] in (expected, f"exec {expected}"), f"{name}: {command[2]!r} != {expected!r}"
        else:
            assert command == shlex.split(expected), f"{name}: {command} != {expected!r}"


def test_app_containers_share_the_image_and_settings(config):
    for name, service in app_services(config).items():
        assert service.get("image") == APP_IMAGE, name
        assert service["build"]["dockerfile"] == "deploy/Dockerfile", name
        env = env_of(service)
        assert env.get("REDIS_URL") == "redis://redis:6379/0", name
        assert (env.get("DATA_DIR"), env.get("SITE_DIR"), env.get("BIND_HOST")) == ("/data", "/site", "0.0.0.0"), name
        for svc in SERVICES:
            url = env.get(f"{svc.upper()}_DATABASE_URL", "")
            assert url == f"postgresql://pipeline@postgres:5432/{svc}", (name, url)  # no password in it
        depends = service.get("depends_on") or {}
        for dep in ("redis", "postgres"):
            assert depends.get(dep, {}).get("condition") == "service_healthy", f"{name} -> {dep}"
        assert service.get("restart") == "unless-stopped", name
        assert service.get("stop_grace_period") in ("60s", "1m", "1m0s"), name


def test_settings_from_the_env_file_reach_the_containers(compose_bin, tmp_path):
    env_file = tmp_path / "filled.env"
    env_file.write_text("".join(f"{k}={v}\n" for k, v in dict(REQUIRED, API_TOKEN="token-from-env-file").items()) +
                        "LANGUAGES=en,de\nINGEST_HOST_PORT=6001\nPOSTGRES_PASSWORD_FILE=/srv/pw\n")
    config = load_config(compose_bin, env_file)
    assert config["secrets"]["postgres_password"]["file"] == "/srv/pw"
    for name, service in app_services(config).items():
        env = env_of(service)
        assert env["INGEST_DATABASE_URL"] == "postgresql://pipeline@postgres:5432/ingest", name
        assert env["API_TOKEN"] == "token-from-env-file", name
        assert env["LANGUAGES"] == "en,de", name
    ports = config["services"]["ingest_web"]["ports"]
    assert any("6001" in str(p.get("published") if isinstance(p, dict) else p) for p in ports), ports


def test_web_containers_publish_their_ports(config):
    for name, port in WEB_PORTS.items():
        assert published_targets(config["services"][name]) == {port}, name


# --- infrastructure and volumes --------------------------------------------------------------

def test_redis_is_durable_and_never_evicts(config):
    redis = config["services"]["redis"]
    command = redis["command"]
    args = shlex.split(command) if isinstance(command, str) else [str(a) for a in command]
    assert args[0] == "redis-server"
    assert args[args.index("--appendonly") + 1] == "yes"
    assert args[args.index("--maxmemory-policy") + 1] == "noeviction"
    assert ("redis-data", "/data", False) in mounts(redis)


def test_only_the_rendering_worker_writes_the_site(config):
    services = config["services"]
    assert ("site", "/site", False) in mounts(services["rendering_worker"])
    assert ("site", "/site", True) in mounts(services["rendering_web"])
    for name, service in services.items():
        if name != "rendering_worker":
            assert not [m for m in mounts(service) if m[0] == "site" and not m[2]], f"{name} mounts site read-write"


def test_postgres_runs_the_init_script(config):
    postgres = config["services"]["postgres"]
    assert any(src.endswith("deploy/postgres-init.sh") and tgt.startswith("/docker-entrypoint-initdb.d/")
               for src, tgt, _ in mounts(postgres))
    assert (ROOT / "deploy" / "postgres-init.sh").read_text().count("CREATE DATABASE") >= 1


def test_every_container_has_a_healthcheck(config):
    for name, service in config["services"].items():
        if name in ONE_SHOT:
            continue  # it exits; compose waits for its exit status instead
        check = service.get("healthcheck") or {}
        test = check.get("test")
        assert test and not check.get("disable") and test not in (["NONE"], "NONE"), f"{name}: no healthcheck"


def test_third_party_images_are_pinned(config):
    for name in INFRA:
        image = config["services"][name]["image"]
        assert re.fullmatch(r"[\w./-]+:\d+\.\d+(\.\d+)?(-[\w.]+)?(@sha256:[0-9a-f]{64})?", image), f"{name}: {image}"


def test_named_volumes(config):
    assert {"redis-data", "pg-data", "site", "data"} <= set(config.get("volumes") or {})


# --- Dockerfile (no validator needed) --------------------------------------------------------

def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    found = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            found.append((word.upper(), rest.strip()))
    return found


def test_dockerfile_base_image_has_an_exact_tag():
    froms = [args for word, args in dockerfile_instructions() if word == "FROM"]
    assert froms, "no FROM"
    image = froms[-1].split()[0]
    assert re.fullmatch(r"python:3\.11\.\d+-slim-bookworm(@sha256:[0-9a-f]{64})?", image), image


def test_dockerfile_runs_as_a_non_root_user():
    users = [args for word, args in dockerfile_instructions() if word == "USER"]
    assert users, "no USER: the processes would run as root"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0"), users[-1]


def test_dockerfile_installs_the_project_and_sets_the_environment():
    instructions = dockerfile_instructions()
    assert any(word == "RUN" and re.search(r"pip install (--\S+ )*\.(\s|$)", args) for word, args in instructions)
    env = " ".join(args for word, args in instructions if word == "ENV")
    for setting in ("PYTHONUNBUFFERED=1", "BIND_HOST=0.0.0.0", "DATA_DIR=/data", "SITE_DIR=/site"):
        assert setting in env.split(), setting
    copied = " ".join(args for word, args in instructions if word == "COPY")
    for path in ("services/", "shared/", "deploy/", "pyproject.toml", "README.md"):
        assert path in copied.split(), path


# --- migrations run first ----------------------------------------------------------------------

def test_migrate_runs_once_with_the_app_image_and_settings(config):
    migrate = config["services"]["migrate"]
    command = migrate["command"]
    assert (shlex.split(command) if isinstance(command, str) else command) == ["python", "-m", "deploy.migrate", "upgrade"]
    assert migrate.get("restart") in ("no", None), "a one-shot must not be restarted after it succeeds"
    assert migrate["image"] == APP_IMAGE
    apps_env = env_of(config["services"]["ingest_worker"])
    assert {k: v for k, v in env_of(migrate).items()} == apps_env
    assert {dep: c.get("condition") for dep, c in migrate["depends_on"].items()} == {
        "redis": "service_healthy", "postgres": "service_healthy"}


def test_every_app_container_waits_for_the_migrations(config):
    for name, service in app_services(config).items():
        assert service["depends_on"].get("migrate", {}).get("condition") == "service_completed_successfully", name


# --- operations details ---------------------------------------------------------------------------

def test_the_database_password_is_a_secret_file_not_a_variable(config):
    assert "postgres_password" in config["secrets"]
    pg = config["services"]["postgres"]
    assert env_of(pg).get("POSTGRES_PASSWORD_FILE") == "/run/secrets/postgres_password" and "POSTGRES_PASSWORD" not in env_of(pg)
    for name, service in list(app_services(config).items()) + [("migrate", config["services"]["migrate"])]:
        assert env_of(service)["DATABASE_PASSWORD_FILE"] == "/run/secrets/postgres_password", name
        secrets = [s if isinstance(s, str) else s["source"] for s in service.get("secrets", [])]
        assert secrets == ["postgres_password"], name
        for key, value in env_of(service).items():
            if key.endswith("_DATABASE_URL"):
                assert urlsplit(value).password is None, (name, key)


def test_every_container_rotates_its_logs(config):
    for name, service in config["services"].items():
        logging = service.get("logging") or {}
        assert logging.get("driver") == "json-file", name
        assert logging.get("options", {}).get("max-size") and logging.get("options", {}).get("max-file"), name


def test_nginx_serves_the_site_volume_and_rendering_web_stays(config):
    site = config["services"]["site"]
    assert site["image"].startswith("nginx:")
    assert ("site", "/usr/share/nginx/html", True) in mounts(site)
    assert 80 in published_targets(site)
    conf = (ROOT / "deploy" / "nginx.conf").read_text()
    assert "try_files $uri $uri/index.html @rendering" in conf and "proxy_pass http://rendering_web:5003" in conf
    assert "rendering_web" in config["services"]


def test_procfile_turns_gunicorn_control_socket_off_and_task_events_on():
    for name, command in read_procfile().items():
        if command.startswith("gunicorn"):
            assert "--no-control-socket" in command.split(), name
        if " worker " in command:
            assert "-E" in command.split(), name
