"""Exchanges, their members and invitations."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from flask import abort, current_app, url_for
from flask_login import current_user

from .. import permissions
from ..auth.models import User
from ..extensions import db
from ..mail import send_email
from ..timeutil import utcnow
from ..tokens import hash_token, new_token
from .models import Exchange, Invitation, Membership, Role


def get_exchange(exchange_id: int, need: str = "view") -> Exchange:
    """The exchange if the current user may `need` it; 404 for outsiders, 403 for members lacking the role."""
    exchange = db.session.get(Exchange, exchange_id)
    if exchange is None or not permissions.can_view_exchange(current_user, exchange):
        abort(404)
    checks = {
        "view": permissions.can_view_exchange,
        "plan": permissions.can_plan_sessions,
        "manage": permissions.can_manage_exchange,
    }
    if not checks[need](current_user, exchange):
        abort(403)
    return exchange


def exchanges_of(user: User) -> list[Exchange]:
    return list(
        db.session.execute(
            db.select(Exchange)
            .join(Membership)
            .filter(Membership.user_id == user.id)
            .order_by(Exchange.created_at.desc())
        ).scalars()
    )


def create_exchange(creator: User, **fields) -> Exchange:
    """The creator becomes the exchange's first coordinator."""
    exchange = Exchange(created_by_id=creator.id, **fields)
    db.session.add(exchange)
    db.session.add(Membership(exchange=exchange, user_id=creator.id, role=Role.COORDINATOR, side="facilitator"))
    db.session.commit()
    return exchange


def update_exchange(exchange: Exchange, **fields) -> None:
    for name, value in fields.items():
        setattr(exchange, name, value)
    db.session.commit()


def invite(exchange: Exchange, inviter: User, emails: list[str], role: str, side: str, session=None) -> int:
    """Create one single-use invitation per address and email its link; returns how many were sent."""
    days = current_app.config["INVITATION_DAYS"]
    sent = 0
    for email in emails:
        token = new_token()
        invitation = Invitation(
            exchange=exchange,
            session=session,
            email=email,
            role=role,
            side=side,
            token_hash=hash_token(token),
            invited_by_id=inviter.id,
            expires_at=utcnow() + timedelta(days=days),
        )
        db.session.add(invitation)
        db.session.commit()
        known = db.session.execute(db.select(User).filter_by(email=email)).scalar_one_or_none()
        locale = (known.locale if known else None) or _exchange_locale(exchange)
        if send_email(
            email,
            "email/invitation_subject.txt",
            "email/invitation.txt",
            locale=locale,
            exchange=exchange,
            session=session,
            inviter=inviter,
            role_label=Role.LABELS[role],
            days=days,
            link=url_for("exchanges.accept_invitation", token=token, _external=True),
        ):
            sent += 1
    return sent


def _exchange_locale(exchange: Exchange) -> str:
    for code in exchange.working_languages or []:
        if code in current_app.config["LANGUAGES"]:
            return code
    return "en"


def find_invitation(token: str) -> Invitation | None:
    if not token or len(token) > 100:
        return None
    invitation = db.session.execute(db.select(Invitation).filter_by(token_hash=hash_token(token))).scalar_one_or_none()
    return invitation if invitation and invitation.usable() else None


def accept_invitation(invitation: Invitation, user: User) -> str:
    """Spend the invitation. Returns 'joined', 'already' or 'session'."""
    from ..sessions.models import SessionInvitee

    invitation.accepted_at = utcnow()
    invitation.accepted_by_id = user.id
    outcome = "joined"
    if invitation.session_id is not None:
        exists = db.session.execute(
            db.select(SessionInvitee).filter_by(session_id=invitation.session_id, user_id=user.id)
        ).scalar_one_or_none()
        if exists is None:
            db.session.add(SessionInvitee(session_id=invitation.session_id, user_id=user.id))
        outcome = "session"
    else:
        member = db.session.execute(
            db.select(Membership).filter_by(exchange_id=invitation.exchange_id, user_id=user.id)
        ).scalar_one_or_none()
        if member is None:
            db.session.add(
                Membership(
                    exchange_id=invitation.exchange_id, user_id=user.id, role=invitation.role, side=invitation.side
                )
            )
        else:
            outcome = "already"
    db.session.commit()
    return outcome


def pending_invitations(exchange: Exchange) -> list[Invitation]:
    return list(
        db.session.execute(
            db.select(Invitation)
            .filter(Invitation.exchange_id == exchange.id, Invitation.accepted_at.is_(None))
            .filter(Invitation.expires_at > utcnow())
            .order_by(Invitation.created_at.desc())
        ).scalars()
    )


def revoke_invitation(exchange: Exchange, invitation_id: int) -> None:
    invitation = db.session.get(Invitation, invitation_id)
    if invitation is None or invitation.exchange_id != exchange.id:
        abort(404)
    db.session.delete(invitation)
    db.session.commit()


def get_membership(exchange: Exchange, membership_id: int) -> Membership:
    member = db.session.get(Membership, membership_id)
    if member is None or member.exchange_id != exchange.id:
        abort(404)
    return member


class LastCoordinator(ValueError):
    """An exchange always keeps at least one coordinator."""


def _coordinators(exchange: Exchange) -> int:
    return sum(1 for m in exchange.memberships if m.role == Role.COORDINATOR)


def change_member(member: Membership, role: str, side: str) -> None:
    if member.role == Role.COORDINATOR and role != Role.COORDINATOR and _coordinators(member.exchange) <= 1:
        raise LastCoordinator()
    from ..realtime.access import revoke_user_in_exchange

    changed = member.role != role
    member.role, member.side = role, side
    db.session.commit()
    if changed:
        revoke_user_in_exchange(member.user_id, member.exchange_id, "role_changed")


def remove_member(member: Membership) -> None:
    if member.role == Role.COORDINATOR and _coordinators(member.exchange) <= 1:
        raise LastCoordinator()
    from ..realtime.access import revoke_user_in_exchange

    user_id, exchange_id = member.user_id, member.exchange_id
    db.session.delete(member)
    db.session.commit()
    revoke_user_in_exchange(user_id, exchange_id, "removed")


def team_balance(exchange: Exchange) -> dict[str, Counter]:
    """Counts by side, country and gender; people who gave no country or gender are counted as such."""
    sides, countries, genders = Counter(), Counter(), Counter()
    for m in exchange.memberships:
        sides[m.side] += 1
        countries[m.user.country or ""] += 1
        genders[(m.user.gender or "").strip().casefold()] += 1
    return {"side": sides, "country": countries, "gender": genders}


def membership_by_feed_token(token: str) -> Membership | None:
    if not token or len(token) > 100:
        return None
    return db.session.execute(db.select(Membership).filter_by(feed_token=token)).scalar_one_or_none()
