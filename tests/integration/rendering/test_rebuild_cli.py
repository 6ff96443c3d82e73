"""``python -m services.rendering.rebuild`` renders the whole site from the read model on a process pool, with progress."""
from __future__ import annotations

import os
import subprocess
import sys

from services.rendering import site

from . import fixtures as fx


def test_rebuild_cli_restores_a_damaged_site(tmp_path):
    settings = fx.settings_for(tmp_path)
    engine = fx.engine_for(settings)
    with engine.begin() as conn:
        for snap in fx.group_snapshots():
            site.publish_snapshot(conn, snap, settings)
    engine.dispose()
    page = settings.site_dir / "tr" / fx.SLUGS["tr"] / "index.html"
    original = page.read_bytes()
    page.write_text("damaged")
    stale = settings.site_dir / "en" / "old-article" / "index.html"
    stale.parent.mkdir(parents=True)
    stale.write_text("left over")
    keep = settings.site_dir / "en" / "logo.png"
    keep.write_bytes(b"not ours")

    env = {**os.environ, "DATA_DIR": str(tmp_path), "SITE_DIR": str(settings.site_dir), "SITE_URL": settings.site_url,
           "API_TOKEN": "t", "SECRET_KEY": "s", "INBOUND_WEBHOOK_SECRET": "whsec_dGVzdA=="}
    env.pop("RENDERING_DATABASE_URL", None)
    done = subprocess.run([sys.executable, "-m", "services.rendering.rebuild", "--jobs", "2"], cwd=fx.ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("rendered ") and "files" in lines[0]
    assert lines[-1].startswith("done: 1 written, 1 removed,")
    assert page.read_bytes() == original
    assert not stale.exists() and not stale.parent.exists()
    assert keep.exists(), "files the site does not own are left alone"

    # Nothing changed since: nothing is written (the digests kept in the read model say so).
    again = subprocess.run([sys.executable, "-m", "services.rendering.rebuild", "--quiet"], cwd=fx.ROOT, env=env,
                           capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr
    assert again.stdout.startswith("done: 0 written, 0 removed,")
