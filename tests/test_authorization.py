"""Who may see and do what: every route, for every kind of visitor, against every kind of target.

TABLE maps each endpoint and method to a matrix (visitor x target -> expected outcome). One test case is
one (endpoint, method, visitor, target). A route missing from TABLE fails `test_table_covers_every_route`.
Denied requests must change nothing in the database, and no response may show closed or draft content
to a visitor who may not see it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from conftest import PASSWORD

from config import TestingConfig as Settings  # aliased: pytest would collect a Test* class
from workspace import create_app
from workspace.agenda.models import AgendaItem
from workspace.auth.models import LoginSession, PasswordReset, User
from workspace.board.models import Contribution, Poll, PollChoice, PollVoter
from workspace.board.render import render
from workspace.exchanges.models import Exchange, Invitation, Membership
from workspace.extensions import db, limiter
from workspace.feedback.models import FeedbackForm, FeedbackQuestion, FeedbackResponse
from workspace.notes.models import FollowUpAction, NoteDoc, NoteSummary, NoteVersion
from workspace.sessions.models import ExchangeSession, Guest
from workspace.timeutil import utcnow
from workspace.tokens import hash_token, new_token

VISITORS = (
    "anonymous", "guest",
    "coordinator", "moderator", "note_taker", "participant", "observer",
    "other_exchange", "invitee", "stranger",
)  # fmt: skip
MEMBERS = ("coordinator", "moderator", "note_taker", "participant", "observer")
SIGNED_IN = (*MEMBERS, "other_exchange", "invitee", "stranger")
# ok: 2xx, or a 3xx that is not one of these two; login: sent to sign in; join: sent to give a guest name.
OUTCOMES = {"ok", "login", "join", "page", "403", "404"}

# Who may read the content of the closed scheduled session, and of the (closed) draft session.
CLOSED_READERS = {*MEMBERS, "invitee"}
DRAFT_READERS = {"coordinator", "moderator"}

TITLES = {
    "closed": ("Tamarind closed roundtable", "Baobab confidential item", "Marula confidential item"),
    "open": ("Mango open forum", "Papaya open item", "Guava open item"),
    "draft": ("Jacaranda draft workshop", "Acacia draft item", "Moringa draft item"),
    "ended": ("Lychee ended forum", "Tamarillo ended item", "Loquat ended item"),
}
# What is on each session's board: a contribution and a poll's question (hidden like the titles above).
BOARD_TEXTS = {
    "closed": ("Umbrella thorn confidential remark", "Fever tree confidential question"),
    "open": ("Mahogany open remark", "Ebony open question"),
    "draft": ("Sausage tree draft remark", "Sycamore fig draft question"),
    "ended": ("Ironwood ended remark", "Camphor ended question"),
}
NEW_PASSWORD = "another long passphrase"


def matrix(text: str) -> dict[str, dict[str, str]]:
    """A literal table: a header of target names, then one row per visitor."""
    header, *rows = (line.split() for line in text.strip().splitlines())
    return {row[0]: dict(zip(header, row[1:], strict=True)) for row in rows}


def everyone(**outcomes: str) -> dict[str, dict[str, str]]:
    """The same outcome per target whoever asks (public pages, capability links)."""
    return {visitor: dict(outcomes) for visitor in VISITORS}


# Session pages that do not require signing in: detail, .ics, leave.
SEE_SESSION = matrix("""
                 closed  open  draft  ended
anonymous        404     ok    404    ok
guest            404     ok    404    ok
coordinator      ok      ok    ok     ok
moderator        ok      ok    ok     ok
note_taker       ok      ok    404    ok
participant      ok      ok    404    ok
observer         ok      ok    404    ok
other_exchange   404     ok    404    ok
invitee          ok      ok    404    ok
stranger         404     ok    404    ok
""")

# The live room: as the session page, but open sessions first ask people who are not signed in for a name
# (the guest joined the open session, not the ended one).
# The live room: members and invitees under their own name; anyone else into an open session only as a
# guest (the guest form: "join"); an ended open session sends outsiders to its page ("page") instead.
LIVE_ROOM = matrix("""
                 closed  open  draft  ended
anonymous        404     join  404    page
guest            404     ok    404    page
coordinator      ok      ok    ok     ok
moderator        ok      ok    ok     ok
note_taker       ok      ok    404    ok
participant      ok      ok    404    ok
observer         ok      ok    404    ok
other_exchange   404     join  404    page
invitee          ok      join  404    page
stranger         404     join  404    page
""")

# Planning a session and its agenda: behind login; 403 if the visitor can see the session, else 404.
EDIT_SESSION = matrix("""
                 closed  open   draft  ended
anonymous        login   login  login  login
guest            login   login  login  login
coordinator      ok      ok     ok     ok
moderator        ok      ok     ok     ok
note_taker       403     403    404    403
participant      403     403    404    403
observer         403     403    404    403
other_exchange   404     403    404    403
invitee          403     403    404    403
stranger         404     403    404    403
""")

SEE_EXCHANGE = matrix("""
                 exchange
anonymous        login
guest            login
coordinator      ok
moderator        ok
note_taker       ok
participant      ok
observer         ok
other_exchange   404
invitee          404
stranger         404
""")

# Answering a session's feedback form: its participants under their own name, the open session's guest;
# people who can see the session but did not take part are refused (403). The draft's form is not open yet:
# its planners get a page that says so.
ANSWER_FEEDBACK = matrix("""
                 closed  open  draft  ended
anonymous        404     403   404    403
guest            404     ok    404    403
coordinator      ok      ok    ok     ok
moderator        ok      ok    ok     ok
note_taker       ok      ok    404    ok
participant      ok      ok    404    ok
observer         ok      ok    404    ok
other_exchange   404     403   404    403
invitee          ok      403   404    403
stranger         404     403   404    403
""")

PLAN_IN_EXCHANGE = matrix("""
                 exchange
