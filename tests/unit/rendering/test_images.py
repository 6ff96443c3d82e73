"""Image markup from snapshot data: placeholders replaced (figure alone in a paragraph, picture inside
text), unknown ids dropped, texts escaped, and feed URLs made absolute."""
from __future__ import annotations

from services.rendering.images import absolute_media, expand_inline, figure

ID = "0b1c2d3e-1234-4abc-8def-0123456789ab"
IMAGE = {"sha256": "ab" * 32, "width": 800, "height": 600, "format": "png", "alt": 'Two "quoted" <words>',
         "caption": "A <b>caption</b>", "credit": ""}


def test_placeholders_become_figures_or_pictures():
    html = f'<p><img src="/_image/{ID}" alt=""></p><p>In text <img alt="" src="/_image/{ID}"> here.</p>'
    out = expand_inline(html, {ID: IMAGE})
    assert out.startswith('<figure class="image"><picture>') and "<p>In text <picture>" in out
    assert "/_image/" not in out and out.count('loading="lazy"') == 2
    assert 'alt="Two &#34;quoted&#34; &lt;words&gt;"' in out and "A &lt;b&gt;caption&lt;/b&gt;" in out
    assert 'srcset="/media/' + "ab" * 32 + '/320.png 320w, ' in out and 'width="800" height="600"' in out


def test_unknown_images_are_dropped():
    assert expand_inline(f'<p>x <img src="/_image/{ID}" alt=""></p>', {}) == "<p>x </p>"


def test_featured_figure_is_not_lazy_and_feed_urls_are_absolute():
    html = str(figure(IMAGE, lazy=False, css_class="featured"))
    assert 'fetchpriority="high"' in html and "lazy" not in html
    absolute = absolute_media(html, "https://think.example")
    assert 'src="https://think.example/media/' in absolute and ", https://think.example/media/" in absolute
