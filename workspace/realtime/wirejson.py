"""Socket.IO packets: orjson for what the server sends, the standard library for the rest.

python-socketio encodes each packet once per emit; with the standard library this was a visible part of a
welcome (the whole board and the people present, hundreds of kilobytes in a large room), and orjson writes
the same JSON several times faster. Incoming packets are small and decoded by the standard library, which
keeps integers exact (orjson reads an integer past 64 bits as a float), and anything orjson refuses to
write (such an integer, say) is written by the standard library too.
"""

from __future__ import annotations

import json
from typing import Any

import orjson
import socketio.packet

_OPTIONS = orjson.OPT_NON_STR_KEYS  # as the standard library does: {1: ...} becomes {"1": ...}


def dumps(obj: Any, **kwargs: Any) -> str:
    try:
        return orjson.dumps(obj, option=_OPTIONS).decode()
    except TypeError:
        return json.dumps(obj, **{"separators": (",", ":"), **kwargs})


def loads(data: str | bytes, **kwargs: Any) -> Any:
    return json.loads(data, **kwargs)


class Packet(socketio.packet.Packet):
    """python-socketio's packet, with a faster answer to "does this carry binary attachments?".

    The stock check walks every value of the payload in Python, before encoding it: for a welcome in a room of
    1,000 (tens of thousands of values) that walk cost more than writing the JSON. orjson refuses bytes, so a
    payload it can write has none; anything it refuses is walked as before.
    """

    @classmethod
    def data_is_binary(cls, data: Any) -> bool:
        if isinstance(data, (bytes, bytearray)):
            return True
        try:
            orjson.dumps(data, option=_OPTIONS)
        except TypeError:
            return super().data_is_binary(data)
        return False