anonymous        login
guest            login
coordinator      ok
moderator        ok
note_taker       403
participant      403
observer         403
other_exchange   404
invitee          404
stranger         404
""")

MANAGE_EXCHANGE = matrix("""
                 exchange
anonymous        login
guest            login
coordinator      ok
moderator        403
note_taker       403
participant      403
observer         403
other_exchange   404
invitee          404
stranger         404
""")

# A membership or invitation of this exchange (own), the same one through the other exchange's URL
# (foreign_url), and the other exchange's one through this exchange's URL (foreign_object).
MANAGE_EXCHANGE_OBJECT = matrix("""
                 own    foreign_url  foreign_object
anonymous        login  login        login
guest            login  login        login
coordinator      ok     404          404
moderator        403    404          403
note_taker       403    404          403
participant      403    404          403
observer         403    404          403
other_exchange   404    404          404
invitee          404    404          404
stranger         404    404          404
""")

SIGNED_IN_ONLY = matrix("""
                 -
anonymous        login
guest            login
coordinator      ok
moderator        ok
note_taker       ok
participant      ok
observer         ok
other_exchange   ok
invitee          ok
stranger         ok
""")

# The notes editor: the session's own people; outsiders are sent to a published summary ("ended" is open and
# published; "closed" is published too, for its own people only).
NOTES_EDITOR = matrix("""
                 closed  open  draft  ended
anonymous        404     404   404    ok
guest            404     404   404    ok
coordinator      ok      ok    ok     ok
moderator        ok      ok    ok     ok
note_taker       ok      ok    404    ok
participant      ok      ok    404    ok
observer         ok      ok    404    ok
other_exchange   404     404   404    ok
invitee          ok      404   404    ok
stranger         404     404   404    ok
""")

NOTES_READ = matrix("""
                 closed  open   draft  ended
anonymous        login   login  login  login
guest            login   login  login  login
coordinator      ok      ok     ok     ok
moderator        ok      ok     ok     ok
note_taker       ok      ok     404    ok
participant      ok      ok     404    ok
observer         ok      ok     404    ok
other_exchange   404     404    404    404
invitee          ok      404    404    404
stranger         404     404    404    404
""")

NOTES_EDIT = matrix("""
                 closed  open   draft  ended
anonymous        login   login  login  login
guest            login   login  login  login
coordinator      ok      ok     ok     ok
moderator        ok      ok     ok     ok
note_taker       ok      ok     404    ok
participant      403     403    404    403
observer         403     403    404    403
other_exchange   404     404    404    404
invitee          403     404    404    404
stranger         404     404    404    404
""")

NOTES_MODERATE = matrix("""
                 closed  open   draft  ended
anonymous        login   login  login  login
guest            login   login  login  login
coordinator      ok      ok     ok     ok
moderator        ok      ok     ok     ok
note_taker       403     403    404    403
participant      403     403    404    403
observer         403     403    404    403
other_exchange   404     404    404    404
invitee          403     404    404    404
stranger         404     404    404    404
""")

NOTES_SUMMARY = matrix("""
                 closed  open  draft  ended
