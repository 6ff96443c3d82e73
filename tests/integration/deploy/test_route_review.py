"""docs/security.md is the review of every route as the code has it, and every route says how it is authenticated."""
from __future__ import annotations

import pytest

from deploy import route_review

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def apps():
    return route_review.build_apps()


def test_the_committed_review_matches_the_code(apps):
    assert route_review.OUTPUT.read_text() == route_review.render(apps), (
        "docs/security.md is out of date: run `.venv/bin/python -m deploy.route_review` and review the change")


def test_every_route_has_an_authentication_marker(apps):
    unmarked = [(service, row[1]) for service, app in apps.items() for row in route_review.rows(service, app)
                if row[2] == route_review.UNMARKED[0]]
    assert unmarked == []


def test_state_changing_session_routes_check_csrf_and_api_routes_need_a_token(apps):
    for service, app in apps.items():
        for methods, path, auth, _who, csrf in route_review.rows(service, app):
            if auth == "session" and set(methods.split(", ")) - {"GET"}:
                assert csrf == "token", (service, path)
            if path.startswith("`/api/"):
                assert auth == "bearer token", (service, path)
            if path.startswith("`/webhooks/"):
                assert auth == "signature" and csrf == "exempt", (service, path)


def test_an_unmarked_route_is_reported():
    app = route_review.build_apps()["rendering"]

    @app.get("/review-probe")
    def probe():
        return "x"

    rows = route_review.rows("rendering", app)
    assert ("GET", "`/review-probe`", *route_review.UNMARKED, "-") in rows
