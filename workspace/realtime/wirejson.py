"""The JSON codec of Socket.IO packets: orjson for what the server sends, the standard library for the rest.

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

_OPTIONS = orjson.OPT_NON_STR_KEYS  # as the standard library does: {1: ...} becomes {"1": ...}


def dumps(obj: Any, **kwargs: Any) -> str:
    try:
        return orjson.dumps(obj, option=_OPTIONS).decode()
    except TypeError:
        return json.dumps(obj, **{"separators": (",", ":"), **kwargs})


def loads(data: str | bytes, **kwargs: Any) -> Any:
    return json.loads(data, **kwargs)