anonymous        404     404   404    ok
guest            404     404   404    ok
coordinator      ok      404   404    ok
moderator        ok      404   404    ok
note_taker       ok      404   404    ok
participant      ok      404   404    ok
observer         ok      404   404    ok
other_exchange   404     404   404    ok
invitee          ok      404   404    ok
stranger         404     404   404    ok
""")

PUBLIC = everyone(**{"-": "ok"})
# Guests join open sessions that have not ended; other codes must not reveal that a session exists.
BY_JOIN_CODE = everyone(closed="404", open="ok", draft="404", ended="404")


@dataclass
class World:
    """Ids and secrets of everything one test acts on (ids, not ORM objects: requests expire those)."""

    users: dict[str, int] = field(default_factory=dict)
    exchange: int = 0
    other_exchange: int = 0
    sessions: dict[str, int] = field(default_factory=dict)
    items: dict[str, int] = field(default_factory=dict)
    polls: dict[str, int] = field(default_factory=dict)
    codes: dict[str, str] = field(default_factory=dict)
    memberships: dict[str, int] = field(default_factory=dict)  # own, foreign_object
    versions: dict[str, int] = field(default_factory=dict)  # session target -> a saved version of its notes
    actions: dict[str, int] = field(default_factory=dict)  # session target -> a follow-up action
    invitations: dict[str, int] = field(default_factory=dict)  # own, foreign_object
    forms: dict[str, int] = field(default_factory=dict)  # the feedback form of each session
    questions: dict[str, int] = field(default_factory=dict)  # the first of its two questions
    tokens: dict[str, str] = field(default_factory=dict)  # invitation, reset, feed, removed_feed, spent_*
    cookies: dict[str, str] = field(default_factory=dict)  # visitor -> session cookie from signing in / joining


# --- URL values, form data and effects per route ---------------------------------------------------------


def no_args(w: World, t: str) -> dict:
    return {}


def session_args(w: World, t: str) -> dict:
    return {"session_id": w.sessions[t]}


def version_args(w: World, t: str) -> dict:
    return {"session_id": w.sessions[t], "version_id": w.versions[t]}


def action_args(w: World, t: str) -> dict:
    return {"session_id": w.sessions[t], "action_id": w.actions[t]}


def export_args(w: World, t: str) -> dict:
    return {"session_id": w.sessions[t], "fmt": "md"}


def item_args(w: World, t: str) -> dict:
    return {"item_id": w.items[t]}


def poll_args(w: World, t: str) -> dict:
    return {"session_id": w.sessions[t], "poll_id": w.polls[t]}


def question_args(w: World, t: str) -> dict:
    return {"question_id": w.questions[t]}


def exchange_args(w: World, t: str) -> dict:
    return {"exchange_id": w.exchange}


def code_args(w: World, t: str) -> dict:
    return {"code": w.codes[t]}


def _object_args(kind: str) -> Callable[[World, str], dict]:
    def args(w: World, t: str) -> dict:
        exchange = w.other_exchange if t == "foreign_url" else w.exchange
        obj = w.memberships if kind == "membership_id" else w.invitations
        return {"exchange_id": exchange, kind: obj["foreign_object" if t == "foreign_object" else "own"]}

    return args


def _token_args(name: str, key: str, unknown: str = "no-such-token") -> Callable[[World, str], dict]:
    def args(w: World, t: str) -> dict:
        tokens = {"valid": key, "unknown": None, "removed": "removed_feed", "spent": f"spent_{key}"}
        return {name: w.tokens.get(tokens[t], unknown)}

    return args


def session_form(w: World, t: str) -> dict:
    return {
        "title": "Edited session title",
        "method": "workshop",
        "phase": "implementation",
        "mode": "open" if t in ("open", "ended") else "closed",
        "starts_at": "2031-03-04T10:00",
        "host_timezone": "Africa/Nairobi",
        "duration_minutes": "90",
        "online_url": "https://meet.example.org/edited",
        "venue": "",
        "working_languages": ["en"],
        "expected_outcomes": "",
    }


def exchange_form(w: World, t: str) -> dict:
    return {
        "title": "Edited exchange title",
        "goal": "",
        "seeking_country": "KE",
        "providing_countries": ["CO", "PT"],
        "working_languages": ["en", "fr"],
    }


def fresh(model, ident):
    db.session.expire_all()
    return db.session.get(model, ident)


def count(model, **filters) -> int:
    db.session.expire_all()
    return db.session.execute(db.select(db.func.count()).select_from(model).filter_by(**filters)).scalar_one()


def expect_session_title(w, v, t, r):
    assert fresh(ExchangeSession, w.sessions[t]).title == "Edited session title"


def expect_status(w, v, t, r):
    after = {"closed": "live", "open": "live", "draft": "scheduled", "ended": "ended"}  # ended cannot move
    assert fresh(ExchangeSession, w.sessions[t]).status == after[t]


def expect_deleted_if_draft(w, v, t, r):
    assert (fresh(ExchangeSession, w.sessions[t]) is None) == (t == "draft")


def expect_session_invitation(w, v, t, r):
    assert count(Invitation, session_id=w.sessions[t], email="session.invitee@example.org") == 1


def expect_item_added(w, v, t, r):
    assert count(AgendaItem, session_id=w.sessions[t]) == 3


def expect_item_renamed(w, v, t, r):
    assert fresh(AgendaItem, w.items[t]).title == "Renamed item"


def expect_item_deleted(w, v, t, r):
    assert fresh(AgendaItem, w.items[t]) is None


def expect_item_moved(w, v, t, r):
    assert fresh(AgendaItem, w.items[t]).position == 1


def expect_one_form(w, v, t, r):
    assert count(FeedbackForm, session_id=w.sessions[t]) == 1


def expect_form_settings(w, v, t, r):
    assert fresh(FeedbackForm, w.forms[t]).closes_at is not None


def expect_form_closed(w, v, t, r):
    assert fresh(FeedbackForm, w.forms[t]).state == ("not_open" if t == "draft" else "closed")


def expect_question_added(w, v, t, r):
    assert count(FeedbackQuestion, form_id=w.forms[t]) == 3


def expect_question_renamed(w, v, t, r):
    assert fresh(FeedbackQuestion, w.questions[t]).texts["en"] == "Renamed question"


def expect_question_deleted(w, v, t, r):
    assert fresh(FeedbackQuestion, w.questions[t]) is None


def expect_question_moved(w, v, t, r):
    assert fresh(FeedbackQuestion, w.questions[t]).position == 1


def expect_feedback_answered(w, v, t, r):
    assert count(FeedbackResponse, form_id=w.forms[t]) == (0 if t == "draft" else 1)  # the draft's is not open


def expect_session_created(w, v, t, r):
    assert count(ExchangeSession, exchange_id=w.exchange, title="Edited session title", status="draft") == 1


def expect_exchange_edited(w, v, t, r):
    assert fresh(Exchange, w.exchange).title == "Edited exchange title"


def expect_exchange_created(w, v, t, r):
    assert count(Exchange, title="Edited exchange title", created_by_id=w.users[v]) == 1


def expect_member_invited(w, v, t, r):
    assert count(Invitation, exchange_id=w.exchange, email="new.member@example.org") == 1


def expect_role_changed(w, v, t, r):
    assert fresh(Membership, w.memberships["own"]).role == "observer"


def expect_member_removed(w, v, t, r):
    assert fresh(Membership, w.memberships["own"]) is None


def expect_invitation_revoked(w, v, t, r):
    assert fresh(Invitation, w.invitations["own"]) is None


def expect_invitation_accepted(w, v, t, r):
    accepted = fresh(Invitation, w.invitations["own"]).accepted_at is not None
    assert accepted == (v in SIGNED_IN)
    if v in SIGNED_IN:
        assert count(Membership, exchange_id=w.exchange, user_id=w.users[v]) == 1


def expect_guest_joined(w, v, t, r):
    # Members are sent to the session page; the guest is already in; everyone else becomes a guest.
    assert count(Guest, session_id=w.sessions["open"], display_name="Walk-in visitor") == (
        0 if v in (*MEMBERS, "guest") else 1
    )


def expect_version_saved(w, v, t, r):
    assert count(NoteVersion, session_id=w.sessions[t], name="Walk version") == 1


def expect_action_added(w, v, t, r):
    assert count(FollowUpAction, session_id=w.sessions[t], what="Walk action") == 1


def expect_action_done(w, v, t, r):
    assert fresh(FollowUpAction, w.actions[t]).status == "done"


def expect_action_deleted(w, v, t, r):
    assert fresh(FollowUpAction, w.actions[t]) is None


def expect_editors_everyone(w, v, t, r):
    assert fresh(NoteDoc, w.sessions[t]).editors == "everyone"


def expect_published_if_ended(w, v, t, r):
    summary = fresh(NoteSummary, w.sessions[t])
    assert (summary is not None and summary.published_by_name == v.replace("_", " ").title()) == (t == "ended")


def expect_profile_saved(w, v, t, r):
    assert fresh(User, w.users[v]).display_name == "Renamed visitor"


def expect_password_changed(w, v, t, r):
    assert fresh(User, w.users[v]).check_password(NEW_PASSWORD)


def expect_stranger_password_reset(w, v, t, r):
    assert fresh(User, w.users["stranger"]).check_password(NEW_PASSWORD)


def expect_signed_in_as_stranger(w, v, t, r):
    # Signed-in visitors are only redirected; the world holds one login session per signed-in visitor.
    assert count(LoginSession, user_id=w.users["stranger"]) == (2 if v in ("anonymous", "guest") else 1)


def expect_registered(w, v, t, r):
    assert count(User, email="newcomer@example.org") == (0 if v in SIGNED_IN else 1)


def expect_reset_requested(w, v, t, r):
    assert count(PasswordReset, user_id=w.users["stranger"]) == 3  # the world's two, and this one


def expect_signed_out(w, v, t, r):
    if v in SIGNED_IN:
        assert count(LoginSession, user_id=w.users[v], revoked_at=None) == 0


def expect_language_saved(w, v, t, r):
    assert "baraza_lang=fr" in r.headers.get("Set-Cookie", "")
    if v in SIGNED_IN:
        assert fresh(User, w.users[v]).locale == "fr"


@dataclass(frozen=True)
class Route:
    expect: dict[str, dict[str, str]]  # visitor -> target -> outcome
    args: Callable[[World, str], dict] = no_args  # URL values for a target
    data: Callable[[World, str], dict] | None = None  # form sent with the request
    effect: Callable | None = None  # asserted after an allowed request: (world, visitor, target, response)
    acts_for: str | None = None  # a capability link lets its holder see what this visitor kind may see


def form(**fields) -> Callable[[World, str], dict]:
    return lambda w, t: dict(fields)


TABLE: dict[str, dict[str, Route]] = {
    # home
    "home.index": {"GET": Route(PUBLIC)},
    "home.public_sessions": {"GET": Route(PUBLIC)},
    "home.health": {"GET": Route(PUBLIC)},
    "home.set_language": {
        "GET": Route(
            everyone(valid="ok", unknown="404"),
            lambda w, t: {"code": {"valid": "fr", "unknown": "xx"}[t]},
            effect=expect_language_saved,
        )
    },
    # auth
    "auth.register": {
        "GET": Route(PUBLIC),
        "POST": Route(
            PUBLIC,
            data=form(
                display_name="Newcomer",
                email="newcomer@example.org",
                password=NEW_PASSWORD,
                confirm=NEW_PASSWORD,
                timezone="UTC",
            ),
            effect=expect_registered,
        ),
    },
    "auth.login": {
        "GET": Route(PUBLIC),
        "POST": Route(
            PUBLIC, data=form(email="stranger@example.org", password=PASSWORD), effect=expect_signed_in_as_stranger
        ),
    },
    "auth.logout": {"POST": Route(PUBLIC, effect=expect_signed_out)},
    "auth.forgot_password": {
        "GET": Route(PUBLIC),
        "POST": Route(PUBLIC, data=form(email="stranger@example.org"), effect=expect_reset_requested),
    },
    "auth.reset_password": {
        "GET": Route(everyone(valid="ok", unknown="404", spent="404"), _token_args("token", "reset")),
        "POST": Route(
            everyone(valid="ok", unknown="404"),
            _token_args("token", "reset"),
            form(password=NEW_PASSWORD, confirm=NEW_PASSWORD),
            expect_stranger_password_reset,
        ),
    },
    "auth.profile": {
        "GET": Route(SIGNED_IN_ONLY),
        "POST": Route(
            SIGNED_IN_ONLY,
            data=form(
                display_name="Renamed visitor", organisation="", country="", locale="en", timezone="UTC", gender=""
            ),
            effect=expect_profile_saved,
        ),
    },
    "auth.change_password": {
        "GET": Route(SIGNED_IN_ONLY),
        "POST": Route(
            SIGNED_IN_ONLY,
            data=form(current=PASSWORD, password=NEW_PASSWORD, confirm=NEW_PASSWORD),
            effect=expect_password_changed,
        ),
    },
    # exchanges
    "exchanges.create": {
        "GET": Route(SIGNED_IN_ONLY),
        "POST": Route(SIGNED_IN_ONLY, data=exchange_form, effect=expect_exchange_created),
    },
    "exchanges.detail": {"GET": Route(SEE_EXCHANGE, exchange_args)},
    "exchanges.calendar": {"GET": Route(SEE_EXCHANGE, exchange_args)},
    "exchanges.edit": {
        "GET": Route(MANAGE_EXCHANGE, exchange_args),
        "POST": Route(MANAGE_EXCHANGE, exchange_args, exchange_form, expect_exchange_edited),
    },
    "exchanges.members": {
        "GET": Route(SEE_EXCHANGE, exchange_args),
        "POST": Route(
            MANAGE_EXCHANGE,
            exchange_args,
            form(emails="new.member@example.org", role="participant", side="seeking"),
            expect_member_invited,
        ),
    },
    "exchanges.update_member": {
        "POST": Route(
            MANAGE_EXCHANGE_OBJECT,
            _object_args("membership_id"),
            form(role="observer", side="providing"),
            expect_role_changed,
        ),
    },
    "exchanges.remove_member": {
        "POST": Route(MANAGE_EXCHANGE_OBJECT, _object_args("membership_id"), effect=expect_member_removed),
    },
    "exchanges.revoke_invitation": {
        "POST": Route(MANAGE_EXCHANGE_OBJECT, _object_args("invitation_id"), effect=expect_invitation_revoked),
    },
    # A capability link: whoever holds the token may see the invitation and, signed in, accept it.
    "exchanges.accept_invitation": {
        "GET": Route(everyone(valid="ok", unknown="404", spent="404"), _token_args("token", "invitation")),
        "POST": Route(
            everyone(valid="ok", unknown="404"), _token_args("token", "invitation"), effect=expect_invitation_accepted
        ),
    },
    # Calendar applications cannot sign in: the feed address is the key, and removal revokes it.
    "exchanges.calendar_feed": {
        "GET": Route(
            everyone(valid="ok", unknown="404", removed="404"), _token_args("token", "feed"), acts_for="participant"
        ),  # the feed in the world is a participant's
    },
    # sessions
    "sessions.create": {
        "GET": Route(PLAN_IN_EXCHANGE, exchange_args),
        "POST": Route(PLAN_IN_EXCHANGE, exchange_args, session_form, expect_session_created),
    },
    "sessions.detail": {"GET": Route(SEE_SESSION, session_args)},
    "sessions.calendar": {"GET": Route(SEE_SESSION, session_args)},
    "sessions.leave": {"POST": Route(SEE_SESSION, session_args)},
    "sessions.live": {"GET": Route(LIVE_ROOM, session_args)},
    "sessions.edit": {
        "GET": Route(EDIT_SESSION, session_args),
        "POST": Route(EDIT_SESSION, session_args, session_form, expect_session_title),
    },
    "sessions.change_status": {
        "POST": Route(
            EDIT_SESSION,
            session_args,
            lambda w, t: {"status": {"closed": "live", "open": "live", "draft": "scheduled", "ended": "live"}[t]},
            expect_status,
        ),
    },
    "sessions.delete": {"POST": Route(EDIT_SESSION, session_args, effect=expect_deleted_if_draft)},
    "sessions.invite": {
        "GET": Route(EDIT_SESSION, session_args),
        "POST": Route(
            EDIT_SESSION, session_args, form(emails="session.invitee@example.org"), expect_session_invitation
        ),
    },
    "sessions.join": {
        "GET": Route(PUBLIC),
        "POST": Route(  # a code typed into the form leads to that session's guest form
            everyone(closed="404", open="join", draft="404", ended="404"), data=lambda w, t: {"code": w.codes[t]}
        ),
    },
    "sessions.join_session": {
        "GET": Route(BY_JOIN_CODE, code_args),
        "POST": Route(BY_JOIN_CODE, code_args, form(display_name="Walk-in visitor"), expect_guest_joined),
    },
    # agenda
    "agenda.manage": {
        "GET": Route(EDIT_SESSION, session_args),
        "POST": Route(EDIT_SESSION, session_args, form(title="Added item", minutes="10"), expect_item_added),
    },
    "agenda.edit": {
        "GET": Route(EDIT_SESSION, item_args),
        "POST": Route(EDIT_SESSION, item_args, form(title="Renamed item", minutes="10"), expect_item_renamed),
    },
    "agenda.delete": {"POST": Route(EDIT_SESSION, item_args, effect=expect_item_deleted)},
    "agenda.move": {"POST": Route(EDIT_SESSION, item_args, form(direction="down"), expect_item_moved)},
    # board: read by whoever sees the session; exports, poll answers, the log and the report by its moderators
    "board.board": {"GET": Route(SEE_SESSION, session_args)},
    "board.board_csv": {"GET": Route(EDIT_SESSION, session_args)},
    "board.board_markdown": {"GET": Route(EDIT_SESSION, session_args)},
    "board.poll_csv": {"GET": Route(EDIT_SESSION, poll_args)},
    "board.moderation_log": {"GET": Route(EDIT_SESSION, session_args)},
    "board.report": {"GET": Route(EDIT_SESSION, session_args)},
    # feedback
    "feedback.manage": {
        "GET": Route(EDIT_SESSION, session_args),
        "POST": Route(EDIT_SESSION, session_args, form(template="session"), expect_one_form),
    },
    "feedback.settings": {
        "POST": Route(EDIT_SESSION, session_args, form(closes_at="2031-03-04T10:00"), expect_form_settings)
    },
    "feedback.change_state": {"POST": Route(EDIT_SESSION, session_args, form(state="closed"), expect_form_closed)},
    "feedback.add_question": {
        "GET": Route(EDIT_SESSION, session_args),
        "POST": Route(EDIT_SESSION, session_args, form(kind="short", text_en="Added question"), expect_question_added),
    },
    "feedback.edit_question": {
        "GET": Route(EDIT_SESSION, question_args),
        "POST": Route(
            EDIT_SESSION, question_args, form(kind="rating", text_en="Renamed question"), expect_question_renamed
        ),
    },
    "feedback.delete_question": {"POST": Route(EDIT_SESSION, question_args, effect=expect_question_deleted)},
    "feedback.move_question": {
        "POST": Route(EDIT_SESSION, question_args, form(direction="down"), expect_question_moved)
    },
    "feedback.preview": {"GET": Route(EDIT_SESSION, session_args)},
    "feedback.results": {"GET": Route(EDIT_SESSION, session_args)},
    "feedback.export": {"GET": Route(EDIT_SESSION, session_args)},
    "feedback.exchange_results": {"GET": Route(PLAN_IN_EXCHANGE, exchange_args)},
    "feedback.answer": {
        "GET": Route(ANSWER_FEEDBACK, session_args),
        "POST": Route(
            ANSWER_FEEDBACK,
            session_args,
            lambda w, t: {f"q{w.questions[t]}": "4", "action": "submit"},
            expect_feedback_answered,
        ),
    },
    # notes
    "notes.editor": {"GET": Route(NOTES_EDITOR, session_args)},
    "notes.settings": {"POST": Route(NOTES_MODERATE, session_args, form(editors="everyone"), expect_editors_everyone)},
    "notes.versions": {"GET": Route(NOTES_READ, session_args)},
    "notes.save_version": {
        "POST": Route(NOTES_EDIT, session_args, form(name="Walk version"), expect_version_saved),
    },
    "notes.version": {"GET": Route(NOTES_READ, version_args)},
    "notes.restore_version": {"POST": Route(NOTES_EDIT, version_args)},
    "notes.publish": {"POST": Route(NOTES_MODERATE, session_args, effect=expect_published_if_ended)},
    "notes.summary": {"GET": Route(NOTES_SUMMARY, session_args)},
    "notes.export": {"GET": Route(NOTES_SUMMARY, export_args)},
    "notes.add_action": {"POST": Route(NOTES_EDIT, session_args, form(what="Walk action"), expect_action_added)},
    "notes.update_action": {"POST": Route(NOTES_EDIT, action_args, form(status="done"), expect_action_done)},
    "notes.delete_action": {"POST": Route(NOTES_EDIT, action_args, effect=expect_action_deleted)},
}

CASES = [
    pytest.param(endpoint, method, visitor, target, id=f"{endpoint}-{method}-{visitor}-{target}")
    for endpoint, methods in TABLE.items()
    for method, route in methods.items()
    for visitor, by_target in route.expect.items()
    for target in by_target
]


# --- fixtures ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def shared_app():
    """One app for the module: building one (and compiling its templates) costs ~0.3 s, times 1,000 cases."""
    app = create_app(Settings())
    with app.app_context():
        db.drop_all()
        db.create_all()
    yield app
    with app.app_context():
        db.session.remove()
        db.drop_all()


@pytest.fixture
def app(shared_app):
    """Overrides conftest's `app`: the module's app, an empty database and fresh rate limits for each test.

    No app context stays pushed: Flask would reuse it for every request of the test, carrying `g` (Flask-Login's
    user, the permission cache) and Flask-Babel's locale from one request, and one visitor, to the next.
    """
    with shared_app.app_context():
        for table in reversed(db.metadata.sorted_tables):
            db.session.execute(table.delete())
        db.session.commit()
        limiter.reset()
    return shared_app


@pytest.fixture(scope="module")
def built_world() -> dict:
    """Filled by the first test: the world's ids and its rows, which later tests restore instead of rebuilding."""
    return {}


