"""The article lifecycle: states, roles, the one transition table and the one edit table every entry point obeys.

The API, the editor forms, the partner webhook and the pipeline's own handlers all ask ``decide``
whether a role may move an article and ``may_edit`` whether it may change its content.
"""
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
    PARTNER = "partner"  # a partner system pushing articles through the signed inbound webhook
    SYSTEM = "system"  # the pipeline itself (render results, due schedules, vendor deliveries)


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
    # Approving an approved article approves its newest revision (an edit made after approval
    # waits for this; until then schedule and publish ship the revision approved before).
    _t("approve", {S.IN_REVIEW, S.APPROVED}, S.APPROVED, _EDITORS),
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


# --- who may edit what ------------------------------------------------------------------------------

class Scope(StrEnum):
    """Which articles an edit rule covers."""

    OWN = "own"  # the ones this actor created
    ASSIGNED = "assigned"  # translations assigned to this actor, and the ones it created
    ANY = "any"


@dataclass(frozen=True)
class EditRule:
    """``role`` may edit articles in ``scope`` while they are in one of ``states``."""

    role: Role
    states: frozenset[State]
    scope: Scope


# Content can change in every state but these two: a publish in flight ships a fixed revision,
# and an archived article is restored (to a draft) before it is edited.
EDITABLE = frozenset(set(State) - {S.PUBLISHING, S.ARCHIVED})

# The one table of edits. An edit never changes what is approved or live: an approved or
# scheduled article keeps shipping its approved revision and the new revision waits for an
# editor's approval; a published article's new revision goes live only when an editor publishes
# it (see services/ingest/commands.py).
EDIT_RULES: dict[Role, EditRule] = {
    R.AUTHOR: EditRule(R.AUTHOR, frozenset({S.DRAFT}), Scope.OWN),  # draft includes "sent back"
    R.TRANSLATOR: EditRule(R.TRANSLATOR, frozenset({S.DRAFT, S.IN_REVIEW}), Scope.ASSIGNED),
    R.EDITOR: EditRule(R.EDITOR, EDITABLE, Scope.ANY),
    R.ADMIN: EditRule(R.ADMIN, EDITABLE, Scope.ANY),
    R.PARTNER: EditRule(R.PARTNER, EDITABLE, Scope.OWN),
    R.SYSTEM: EditRule(R.SYSTEM, EDITABLE, Scope.ANY),  # vendor deliveries land as revisions
}


class ForbiddenEdit(ApiError):
    """The role may not edit this article (HTTP 403); the message says why and who may."""

    def __init__(self, message: str):
        super().__init__(403, message)


class EditConflict(ApiError):
    """Nobody may edit the article in its current state (HTTP 409)."""

    def __init__(self, state: State):
        super().__init__(409, f"an article in state {state.value!r} cannot be edited; "
                              + ("wait for the publish to finish" if state == S.PUBLISHING else "restore it first"),
                         state=state.value)


def may_edit(role: Role | str, state: State | str, *, own: bool, assigned: bool = False) -> None:
    """Return when ``role`` may edit an article in ``state`` (``own``: it created it; ``assigned``: a translation
    assigned to it); raise ForbiddenEdit (403) or EditConflict (409) saying why otherwise."""
    role, state = Role(role), State(state)
    if state not in EDITABLE:
        raise EditConflict(state)
    rule = EDIT_RULES[role]
    if rule.scope == Scope.OWN and not own:
        raise ForbiddenEdit(f"role {role.value!r} may edit only articles it created; ask an editor")
    if rule.scope == Scope.ASSIGNED and not (own or assigned):
        raise ForbiddenEdit(f"role {role.value!r} may edit only translations assigned to it; ask an editor to assign this one")
    if state not in rule.states:
        allowed = ", ".join(sorted(s.value for s in rule.states))
        raise ForbiddenEdit(f"role {role.value!r} may edit only in state {allowed}, and this article is {state.value!r}; "
                            "ask an editor to send it back (request changes) or to make the change")


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
