"""Tables of the discussion board, the speaker queue and quick polls of a session."""

from __future__ import annotations

from ..extensions import db
from ..timeutil import utcnow


class Board(db.Model):
    """How a session's discussion is run; one row, created the first time the board is used."""

    __tablename__ = "boards"

    session_id = db.Column(db.Integer, db.ForeignKey("exchange_sessions.id", ondelete="CASCADE"), primary_key=True)
    premoderation = db.Column(db.Boolean, nullable=False, default=False)
    locked = db.Column(db.Boolean, nullable=False, default=False)
    slow_mode_seconds = db.Column(db.Integer, nullable=False, default=0)
    non_attribution = db.Column(db.Boolean, nullable=False, default=False)
    highlighted_id = db.Column(db.Integer, nullable=True)  # the contribution being discussed
    # The speaker queue's fair floor.
    alternate_sides = db.Column(db.Boolean, nullable=False, default=False)
    new_speakers_first = db.Column(db.Boolean, nullable=False, default=False)
    speaker_seconds = db.Column(db.Integer, nullable=True)  # time limit per speaker; None: no limit


class Contribution(db.Model):
    """A post on the board, to an agenda item or the general thread, or a reply to another post."""

    __tablename__ = "contributions"

    PENDING, APPROVED, REJECTED, WITHDRAWN = "pending", "approved", "rejected", "withdrawn"

    id = db.Column(db.Integer, primary_key=True)
    session_id = db.Column(
        db.Integer, db.ForeignKey("exchange_sessions.id", ondelete="CASCADE"), nullable=False, index=True
    )
    agenda_item_id = db.Column(db.Integer, db.ForeignKey("agenda_items.id", ondelete="SET NULL"), nullable=True)
    parent_id = db.Column(db.Integer, db.ForeignKey("contributions.id", ondelete="CASCADE"), nullable=True)
    # Who wrote it: "u:<id>" or "g:<id>", with what the board shows, as it was when posted.
    person = db.Column(db.String(20), nullable=False, index=True)
    user_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    guest_id = db.Column(db.Integer, db.ForeignKey("guests.id", ondelete="SET NULL"), nullable=True)
    author_name = db.Column(db.String(80), nullable=False)
    author_side = db.Column(db.String(20), nullable=True)
    author_country = db.Column(db.String(2), nullable=True)
    body = db.Column(db.Text, nullable=False)  # the Markdown the author wrote
    body_html = db.Column(db.Text, nullable=False)  # rendered and sanitised once, when saved
    status = db.Column(db.String(10), nullable=False, default=APPROVED)
    reject_reason = db.Column(db.String(300), nullable=False, default="")
    hidden = db.Column(db.Boolean, nullable=False, default=False)
    pinned = db.Column(db.Boolean, nullable=False, default=False)
    answered = db.Column(db.Boolean, nullable=False, default=False)
    votes = db.Column(db.Integer, nullable=False, default=0)
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    edited_at = db.Column(db.DateTime, nullable=True)

    @property
    def is_guest(self) -> bool:
        return self.person.startswith("g:")


class Vote(db.Model):
    """One person's support for a contribution; the unique constraint makes it one per person."""

    __tablename__ = "contribution_votes"
    __table_args__ = (db.UniqueConstraint("contribution_id", "person"),)

    id = db.Column(db.Integer, primary_key=True)
    contribution_id = db.Column(
        db.Integer, db.ForeignKey("contributions.id", ondelete="CASCADE"), nullable=False, index=True
    )
    person = db.Column(db.String(20), nullable=False)
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)


class Restriction(db.Model):
    """A participant muted (may read, may not post or ask to speak) or removed from a session's room."""

    __tablename__ = "room_restrictions"
    __table_args__ = (db.UniqueConstraint("session_id", "person", "kind"),)

    MUTED, REMOVED = "muted", "removed"

    id = db.Column(db.Integer, primary_key=True)
    session_id = db.Column(
        db.Integer, db.ForeignKey("exchange_sessions.id", ondelete="CASCADE"), nullable=False, index=True
    )
    person = db.Column(db.String(20), nullable=False)
    kind = db.Column(db.String(10), nullable=False)
    created_by = db.Column(db.String(20), nullable=False)
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)