@pytest.fixture
def world(app, built_world, create_user, create_exchange, add_member, create_session, invite_to_session) -> World:
    if not built_world:
        with app.app_context():
            w = build_world(create_user, create_exchange, add_member, create_session, invite_to_session)
        w.cookies = {visitor: sign_in(app, w, visitor) for visitor in VISITORS if visitor != "anonymous"}
        with app.app_context():
            built_world.update(world=w, rows=dump_database())
    else:
        with app.app_context():
            restore_database(built_world["rows"])
    return built_world["world"]


def sign_in(app, w: World, visitor: str) -> str:
    """Become the visitor through the real routes, once; later tests reuse the session cookie."""
    client = app.test_client()
    if visitor == "guest":
        path = url(app, "sessions.join_session", "POST", {"code": w.codes["open"]})
        response = request(client, "POST", path, {"display_name": "Guest visitor"})
    else:
        response = request(client, "POST", "/login", {"email": f"{visitor}@example.org", "password": PASSWORD})
    assert response.status_code == 302, f"could not become {visitor}"
    return client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value


def build_world(create_user, create_exchange, add_member, create_session, invite_to_session) -> World:
    w = World()
    users = {name: create_user(email=f"{name}@example.org", name=name.replace("_", " ").title()) for name in SIGNED_IN}
    w.users = {name: user.id for name, user in users.items()}

    exchange = create_exchange(coordinator=users["coordinator"], title="Sisal water exchange")
    w.tokens["coordinator_feed"] = exchange.memberships[0].feed_token
    for role in MEMBERS[1:]:
        add_member(exchange, users[role], role=role)
    w.exchange = exchange.id
    target_member = add_member(exchange, create_user(email="target@example.org"))
    w.memberships["own"] = target_member.id
    w.tokens["feed"] = target_member.feed_token
    removed = add_member(exchange, create_user(email="removed@example.org"))
    w.tokens["removed_feed"] = removed.feed_token
    db.session.delete(removed)
    db.session.commit()

    other = create_exchange(coordinator=users["other_exchange"], title="Kapok transport exchange")
    w.tokens["other_feed"] = other.memberships[0].feed_token
    w.other_exchange = other.id
    w.memberships["foreign_object"] = add_member(other, create_user(email="elsewhere@example.org")).id

    for target, mode, status in [
        ("closed", "closed", "scheduled"),
        ("open", "open", "scheduled"),
        ("draft", "closed", "draft"),
        ("ended", "open", "ended"),
    ]:
        title, *items = TITLES[target]
        session = create_session(exchange, mode=mode, status=status, title=title, agenda=[(i, 20) for i in items])
        w.sessions[target] = session.id
        w.items[target] = session.agenda_items[0].id
        w.codes[target] = session.join_code
        w.polls[target] = add_board(session, users["participant"], target)
    invite_to_session(db.session.get(ExchangeSession, w.sessions["closed"]), users["invitee"])
    for target, session_id in w.sessions.items():
        feedback = FeedbackForm(
            session_id=session_id, anonymous=target == "open", state="not_open" if target == "draft" else "open"
        )
        for position in range(2):
            texts = {"en": f"{TITLES[target][0]}: question {position + 1}"}
            feedback.questions.append(FeedbackQuestion(position=position, kind="rating", texts=texts))
        db.session.add(feedback)
        db.session.commit()
        w.forms[target], w.questions[target] = feedback.id, feedback.questions[0].id
    add_notes(w)

    later = utcnow() + timedelta(days=7)
    for key, ex, email in [("own", exchange, "invited@example.org"), ("foreign_object", other, "asked@example.org")]:
        token = new_token()
        invitation = Invitation(exchange=ex, email=email, token_hash=hash_token(token), expires_at=later)
        db.session.add(invitation)
        db.session.commit()
        w.invitations[key] = invitation.id
        w.tokens.setdefault("invitation", token)
    w.tokens["spent_invitation"] = token = new_token()
    db.session.add(
        Invitation(
            exchange=exchange,
            email="spent@example.org",
            token_hash=hash_token(token),
            expires_at=later,
            accepted_at=utcnow(),
        )
    )
    for key, used_at in [("reset", None), ("spent_reset", utcnow())]:
        token = new_token()
        db.session.add(
            PasswordReset(user=users["stranger"], token_hash=hash_token(token), expires_at=later, used_at=used_at)
        )
        w.tokens[key] = token
    db.session.commit()
    return w


