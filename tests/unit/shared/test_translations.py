"""The editor pages' catalog (shared/translations): every string marked, every catalog complete and current.

When one of these fails after you added or changed a string: wrap it in ``{{ _("...") }}`` (templates)
or ``gettext``/``lazy_gettext`` (Python), run ``make messages``, translate the new entries in
``shared/translations/{tr,ru}/LC_MESSAGES/messages.po`` and run ``make compile-messages``
(README, "Translations").
"""
from __future__ import annotations

import ast
import re
from html.parser import HTMLParser
from io import BytesIO
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from jinja2 import Environment, nodes
from wtforms.fields.core import UnboundField

from shared.i18n import LOCALES, TRANSLATIONS_DIR

ROOT = Path(__file__).resolve().parents[3]
# The editor pages' templates; the public site (services/rendering) has its own strings.
TEMPLATE_DIRS = [ROOT / "shared" / "templates"] + [ROOT / "services" / s / "templates"
                                                   for s in ("ingest", "translation_status", "notification")]
EDITOR_PYTHON = [ROOT / "services" / s / f for s in ("ingest", "translation_status", "notification")
                 for f in ("views.py", "forms.py")] + [ROOT / "shared" / "auth.py"]
GETTEXT_CALLS = {"_", "gettext", "ngettext", "_l", "lazy_gettext", "lazy_ngettext"}
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None, "lazy_ngettext": (1, 2)}
# Attributes whose values people read (or hear, from a screen reader).
READ_ATTRIBUTES = {"aria-label", "title", "placeholder", "alt"}
WORDS = re.compile(r"[^\W\d_]{2,}")
PHRASE = re.compile(r"[^\W\d_]{2,}\s+[^\W\d_]{2,}")


def _templates() -> list[Path]:
    return sorted(p for d in TEMPLATE_DIRS for p in d.glob("*.html"))


class _TextNodes(HTMLParser):
    """(line, text) of every text node and read attribute value (inside <code>, <style> and <pre>: none)."""

    SKIP = {"code", "style", "pre", "script"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[int, str]] = []
        self.skipping = 0

    def handle_starttag(self, tag, attrs):
        self.skipping += tag in self.SKIP
        self.found += [(self.getpos()[0], value) for name, value in attrs if name in READ_ATTRIBUTES and value]

    def handle_endtag(self, tag):
        self.skipping -= tag in self.SKIP and self.skipping > 0

    def handle_data(self, data):
        if not self.skipping:
            # The line of the text itself, not of the blank lines before it.
            self.found.append((self.getpos()[0] + data[:len(data) - len(data.lstrip())].count("\n"), data))


