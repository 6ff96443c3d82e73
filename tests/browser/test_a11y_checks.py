"""The accessibility checks themselves fail on pages that break them (so the browser suite can fail)."""
import pytest
from tests.browser.a11y import check_page, check_focus_visible, check_no_sideways_scroll

def test_negative(page):
    page.set_content("<main><nav></nav><p style='color:#aaa'>faint</p><input id=x></main>")
    with pytest.raises(AssertionError, match="without a label"):
        check_page(page)
    page.set_content("<main><nav></nav><p style='color:#aaa'>faint</p></main>")
    with pytest.raises(AssertionError, match="contrast"):
        check_page(page)
    page.set_content("<style>a:focus{outline:none}</style><a href='#'>x</a>")
    with pytest.raises(AssertionError, match="focus"):
        check_focus_visible(page)
    page.set_content("<div style='width:3000px'>wide</div>")
    with pytest.raises(AssertionError, match="wider"):
        check_no_sideways_scroll(page)
