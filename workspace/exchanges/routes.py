from __future__ import annotations

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required

from .. import permissions
from ..sessions import services as session_services
from ..sessions.models import Phase
from . import bp, services
from .forms import ExchangeForm, InviteForm, MemberForm
from .models import Role, Side


def _exchange_fields(form: ExchangeForm) -> dict:
    return {
        "title": form.title.data.strip(),
        "goal": (form.goal.data or "").strip(),
        "seeking_country": form.seeking_country.data,
        "providing_countries": form.providing_countries.data,
        "working_languages": form.working_languages.data,
    }


@bp.route("/exchanges/new", methods=["GET", "POST"])
@login_required
def create():
    form = ExchangeForm()
    if form.validate_on_submit():
        exchange = services.create_exchange(current_user, **_exchange_fields(form))
        flash(_("The exchange is created. Invite the teams next."), "success")
        return redirect(url_for("exchanges.detail", exchange_id=exchange.id))
    return render_template("exchanges/form.html", form=form, exchange=None)


@bp.route("/exchanges/<int:exchange_id>")
@login_required
def detail(exchange_id: int):
    exchange = services.get_exchange(exchange_id)
    sessions = session_services.sessions_of_exchange(exchange, current_user)
    return render_template(
        "exchanges/detail.html",
        exchange=exchange,
        sessions=sessions,
        can_plan=permissions.can_plan_sessions(current_user, exchange),
        can_manage=permissions.can_manage_exchange(current_user, exchange),
        membership=permissions.membership(current_user, exchange),
        phases=Phase.LABELS.items(),
    )


@bp.route("/exchanges/<int:exchange_id>/edit", methods=["GET", "POST"])
@login_required
def edit(exchange_id: int):
    exchange = services.get_exchange(exchange_id, need="manage")
    form = ExchangeForm(obj=exchange)
    if form.validate_on_submit():
        services.update_exchange(exchange, **_exchange_fields(form))
        flash(_("Your changes are saved."), "success")
        return redirect(url_for("exchanges.detail", exchange_id=exchange.id))
    return render_template("exchanges/form.html", form=form, exchange=exchange)


@bp.route("/exchanges/<int:exchange_id>/members", methods=["GET", "POST"])
@login_required
def members(exchange_id: int):
    exchange = services.get_exchange(exchange_id)
    can_manage = permissions.can_manage_exchange(current_user, exchange)
    form = InviteForm()
    if request.method == "POST":
        if not can_manage:
            abort(403)
        if form.validate_on_submit():
            sent = services.invite(exchange, current_user, form.addresses, form.role.data, form.side.data)
            flash(ngettext("%(num)d invitation sent.", "%(num)d invitations sent.", sent), "success")
            failed = len(form.addresses) - sent
            if failed:
                flash(_("Some invitations could not be emailed. Try again later."), "error")
            return redirect(url_for("exchanges.members", exchange_id=exchange.id))
    return render_template(
        "exchanges/members.html",
        exchange=exchange,
        form=form,
        can_manage=can_manage,
        balance=services.team_balance(exchange),
        invitations=services.pending_invitations(exchange) if can_manage else [],
        roles=Role.LABELS,
        sides=Side.LABELS,
    )


@bp.route("/exchanges/<int:exchange_id>/members/<int:membership_id>", methods=["POST"])
@login_required
def update_member(exchange_id: int, membership_id: int):
    exchange = services.get_exchange(exchange_id, need="manage")
    member = services.get_membership(exchange, membership_id)
    form = MemberForm()
    if not form.validate_on_submit():
        flash(_("Choose a role and a side from the lists."), "error")
    else:
        try:
            services.change_member(member, form.role.data, form.side.data)
        except services.LastCoordinator:
            flash(_("An exchange needs at least one coordinator."), "error")
        else:
            flash(_("Your changes are saved."), "success")
    return redirect(url_for("exchanges.members", exchange_id=exchange.id))


@bp.route("/exchanges/<int:exchange_id>/members/<int:membership_id>/remove", methods=["POST"])
@login_required
def remove_member(exchange_id: int, membership_id: int):
    exchange = services.get_exchange(exchange_id, need="manage")
    member = services.get_membership(exchange, membership_id)
    try:
        services.remove_member(member)
    except services.LastCoordinator:
        flash(_("An exchange needs at least one coordinator."), "error")
    else:
        flash(_("%(name)s is no longer a member.", name=member.user.display_name), "success")
    return redirect(url_for("exchanges.members", exchange_id=exchange.id))


@bp.route("/exchanges/<int:exchange_id>/invitations/<int:invitation_id>/revoke", methods=["POST"])
@login_required
def revoke_invitation(exchange_id: int, invitation_id: int):
    exchange = services.get_exchange(exchange_id, need="manage")
    services.revoke_invitation(exchange, invitation_id)
    flash(_("The invitation is withdrawn."), "success")
    return redirect(url_for("exchanges.members", exchange_id=exchange.id))


@bp.route("/invitations/<token>", methods=["GET", "POST"])
def accept_invitation(token: str):
    invitation = services.find_invitation(token)
    if invitation is None:
        return render_template("exchanges/invitation_invalid.html"), 404
    if not current_user.is_authenticated:
        return render_template("exchanges/invitation.html", invitation=invitation, token=token)
    if request.method == "POST":
        outcome = services.accept_invitation(invitation, current_user)
        if outcome == "session":
            flash(_("You are invited to this session."), "success")
            return redirect(url_for("sessions.detail", session_id=invitation.session_id))
        if outcome == "already":
            flash(_("You were already a member of this exchange."), "info")
        else:
            flash(_("Welcome to the exchange."), "success")
        return redirect(url_for("exchanges.detail", exchange_id=invitation.exchange_id))
    return render_template("exchanges/invitation.html", invitation=invitation, token=token)


@bp.route("/exchanges/<int:exchange_id>/calendar")
@login_required
def calendar(exchange_id: int):
    """The member's private feed address, to paste into a calendar application."""
    exchange = services.get_exchange(exchange_id)
    member = permissions.membership(current_user, exchange)
    return render_template("exchanges/calendar.html", exchange=exchange, membership=member)


@bp.route("/calendar/<token>.ics")
def calendar_feed(token: str):
    """Subscribable feed: calendar applications cannot sign in, so the address itself is the key."""
    from ..sessions.calendar import exchange_feed

    member = services.membership_by_feed_token(token)
    if member is None:
        abort(404)
    body = exchange_feed(member.exchange, member.user)
    return Response(body, mimetype="text/calendar", headers={"Cache-Control": "private, max-age=900"})
