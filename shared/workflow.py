"""The article lifecycle: states, roles and the one transition table every entry point obeys."""
from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from shared.errors import ApiError


class State(StrEnum):
    DRAFT = "draft"
    IN_REVIEW = "in_review"
    APPROVED = "approved"
    SCHEDULED = "scheduled"
    PUBLISHING = "publishing"
    PUBLISHED = "published"
    UNPUBLISHED = "unpublished"
    ARCHIVED = "archived"


class Role(StrEnum):
    AUTHOR = "author"
    EDITOR = "editor"
    TRANSLATOR = "translator"
    ADMIN = "admin"
    SYSTEM = "system"  # the pipeline itself (render results, due schedules)


@dataclass(frozen=True)
class Transition:
    """One row of the table: ``action`` moves an article from any of ``sources`` to ``target``."""

    action: str
    sources: frozenset[State]
    target: State
    roles: frozenset[Role]


def _t(action: str, sources: set[State], target: State, roles: set[Role]) -> Transition:
    return Transition(action, frozenset(sources), target, frozenset(roles))


S, R = State, Role
_WRITERS = {R.AUTHOR, R.TRANSLATOR, R.EDITOR, R.ADMIN}
_EDITORS = {R.EDITOR, R.ADMIN}

TRANSITIONS: tuple[Transition, ...] = (
    _t("submit", {S.DRAFT}, S.IN_REVIEW, _WRITERS | {R.SYSTEM}),  # system: vendor deliveries
    _t("request_changes", {S.IN_REVIEW}, S.DRAFT, _EDITORS),
    _t("approve", {S.IN_REVIEW}, S.APPROVED, _EDITORS),
    _t("schedule", {S.APPROVED}, S.SCHEDULED, _EDITORS),
    _t("unschedule", {S.SCHEDULED}, S.APPROVED, _EDITORS),
    # Editors may publish straight from draft or review (recorded as an implicit approval);
    # publishing a published article is a republish of its latest revision.
    _t("publish", {S.DRAFT, S.IN_REVIEW, S.APPROVED, S.SCHEDULED, S.PUBLISHED}, S.PUBLISHING, _EDITORS),
    _t("publish_due", {S.SCHEDULED}, S.PUBLISHING, {R.SYSTEM}),
    _t("rendered", {S.PUBLISHING}, S.PUBLISHED, {R.SYSTEM}),
    _t("render_failed", {S.PUBLISHING}, S.APPROVED, {R.SYSTEM}),
    _t("unpublish", {S.PUBLISHED}, S.UNPUBLISHED, _EDITORS),
    _t("archive", {S.DRAFT, S.UNPUBLISHED}, S.ARCHIVED, _EDITORS),
    _t("restore", {S.ARCHIVED}, S.DRAFT, _EDITORS),
)

BY_ACTION: dict[str, Transition] = {t.action: t for t in TRANSITIONS}
assert len(BY_ACTION) == len(TRANSITIONS), "action names must be unique"


class TransitionError(ApiError):
    """Base class of refused transitions."""


class UnknownAction(TransitionError):
    """The action is not in the table (HTTP 422)."""

    def __init__(self, message: str):
        super().__init__(422, message, field="action")


class IllegalTransition(TransitionError):
    """The action does not apply to the current state (HTTP 409)."""

    def __init__(self, action: str, state: State, allowed: list[str]):
        self.action, self.state, self.allowed = action, state, allowed
        super().__init__(
            409, f"cannot {action!r} an article in state {state.value!r}; allowed actions: {', '.join(allowed) or 'none'}",
            state=state.value, allowed_actions=allowed)


class ForbiddenTransition(TransitionError):
    """The role may not perform the action (HTTP 403)."""

    def __init__(self, action: str, role: Role):
        self.action, self.role = action, role
        super().__init__(403, f"role {role.value!r} may not {action!r}")


def allowed_actions(state: State, role: Role) -> list[str]:
    """Actions ``role`` may perform on an article in ``state``, in table order."""
    return [t.action for t in TRANSITIONS if state in t.sources and role in t.roles]


def decide(state: State | str, action: str, role: Role | str) -> Transition:
    """Return the transition for ``action`` or raise why it is refused."""
    state, role = State(state), Role(role)
    transition = BY_ACTION.get(action)
    if transition is None:
        raise UnknownAction(f"unknown action {action!r}; known actions: {', '.join(BY_ACTION)}")
    # A role that may never take this action hears so (403) whatever the state; otherwise a wrong
    # state is a 409 that names the state and what the role can do instead.
    if role not in transition.roles:
        raise ForbiddenTransition(action, role)
    if state not in transition.sources:
        raise IllegalTransition(action, state, allowed_actions(state, role))
    return transition