def add_board(session: ExchangeSession, author: User, target: str) -> int:
    """A contribution and a named poll someone answered (a draft in the draft session); returns the poll's id."""
    remark, question = BOARD_TEXTS[target]
    db.session.add(
        Contribution(
            session_id=session.id,
            agenda_item_id=session.agenda_items[0].id,
            person=f"u:{author.id}",
            user_id=author.id,
            author_name=author.display_name,
            author_side="seeking",
            body=remark,
            body_html=render(remark),
        )
    )
    draft = target == "draft"
    poll = Poll(
        session_id=session.id,
        question=question,
        choices=["Yes", "No"],
        anonymous=False,
        status=Poll.DRAFT if draft else Poll.CLOSED,
        created_by=f"u:{author.id}",
    )
    db.session.add(poll)
    db.session.flush()
    if not draft:
        voter = PollVoter(
            poll_id=poll.id, voter_key=f"u:{author.id}", person=f"u:{author.id}", name=author.display_name
        )
        db.session.add(voter)
        db.session.flush()
        db.session.add(PollChoice(poll_id=poll.id, choice=0, voter_id=voter.id))
    db.session.commit()
    return poll.id


def add_notes(w: World) -> None:
    """Notes for every session (their text holds the session's secret titles), a version and an action each;
    the closed and the ended (open) sessions' notes are published."""
    from workspace.notes import crdt
    from workspace.notes.render import to_html

    for target, session_id in w.sessions.items():
        doc = crdt.new_doc()
        crdt.text_of(doc).insert(0, "\n".join(TITLES[target]) + "\n", {})
        state = doc.get_update()
        db.session.add(NoteDoc(session_id=session_id, snapshot=state))
        version = NoteVersion(session_id=session_id, name="Morning", state=state)
        action = FollowUpAction(session_id=session_id, what=f"Follow up on {TITLES[target][1]}")
        db.session.add_all([version, action])
        if target in ("closed", "ended"):
            delta = crdt.delta_of(doc)
            db.session.add(NoteSummary(session_id=session_id, delta=delta, html=to_html(delta), contributors=[]))
        db.session.flush()
        w.versions[target], w.actions[target] = version.id, action.id
    db.session.commit()


