"""Feedback forms of a session: questions, who has responded, and the responses themselves.

Anonymous forms keep "who has responded" (a keyed hash) and "what was answered" in separate tables
with nothing that joins them; see docs/architecture.md, "Feedback".
"""

from __future__ import annotations

import uuid
from datetime import datetime

from flask_babel import lazy_gettext as _l

from ..extensions import db
from ..timeutil import utcnow


class Kind:
    RATING = "rating"  # 1 to 5
    SCALE = "scale"  # 0 to 10
    SINGLE = "single"
    MULTIPLE = "multiple"
    SHORT = "short"
    LONG = "long"
    LABELS = {
        RATING: _l("Rating (1 to 5)"),
        SCALE: _l("Scale (0 to 10)"),
        SINGLE: _l("Single choice"),
        MULTIPLE: _l("Multiple choice"),
        SHORT: _l("Short text"),
        LONG: _l("Long text"),
    }
    RANGES = {RATING: (1, 5), SCALE: (0, 10)}
    CHOICES = {SINGLE, MULTIPLE}
    TEXTS = {SHORT, LONG}
    MAX_LENGTH = {SHORT: 300, LONG: 5000}


class FormState:
    NOT_OPEN = "not_open"
    OPEN = "open"
    CLOSED = "closed"
    LABELS = {NOT_OPEN: _l("Not open yet"), OPEN: _l("Open"), CLOSED: _l("Closed")}
    TRANSITIONS = {NOT_OPEN: {OPEN}, OPEN: {CLOSED}, CLOSED: {OPEN}}


class InvalidTransition(ValueError):
    pass


class FeedbackForm(db.Model):
    """One evaluation questionnaire per session; its state moves not open -> open -> closed."""

    __tablename__ = "feedback_forms"

    id = db.Column(db.Integer, primary_key=True)
    session_id = db.Column(
        db.Integer, db.ForeignKey("exchange_sessions.id", ondelete="CASCADE"), nullable=False, unique=True
    )
    template = db.Column(db.String(30), nullable=False, default="")
    anonymous = db.Column(db.Boolean, nullable=False, default=True)
    opens_at_session_end = db.Column(db.Boolean, nullable=False, default=True)
    state = db.Column(db.String(10), nullable=False, default=FormState.NOT_OPEN)
    closes_at = db.Column(db.DateTime, nullable=True)  # naive UTC; None: open until closed by hand
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)

    session = db.relationship(
        "ExchangeSession", backref=db.backref("feedback_form", uselist=False, passive_deletes=True)
    )
    questions = db.relationship(
        "FeedbackQuestion",
        back_populates="form",
        order_by="FeedbackQuestion.position",
        cascade="all, delete-orphan",
        lazy="selectin",
    )

    def current_state(self, now: datetime | None = None) -> str:
        """The stored state, except that an open form whose closing time has passed is closed."""
        if self.state == FormState.OPEN and self.closes_at is not None and (now or utcnow()) >= self.closes_at:
            return FormState.CLOSED
        return self.state

    def is_open(self, now: datetime | None = None) -> bool:
        return self.current_state(now) == FormState.OPEN

    def can_move_to(self, state: str, now: datetime | None = None) -> bool:
        now = now or utcnow()
        if state == FormState.OPEN and self.closes_at is not None and now >= self.closes_at:
            return False  # reopening needs a later closing time first
        return state in FormState.TRANSITIONS[self.current_state(now)]

    def move_to(self, state: str, now: datetime | None = None) -> None:
        """The only way a form's state changes; refuses anything but the allowed steps."""
        if not self.can_move_to(state, now):
            raise InvalidTransition(f"{self.current_state(now)} -> {state}")
        self.state = state

    @property
    def state_label(self):
        return FormState.LABELS[self.current_state()]


class FeedbackQuestion(db.Model):
    """A question with its text in several languages; choice questions carry options with stable ids."""

    __tablename__ = "feedback_questions"

    id = db.Column(db.Integer, primary_key=True)
    form_id = db.Column(db.Integer, db.ForeignKey("feedback_forms.id", ondelete="CASCADE"), nullable=False, index=True)
    position = db.Column(db.Integer, nullable=False, default=0)
    kind = db.Column(db.String(10), nullable=False)
    required = db.Column(db.Boolean, nullable=False, default=False)
    key = db.Column(db.String(30), nullable=False, default="")  # template questions: lines results up across sessions
    texts = db.Column(db.JSON, nullable=False, default=dict)  # {"en": "...", "fr": "..."}
    options = db.Column(db.JSON, nullable=False, default=list)  # [{"id": "o1", "texts": {"en": "..."}}]

    form = db.relationship(FeedbackForm, back_populates="questions")

    def text_for(self, locale: str) -> str:
        """The respondent's language when the question has it, else English, else any."""
        return _pick(self.texts, locale)

    def options_for(self, locale: str) -> list[tuple[str, str]]:
        return [(o["id"], _pick(o["texts"], locale)) for o in self.options]

    @property
    def kind_label(self):
        return Kind.LABELS[self.kind]


def _pick(texts: dict, locale: str) -> str:
    return texts.get(locale) or texts.get("en") or next((t for t in texts.values() if t), "")


class FeedbackResponder(db.Model):
    """That someone has responded (or keeps a draft): a keyed hash of who, never the answers' row id.

    For anonymous forms the draft lives here until it is submitted, then it is deleted.
    """

    __tablename__ = "feedback_responders"
    __table_args__ = (db.UniqueConstraint("form_id", "key"),)

    id = db.Column(db.Integer, primary_key=True)
    form_id = db.Column(db.Integer, db.ForeignKey("feedback_forms.id", ondelete="CASCADE"), nullable=False)
    key = db.Column(db.String(64), nullable=False)  # HMAC(SECRET_KEY, form id + person)
    submitted = db.Column(db.Boolean, nullable=False, default=False)
    draft = db.Column(db.JSON, nullable=True)


def new_response_id() -> str:
    """Random, so the row's id says nothing about when or in which order it was written."""
    return uuid.uuid4().hex


class FeedbackResponse(db.Model):
    """Submitted answers. Anonymous: no person, only the date, and the hash of a token the respondent keeps."""

    __tablename__ = "feedback_responses"

    id = db.Column(db.String(32), primary_key=True, default=new_response_id)
    form_id = db.Column(db.Integer, db.ForeignKey("feedback_forms.id", ondelete="CASCADE"), nullable=False, index=True)
    user_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="SET NULL"), nullable=True, index=True)
    guest_id = db.Column(db.Integer, db.ForeignKey("guests.id", ondelete="SET NULL"), nullable=True, index=True)
    edit_token_hash = db.Column(db.String(64), nullable=True, unique=True)
    answers = db.Column(db.JSON, nullable=False, default=dict)  # {"<question id>": value}
    submitted_on = db.Column(db.Date, nullable=False)

    form = db.relationship(FeedbackForm)
    user = db.relationship("User")
    guest = db.relationship("Guest")

    @property
    def respondent_name(self) -> str:
        if self.user is not None:
            return self.user.display_name
        return self.guest.display_name if self.guest is not None else ""
