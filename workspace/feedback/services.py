"""Feedback forms: building them, their state, and answering once (named or anonymously)."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from flask import abort, current_app
from flask import session as cookie_session
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from .. import permissions
from ..extensions import db
from ..sessions import services as session_services
from ..sessions.models import ExchangeSession, Guest, SessionInvitee, Status
from ..timeutil import utcnow
from ..tokens import hash_token, new_token
from . import templates
from .models import FeedbackForm, FeedbackQuestion, FeedbackResponder, FeedbackResponse, FormState, Kind

MAX_QUESTIONS = 50
EDIT_COOKIE_KEY = "feedback"  # {"<form id>:<person>": token} for anonymous responses, held by their author


class Locked(ValueError):
    """The form already has answers: its questions and its kind can no longer change."""


class Refused(ValueError):
    """An answer that cannot be taken: `code` is not_open, closed or already."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


# --- finding and building forms ------------------------------------------------------------------------------


def form_of(session: ExchangeSession) -> FeedbackForm | None:
    return db.session.execute(db.select(FeedbackForm).filter_by(session_id=session.id)).scalar_one_or_none()


def get_form(session_id: int) -> FeedbackForm:
    """The session's form for its planners: 404/403 as for editing the session, 404 when it has none."""
    session = session_services.get_session(session_id, need="edit")
    form = form_of(session)
    if form is None:
        abort(404)
    return form


def get_question(question_id: int) -> FeedbackQuestion:
    question = db.session.get(FeedbackQuestion, question_id)
    if question is None:
        abort(404)
    session_services.get_session(question.form.session_id, need="edit")
    return question


def create_form(session: ExchangeSession, template: str, anonymous: bool, opens_at_session_end: bool, closes_at):
    form = FeedbackForm(
        session=session,
        template=template if template in templates.TEMPLATES else "",
        anonymous=anonymous,
        opens_at_session_end=opens_at_session_end,
        closes_at=closes_at,
    )
    db.session.add(form)
    for position, fields in enumerate(templates.questions_of(template)):
        form.questions.append(FeedbackQuestion(position=position, **fields))
    if session.status == Status.ENDED and opens_at_session_end:
        form.state = FormState.OPEN  # the session is already over: nothing else would open it
    db.session.commit()
    return form


def has_responders(form: FeedbackForm) -> bool:
    return db.session.execute(db.select(FeedbackResponder.id).filter_by(form_id=form.id).limit(1)).first() is not None


def update_settings(form: FeedbackForm, anonymous: bool, opens_at_session_end: bool, closes_at) -> None:
    """Whether a form is anonymous is promised to respondents: it is fixed once anyone has answered."""
    if anonymous != form.anonymous and has_responders(form):
        raise Locked()
    form.anonymous = anonymous
    form.opens_at_session_end = opens_at_session_end
    form.closes_at = closes_at
    db.session.commit()


def _editable(form: FeedbackForm) -> None:
    if has_responders(form):
        raise Locked()


def add_question(form: FeedbackForm, **fields) -> FeedbackQuestion:
    _editable(form)
    if len(form.questions) >= MAX_QUESTIONS:
        raise Locked()
    question = FeedbackQuestion(position=len(form.questions), **fields)
    form.questions.append(question)
    db.session.commit()
    return question


def update_question(question: FeedbackQuestion, **fields) -> None:
    _editable(question.form)
    for name, value in fields.items():
        setattr(question, name, value)
    db.session.commit()


def delete_question(question: FeedbackQuestion) -> None:
    form = question.form
    _editable(form)
    form.questions.remove(question)
    for position, q in enumerate(form.questions):
        q.position = position
    db.session.commit()


def move_question(question: FeedbackQuestion, offset: int) -> None:
    """Up (-1) or down (+1); order is presentation only, so answers do not lock it."""
    questions = list(question.form.questions)
    index = questions.index(question)
    target = index + offset
    if 0 <= target < len(questions):
        questions.insert(target, questions.pop(index))
        for position, q in enumerate(questions):
            q.position = position
        question.form.questions.sort(key=lambda q: q.position)
        db.session.commit()


def change_state(form: FeedbackForm, target: str) -> None:
    """Open or close by hand; raises models.InvalidTransition for a step the state machine refuses."""
    form.move_to(target)
    db.session.commit()