# --- helpers ----------------------------------------------------------------------------------------------


def url(app, endpoint: str, method: str, values: dict) -> str:
    """Built from app.url_map, refusing values the rule does not take (they would become a query string)."""
    (rule,) = [r for r in app.url_map.iter_rules(endpoint) if method in r.methods]
    assert set(values) == set(rule.arguments), f"{endpoint}: URL values {sorted(values)} for {rule.rule}"
    return app.url_map.bind("localhost").build(endpoint, values, method=method)


def request(client, method: str, path: str, data: dict | None = None):
    return client.open(path, method=method, data=data, follow_redirects=False)


def visit_as(app, client, world: World, visitor: str) -> None:
    if visitor != "anonymous":
        client.set_cookie(app.config["SESSION_COOKIE_NAME"], world.cookies[visitor])


def redirect_kind(response) -> str | None:
    """'login': a bounce to the sign-in page; 'join': to a session's guest form; 'page': to a session's page."""
    if response.status_code not in (301, 302, 303, 307, 308):
        return None
    location = urlsplit(response.headers["Location"])
    if location.path == "/login" and "next=" in location.query:
        return "login"
    if location.path.startswith("/join/"):
        return "join"
    return "page" if location.path.startswith("/sessions/") else None


def assert_outcome(response, expected: str) -> None:
    status = response.status_code
    if expected == "ok":
        assert 200 <= status < 400 and redirect_kind(response) in (None, "page"), f"expected success, got {status}"
    elif expected in ("login", "join", "page"):
        assert redirect_kind(response) == expected, f"expected a redirect ({expected}), got {status}"
    else:
        assert status == int(expected), f"expected {expected}, got {status}"


