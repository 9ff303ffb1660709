"""The board after the session: the read-only page, the exports, the moderation log and the report."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import UTC, timedelta
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_time

from workspace.auth.models import User
from workspace.board import report
from workspace.board.models import Board, Contribution, ModerationEntry, Poll, PollChoice, PollVoter, SpeakerTurn
from workspace.board.render import render
from workspace.extensions import db
from workspace.sessions.models import ExchangeSession, Guest
from workspace.timeutil import utcnow
from workspace.tokens import hash_token, new_token

START = utcnow().replace(microsecond=0) - timedelta(hours=2)


@dataclass
class Scene:
    users: dict[str, int] = field(default_factory=dict)
    closed: int = 0
    open: int = 0
    items: dict[str, int] = field(default_factory=dict)
    contributions: dict[str, int] = field(default_factory=dict)
    polls: dict[str, int] = field(default_factory=dict)


@pytest.fixture
def scene(app, create_user, create_exchange, add_member, create_session, invite_to_session) -> Scene:
    s = Scene()
    moderator = create_user(email="mod@example.org", name="Mwajuma Moderator")
    seeker = create_user(email="seeker@example.org", name="Wanjiru Seeker", country="KE", gender="Woman")
    provider = create_user(email="provider@example.org", name="Camilo Provider", country="CO")
    observer = create_user(email="observer@example.org", name="Olu Observer")
    create_user(email="stranger@example.org", name="Sam Stranger")
    invitee = create_user(email="invitee@example.org", name="Ines Invitee", country="PT")
    exchange = create_exchange(coordinator=moderator)
    add_member(exchange, seeker, role="participant", side="seeking")
    add_member(exchange, provider, role="participant", side="providing")
    add_member(exchange, observer, role="observer", side="seeking")
    s.users = {u.email.split("@")[0]: u.id for u in (moderator, seeker, provider, observer, invitee)}

    closed = create_session(
        exchange, mode="closed", status="ended", title="Borehole tariffs", agenda=[("Tariffs", 20), ("Metering", 20)]
    )
    invite_to_session(closed, invitee)
    opened = create_session(exchange, mode="open", status="live", title="Open water forum", agenda=[("Pricing", 30)])
    s.closed, s.open = closed.id, opened.id
    s.items = {"tariffs": closed.agenda_items[0].id, "metering": closed.agenda_items[1].id}

    def add(key, user, body, item=None, parent=None, session=closed, **fields):
        c = Contribution(
            session_id=session.id,
            agenda_item_id=s.items.get(item),
            parent_id=s.contributions.get(parent),
            person=f"u:{user.id}",
            user_id=user.id,
            author_name=user.display_name,
            author_side={seeker.id: "seeking", provider.id: "providing"}.get(user.id),
            author_country=user.country,
            body=body,
            body_html=render(body),
            **fields,
        )
        db.session.add(c)
        db.session.flush()
        s.contributions[key] = c.id

    add("first", seeker, "How do you set **lifeline** tariffs?", "tariffs", votes=2)
    add("pinned", provider, "We index them to inflation.", "tariffs", pinned=True, answered=True, votes=5)
    add("reply", seeker, "Which index do you use?", "tariffs", parent="pinned")
    add("metering", provider, "Prepaid meters <script>alert(1)</script> worked for us.", "metering")
    add("general", invitee, "Thanks for hosting us.")
    add("pending", seeker, "Pending words nobody approved", status="pending")
    add("rejected", seeker, "Rejected words", status="rejected", reject_reason="Off topic")
    add("hidden", provider, "Hidden words", "metering", hidden=True)
    add("hidden_reply", seeker, "Reply to hidden words", "metering", parent="hidden")
    add("withdrawn", provider, "Withdrawn words", status="withdrawn")
    for key, text in [("eq", '=HYPERLINK("http://evil")'), ("plus", "+1+2"), ("minus", "-3+4"), ("at", "@SUM(A1)")]:
        add(key, seeker, text, "metering")
    db.session.commit()

    for key, question, status, anonymous, show in [
        ("closed_named", "Which meter type?", Poll.CLOSED, False, Poll.SHOW_AFTER_CLOSE),
        ("closed_anon", "Is the lifeline block fair?", Poll.CLOSED, True, Poll.SHOW_AFTER_CLOSE),
    ]:
        poll = Poll(
            session_id=closed.id,
            question=question,
            choices=["Prepaid", "Smart", "Mechanical"],
            multiple=False,
            anonymous=anonymous,
            show_results=show,
            status=status,
            created_by=f"u:{moderator.id}",
        )
        db.session.add(poll)
        db.session.flush()
        s.polls[key] = poll.id
        for user, choice in [(seeker, 0), (provider, 0), (invitee, 1)]:
            voter = PollVoter(
                poll_id=poll.id,
                voter_key=new_token()[:40] if anonymous else f"u:{user.id}",
                person=None if anonymous else f"u:{user.id}",
                name=None if anonymous else user.display_name,
            )
            db.session.add(voter)
            db.session.flush()
            db.session.add(PollChoice(poll_id=poll.id, choice=choice, voter_id=None if anonymous else voter.id))
    db.session.commit()
    return s


def get(client, path):
    return client.get(path, follow_redirects=False)


def text(response) -> str:
    return response.get_data(as_text=True)


def csv_rows(response) -> list[list[str]]:
    body = text(response)
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body[1:])))


def set_non_attribution(session_id: int) -> None:
    db.session.add(Board(session_id=session_id, non_attribution=True))
    db.session.commit()


# --- the board page ------------------------------------------------------------------------------------------------


def test_readers_see_approved_threads_with_names(client, auth, scene):
    auth.login("observer@example.org")
    response = get(client, f"/sessions/{scene.closed}/board")
    assert response.status_code == 200
    page = text(response)
    assert "Closed session: confidential." in page
    assert "<strong>lifeline</strong>" in page  # body_html as sanitised Markdown
    assert "<script>alert" not in page and "Prepaid meters" in page
    for gone in ("Pending words", "Rejected words", "Hidden words", "Reply to hidden words", "Withdrawn words"):
        assert gone not in page
    # Agenda headings in agenda order, then the general thread; pinned first; the reply under its parent.
    assert page.index("Tariffs") < page.index("Metering") < page.index("General discussion")
    assert page.index("We index them") < page.index("Which index do you use") < page.index("How do you set")
    assert "Wanjiru Seeker" in page and "Camilo Provider" in page and "Knowledge-providing" in page
    assert "5 votes" in page and "Answered" in page and "Pinned" in page
    assert "Export the board" not in page  # moderators only


def test_polls_on_the_board_follow_their_results_rule(client, auth, scene):
    with_results = Poll(
        session_id=scene.closed,
        question="Open live poll?",
        choices=["Yes", "No"],
        status=Poll.OPEN,
        show_results=Poll.SHOW_LIVE,
        created_by="u:1",
    )
    hidden = Poll(
        session_id=scene.closed,
        question="Open poll with results after closing?",
        choices=["Yes", "No"],
        status=Poll.OPEN,
        show_results=Poll.SHOW_AFTER_CLOSE,
        created_by="u:1",
    )
    draft = Poll(session_id=scene.closed, question="A draft question", choices=["Yes", "No"], created_by="u:1")
    db.session.add_all([with_results, hidden, draft])
    db.session.commit()

    auth.login("observer@example.org")
    page = text(get(client, f"/sessions/{scene.closed}/board"))
    assert "Which meter type?" in page and "2 people answered." not in page and "3 people answered." in page
    assert "Open live poll?" in page
    assert "Open poll with results after closing?" in page and "Results will be shown when the poll closes." in page
    assert "A draft question" not in page
    assert f"/polls/{scene.polls['closed_named']}.csv" not in page

    auth.logout()
    auth.login("mod@example.org")
    page = text(get(client, f"/sessions/{scene.closed}/board"))
    assert "A draft question" in page and "Results will be shown" not in page
    assert f"/polls/{scene.polls['closed_named']}.csv" in page


def test_non_attribution_hides_names_from_all_but_moderators(client, auth, scene):
    set_non_attribution(scene.closed)
    auth.login("seeker@example.org")
    page = text(get(client, f"/sessions/{scene.closed}/board"))
    assert "How do you set" in page
    for name in ("Wanjiru Seeker", "Camilo Provider", "Ines Invitee"):
        assert name not in page.replace("Wanjiru Seeker</a>", "")  # their own name is in the navigation
    assert "Camilo Provider" not in page and "Ines Invitee" not in page
    assert "Knowledge-providing" not in page
    assert "contributions are shown without their authors' names" in page

    auth.logout()
    auth.login("mod@example.org")
    page = text(get(client, f"/sessions/{scene.closed}/board"))
    assert "Camilo Provider" in page and "Ines Invitee" in page
    assert "everyone else sees the contributions without names" in page


def test_closed_board_is_not_found_for_outsiders(client, auth, scene):
    for who in (None, "stranger@example.org"):
        if who:
            auth.login(who)
        for path in ("board", "board.csv", "board.md", "moderation-log", "report"):
            response = get(client, f"/sessions/{scene.closed}/{path}")
            assert response.status_code in (404, 302), path
            if response.status_code == 302:
                assert "/login" in response.headers["Location"] and who is None
            assert "lifeline" not in text(response) and "Borehole" not in text(response)
        assert get(client, f"/sessions/{scene.closed}/polls/{scene.polls['closed_named']}.csv").status_code in (
            404,
            302,
        )


def test_open_board_is_public_and_names_guests(client, scene):
    code = db.session.get(ExchangeSession, scene.open).join_code
    assert client.post(f"/join/{code}", data={"display_name": "Zanele Guest"}).status_code == 302
    guest = db.session.execute(db.select(Guest).filter_by(display_name="Zanele Guest")).scalar_one()
    db.session.add(
        Contribution(
            session_id=scene.open,
            person=f"g:{guest.id}",
            guest_id=guest.id,
            author_name="Zanele Guest",
            body="A guest's view",
            body_html=render("A guest's view"),
        )
    )
    db.session.commit()
    page = text(get(client, f"/sessions/{scene.open}/board"))
    assert "A guest's view" in page and "Zanele Guest" in page and "Guest" in page


# --- exports -------------------------------------------------------------------------------------------------------


def test_board_csv_round_trip_and_formula_injection(client, auth, scene):
    auth.login("mod@example.org")
    response = get(client, f"/sessions/{scene.closed}/board.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv" and response.mimetype_params.get("charset") == "utf-8"
    assert response.headers["Content-Disposition"] == f'attachment; filename="session-{scene.closed}-board.csv"'
    assert response.headers["Cache-Control"] == "no-store"
    header, *rows = csv_rows(response)
    assert header == [
        "ID", "Agenda item", "Reply to", "Author", "Side", "Created at (UTC)",
        "Votes", "Pinned", "Answered", "Hidden", "Text",
    ]  # fmt: skip
    by_id = {int(r[0]): dict(zip(header, r, strict=True)) for r in rows}
    ids = scene.contributions
    assert set(by_id) == {ids[k] for k in ids if k not in ("pending", "rejected", "withdrawn")}
    pinned = by_id[ids["pinned"]]
    assert pinned["Agenda item"] == "Tariffs" and pinned["Author"] == "Camilo Provider"
    assert pinned["Side"] == "Knowledge-providing" and pinned["Votes"] == "5"
    assert (pinned["Pinned"], pinned["Answered"], pinned["Hidden"]) == ("yes", "yes", "no")
    assert pinned["Created at (UTC)"].endswith("Z") and "T" in pinned["Created at (UTC)"]
    assert by_id[ids["reply"]]["Reply to"] == str(ids["pinned"])
    assert by_id[ids["hidden"]]["Hidden"] == "yes"
    assert by_id[ids["first"]]["Text"] == "How do you set **lifeline** tariffs?"  # the Markdown source
    for key, raw in [("eq", '=HYPERLINK("http://evil")'), ("plus", "+1+2"), ("minus", "-3+4"), ("at", "@SUM(A1)")]:
        assert by_id[ids[key]]["Text"] == "'" + raw
    assert by_id[ids["general"]]["Agenda item"] == ""


def test_csv_cells_never_start_a_formula():
    from workspace.board.exports import safe_cell

    for start in ("=", "+", "-", "@", "\t", "\r"):
        assert safe_cell(start + "1") == "'" + start + "1"
    assert safe_cell("plain") == "plain" and safe_cell(-3) == -3


def test_board_markdown(client, auth, scene):
    auth.login("mod@example.org")
    response = get(client, f"/sessions/{scene.closed}/board.md")
    assert response.status_code == 200 and response.mimetype == "text/markdown"
    assert f'filename="session-{scene.closed}-board.md"' in response.headers["Content-Disposition"]
    md = text(response)
    lines = md.splitlines()
    assert lines[0] == "# Board: Borehole tariffs"
    assert "**Confidential — closed session**" in md[:200]
    assert "## Tariffs" in lines and "## Metering" in lines and "## General discussion" in lines
    assert md.index("We index them") < md.index("  - Which index") < md.index("- How do you set **lifeline**")
    assert "*Camilo Provider (Knowledge-providing) · 5 votes · pinned · answered*" in md
    assert "Hidden words" not in md and "Pending words" not in md
    assert "\\<script>alert(1)\\</script>" in md and md.count("<script>") == md.count("\\<script>")
    assert "## Polls" in md and "- Prepaid: 2" in md

    open_md = text(get(client, f"/sessions/{scene.open}/board.md"))
    assert "Confidential" not in open_md and "Nobody contributed" in open_md


def test_exports_name_nobody_under_non_attribution(client, auth, scene):
    # Even a guest's name, and even if the session was opened up after the setting was turned on.
    guest = Guest(session_id=scene.open, display_name="Zanele Guest", token_hash=hash_token(new_token()))
    db.session.add(guest)
    db.session.flush()
    db.session.add(
        Contribution(
            session_id=scene.open,
            person=f"g:{guest.id}",
            guest_id=guest.id,
            author_name="Zanele Guest",
            body="Guest words",
            body_html=render("Guest words"),
        )
    )
    db.session.commit()
    set_non_attribution(scene.closed)
    set_non_attribution(scene.open)
    auth.login("mod@example.org")
    names = ("Wanjiru", "Camilo", "Ines", "Zanele", "Mwajuma", "Knowledge-")
    for session_id in (scene.closed, scene.open):
        for path in ("board.csv", "board.md"):
            body = text(get(client, f"/sessions/{session_id}/{path}"))
            assert "words" in body or "lifeline" in body
            assert not [n for n in names if n in body], (session_id, path)
    header, *rows = csv_rows(get(client, f"/sessions/{scene.closed}/board.csv"))
    assert all(row[header.index("Author")] == "" for row in rows)
    for key in ("closed_named", "closed_anon"):
        body = text(get(client, f"/sessions/{scene.closed}/polls/{scene.polls[key]}.csv"))
        assert not [n for n in names if n in body]


def test_poll_csv(client, auth, scene):
    auth.login("mod@example.org")
    response = get(client, f"/sessions/{scene.closed}/polls/{scene.polls['closed_named']}.csv")
    assert response.status_code == 200
    rows = csv_rows(response)
    assert rows[0] == ["Question", "Which meter type?"]
    assert ["Prepaid", "2"] in rows and ["Smart", "1"] in rows and ["Mechanical", "0"] in rows
    names = rows[rows.index(["Name", "Choices"]) + 1 :]
    assert sorted(names) == [["Camilo Provider", "Prepaid"], ["Ines Invitee", "Smart"], ["Wanjiru Seeker", "Prepaid"]]

    anonymous = csv_rows(get(client, f"/sessions/{scene.closed}/polls/{scene.polls['closed_anon']}.csv"))
    assert ["Prepaid", "2"] in anonymous and ["Name", "Choices"] not in anonymous
    assert not [cell for row in anonymous for cell in row if "Wanjiru" in cell or "Camilo" in cell]


def test_poll_csv_refuses_unknown_and_foreign_polls(client, auth, scene):
    auth.login("mod@example.org")
    assert get(client, f"/sessions/{scene.closed}/polls/99999.csv").status_code == 404
    assert get(client, f"/sessions/{scene.open}/polls/{scene.polls['closed_named']}.csv").status_code == 404


def test_members_who_do_not_moderate_may_not_export(client, auth, scene):
    auth.login("seeker@example.org")
    for path in ("board.csv", "board.md", "moderation-log", "report", f"polls/{scene.polls['closed_named']}.csv"):
        assert get(client, f"/sessions/{scene.closed}/{path}").status_code == 403, path


# --- moderation log and report -------------------------------------------------------------------------------------


def test_moderation_log(client, auth, scene):
    base = START + timedelta(minutes=5)
    db.session.add_all(
        [
            ModerationEntry(
                session_id=scene.closed,
                actor=f"u:{scene.users['mod']}",
                actor_name="Mwajuma Moderator",
                action="hide",
                contribution_id=scene.contributions["hidden"],
                created_at=base,
            ),
            ModerationEntry(
                session_id=scene.closed,
                actor=f"u:{scene.users['mod']}",
                actor_name="Mwajuma Moderator",
                action="mute",
                target=f"u:{scene.users['seeker']}",
                target_name="Wanjiru Seeker",
                created_at=base + timedelta(minutes=1),
            ),
            ModerationEntry(
                session_id=scene.closed,
                actor=f"u:{scene.users['mod']}",
                actor_name="Mwajuma Moderator",
                action="set_non_attribution",
                detail="on",
                created_at=base + timedelta(minutes=2),
            ),
            ModerationEntry(session_id=scene.open, actor="u:1", actor_name="Elsewhere", action="pin", created_at=base),
        ]
    )
    db.session.commit()
    auth.login("mod@example.org")
    page = text(get(client, f"/sessions/{scene.closed}/moderation-log"))
    assert page.index("Hid a contribution") < page.index("Muted a participant") < page.index("Changed non-attribution")
    assert "Hidden words" in page and "Wanjiru Seeker" in page and '<td dir="auto">On</td>' in page
    assert "Elsewhere" not in page

    # The time in the viewer's zone: a moderator in Nairobi sees it three hours later than UTC.
    user = db.session.get(User, scene.users["mod"])
    user.timezone = "Africa/Nairobi"
    db.session.commit()
    page = text(get(client, f"/sessions/{scene.closed}/moderation-log"))
    nairobi = format_time(base.replace(tzinfo=UTC), "short", tzinfo=ZoneInfo("Africa/Nairobi"), locale="en")
    utc = format_time(base.replace(tzinfo=UTC), "short", tzinfo=ZoneInfo("UTC"), locale="en")
    assert nairobi in page and utc not in page


def test_report_counts_speaking_and_contributions(app, client, auth, scene):
    def turn(user_id, name, side, country, gender, seconds, minutes_in):
        started = START + timedelta(minutes=minutes_in)
        db.session.add(
            SpeakerTurn(
                session_id=scene.closed,
                person=f"u:{user_id}" if user_id else "g:99",
                name=name,
                side=side,
                country=country,
                gender=gender,
                status=SpeakerTurn.DONE,
                raised_at=started,
                started_at=started,
                ended_at=started + timedelta(seconds=seconds),
            )
        )

    turn(scene.users["seeker"], "Wanjiru", "seeking", "KE", "Woman", 60, 1)
    turn(scene.users["seeker"], "Wanjiru", "seeking", "KE", "Woman", 30, 5)
    turn(scene.users["provider"], "Camilo", "providing", "CO", None, 45, 10)
    turn(scene.users["invitee"], "Ines", None, "PT", None, 15, 20)
    db.session.add(SpeakerTurn(session_id=scene.closed, person="u:77", name="Lowered", status=SpeakerTurn.LOWERED))
    db.session.commit()

    session = db.session.get(ExchangeSession, scene.closed)
    with app.test_request_context():
        data = report.speaking(session)
        assert data["total"] == {"turns": 4, "seconds": 150}
        by_side = {row.label: (row.turns, row.seconds) for row in data["by_side"]}
        assert by_side == {"Knowledge-seeking": (2, 90), "Knowledge-providing": (1, 45), str(report.NO_SIDE): (1, 15)}
        by_country = {row.label: row.seconds for row in data["by_country"]}
        assert by_country == {"Kenya": 90, "Colombia": 45, "Portugal": 15}
        assert {row.label: row.seconds for row in data["by_gender"]} == {"Woman": 90, "Not given": 60}
        assert data["by_side"][0].share == "60%"
        counts = report.contribution_counts(session)
        assert counts == {"approved": 10, "pending": 1, "rejected": 1, "hidden": 1, "total": 13}
        assert dict(report.contributors_by_side(session)) == {
            "Knowledge-seeking": 1,
            "Knowledge-providing": 1,
            str(report.NO_SIDE): 1,
        }

    auth.login("mod@example.org")
    page = text(get(client, f"/sessions/{scene.closed}/report"))
    assert "4 turns at speaking" in page and "2 min 30 s in all." in page
    assert "1 min 30 s" in page and "Kenya" in page and "Colombia" in page and "Woman" in page
    assert "Which meter type?" in page and "Is the lifeline block fair?" in page
    assert "Wanjiru" not in page  # counts, not people

    # Readable in an RTL language: the page says so, and the numbers and tables are still there.
    db.session.get(User, scene.users["mod"]).locale = "ar"
    db.session.commit()
    page = text(get(client, f"/sessions/{scene.closed}/report"))
    assert 'dir="rtl"' in page and "<table>" in page and "كينيا" in page


def test_session_page_links(client, auth, scene):
    auth.login("seeker@example.org")
    page = text(get(client, f"/sessions/{scene.closed}"))
    assert f"/sessions/{scene.closed}/board" in page and "board.csv" not in page and "/report" not in page
    auth.logout()
    auth.login("mod@example.org")
    page = text(get(client, f"/sessions/{scene.closed}"))
    for path in ("board", "board.csv", "board.md", "moderation-log", "report"):
        assert f'/sessions/{scene.closed}/{path}"' in page


def test_results_after_answering_only_for_those_who_answered(client, auth, scene):
    poll = Poll(
        session_id=scene.closed,
        question="Answered-only results?",
        choices=["Yes", "No"],
        anonymous=False,
        status=Poll.OPEN,
        show_results=Poll.SHOW_AFTER_ANSWER,
        created_by="u:1",
    )
    db.session.add(poll)
    db.session.flush()
    person = f"u:{scene.users['seeker']}"
    voter = PollVoter(poll_id=poll.id, voter_key=person, person=person, name="Wanjiru Seeker")
    db.session.add(voter)
    db.session.flush()
    db.session.add(PollChoice(poll_id=poll.id, choice=1, voter_id=voter.id))
    db.session.commit()

    def section(page: str) -> str:
        start = page.index("Answered-only results?")
        return page[start : page.index("</article>", start)]

    auth.login("observer@example.org")
    assert "once they have answered" in section(text(get(client, f"/sessions/{scene.closed}/board")))
    auth.logout()
    auth.login("seeker@example.org")
    assert "1 person answered." in section(text(get(client, f"/sessions/{scene.closed}/board")))
