"""The baseline: a bare python-socketio server that only relays messages to a room.

Run as its own program (`python -m bench.relay --port P --mode eventlet`), served the way wsgi.py serves
Baraza (eventlet's WSGI server with the same max_size and TCP_NODELAY; under gevent, pywsgi with
gevent-websocket, as Flask-SocketIO's `run` does), so the two differ only in what Baraza adds on top.

It mirrors the message flow of a moderated lecture, with no rules, storage or identity:
`post` goes to the moderators' room, `approve` and `vote` go to everyone, each wrapped as a sequenced
`event` like Baraza's (`seq`/`prev` from an in-memory counter) and acknowledged.
"""

from __future__ import annotations

import argparse
import os
import sys


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.relay")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--mode", choices=("eventlet", "gevent"), default="eventlet")
    parser.add_argument("--queue", default=None, help="a Redis URL: share rooms between relay processes")
    parser.add_argument("--channel", default="bench-relay")
    parser.add_argument("--max-connections", type=int, default=5000)
    return parser.parse_args(argv)


def build(mode: str, queue: str | None, channel: str):
    import socketio

    manager = socketio.RedisManager(queue, channel=channel) if queue else None
    sio = socketio.Server(async_mode=mode, client_manager=manager, cors_allowed_origins="*")
    counter = {"seq": 0, "public": 0}

    def sequenced(data: dict, public: bool = True) -> dict:
        # The same envelope as Baraza's events. Under a message queue each process counts on its own.
        counter["seq"] += 1
        prev = counter["public"] if public else counter["seq"] - 1
        if public:
            counter["public"] = counter["seq"]
        return {"seq": counter["seq"], "prev": prev, "type": "contribution", "data": data}

    @sio.event
    def connect(sid, environ, auth=None):
        auth = auth if isinstance(auth, dict) else {}
        sio.enter_room(sid, "room")
        if auth.get("role") == "mod":
            sio.enter_room(sid, "mods")
        sio.emit("welcome", {"seq": counter["public"], "you": {"id": sid}}, to=sid)

    @sio.on("post")
    def post(sid, data):
        event = sequenced(data, public=False)
        sio.emit("event", event, room="mods")
        return {"ok": True, "seq": event["seq"]}

    @sio.on("approve")
    def approve(sid, data):
        event = sequenced(data)
        sio.emit("event", event, room="room")
        return {"ok": True, "seq": event["seq"]}

    @sio.on("vote")
    def vote(sid, data):
        event = sequenced(data)
        sio.emit("event", event, room="room")
        return {"ok": True, "seq": event["seq"]}

    def health(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]

    return socketio.WSGIApp(sio, health)


def main(argv: list[str]) -> None:
    args = parse_args(argv)
    # This is a separate program from the app, with its own entry point: the patching belongs here.
    if args.mode == "eventlet":
        import eventlet

        eventlet.monkey_patch()
        import socket

        import eventlet.wsgi

        app = build(args.mode, args.queue, args.channel)
        listener = eventlet.listen((args.host, args.port))
        listener.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        print(f"relay ready on {args.port}", flush=True)
        eventlet.wsgi.server(listener, app, max_size=args.max_connections, log_output=False)
    else:
        from gevent import monkey

        monkey.patch_all()
        from gevent import pywsgi
        from geventwebsocket.handler import WebSocketHandler

        app = build(args.mode, args.queue, args.channel)
        print(f"relay ready on {args.port}", flush=True)
        pywsgi.WSGIServer((args.host, args.port), app, handler_class=WebSocketHandler, log=None).serve_forever()


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main(sys.argv[1:])
