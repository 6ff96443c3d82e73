"""Basic accessibility checks run in the browser: labels, landmarks, visible focus, contrast, no sideways scroll."""
from __future__ import annotations

UNLABELLED_JS = """
() => [...document.querySelectorAll('input, select, textarea')]
  .filter(el => el.type !== 'hidden' && el.type !== 'submit' && el.type !== 'button')
  .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label') && !el.getAttribute('aria-labelledby'))
  .map(el => el.outerHTML.slice(0, 120))
"""

CONTRAST_JS = """
() => {
  const parse = c => { const m = c.match(/rgba?\\(([^)]+)\\)/); if (!m) return null;
    const p = m[1].split(',').map(Number); return {r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1}; };
  const lum = c => { const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b); };
  const bg = el => { for (let e = el; e; e = e.parentElement) { const c = parse(getComputedStyle(e).backgroundColor);
    if (c && c.a > 0) return c; } return {r: 255, g: 255, b: 255, a: 1}; };
  const bad = [];
  const seen = new Set();
  for (const el of document.querySelectorAll('body, p, a, li, td, th, label, button, h1, h2, small, span, time')) {
    if (!el.textContent.trim() || !el.offsetParent && el.tagName !== 'BODY') continue;
    const fg = parse(getComputedStyle(el).color), b = bg(el);
    if (!fg) continue;
    const l1 = lum(fg), l2 = lum(b);
    const ratio = (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);
    const key = el.tagName + getComputedStyle(el).color + JSON.stringify(b);
    if (ratio < 4.5 && !seen.has(key)) { seen.add(key); bad.push(`${el.tagName} ${getComputedStyle(el).color} on rgb(${b.r},${b.g},${b.b}): ${ratio.toFixed(2)}`); }
  }
  return bad;
}
"""

OVERFLOW_JS = "() => document.scrollingElement.scrollWidth - window.innerWidth"


def check_page(page, *, require_main: bool = True) -> None:
    """Assert the basic checks on the page as it is now."""
    unlabelled = page.evaluate(UNLABELLED_JS)
    assert unlabelled == [], f"inputs without a label on {page.url}: {unlabelled}"
    if require_main:
        assert page.locator("main").count() == 1, f"{page.url} has no single <main> landmark"
        assert page.locator("nav").count() >= 1, f"{page.url} has no <nav> landmark"
    low = page.evaluate(CONTRAST_JS)
    assert low == [], f"text below WCAG AA contrast (4.5:1) on {page.url}: {low}"


def check_focus_visible(page) -> None:
    """Tabbing to the first link or control shows a visible focus outline."""
    page.keyboard.press("Tab")
    style = page.evaluate("""() => { const el = document.activeElement; const s = getComputedStyle(el);
        return {tag: el.tagName, outline: s.outlineStyle, width: parseFloat(s.outlineWidth)}; }""")
    assert style["tag"] != "BODY", "Tab moved focus to a control"
    assert style["outline"] != "none" and style["width"] >= 2, f"focus is not visible: {style}"


def check_no_sideways_scroll(page) -> None:
    """At the current viewport the page does not scroll horizontally."""
    overflow = page.evaluate(OVERFLOW_JS)
    assert overflow <= 1, f"{page.url} is {overflow}px wider than the viewport"
