from __future__ import annotations

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required

from .. import permissions
from ..exchanges import services as exchange_services
from ..exchanges.models import Role, Side
from ..forms_common import country_name
from ..i18n import select_timezone
from ..realtime.protocol import Refused, messages
from ..timeutil import from_utc, to_utc
from . import bp, services
from .calendar import session_ics
from .forms import GuestForm, JoinCodeForm, SessionForm, SessionInviteForm
from .models import Guest, GuestPolicy, InvalidTransition, Status


def _session_fields(form: SessionForm) -> dict:
    return {
        "title": form.title.data.strip(),
        "method": form.method.data,
        "phase": form.phase.data,
        "mode": form.mode.data,
        "starts_at": to_utc(form.starts_at.data, form.host_timezone.data),
        "host_timezone": form.host_timezone.data,
        "duration_minutes": form.duration_minutes.data,
        "online_url": (form.online_url.data or "").strip(),
        "venue": (form.venue.data or "").strip(),
        "working_languages": form.working_languages.data,
        "expected_outcomes": (form.expected_outcomes.data or "").strip(),
        "guest_policy": form.guest_policy.data,
        "capacity": form.capacity.data,
    }


@bp.route("/exchanges/<int:exchange_id>/sessions/new", methods=["GET", "POST"])
@login_required
def create(exchange_id: int):
    exchange = exchange_services.get_exchange(exchange_id, need="plan")
    form = SessionForm()
    if request.method == "GET":
        form.host_timezone.data = select_timezone()
        form.working_languages.data = list(exchange.working_languages)
    if form.validate_on_submit():
        session = services.create_session(exchange, **_session_fields(form))
        flash(_("The session is saved as a draft. Add its agenda, then publish it."), "success")
        return redirect(url_for("sessions.detail", session_id=session.id))
    return render_template("sessions/form.html", form=form, exchange=exchange, session=None)


@bp.route("/sessions/<int:session_id>")
def detail(session_id: int):
    from ..feedback.services import offer

    session = services.get_session(session_id)
    guest = services.current_guest(session) if session.is_open else None
    return render_template(
        "sessions/detail.html",
        session=session,
        timeline=services.agenda_timeline(session),
        can_edit=permissions.can_edit_session(current_user, session),
        guest=guest,
        feedback_offered=session.status == Status.ENDED and offer(session, current_user, guest),
        is_member=permissions.can_view_exchange(current_user, session.exchange),
        statuses=Status,
    )


@bp.route("/sessions/<int:session_id>/edit", methods=["GET", "POST"])
@login_required
def edit(session_id: int):
    session = services.get_session(session_id, need="edit")
    form = SessionForm(obj=session)
    if request.method == "GET":
        form.starts_at.data = from_utc(session.starts_at, session.host_timezone).replace(tzinfo=None)
    if form.validate_on_submit():
        services.update_session(session, **_session_fields(form))
        flash(_("Your changes are saved."), "success")
        return redirect(url_for("sessions.detail", session_id=session.id))
    return render_template("sessions/form.html", form=form, exchange=session.exchange, session=session)


@bp.route("/sessions/<int:session_id>/status", methods=["POST"])
@login_required
def change_status(session_id: int):
    session = services.get_session(session_id, need="edit")
    target = request.form.get("status", "")
    try:
        services.change_status(session, target, actor=f"u:{current_user.id}")
    except InvalidTransition:
        flash(_("This change of status is not possible now."), "error")
    else:
        flash(_("The session is now: %(status)s.", status=session.status_label), "success")
    return redirect(url_for("sessions.detail", session_id=session.id))


@bp.route("/sessions/<int:session_id>/delete", methods=["POST"])
@login_required
def delete(session_id: int):
    session = services.get_session(session_id, need="edit")
    exchange_id = session.exchange_id
    if not services.delete_session(session):
        flash(_("Only draft sessions can be deleted."), "error")
        return redirect(url_for("sessions.detail", session_id=session.id))
    flash(_("The draft session is deleted."), "success")
    return redirect(url_for("exchanges.detail", exchange_id=exchange_id))


@bp.route("/sessions/<int:session_id>/calendar.ics")
def calendar(session_id: int):
    session = services.get_session(session_id)
    return Response(
        session_ics(session),
        mimetype="text/calendar",
        headers={"Content-Disposition": f'attachment; filename="session-{session.id}.ics"'},
    )


