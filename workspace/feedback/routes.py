from __future__ import annotations

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from .. import permissions
from ..exchanges import services as exchange_services
from ..sessions import services as session_services
from ..timeutil import from_utc, to_utc
from . import bp, services
from .exports import answers_csv
from .forms import CreateForm, SettingsForm, answer_data, answer_form_class, answers_from, question_form_class
from .models import FormState, InvalidTransition, Kind
from .results import across_sessions, summarise


def _locale() -> str:
    return str(get_locale())


def refusals() -> dict[str, str]:
    return {
        "not_open": _("This form is not open yet."),
        "closed": _("This form is closed: answers can no longer be given or changed."),
        "already": _("You have already answered this form."),
    }


# --- building ------------------------------------------------------------------------------------------------


@bp.route("/sessions/<int:session_id>/feedback", methods=["GET", "POST"])
@login_required
def manage(session_id: int):
    """The builder: create the session's form from a template, then its settings and questions."""
    session = session_services.get_session(session_id, need="edit")
    form = services.form_of(session)
    create = CreateForm()
    if form is None and create.validate_on_submit():
        services.create_form(session, create.template.data, create.anonymous.data, True, None)
        flash(_("The feedback form is created. Check its questions, then preview it."), "success")
        return redirect(url_for("feedback.manage", session_id=session.id))
    if form is not None and request.method == "POST":
        flash(_("This session already has a feedback form."), "info")
        return redirect(url_for("feedback.manage", session_id=session.id))
    settings = None
    if form is not None:
        settings = SettingsForm(obj=form)
        if form.closes_at:
            settings.closes_at.data = from_utc(form.closes_at, session.host_timezone).replace(tzinfo=None)
    return render_template(
        "feedback/manage.html",
        session=session,
        form=form,
        create=create,
        settings=settings,
        locked=form is not None and services.has_responders(form),
        locale=_locale(),
        states=FormState,
    )


@bp.route("/sessions/<int:session_id>/feedback/settings", methods=["POST"])
@login_required
def settings(session_id: int):
    form = services.get_form(session_id)
    settings = SettingsForm()
    if not settings.validate_on_submit():
        flash(_("Enter the closing time as a date and a time."), "error")
    else:
        closes_at = settings.closes_at.data
        closes_at = to_utc(closes_at, form.session.host_timezone) if closes_at else None
        try:
            services.update_settings(form, settings.anonymous.data, settings.opens_at_session_end.data, closes_at)
        except services.Locked:
            flash(_("People have answered already: whether the form is anonymous can no longer change."), "error")
        else:
            flash(_("Your changes are saved."), "success")
    return redirect(url_for("feedback.manage", session_id=session_id))


@bp.route("/sessions/<int:session_id>/feedback/state", methods=["POST"])
@login_required
def change_state(session_id: int):
    form = services.get_form(session_id)
    try:
        services.change_state(form, request.form.get("state", ""))
    except (InvalidTransition, KeyError):
        flash(_("This change is not possible now. To reopen a form, first set a later closing time."), "error")
    else:
        flash(_("The form is now: %(state)s.", state=form.state_label), "success")
    return redirect(url_for("feedback.manage", session_id=session_id))


def _question_fields(qform, existing=None) -> dict:
    return {
        "kind": qform.kind.data,
        "required": qform.required.data,
        "texts": qform.texts,
        "options": qform.options(existing),
    }


@bp.route("/sessions/<int:session_id>/feedback/questions/new", methods=["GET", "POST"])
@login_required
def add_question(session_id: int):
    form = services.get_form(session_id)
    qform = question_form_class()()
    if qform.validate_on_submit():
        try:
            services.add_question(form, **_question_fields(qform))
        except services.Locked:
            flash(_("People have answered already: the questions can no longer change."), "error")
        else:
            flash(_("The question is added."), "success")
        return redirect(url_for("feedback.manage", session_id=session_id))
    return render_template("feedback/question.html", qform=qform, session=form.session, question=None)


@bp.route("/feedback/questions/<int:question_id>/edit", methods=["GET", "POST"])
@login_required
def edit_question(question_id: int):
    question = services.get_question(question_id)
    qform = question_form_class()()
    if request.method == "GET":
        qform.fill_from(question)
    if qform.validate_on_submit():
        try:
            services.update_question(question, **_question_fields(qform, question.options))
        except services.Locked:
            flash(_("People have answered already: the questions can no longer change."), "error")
        else:
            flash(_("Your changes are saved."), "success")
        return redirect(url_for("feedback.manage", session_id=question.form.session_id))
    return render_template("feedback/question.html", qform=qform, session=question.form.session, question=question)


