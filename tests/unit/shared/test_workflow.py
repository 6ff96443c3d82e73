"""The transition table: every (state, action, role) decided as the brief says."""
import pytest

from shared import workflow
from shared.workflow import ForbiddenTransition, IllegalTransition, Role, State, UnknownAction, decide


def test_editor_publishes_from_draft_author_may_not():
    assert decide("draft", "publish", "editor").target == State.PUBLISHING
    with pytest.raises(ForbiddenTransition):
        decide("draft", "publish", "author")


@pytest.mark.parametrize("action,source,target", [
    ("submit", "draft", "in_review"), ("request_changes", "in_review", "draft"), ("approve", "in_review", "approved"),
    ("schedule", "approved", "scheduled"), ("unschedule", "scheduled", "approved"),
    ("publish", "published", "publishing"), ("unpublish", "published", "unpublished"),
    ("archive", "unpublished", "archived"), ("restore", "archived", "draft"),
])
def test_editor_moves(action, source, target):
    assert decide(source, action, Role.EDITOR).target == State(target)


def test_system_only_moves():
    assert decide("publishing", "rendered", "system").target == State.PUBLISHED
    assert decide("publishing", "render_failed", "system").target == State.APPROVED
    assert decide("scheduled", "publish_due", "system").target == State.PUBLISHING
    for role in ("author", "editor", "admin", "translator"):
        with pytest.raises(ForbiddenTransition):
            decide("publishing", "rendered", role)


def test_illegal_move_names_state_and_allowed_actions():
    with pytest.raises(IllegalTransition) as info:
        decide("draft", "unpublish", "editor")
    assert info.value.state == State.DRAFT
    assert info.value.allowed == ["submit", "publish", "archive"]
    assert "draft" in str(info.value) and "submit" in str(info.value)


def test_unknown_action():
    with pytest.raises(UnknownAction):
        decide("draft", "teleport", "editor")


def test_every_state_reachable_and_every_action_unique():
    targets = {t.target for t in workflow.TRANSITIONS} | {State.DRAFT}
    assert targets == set(State)
    assert len(workflow.BY_ACTION) == len(workflow.TRANSITIONS)


def test_allowed_actions_for_author_in_draft():
    assert workflow.allowed_actions(State.DRAFT, Role.AUTHOR) == ["submit"]


def test_a_role_that_may_never_act_hears_403_whatever_the_state():
    with pytest.raises(ForbiddenTransition):
        decide("draft", "approve", "author")  # wrong state too, but the role is the answer
    with pytest.raises(ForbiddenTransition):
        decide("draft", "rendered", "admin")


def test_system_may_submit_a_vendor_delivery():
    assert decide("draft", "submit", "system").target == State.IN_REVIEW


# --- who may edit what: every role x state x ownership ------------------------------------------------

def _expected_edit(role: Role, state: State, own: bool, assigned: bool) -> str:
    """The rule as the brief states it, written out independently of the table."""
    if state in (State.PUBLISHING, State.ARCHIVED):
        return "conflict"
    if role in (Role.EDITOR, Role.ADMIN, Role.SYSTEM):
        return "ok"
    if role == Role.AUTHOR:
        return "ok" if own and state == State.DRAFT else "forbidden"
    if role == Role.TRANSLATOR:
        return "ok" if (own or assigned) and state in (State.DRAFT, State.IN_REVIEW) else "forbidden"
    if role == Role.PARTNER:
        return "ok" if own else "forbidden"
    raise AssertionError(role)


def test_every_role_state_and_ownership_is_decided_as_the_brief_says():
    from shared.workflow import EditConflict, ForbiddenEdit, may_edit

    seen = 0
    for role in Role:
        for state in State:
            for own in (False, True):
                for assigned in (False, True):
                    expected = _expected_edit(role, state, own, assigned)
                    try:
                        may_edit(role, state, own=own, assigned=assigned)
                        got = "ok"
                    except ForbiddenEdit as exc:
                        got = "forbidden"
                        assert exc.status == 403 and role.value in exc.message
                    except EditConflict as exc:
                        got = "conflict"
                        assert exc.status == 409 and state.value in exc.message
                    assert got == expected, (role, state, own, assigned)
                    seen += 1
    assert seen == len(Role) * len(State) * 4


def test_the_edit_table_covers_every_role():
    assert set(workflow.EDIT_RULES) == set(Role)
