"""One shape for every service: the same role files, no imports across services, none from shared/ into a
service, and no import cycles inside a service (read from the code's own imports)."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("ingest", "translation_status", "rendering", "notification")
# Every service has these; views/forms and webhooks exist where the service has editor pages or
# signed inbound endpoints (rendering serves the public site, notification receives no webhooks).
ROLE_FILES = {"app.py", "api.py", "views.py", "worker.py", "celeryapp.py", "db.py"}
FORMS = {"ingest", "translation_status", "notification"}
WEBHOOKS = {"ingest", "translation_status"}


def _imports(path: Path) -> set[str]:
    """Absolute module names ``path`` imports (relative imports resolved against its package)."""
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    found = set()
    tree = ast.parse(path.read_text())
    # Imports only for type checkers never run, so they make no cycle.
    typing_only = {id(n) for block in ast.walk(tree) if isinstance(block, ast.If)
                   and getattr(block.test, "id", None) == "TYPE_CHECKING" for n in ast.walk(block)}
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{parent}.{base}" if base else parent
                found.update(f"{base}.{alias.name}" for alias in node.names)  # "from . import x"
            found.add(base)
    return found


@pytest.mark.parametrize("service", SERVICES)
def test_every_service_has_the_same_role_files(service):
    files = {p.name for p in (ROOT / "services" / service).glob("*.py")}
    expected = set(ROLE_FILES) | ({"forms.py"} if service in FORMS else set()) | ({"webhooks.py"} if service in WEBHOOKS else set())
    assert expected <= files, f"services/{service} lacks {sorted(expected - files)}"


@pytest.mark.parametrize("service", SERVICES)
def test_app_and_worker_are_thin_and_built_by_the_shared_factories(service):
    app = (ROOT / "services" / service / "app.py").read_text()
    worker = (ROOT / "services" / service / "worker.py").read_text()
    assert "create_service_app(" in app and "Blueprint(" not in app, f"services/{service}/app.py: factory only"
    assert "create_service_worker(" in worker


def test_services_never_import_each_other_and_shared_imports_no_service():
    offences = []
    for path in sorted((ROOT / "services").rglob("*.py")):
        own = path.relative_to(ROOT / "services").parts[0]
        for name in _imports(path):
            parts = name.split(".")
            if parts[0] == "services" and len(parts) > 1 and parts[1] != own:
                offences.append(f"{path.relative_to(ROOT)} imports {name}")
    for path in sorted((ROOT / "shared").rglob("*.py")):
        offences += [f"{path.relative_to(ROOT)} imports {n}" for n in _imports(path) if n.split(".")[0] in ("services", "deploy")]
    assert offences == []


@pytest.mark.parametrize("package", SERVICES + ("shared",))
def test_no_import_cycles_inside_a_package(package):
    base = ROOT / "services" / package if package != "shared" else ROOT / "shared"
    prefix = f"services.{package}" if package != "shared" else "shared"
    modules = {f"{prefix}.{p.stem}": p for p in base.glob("*.py") if p.stem != "__init__"}
    graph = {m: {n for n in _imports(p) if n in modules and n != m} for m, p in modules.items()}
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                raise AssertionError("import cycle: " + " -> ".join(trail[trail.index(nxt):] + [node, nxt])
                                     if nxt in trail else f"import cycle through {node} -> {nxt}")
            if nxt not in state:
                visit(nxt, trail + [node])
        state[node] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [])