def secrets_hidden_from(visitor: str) -> set[str]:
    hidden = set()
    if visitor not in CLOSED_READERS:
        hidden |= {*TITLES["closed"], *BOARD_TEXTS["closed"]}
    if visitor not in DRAFT_READERS:
        hidden |= {*TITLES["draft"], *BOARD_TEXTS["draft"]}
    return hidden


def assert_nothing_leaks(response, visitor: str, acts_for: str | None = None) -> None:
    hidden = secrets_hidden_from(visitor) & secrets_hidden_from(acts_for or visitor)
    body = response.get_data(as_text=True).replace("\r\n ", "")  # unfold iCalendar lines
    body += response.headers.get("Location", "")
    leaked = sorted(secret for secret in hidden if secret in body)
    assert not leaked, f"{visitor} was shown {leaked}"


def dump_database() -> dict[str, list[dict]]:
    return {
        table.name: sorted((dict(row._mapping) for row in db.session.execute(table.select())), key=repr)
        for table in db.metadata.sorted_tables
    }


def unchanged_since(rows: dict[str, list[dict]]) -> bool:
    """Compares all but the login sessions' last-seen time, which any signed-in request may refresh."""

    def comparable(dump):
        return {
            name: [{k: v for k, v in row.items() if k != "last_seen_at"} for row in table]
            for name, table in dump.items()
        }

    return comparable(dump_database()) == comparable(rows)


