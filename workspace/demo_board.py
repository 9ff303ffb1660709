"""Demo content for the live focus group's board: contributions, votes, a raised hand and a poll in progress."""

from __future__ import annotations

from datetime import timedelta

from .board.models import Board, Contribution, Poll, PollChoice, PollVoter, SpeakerTurn, Vote
from .board.render import render
from .extensions import db
from .sessions.models import ExchangeSession
from .timeutil import utcnow

CONTRIBUTIONS = [
    # author email, agenda item index, text, votes by (emails), pinned
    (
        "wanjiru@demo.baraza",
        0,
        "Most hubs we surveyed live on **short donor grants**. Which instruments gave Colombian hubs "
        "multi-year funding?",
        ["amina@demo.baraza", "lucia@demo.baraza"],
        True,
    ),
    (
        "joao@demo.baraza",
        1,
        "In Portugal, municipalities co-finance hubs through:\n\n- long leases of public buildings\n"
        "- matched funding for programming",
        ["wanjiru@demo.baraza"],
        False,
    ),
    (
        "amina@demo.baraza",
        None,
        "Reminder: the draft strategy is in the shared folder. Comments welcome *before Friday*.",
        [],
        False,
    ),
]


def seed_board(session: ExchangeSession, users: dict, sides: dict) -> None:
    """Rows only: a room opened later builds its snapshot from them."""
    db.session.add(Board(session_id=session.id, premoderation=session.is_open))
    items = session.agenda_items
    now = utcnow()
    for age, (email, item, text, voters, pinned) in enumerate(CONTRIBUTIONS):
        author = users[email]
        contribution = Contribution(
            session_id=session.id,
            agenda_item_id=items[item].id if item is not None else None,
            person=f"u:{author.id}",
            user_id=author.id,
            author_name=author.display_name,
            author_side=sides[email],
            author_country=author.country,
            body=text,
            body_html=render(text),
            pinned=pinned,
            votes=len(voters),
            created_at=now - timedelta(minutes=9 - 3 * age),
        )
        db.session.add(contribution)
        db.session.flush()
        for voter in voters:
            db.session.add(Vote(contribution_id=contribution.id, person=f"u:{users[voter].id}"))
    speaker = users["wanjiru@demo.baraza"]
    db.session.add(
        SpeakerTurn(
            session_id=session.id,
            person=f"u:{speaker.id}",
            name=speaker.display_name,
            side="seeking",
            country=speaker.country,
            gender=speaker.gender,
        )
    )
    poll = Poll(
        session_id=session.id,
        question="Which financing instrument should Kenya study first?",
        choices=["Municipal co-financing", "Tax incentives for investors", "A creative economy fund"],
        anonymous=True,
        show_results=Poll.SHOW_AFTER_ANSWER,
        status=Poll.OPEN,
        created_by=f"u:{users['lucia@demo.baraza'].id}",
        opened_at=now - timedelta(minutes=2),
    )
    db.session.add(poll)
    db.session.flush()
    db.session.add(PollVoter(poll_id=poll.id, voter_key="demo-anonymous-voter"))
    db.session.add(PollChoice(poll_id=poll.id, choice=2))
