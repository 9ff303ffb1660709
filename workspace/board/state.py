"""The board's part of a live room's snapshot, and of what each person alone is sent on every catch-up."""

from __future__ import annotations

from ..realtime.access import Viewer
from ..sessions.models import ExchangeSession
from . import people, polls, services, speakers


def snapshot(session: ExchangeSession, viewer: Viewer) -> dict:
    """Everything on the board this viewer may see, as of now."""
    body = {
        "board": services.snapshot(session, viewer.moderator),
        "speakers": speakers.queue_wire(session),
    }
    if viewer.moderator:
        body["restrictions"] = people.restrictions_wire(session)
        body["speaker_stats"] = speakers.stats(session)
    return body


def on_catch_up(session: ExchangeSession, viewer: Viewer, sid: str) -> dict:
    """Sent with every welcome and sync, replayed or not: private state and poll results are not events."""
    polls.join_results_rooms(session, viewer, sid)
    return {"personal": services.personal(session, viewer.person), "polls": polls.snapshot(session, viewer)}
