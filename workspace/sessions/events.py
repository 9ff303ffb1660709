"""Socket.IO actions of a live session: status, agenda, timer, guests. Thin: validate, call, acknowledge."""

from __future__ import annotations

from ..realtime.actions import live_action
from ..realtime.protocol import GuestPolicyPayload, GuestRef, NoArgs, SetItem, TimerExtend, TimerStart
from . import live, lobby


@live_action("session.start", NoArgs, moderator=True)
def start(session, viewer, data):
    return live.start(session, viewer.person, data.cid)


@live_action("session.end", NoArgs, moderator=True)
def end(session, viewer, data):
    return live.end(session, viewer.person, data.cid)


@live_action("agenda.set_current", SetItem, moderator=True)
def set_current(session, viewer, data):
    return live.set_item(session, data.item_id, viewer.person, data.cid)


@live_action("agenda.next", NoArgs, moderator=True)
def next_item(session, viewer, data):
    return live.next_item(session, viewer.person, data.cid)


@live_action("timer.start", TimerStart, moderator=True)
def timer_start(session, viewer, data):
    return live.timer_start(session, data.seconds, viewer.person, data.cid)


@live_action("timer.pause", NoArgs, moderator=True)
def timer_pause(session, viewer, data):
    return live.timer_pause(session, viewer.person, data.cid)


@live_action("timer.extend", TimerExtend, moderator=True)
def timer_extend(session, viewer, data):
    return live.timer_extend(session, data.seconds, viewer.person, data.cid)


@live_action("room.set_guest_policy", GuestPolicyPayload, moderator=True)
def set_guest_policy(session, viewer, data):
    return live.set_guest_policy(session, data.policy, data.capacity, viewer.person, data.cid)


@live_action("lobby.admit", GuestRef, moderator=True)
def admit(session, viewer, data):
    return {"admitted": lobby.admit(session, [data.guest_id])}


@live_action("lobby.admit_all", NoArgs, moderator=True)
def admit_all(session, viewer, data):
    return {"admitted": lobby.admit(session)}


@live_action("lobby.turn_away", GuestRef, moderator=True)
def turn_away(session, viewer, data):
    lobby.turn_away(session, data.guest_id)
