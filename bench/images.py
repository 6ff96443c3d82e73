"""Image benchmark: uploads checked and stripped per second, variant generation (images/s, variants/s),
and the variants a republish with unchanged images generates (none).

Usage: .venv/bin/python bench/images.py [--n 20] [--width 2400] [--height 1600] [--output PATH] [--keep]

The photos are drawn by this script (shapes and noise, so JPEG has something to compress). Each
goes through ``shared.media.strip_image`` as an upload does, into a fresh media store; then one
article per photo is published through ``services.rendering.site.publish`` into a fresh read model
and SITE_DIR (no Celery: the rendering flush itself), which writes the variants; then every article
is published again (revision 2, same image). Prints the figures and writes
``bench/results/images-<timestamp>.json``. Never asserts timings.
"""
from __future__ import annotations

import argparse
import dataclasses
import io
import json
import random
import shutil
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from PIL import Image, ImageDraw  # noqa: E402

from deploy import migrate  # noqa: E402
from services.rendering import site  # noqa: E402
from shared.config import load_settings  # noqa: E402
from shared.db import make_engine  # noqa: E402
from shared.media import avif_supported, media_store, strip_image, variant_formats, variant_widths  # noqa: E402


def photo(width: int, height: int, seed: int) -> bytes:
    """A JPEG of shapes and noise, different for every seed."""
    rnd = random.Random(seed)
    image = Image.effect_noise((width, height), 40).convert("RGB")
    draw = ImageDraw.Draw(image, "RGBA")
    for _ in range(40):
        x, y = rnd.randrange(width), rnd.randrange(height)
        draw.ellipse([x, y, x + rnd.randrange(50, width // 3), y + rnd.randrange(50, height // 3)],
                     fill=(rnd.randrange(256), rnd.randrange(256), rnd.randrange(256), 160))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=88)
    return out.getvalue()


def snapshot(i: int, image_id: str, image: dict, revision: int) -> dict:
    """A publish snapshot of article ``i`` featuring ``image``."""
    when = datetime(2026, 1, 1, tzinfo=timezone.utc).replace(minute=i % 60, hour=(i // 60) % 24).isoformat()
    return {"article_id": f"00000000-0000-4000-8000-{i:012d}", "group_id": f"00000000-0000-4000-9000-{i:012d}",
            "lang": "en", "is_source": True, "source_lang": "en", "slug": f"pictured-{i}", "title": f"Pictured {i}",
            "body_html": f"<p>Article {i} about a picture.</p>", "author": {"name": "Bench Author", "bio": "", "bio_lang": None},
            "references": [], "tags": [], "revision": revision, "published_at": when, "updated_at": when,
            "featured_image": image_id, "images": {image_id: image}}


def run(n: int, width: int, height: int) -> dict:
    """Strip ``n`` photos, publish one article per photo, publish them all again; return the figures."""
    tmp = Path(tempfile.mkdtemp(prefix="bench-images-"))
    settings = load_settings({"DATA_DIR": str(tmp), "API_TOKEN": "b", "SECRET_KEY": "b",
                              "INBOUND_WEBHOOK_SECRET": "whsec_YmVuY2g=", "SITE_URL": "https://bench.example"})
    settings = dataclasses.replace(settings, site_dir=tmp / "site")
    migrate.upgrade("rendering", settings.database_url("rendering"))
    engine = make_engine(settings.database_url("rendering"))
    print(f"drawing {n} photos of {width}x{height}...", flush=True)
    photos = [photo(width, height, seed) for seed in range(n)]
    store = media_store(settings)

    started = time.perf_counter()
    images = []
    for data in photos:
        stripped = strip_image(data, max_bytes=settings.max_image_bytes, max_pixels=settings.max_image_pixels)
        store.put(stripped.sha256, stripped.data)
        images.append({"sha256": stripped.sha256, "width": stripped.width, "height": stripped.height,
                       "format": stripped.format, "alt": "A benchmark picture", "caption": "", "credit": ""})
    strip_s = time.perf_counter() - started

    print("first publish of each (variants generated)...", flush=True)
    started = time.perf_counter()
    made = 0
    for i, image in enumerate(images):
        with engine.begin() as conn:
            made += site.publish(conn, snapshot(i, f"00000000-0000-4000-a000-{i:012d}", image, 1), settings).variants
    first_s = time.perf_counter() - started

    print("republish with the same images...", flush=True)
    started = time.perf_counter()
    again = 0
    for i, image in enumerate(images):
        with engine.begin() as conn:
            again += site.publish(conn, snapshot(i, f"00000000-0000-4000-a000-{i:012d}", image, 2), settings).variants
    second_s = time.perf_counter() - started
    engine.dispose()
    per_image = len(variant_widths(width)) * len(variant_formats(images[0]["format"]))
    return {
        "n": n, "width": width, "height": height, "avif": avif_supported(), "variants_per_image": per_image,
        "upload_strip": {"seconds": strip_s, "images_per_s": n / strip_s},
        "first_publish": {"seconds": first_s, "variants": made, "images_per_s": n / first_s,
                          "variants_per_s": made / first_s},
        "republish_unchanged": {"seconds": second_s, "variants": again, "publishes_per_s": n / second_s},
        "data_dir": str(tmp),
    }


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its figures."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=20, help="photos (one article each); default 20")
    p.add_argument("--width", type=int, default=2400)
    p.add_argument("--height", type=int, default=1600)
    p.add_argument("--output", type=Path, help="JSON path (default bench/results/images-<timestamp>.json)")
    p.add_argument("--keep", action="store_true", help="keep the temporary DATA_DIR")
    args = p.parse_args(argv)
    res = run(args.n, args.width, args.height)
    if not args.keep:
        shutil.rmtree(res.pop("data_dir"), ignore_errors=True)
    print()
    print(f"images: {res['n']} photos of {res['width']}x{res['height']}, {res['variants_per_image']} variants each "
          f"(AVIF {'yes' if res['avif'] else 'no'})")
    print(f"  upload check + strip + store:   {res['upload_strip']['images_per_s']:.1f} images/s")
    print(f"  variant generation (1st publish): {res['first_publish']['images_per_s']:.2f} images/s, "
          f"{res['first_publish']['variants_per_s']:.1f} variants/s ({res['first_publish']['variants']} variants)")
    print(f"  republish, image unchanged:     {res['republish_unchanged']['variants']} variants generated, "
          f"{res['republish_unchanged']['publishes_per_s']:.1f} publishes/s")
    out = args.output or ROOT / "bench" / "results" / f"images-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(res, indent=2))
    print(f"results: {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