def on_session_ended(session: ExchangeSession) -> None:
    """Called by live.end inside its transaction: a form set to open at the session's end opens now."""
    form = form_of(session)
    if form is None or not form.opens_at_session_end or form.current_state() != FormState.NOT_OPEN:
        return
    if form.can_move_to(FormState.OPEN):  # not when its closing time has already passed
        form.move_to(FormState.OPEN)


# --- who answers ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Respondent:
    person: str  # "u:<user id>" or "g:<guest id>"
    user_id: int | None = None
    guest_id: int | None = None


def respondent_for(session: ExchangeSession, user, guest: Guest | None) -> Respondent | None:
    """The current person if they may answer this session's form: members by account, guests by cookie."""
    if not permissions.can_answer_feedback(user, guest, session):
        return None
    if permissions.is_session_participant(user, session):
        return Respondent(f"u:{user.id}", user_id=user.id)
    return Respondent(f"g:{guest.id}", guest_id=guest.id)


def current_respondent(session: ExchangeSession) -> Respondent | None:
    guest = session_services.current_guest(session) if session.is_open else None
    return respondent_for(session, current_user, guest)


def respondent_key(form: FeedbackForm, person: str) -> str:
    """Keyed, so the table of who responded cannot be matched to people without the app's secret."""
    secret = current_app.config["SECRET_KEY"].encode()
    return hmac.new(secret, f"feedback:{form.id}:{person}".encode(), hashlib.sha256).hexdigest()


def _responder(form: FeedbackForm, who: Respondent) -> FeedbackResponder | None:
    return db.session.execute(
        db.select(FeedbackResponder).filter_by(form_id=form.id, key=respondent_key(form, who.person))
    ).scalar_one_or_none()


def own_response(form: FeedbackForm, who: Respondent) -> FeedbackResponse | None:
    """Named: by person. Anonymous: only through the token in the author's own cookie."""
    if form.anonymous:
        token = cookie_session.get(EDIT_COOKIE_KEY, {}).get(_cookie_slot(form, who))
        if not token or len(token) > 100:
            return None
        return db.session.execute(
            db.select(FeedbackResponse).filter_by(form_id=form.id, edit_token_hash=hash_token(token))
        ).scalar_one_or_none()
    column = FeedbackResponse.user_id if who.user_id else FeedbackResponse.guest_id
    return db.session.execute(
        db.select(FeedbackResponse).filter(FeedbackResponse.form_id == form.id, column == (who.user_id or who.guest_id))
    ).scalar_one_or_none()


def _cookie_slot(form: FeedbackForm, who: Respondent) -> str:
    """Per form and person, so on a shared computer the next person cannot reach an earlier answer."""
    return f"{form.id}:{who.person}"


@dataclass
class AnswerState:
    """What the respondent has: a draft, a submitted response they can edit, or a submission they cannot reach."""

    draft: dict | None = None
    response: FeedbackResponse | None = None
    submitted: bool = False


def answer_state(form: FeedbackForm, who: Respondent) -> AnswerState:
    responder = _responder(form, who)
    if responder is None:
        return AnswerState()
    if not responder.submitted:
        return AnswerState(draft=responder.draft or {})
    return AnswerState(response=own_response(form, who), submitted=True)


def clean_answers(form: FeedbackForm, answers: dict) -> dict:
    """Only this form's questions, only values of the right shape; empty answers left out."""
    clean = {}
    for q in form.questions:
        value = answers.get(str(q.id), answers.get(q.id))
        if value in (None, "", []):
            continue
        if q.kind in Kind.RANGES:
            low, high = Kind.RANGES[q.kind]
            if not isinstance(value, int) or not low <= value <= high:
                raise ValueError(q.id)
        elif q.kind in Kind.CHOICES:
            ids = {o["id"] for o in q.options}
            values = value if q.kind == Kind.MULTIPLE else [value]
            if not isinstance(values, list) or not set(values) <= ids:
                raise ValueError(q.id)
        elif not isinstance(value, str) or len(value) > Kind.MAX_LENGTH[q.kind]:
            raise ValueError(q.id)
        clean[str(q.id)] = value
    return clean


def save_draft(form: FeedbackForm, who: Respondent, answers: dict) -> None:
    """Keep a partly filled form to come back to; only before the first submission."""
    _require_open(form)
    answers = clean_answers(form, answers)
    responder = _responder(form, who)
    if responder is None:
        responder = FeedbackResponder(form_id=form.id, key=respondent_key(form, who.person), submitted=False)
        db.session.add(responder)
    elif responder.submitted:
        raise Refused("already")
    responder.draft = answers
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise Refused("already") from None


