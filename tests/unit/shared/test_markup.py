"""Markdown is rendered and sanitised; slugs are transliterated."""
from shared.markup import make_slug, markdown_to_html


def test_scripts_and_handlers_are_removed():
    out = markdown_to_html('Hi <script>alert(1)</script><img src="x" onerror="alert(1)"> [a](javascript:alert(1))')
    assert "<script" not in out and "onerror" not in out
    assert 'href="javascript' not in out  # the link is refused and left as harmless text


def test_blockquote_and_links_survive():
    out = markdown_to_html("> quoted\n\n[site](https://example.org)")
    assert "<blockquote>" in out and 'href="https://example.org"' in out and 'rel="noopener noreferrer"' in out


def test_slugs_transliterate_turkish_and_cyrillic():
    assert make_slug("Kazakistan'ın Yeni Güvenlik Yaklaşımı") == "kazakistan-in-yeni-guvenlik-yaklasimi"
    assert make_slug("Новый подход Казахстана") == "novyi-podkhod-kazakhstana"
    assert make_slug("!!!") == "article"


def test_inline_footnotes_render_and_keep_their_links():
    out = markdown_to_html('A claim.[^1]\n\n[^1]: Its note.\n\n<a id="ref-1" class="evil" href="#x">x</a>')
    assert '<a href="#fn1" id="fnref1" rel="noopener noreferrer">[1]</a>' in out and '<li id="fn1" class="footnote-item">' in out
    assert 'id="ref-1"' not in out and "evil" not in out, "user HTML cannot take the page's own anchors"
