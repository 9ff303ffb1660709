"""HTTP views of the board: reading it after the session, exports, the moderation log, the report."""

from __future__ import annotations

from flask import Response, abort, render_template
from flask_login import current_user, login_required

from .. import permissions
from ..sessions.models import ExchangeSession
from ..sessions.services import current_guest, get_session
from . import bp, exports, report


def _person(session: ExchangeSession) -> str | None:
    """Who is reading, as the room knows them (to tell whether they answered a poll); None for passers-by."""
    if permissions.is_session_participant(current_user, session):
        return f"u:{current_user.id}"
    guest = current_guest(session) if session.is_open else None
    return f"g:{guest.id}" if guest is not None else None


def _reviewed(session_id: int) -> ExchangeSession:
    """A session whose records this moderator may review: 404 if it must not be revealed, 403 otherwise."""
    session = get_session(session_id)
    if not permissions.can_review_board(current_user, session):
        abort(403)
    return session


def _download(body: str, mimetype: str, filename: str) -> Response:
    return Response(
        body,
        mimetype=mimetype,
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )


@bp.route("/sessions/<int:session_id>/board")
def board(session_id: int):
    session = get_session(session_id)
    if not permissions.can_read_board(current_user, session):
        abort(404)
    moderator = permissions.can_moderate(current_user, session)
    settings = report.board_settings(session)
    return render_template(
        "board/board.html",
        session=session,
        sections=report.sections(session),
        polls=report.poll_views(session, moderator, _person(session)),
        non_attribution=settings.non_attribution,
        show_names=permissions.sees_authors(current_user, session, settings.non_attribution),
        moderator=moderator,
        side_label=report.side_label,
    )


@bp.route("/sessions/<int:session_id>/board.csv")
@login_required
def board_csv(session_id: int):
    session = _reviewed(session_id)
    body = exports.board_csv(session, report.board_settings(session))
    return _download(body, "text/csv", f"session-{session.id}-board.csv")


@bp.route("/sessions/<int:session_id>/board.md")
@login_required
def board_markdown(session_id: int):
    session = _reviewed(session_id)
    body = exports.board_markdown(session, report.board_settings(session))
    return _download(body, "text/markdown", f"session-{session.id}-board.md")


@bp.route("/sessions/<int:session_id>/polls/<int:poll_id>.csv")
@login_required
def poll_csv(session_id: int, poll_id: int):
    session = _reviewed(session_id)
    poll = report.get_poll(session, poll_id)
    body = exports.poll_csv(session, report.board_settings(session), poll)
    return _download(body, "text/csv", f"session-{session.id}-poll-{poll.id}.csv")


@bp.route("/sessions/<int:session_id>/moderation-log")
@login_required
def moderation_log(session_id: int):
    session = _reviewed(session_id)
    return render_template("board/moderation_log.html", session=session, rows=report.log_rows(session))


@bp.route("/sessions/<int:session_id>/report", endpoint="report")
@login_required
def session_report(session_id: int):
    session = _reviewed(session_id)
    return render_template(
        "board/report.html",
        session=session,
        speaking=report.speaking(session),
        counts=report.contribution_counts(session),
        contributors=report.contributors_by_side(session),
        polls=report.asked_polls(session),
        non_attribution=report.board_settings(session).non_attribution,
        duration=report.duration,
    )
