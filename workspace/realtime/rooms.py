"""The Socket.IO rooms of a session: who is in each decides who hears what."""


def room(session_id: int) -> str:
    """Everyone in the session's live room (lobby excepted): presence, ticks, notices."""
    return f"s:{session_id}"


def mods_room(session_id: int) -> str:
    """Its moderators: every sequenced event, moderators-only ones included, and the lobby."""
    return f"m:{session_id}"


def viewers_room(session_id: int) -> str:
    """Everyone in the room who is not a moderator: the public sequenced events (see outbox.py)."""
    return f"v:{session_id}"


def person_room(session_id: int, person: str) -> str:
    """One person's tabs (lobby included): their private state."""
    return f"p:{session_id}:{person}"