def submit(form: FeedbackForm, who: Respondent, answers: dict) -> FeedbackResponse:
    """Submit once, or edit one's own submitted response until the form closes."""
    _require_open(form)
    answers = clean_answers(form, answers)
    existing = own_response(form, who)
    if existing is not None:
        existing.answers = answers
        existing.submitted_on = utcnow().date()
        db.session.commit()
        return existing
    if not _claim(form, who):
        raise Refused("already")
    response = FeedbackResponse(form_id=form.id, answers=answers, submitted_on=utcnow().date())
    if form.anonymous:
        token = new_token()
        response.edit_token_hash = hash_token(token)
        tokens = dict(cookie_session.get(EDIT_COOKIE_KEY, {}))
        tokens[_cookie_slot(form, who)] = token
        cookie_session[EDIT_COOKIE_KEY] = tokens
        cookie_session.permanent = True
    else:
        response.user_id, response.guest_id = who.user_id, who.guest_id
    db.session.add(response)
    db.session.commit()
    return response


def _claim(form: FeedbackForm, who: Respondent) -> bool:
    """Mark the person as having responded, at most once even with two submissions racing; drop the draft."""
    key = respondent_key(form, who.person)
    table = FeedbackResponder.__table__
    claimed = db.session.execute(
        table.update()
        .where(table.c.form_id == form.id, table.c.key == key, table.c.submitted.is_(False))
        .values(submitted=True, draft=None)
    ).rowcount
    if claimed:
        return True
    if _responder(form, who) is not None:
        return False
    db.session.add(FeedbackResponder(form_id=form.id, key=key, submitted=True, draft=None))
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        return False
    return True


def _require_open(form: FeedbackForm) -> None:
    state = form.current_state()
    if state != FormState.OPEN:
        raise Refused("closed" if state == FormState.CLOSED else "not_open")


# --- lists ---------------------------------------------------------------------------------------------------


def open_forms_for(user) -> list[FeedbackForm]:
    """Open forms of the sessions the user took part in and has not answered yet: the dashboard's list."""
    from ..exchanges.models import Membership

    member_of = db.select(Membership.exchange_id).filter(Membership.user_id == user.id)
    invited_to = db.select(SessionInvitee.session_id).filter(SessionInvitee.user_id == user.id)
    rows = db.session.execute(
        db.select(FeedbackForm)
        .join(ExchangeSession)
        .filter(FeedbackForm.state == FormState.OPEN, ExchangeSession.status != Status.DRAFT)
        .filter(db.or_(ExchangeSession.exchange_id.in_(member_of), ExchangeSession.id.in_(invited_to)))
        .order_by(ExchangeSession.starts_at.desc())
        .limit(50)
    ).scalars()
    person = Respondent(f"u:{user.id}", user_id=user.id)
    return [
        f
        for f in rows
        if f.is_open() and permissions.can_view_session(user, f.session) and not answer_state(f, person).submitted
    ]


def participant_count(session: ExchangeSession) -> int:
    """Who could answer: the exchange's members, people invited to the session, its admitted guests."""
    from ..exchanges.models import Membership

    members = db.select(Membership.user_id).filter(Membership.exchange_id == session.exchange_id)
    count = len(session.exchange.memberships)
    count += db.session.execute(
        db.select(db.func.count(SessionInvitee.id)).filter(
            SessionInvitee.session_id == session.id, SessionInvitee.user_id.not_in(members)
        )
    ).scalar_one()
    if session.is_open:
        count += db.session.execute(
            db.select(db.func.count(Guest.id)).filter_by(session_id=session.id, status=Guest.ADMITTED)
        ).scalar_one()
    return count


def responses_of(form: FeedbackForm) -> list[FeedbackResponse]:
    """Ordered by their random ids: an order that says nothing about who answered when."""
    query = db.select(FeedbackResponse).filter_by(form_id=form.id).order_by(FeedbackResponse.id)
    return list(db.session.execute(query).scalars())


def offer(session: ExchangeSession, user, guest: Guest | None) -> bool:
    """Whether session pages should invite this person to answer: a form that is or will be open, theirs to fill."""
    form = form_of(session)
    if form is None or form.current_state() == FormState.CLOSED or respondent_for(session, user, guest) is None:
        return False
    return form.is_open() or (form.opens_at_session_end and session.status != Status.ENDED)