@bp.route("/feedback/questions/<int:question_id>/delete", methods=["POST"])
@login_required
def delete_question(question_id: int):
    question = services.get_question(question_id)
    session_id = question.form.session_id
    try:
        services.delete_question(question)
    except services.Locked:
        flash(_("People have answered already: the questions can no longer change."), "error")
    else:
        flash(_("The question is removed."), "success")
    return redirect(url_for("feedback.manage", session_id=session_id))


@bp.route("/feedback/questions/<int:question_id>/move", methods=["POST"])
@login_required
def move_question(question_id: int):
    question = services.get_question(question_id)
    services.move_question(question, -1 if request.form.get("direction") == "up" else 1)
    return redirect(url_for("feedback.manage", session_id=question.form.session_id) + f"#question-{question.id}")


@bp.route("/sessions/<int:session_id>/feedback/preview")
@login_required
def preview(session_id: int):
    """The form as respondents see it, in the viewer's language; it cannot be submitted."""
    form = services.get_form(session_id)
    answer_form = answer_form_class(form.questions, _locale())(formdata=None)
    return render_template(
        "feedback/answer.html", form=form, session=form.session, answer_form=answer_form, preview=True, state=None
    )


# --- answering -----------------------------------------------------------------------------------------------


@bp.route("/sessions/<int:session_id>/feedback/answer", methods=["GET", "POST"])
def answer(session_id: int):
    session = session_services.get_session(session_id)
    form = services.form_of(session)
    who = services.current_respondent(session)
    if form is None:
        abort(404)
    if who is None:
        abort(403)
    state = services.answer_state(form, who)
    saving = request.form.get("action") == "save"
    answer_form = answer_form_class(form.questions, _locale(), enforce_required=not saving)()
    refusal = None
    if request.method == "GET":
        stored = state.response.answers if state.response else state.draft
        if stored:
            answer_form.process(data=answer_data(stored, form.questions))
    elif answer_form.validate_on_submit():
        answers = answers_from(answer_form, form.questions)
        try:
            if saving and not state.response:
                services.save_draft(form, who, answers)
            else:
                services.submit(form, who, answers)
        except services.Refused as refused:
            refusal = refusals()[refused.code]
        else:
            if saving and not state.response:
                flash(_("Your answers are saved. You can come back and finish later."), "success")
            else:
                flash(_("Thank you: your answers are recorded."), "success")
            return redirect(url_for("feedback.answer", session_id=session.id))
    if refusal is None and request.method == "GET" and not form.is_open():
        refusal = refusals()["closed" if form.current_state() == FormState.CLOSED else "not_open"]
    elif refusal is None and request.method == "GET" and state.submitted and state.response is None:
        refusal = refusals()["already"]
    return render_template(
        "feedback/answer.html",
        form=form,
        session=session,
        answer_form=answer_form,
        preview=False,
        state=state,
        refusal=refusal,
    )


# --- results -------------------------------------------------------------------------------------------------


@bp.route("/sessions/<int:session_id>/feedback/results")
@login_required
def results(session_id: int):
    form = services.get_form(session_id)
    return render_template(
        "feedback/results.html", form=form, session=form.session, result=summarise(form, _locale()), kinds=Kind
    )


@bp.route("/sessions/<int:session_id>/feedback/answers.csv")
@login_required
def export(session_id: int):
    form = services.get_form(session_id)
    return Response(
        answers_csv(form, _locale()),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="feedback-session-{session_id}.csv"'},
    )


@bp.route("/exchanges/<int:exchange_id>/feedback")
@login_required
def exchange_results(exchange_id: int):
    """Every session's results side by side: what the wrap-up phase starts from."""
    exchange = exchange_services.get_exchange(exchange_id, need="plan")
    sessions = session_services.sessions_of_exchange(exchange, current_user)
    summaries, rows = across_sessions(sessions, _locale())
    return render_template(
        "feedback/exchange.html",
        exchange=exchange,
        summaries=summaries,
        rows=rows,
        can_manage=permissions.can_see_exchange_feedback(current_user, exchange),
    )