def restore_database(rows: dict[str, list[dict]]) -> None:
    """Into the empty database the `app` fixture gives each test; ids are kept, so sequences must follow."""
    for table in db.metadata.sorted_tables:
        if rows[table.name]:
            db.session.execute(table.insert(), rows[table.name])
            if db.engine.dialect.name == "postgresql" and "id" in table.c:
                sequence = f"pg_get_serial_sequence('{table.name}', 'id')"
                db.session.execute(db.text(f"SELECT setval({sequence}, (SELECT max(id) FROM {table.name}))"))
    db.session.commit()


# --- the walk ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("endpoint", "method", "visitor", "target"), CASES)
def test_route(app, client, world, built_world, endpoint, method, visitor, target):
    route = TABLE[endpoint][method]
    expected = route.expect[visitor][target]
    visit_as(app, client, world, visitor)
    path = url(app, endpoint, method, route.args(world, target))
    data = route.data(world, target) if route.data else None

    response = request(client, method, path, data)

    assert_outcome(response, expected)
    assert_nothing_leaks(response, visitor, route.acts_for)
    with app.app_context():
        if expected != "ok":
            assert unchanged_since(built_world["rows"]), "a denied request changed the database"
        elif route.effect:
            route.effect(world, visitor, target, response)


def test_table_covers_every_route(app):
    in_app = {
        (rule.endpoint, method)
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static"
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    in_table = {(endpoint, method) for endpoint, methods in TABLE.items() for method in methods}
    assert not in_app - in_table, f"routes with no entry in the authorisation table: {sorted(in_app - in_table)}"
    assert not in_table - in_app, f"table entries for routes that no longer exist: {sorted(in_table - in_app)}"


def test_table_names_every_visitor():
    for endpoint, methods in TABLE.items():
        for method, route in methods.items():
            assert tuple(route.expect) == VISITORS, f"{endpoint} {method}"
            targets = {tuple(by_target) for by_target in route.expect.values()}
            assert len(targets) == 1, f"{endpoint} {method}: visitors are checked against different targets"
            outcomes = {o for by_target in route.expect.values() for o in by_target.values()}
            assert outcomes <= OUTCOMES, f"{endpoint} {method}: {outcomes - OUTCOMES}"


# --- the calendar feed, and that the secrets the walk looks for are really rendered -----------------------


def feed(client, token: str):
    response = request(client, "GET", f"/calendar/{token}.ics")
    return response, response.get_data(as_text=True).replace("\r\n ", "")


def test_feed_lists_only_sessions_the_member_may_see(app, client, world):
    response, body = feed(client, world.tokens["feed"])  # a participant's
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    for target in ("closed", "open", "ended"):
        assert TITLES[target][0] in body
    assert TITLES["draft"][0] not in body

    _, planner_body = feed(client, world.tokens["coordinator_feed"])
    assert TITLES["closed"][0] in planner_body
    assert TITLES["draft"][0] not in planner_body  # a feed carries published sessions only

    response, other_body = feed(client, world.tokens["other_feed"])
    assert response.status_code == 200
    assert not [title for titles in TITLES.values() for title in titles if title in other_body]


def test_feed_token_dies_with_the_membership(app, client, auth, world):
    assert feed(client, "no-such-token")[0].status_code == 404
    assert feed(client, world.tokens["removed_feed"])[0].status_code == 404

    token = world.tokens["feed"]
    assert feed(client, token)[0].status_code == 200
    auth.login("coordinator@example.org")
    path = url(
        app,
        "exchanges.remove_member",
        "POST",
        {"exchange_id": world.exchange, "membership_id": world.memberships["own"]},
    )
    assert request(client, "POST", path).status_code == 302
    assert feed(client, token)[0].status_code == 404


@pytest.mark.parametrize(
    ("visitor", "target"),
    [("coordinator", "closed"), ("observer", "closed"), ("invitee", "closed"), ("moderator", "draft")],
)
def test_readers_see_the_content_the_walk_hides(app, client, world, visitor, target):
    """Guards the leak check: the titles it looks for are what the session page shows."""
    visit_as(app, client, world, visitor)
    response = request(client, "GET", f"/sessions/{world.sessions[target]}")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert all(title in body for title in TITLES[target])


@pytest.mark.parametrize(
    ("visitor", "target"),
    [("observer", "closed"), ("invitee", "closed"), ("moderator", "draft"), ("anonymous", "open"), ("guest", "ended")],
)
def test_readers_see_the_board_the_walk_hides(app, client, world, visitor, target):
    """Guards the leak check for the board: its contribution and poll are on the board page."""
    visit_as(app, client, world, visitor)
    response = request(client, "GET", f"/sessions/{world.sessions[target]}/board")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    remark, question = BOARD_TEXTS[target]
    assert remark in body and question in body


@pytest.mark.parametrize("target", ["closed", "draft"])
def test_moderators_exports_carry_what_the_walk_hides(app, client, world, target):
    visit_as(app, client, world, "moderator")
    sid = world.sessions[target]
    remark, question = BOARD_TEXTS[target]
    assert remark in request(client, "GET", f"/sessions/{sid}/board.csv").get_data(as_text=True)
    assert remark in request(client, "GET", f"/sessions/{sid}/board.md").get_data(as_text=True)
    assert question in request(client, "GET", f"/sessions/{sid}/polls/{world.polls[target]}.csv").get_data(as_text=True)