class ModerationEntry(db.Model):
    """The moderation log: who did what to which contribution or person, and why."""

    __tablename__ = "moderation_log"

    id = db.Column(db.Integer, primary_key=True)
    session_id = db.Column(
        db.Integer, db.ForeignKey("exchange_sessions.id", ondelete="CASCADE"), nullable=False, index=True
    )
    actor = db.Column(db.String(20), nullable=False)
    actor_name = db.Column(db.String(80), nullable=False)
    action = db.Column(db.String(30), nullable=False)
    contribution_id = db.Column(db.Integer, db.ForeignKey("contributions.id", ondelete="SET NULL"), nullable=True)
    target = db.Column(db.String(20), nullable=True)  # a person, for mute and remove
    target_name = db.Column(db.String(80), nullable=True)
    detail = db.Column(db.String(300), nullable=False, default="")  # a reason, a number of seconds
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)


class SpeakerTurn(db.Model):
    """A raised hand, then a turn at speaking: the speaker queue and the session's speaking record."""

    __tablename__ = "speaker_turns"
    __table_args__ = (
        # One raised hand (or turn in progress) per person at a time, whichever worker handles it.
        db.Index(
            "uq_speaker_turns_active",
            "session_id",
            "person",
            unique=True,
            sqlite_where=db.text("status IN ('waiting', 'speaking')"),
            postgresql_where=db.text("status IN ('waiting', 'speaking')"),
        ),
    )

    WAITING, SPEAKING, DONE, LOWERED = "waiting", "speaking", "done", "lowered"

    id = db.Column(db.Integer, primary_key=True)
    session_id = db.Column(
        db.Integer, db.ForeignKey("exchange_sessions.id", ondelete="CASCADE"), nullable=False, index=True
    )
    person = db.Column(db.String(20), nullable=False)
    name = db.Column(db.String(80), nullable=False)
    side = db.Column(db.String(20), nullable=True)
    country = db.Column(db.String(2), nullable=True)
    gender = db.Column(db.String(60), nullable=True)  # only where the person chose to give it
    status = db.Column(db.String(10), nullable=False, default=WAITING)
    raised_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    started_at = db.Column(db.DateTime, nullable=True)
    ended_at = db.Column(db.DateTime, nullable=True)
    time_limit = db.Column(db.Integer, nullable=True)  # seconds, copied from the board when the floor is given


class Poll(db.Model):
    """A quick question put to the room: prepared in advance (draft) or on the spot, then opened and closed."""

    __tablename__ = "polls"

    DRAFT, OPEN, CLOSED = "draft", "open", "closed"
    # When participants see the results.
    SHOW_LIVE, SHOW_AFTER_ANSWER, SHOW_AFTER_CLOSE = "live", "after_answer", "after_close"

    id = db.Column(db.Integer, primary_key=True)
    session_id = db.Column(
        db.Integer, db.ForeignKey("exchange_sessions.id", ondelete="CASCADE"), nullable=False, index=True
    )
    agenda_item_id = db.Column(db.Integer, db.ForeignKey("agenda_items.id", ondelete="SET NULL"), nullable=True)
    question = db.Column(db.String(300), nullable=False)
    choices = db.Column(db.JSON, nullable=False, default=list)  # the options' texts, in order
    multiple = db.Column(db.Boolean, nullable=False, default=False)
    anonymous = db.Column(db.Boolean, nullable=False, default=True)
    show_results = db.Column(db.String(15), nullable=False, default=SHOW_AFTER_CLOSE)
    status = db.Column(db.String(10), nullable=False, default=DRAFT)
    created_by = db.Column(db.String(20), nullable=False)
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    opened_at = db.Column(db.DateTime, nullable=True)
    closed_at = db.Column(db.DateTime, nullable=True)


class PollVoter(db.Model):
    """That someone answered a poll (once). In an anonymous poll the key is a keyed hash and person is empty."""

    __tablename__ = "poll_voters"
    __table_args__ = (db.UniqueConstraint("poll_id", "voter_key"),)

    id = db.Column(db.Integer, primary_key=True)
    poll_id = db.Column(db.Integer, db.ForeignKey("polls.id", ondelete="CASCADE"), nullable=False, index=True)
    voter_key = db.Column(db.String(64), nullable=False)
    person = db.Column(db.String(20), nullable=True)
    name = db.Column(db.String(80), nullable=True)
    client_id = db.Column(db.String(64), nullable=True)  # the answer's cid: a retry is recognised, not refused


class PollChoice(db.Model):
    """One option chosen. In an anonymous poll it carries no link to who chose it."""

    __tablename__ = "poll_choices"

    id = db.Column(db.Integer, primary_key=True)
    poll_id = db.Column(db.Integer, db.ForeignKey("polls.id", ondelete="CASCADE"), nullable=False, index=True)
    choice = db.Column(db.Integer, nullable=False)
    voter_id = db.Column(db.Integer, db.ForeignKey("poll_voters.id", ondelete="CASCADE"), nullable=True)