@bp.route("/sessions/<int:session_id>/invite", methods=["GET", "POST"])
@login_required
def invite(session_id: int):
    """Let someone from outside the exchange into this one session."""
    session = services.get_session(session_id, need="edit")
    form = SessionInviteForm()
    if form.validate_on_submit():
        sent = exchange_services.invite(
            session.exchange, current_user, form.addresses, "participant", "seeking", session=session
        )
        flash(ngettext("%(num)d invitation sent.", "%(num)d invitations sent.", sent), "success")
        if sent < len(form.addresses):
            flash(_("Some invitations could not be emailed. Try again later."), "error")
        return redirect(url_for("sessions.detail", session_id=session.id))
    return render_template("sessions/invite.html", form=form, session=session)


@bp.route("/join", methods=["GET", "POST"])
def join():
    form = JoinCodeForm()
    if form.validate_on_submit():
        session = services.find_by_join_code(form.code.data)
        if session is not None:
            return redirect(url_for("sessions.join_session", code=session.join_code))
        form.code.errors.append(_("No open session has this code. Check it and try again."))
        return render_template("sessions/join.html", form=form), 404
    return render_template("sessions/join.html", form=form)


@bp.route("/join/<code>", methods=["GET", "POST"])
def join_session(code: str):
    session = services.find_by_join_code(code)
    if session is None:
        abort(404)
    guest = services.current_guest(session)
    if guest is not None and guest.status == Guest.REMOVED:
        # Same browser, new name: still removed.
        flash(_("A moderator has removed you from this session."), "error")
        return redirect(url_for("sessions.detail", session_id=session.id))
    if permissions.is_session_participant(current_user, session) or guest is not None:
        return redirect(url_for("sessions.live", session_id=session.id))
    form = GuestForm()
    if current_user.is_authenticated and request.method == "GET":
        form.display_name.data = current_user.display_name
    if form.validate_on_submit():
        try:
            guest = services.join_as_guest(session, form.display_name.data)
        except Refused as refused:
            form.display_name.errors.append(messages()[refused.code])
        else:
            if guest.status == guest.WAITING:
                return redirect(url_for("sessions.live", session_id=session.id))
            flash(_("Welcome, %(name)s. You have joined as a guest.", name=form.display_name.data), "success")
            return redirect(url_for("sessions.live", session_id=session.id))
    return render_template("sessions/join_session.html", form=form, session=session)


@bp.route("/sessions/<int:session_id>/leave", methods=["POST"])
def leave(session_id: int):
    session = services.get_session(session_id)
    services.forget_guest(session)
    flash(_("You have left the session."), "info")
    return redirect(url_for("home.index"))


@bp.route("/sessions/<int:session_id>/live")
def live(session_id: int):
    """The live room: presence, the agenda as it runs, the countdown. Open sessions need a name first."""
    session = services.get_session(session_id)
    participant = permissions.is_session_participant(current_user, session)
    guest = services.current_guest(session) if session.is_open and not participant else None
    if (guest is not None and guest.status == Guest.REMOVED) or (
        participant and permissions.removed_from_room(f"u:{current_user.id}", session)
    ):
        flash(_("A moderator has removed you from this session."), "error")
        return redirect(url_for("sessions.detail", session_id=session.id))
    if guest is not None and guest.status == Guest.REJECTED:
        services.forget_guest(session)
        flash(_("A moderator has turned you away from this session."), "error")
        return redirect(url_for("sessions.detail", session_id=session.id))
    if not participant and guest is None:
        if permissions.can_join_as_guest(session):
            return redirect(url_for("sessions.join_session", code=session.join_code))
        return redirect(url_for("sessions.detail", session_id=session.id))
    from ..feedback.services import offer

    can_moderate = permissions.can_moderate(current_user, session)
    exchange = session.exchange
    countries = [exchange.seeking_country, *(exchange.providing_countries or [])]
    return render_template(
        "sessions/live.html",
        session=session,
        guest=guest,
        feedback_offered=offer(session, current_user, guest),  # shown with "the session has ended"
        can_moderate=can_moderate,
        # Labels the page's script needs for codes that arrive over the socket.
        labels={
            "status": Status.LABELS,
            "role": Role.LABELS,
            "side": Side.LABELS,
            "refused": messages(),
            "country": {code: country_name(code) for code in countries if code},
        },
        policies=GuestPolicy.LABELS,
        board_links=_board_links(session) if can_moderate else {},
    )


def _board_links(session) -> dict[str, str]:
    """The board's moderation log and report, for moderators."""
    return {name: url_for(f"board.{name}", session_id=session.id) for name in ("moderation_log", "report")}