def _unmarked_in_template(path: Path, root: Path = ROOT) -> list[str]:
    """Each piece of English in ``path`` outside a gettext call, as 'file:line: "text"'.

    The HTML is read with every Jinja tag replaced by a mark (newlines kept, so lines stay right) and
    every ``{% trans %}`` block removed; what is left as text, or as a read attribute, is unmarked.
    Literal strings of two words or more in expressions (a macro's hint, say) count too.
    """
    source = path.read_text()
    keep_lines = lambda m: "\x00" + "\n" * m.group().count("\n")  # noqa: E731
    html = re.sub(r"\{%-?\s*trans\b.*?\{%-?\s*endtrans\s*-?%\}", keep_lines, source, flags=re.S)
    html = re.sub(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", keep_lines, html, flags=re.S)
    parser = _TextNodes()
    parser.feed(html)
    parser.close()
    where = path.relative_to(root)
    problems = [f'{where}:{line}: "{" ".join(text.replace(chr(0), " ").split())}"'
                for line, text in parser.found if WORDS.search(text.replace("\x00", " "))]
    tree = Environment(extensions=["jinja2.ext.i18n"]).parse(source, filename=str(path))
    inside_gettext = set()
    for call in tree.find_all(nodes.Call):
        if isinstance(call.node, nodes.Name) and call.node.name in GETTEXT_CALLS:
            inside_gettext.update(id(n) for n in call.find_all(nodes.Const))
    for const in tree.find_all(nodes.Const):
        if isinstance(const.value, str) and id(const) not in inside_gettext and PHRASE.search(const.value):
            problems.append(f'{where}:{const.lineno}: "{const.value}" (a string literal)')
    return problems


def test_every_editor_template_string_is_marked():
    problems = [p for path in _templates() for p in _unmarked_in_template(path)]
    assert not problems, ("Text in editor templates not marked for translation (wrap each in {{ _(\"...\") }}, "
                          "then `make messages` and translate; README, Translations):\n" + "\n".join(problems))


def test_the_marking_check_names_the_file_the_line_and_the_string(tmp_path):
    page = tmp_path / "page.html"
    page.write_text('{% block main %}\n<h1>{{ _("Marked") }}</h1>\n<p title="{{ _(\'Fine\') }}">Left in English</p>\n'
                    '<a aria-label="Open it">{{ field(f, "A bare hint") }}</a>{% endblock %}')
    problems = _unmarked_in_template(page, root=tmp_path)
    assert problems == ['page.html:3: "Left in English"', 'page.html:4: "Open it"',
                        'page.html:4: "A bare hint" (a string literal)']


def _flash_or_label_literals(path: Path) -> list[str]:
    """flash() calls and WTForms field labels given a plain string instead of a gettext call."""
    problems = []
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        name = getattr(node.func, "id", getattr(node.func, "attr", ""))
        first = node.args[0]
        literal = isinstance(first, ast.JoinedStr) or (isinstance(first, ast.Constant) and isinstance(first.value, str))
        if name == "flash" and literal:
            problems.append(f"{path.relative_to(ROOT)}:{node.lineno}: flash() of a plain string")
        if name.endswith("Field") and name[0].isupper() and literal and WORDS.search(getattr(first, "value", "x y")):
            problems.append(f"{path.relative_to(ROOT)}:{node.lineno}: {name} label is a plain string")
    return problems


def test_flash_messages_and_form_labels_are_marked():
    problems = [p for path in EDITOR_PYTHON for p in _flash_or_label_literals(path)]
    assert not problems, "Use gettext / lazy_gettext (README, Translations):\n" + "\n".join(problems)


def test_form_labels_are_lazy_so_each_request_gets_its_language():
    from services.ingest import forms as ingest_forms
    from services.notification import forms as notification_forms
    from services.translation_status import forms as ts_forms

    plain = []
    for module in (ingest_forms, notification_forms, ts_forms):
        for cls in vars(module).values():
            for name, field in vars(cls).items() if isinstance(cls, type) else ():
                if isinstance(field, UnboundField) and field.args and isinstance(field.args[0], str):
                    plain.append(f"{module.__name__}.{cls.__name__}.{name}: {field.args[0]!r}")
    assert not plain, "\n".join(plain)


def _catalog(lang: str):
    with open(TRANSLATIONS_DIR / lang / "LC_MESSAGES" / "messages.po", "rb") as f:
        return read_po(f, locale=lang)


TRANSLATED = [code for code in LOCALES if code != "en"]


@pytest.mark.parametrize("lang", TRANSLATED)
def test_every_catalog_is_complete(lang):
    catalog = _catalog(lang)
    empty = [m.id for m in catalog if m.id and (not all(m.string) if isinstance(m.string, tuple) else not m.string)]
    fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
    checks = [f"{m.id!r}: {e}" for m, errors in catalog.check() for e in errors]  # placeholders agree
    assert not empty, f"{lang}: untranslated: {empty}"
    assert not fuzzy, f"{lang}: fuzzy (check and remove the flag): {fuzzy}"
    assert not checks, f"{lang}: " + "\n".join(checks)


def _extracted() -> set[str]:
    with open(ROOT / "babel.cfg") as f:
        method_map, options_map = parse_mapping_cfg(f)
    ids = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=dict(KEYWORDS)):
        ids.add(message[0] if isinstance(message, tuple) else message)
    return ids


def test_the_catalogs_are_current_with_the_sources():
    extracted = _extracted()
    with open(TRANSLATIONS_DIR / "messages.pot", "rb") as f:
        template = {m.id[0] if isinstance(m.id, tuple) else m.id for m in read_po(f) if m.id}
    assert extracted - template == set(), "new strings: run `make messages` and translate them"
    assert template - extracted == set(), "strings no longer used: run `make messages`"
    for lang in TRANSLATED:
        ids = {m.id[0] if isinstance(m.id, tuple) else m.id for m in _catalog(lang) if m.id}
        assert ids == template, f"{lang}: run `make messages` (missing {template - ids}, stale {ids - template})"


def _key(value):
    return tuple(value) if isinstance(value, (list, tuple)) else value


@pytest.mark.parametrize("lang", TRANSLATED)
def test_the_compiled_catalogs_match_the_po_files(lang):
    with open(TRANSLATIONS_DIR / lang / "LC_MESSAGES" / "messages.mo", "rb") as f:
        compiled = {_key(m.id): _key(m.string) for m in read_mo(BytesIO(f.read())) if m.id}
    source = {_key(m.id): _key(m.string) for m in _catalog(lang) if m.id}
    assert compiled == source, f"{lang}: run `make compile-messages`"
