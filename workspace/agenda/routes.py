from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required

from ..sessions import services as session_services
from . import bp, services
from .forms import AgendaItemForm


def _item_fields(form: AgendaItemForm) -> dict:
    return {
        "title": form.title.data.strip(),
        "minutes": form.minutes.data,
        "presenter": (form.presenter.data or "").strip(),
        "description": (form.description.data or "").strip(),
        "expected_outcome": (form.expected_outcome.data or "").strip(),
    }


@bp.route("/sessions/<int:session_id>/agenda", methods=["GET", "POST"])
@login_required
def manage(session_id: int):
    """The planner's agenda editor: the list with its controls, and a form to add an item."""
    session = session_services.get_session(session_id, need="edit")
    form = AgendaItemForm()
    if form.validate_on_submit():
        try:
            services.add_item(session, **_item_fields(form))
        except services.AgendaFull:
            flash(_("An agenda can have at most %(n)d items.", n=services.MAX_ITEMS), "error")
        else:
            flash(_("The item is added to the agenda."), "success")
            return redirect(url_for("agenda.manage", session_id=session.id))
    return render_template(
        "agenda/manage.html", session=session, form=form, timeline=session_services.agenda_timeline(session)
    )


@bp.route("/agenda/<int:item_id>/edit", methods=["GET", "POST"])
@login_required
def edit(item_id: int):
    item = services.get_item(item_id)
    form = AgendaItemForm(obj=item)
    if form.validate_on_submit():
        services.update_item(item, **_item_fields(form))
        flash(_("Your changes are saved."), "success")
        return redirect(url_for("agenda.manage", session_id=item.session_id))
    return render_template("agenda/edit.html", form=form, item=item, session=item.session)


@bp.route("/agenda/<int:item_id>/delete", methods=["POST"])
@login_required
def delete(item_id: int):
    item = services.get_item(item_id)
    session_id = item.session_id
    services.delete_item(item)
    flash(_("The item is removed from the agenda."), "success")
    return redirect(url_for("agenda.manage", session_id=session_id))


@bp.route("/agenda/<int:item_id>/move", methods=["POST"])
@login_required
def move(item_id: int):
    item = services.get_item(item_id)
    services.move_item(item, -1 if request.form.get("direction") == "up" else 1)
    return redirect(url_for("agenda.manage", session_id=item.session_id) + f"#item-{item.id}")
