"""HTTP views of the notes: the editor page, settings, versions, publishing, the summary and its exports."""

from __future__ import annotations

from flask import Response, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from .. import permissions
from ..realtime.protocol import Refused, messages
from . import bp, exports, services, store
from .forms import ActionForm, ActionStatusForm, EditorsForm, VersionForm
from .models import Editors, NoteSummary

EXPORTS = {
    "md": ("text/markdown; charset=utf-8", exports.markdown),
    "html": ("text/html; charset=utf-8", exports.html_document),
    "pdf": ("application/pdf", exports.pdf),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", exports.docx),
}


def _back(session_id: int):
    return redirect(url_for("notes.editor", session_id=session_id))


@bp.route("/sessions/<int:session_id>/notes")
def editor(session_id: int):
    """The live editor for the session's people; others are sent to the summary once it is published."""
    session = services.get_session(session_id)
    if not permissions.can_read_notes(current_user, session):
        if permissions.can_read_summary(current_user, session):
            return redirect(url_for("notes.summary", session_id=session.id))
        abort(404)
    store.ensure_doc(session)
    editors_form = EditorsForm(editors=services.editors(session))
    return render_template(
        "notes/editor.html",
        session=session,
        can_edit=permissions.can_edit_notes(current_user, session),
        can_moderate=permissions.can_publish_notes(current_user, session),
        published=db_summary(session),
        editors_form=editors_form,
        editors_labels=Editors.LABELS,
        actions=services.actions_of(session),
        action_form=ActionForm(),
        status_form=ActionStatusForm,
        version_form=VersionForm(),
    )


def db_summary(session) -> NoteSummary | None:
    from ..extensions import db

    return db.session.get(NoteSummary, session.id)


@bp.route("/sessions/<int:session_id>/notes/settings", methods=["POST"])
@login_required
def settings(session_id: int):
    session = services.notes_session(session_id, need="moderate")
    form = EditorsForm()
    if form.validate_on_submit():
        services.set_editors(session, form.editors.data)
        flash(_("Your changes are saved."), "success")
    return _back(session.id)


@bp.route("/sessions/<int:session_id>/notes/versions")
@login_required
def versions(session_id: int):
    session = services.notes_session(session_id)
    return render_template(
        "notes/versions.html",
        session=session,
        versions=services.versions(session),
        can_edit=permissions.can_edit_notes(current_user, session),
        form=VersionForm(),
    )


@bp.route("/sessions/<int:session_id>/notes/versions", methods=["POST"])
@login_required
def save_version(session_id: int):
    session = services.notes_session(session_id, need="edit")
    form = VersionForm()
    if form.validate_on_submit():
        services.save_version(session, form.name.data, current_user.display_name)
        flash(_("The version is saved."), "success")
    else:
        flash(_("Give the version a name."), "error")
    return redirect(url_for("notes.versions", session_id=session.id))


@bp.route("/sessions/<int:session_id>/notes/versions/<int:version_id>")
@login_required
def version(session_id: int, version_id: int):
    session = services.notes_session(session_id)
    found = services.get_version(session, version_id)
    from .render import to_html

    return render_template(
        "notes/version.html",
        session=session,
        version=found,
        body=to_html(services.version_delta(found)),
        can_edit=permissions.can_edit_notes(current_user, session),
    )


@bp.route("/sessions/<int:session_id>/notes/versions/<int:version_id>/restore", methods=["POST"])
@login_required
def restore_version(session_id: int, version_id: int):
    session = services.notes_session(session_id, need="edit")
    found = services.get_version(session, version_id)
    services.restore_version(session, found, f"u:{current_user.id}", current_user.display_name)
    flash(_("The notes are back to the version “%(name)s”.", name=found.name), "success")
    return _back(session.id)


@bp.route("/sessions/<int:session_id>/notes/publish", methods=["POST"])
@login_required
def publish(session_id: int):
    session = services.notes_session(session_id, need="moderate")
    try:
        services.publish(session, current_user)
    except Refused as refused:
        flash(messages().get(refused.code, refused.code), "error")
        return _back(session.id)
    flash(_("The summary is published; every participant is told."), "success")
    return redirect(url_for("notes.summary", session_id=session.id))


@bp.route("/sessions/<int:session_id>/notes/summary")
def summary(session_id: int):
    session = services.notes_session(session_id, need="summary")
    services.mark_seen(session, current_user)
    published = db_summary(session)
    return render_template(
        "notes/summary.html",
        session=session,
        summary=published,
        export=_export(session, published),
        formats=list(EXPORTS),
    )


def _export(session, published) -> exports.Export:
    return exports.Export(
        session=session,
        summary=published,
        actions=services.actions_of(session),
        anonymous=services.non_attributed(session),
    )


@bp.route("/sessions/<int:session_id>/notes/summary.<fmt>")
def export(session_id: int, fmt: str):
    if fmt not in EXPORTS:
        abort(404)
    session = services.notes_session(session_id, need="summary")
    mimetype, make = EXPORTS[fmt]
    body = make(_export(session, db_summary(session)))
    response = Response(body, mimetype=mimetype.split(";")[0], content_type=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="session-{session.id}-summary.{fmt}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/sessions/<int:session_id>/notes/actions", methods=["POST"])
@login_required
def add_action(session_id: int):
    session = services.notes_session(session_id, need="edit")
    form = ActionForm()
    if form.validate_on_submit():
        services.add_action(session, form.what.data, form.who.data, form.due_on.data)
        flash(_("The follow-up action is added."), "success")
    else:
        flash(_("Say what is to be done (and the date as a date)."), "error")
    return _back(session.id)


@bp.route("/sessions/<int:session_id>/notes/actions/<int:action_id>", methods=["POST"])
@login_required
def update_action(session_id: int, action_id: int):
    session = services.notes_session(session_id, need="edit")
    action = services.get_action(session, action_id)
    form = ActionStatusForm()
    if form.validate_on_submit():
        services.set_action_status(action, form.status.data)
        flash(_("Your changes are saved."), "success")
    return _back(session.id)


@bp.route("/sessions/<int:session_id>/notes/actions/<int:action_id>/delete", methods=["POST"])
@login_required
def delete_action(session_id: int, action_id: int):
    session = services.notes_session(session_id, need="edit")
    services.delete_action(services.get_action(session, action_id))
    flash(_("The follow-up action is removed."), "success")
    return _back(session.id)


@bp.app_context_processor
def notes_helpers() -> dict:
    """For other features' pages: links to the notes, published-notes notices, the exchange's actions."""

    def notes_links(session) -> dict:
        return {
            "notes": permissions.can_read_notes(current_user, session),
            "summary": permissions.can_read_summary(current_user, session),
        }

    return {
        "notes_links": notes_links,
        "notes_notices": lambda: services.unseen_notices(current_user),
        "follow_up_actions_of": lambda exchange: services.actions_of_exchange(exchange, current_user),
    }
