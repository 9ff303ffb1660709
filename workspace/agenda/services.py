"""Agenda items: ordered, editable, movable. Positions stay 0..n-1 after every change."""

from __future__ import annotations

from flask import abort

from ..extensions import db
from ..sessions import live
from ..sessions import services as session_services
from .models import AgendaItem

MAX_ITEMS = 100


class AgendaFull(ValueError):
    pass


def get_item(item_id: int, need: str = "edit") -> AgendaItem:
    item = db.session.get(AgendaItem, item_id)
    if item is None:
        abort(404)
    session_services.get_session(item.session_id, need=need)  # 404/403 as for the session itself
    return item


def add_item(session, **fields) -> AgendaItem:
    if len(session.agenda_items) >= MAX_ITEMS:
        raise AgendaFull()
    item = AgendaItem(position=len(session.agenda_items), **fields)
    session.agenda_items.append(item)
    db.session.commit()
    live.agenda_changed(session)
    return item


def update_item(item: AgendaItem, **fields) -> None:
    for name, value in fields.items():
        setattr(item, name, value)
    db.session.commit()
    live.agenda_changed(item.session)


def delete_item(item: AgendaItem) -> None:
    session = item.session
    session.agenda_items.remove(item)
    _renumber(session.agenda_items)
    db.session.commit()
    live.agenda_changed(session)


def move_item(item: AgendaItem, offset: int) -> None:
    """Move up (-1) or down (+1); moving past either end does nothing."""
    items = list(item.session.agenda_items)
    index = items.index(item)
    target = index + offset
    if 0 <= target < len(items):
        items.insert(target, items.pop(index))
        _renumber(items)
        item.session.agenda_items.sort(key=lambda i: i.position)
        db.session.commit()
        live.agenda_changed(item.session)


def _renumber(items) -> None:
    for position, item in enumerate(items):
        item.position = position
