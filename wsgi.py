"""Entry point. `python wsgi.py` upgrades the database and serves the app; production runs `wsgi:app`.

Async-mode monkey patching happens here and nowhere else.
"""

import os

ASYNC_MODE = os.environ.get("SOCKETIO_ASYNC_MODE", "eventlet")
if ASYNC_MODE == "eventlet":
    import eventlet

    eventlet.monkey_patch()
elif ASYNC_MODE == "gevent":
    from gevent import monkey

    monkey.patch_all()

from workspace import create_app  # noqa: E402
from workspace.extensions import socketio  # noqa: E402

app = create_app()


def _tune_garbage_collector() -> None:
    """Fewer, shorter stop-the-world pauses in a long-running live server.

    With a thousand people connected a full collection walked every object the server holds and took about
    220 ms, during which no message moved (the lecture benchmark's tail latency). What exists once the app is
    built (about 175,000 objects: modules, models, templates) is frozen out of collections for good, and full
    collections come ten times less often; cyclic garbage still goes, later.
    """
    import gc

    gc.collect()
    gc.freeze()
    young, middle, _old = gc.get_threshold()
    gc.set_threshold(young, middle, app.config["GC_FULL_EVERY"])


_tune_garbage_collector()


def _stop(signum, _frame) -> None:
    """SIGTERM/SIGINT: drop this worker's live connections from presence, then exit.

    Under eventlet the handler runs inside the event loop, where psycopg2's green wait (eventlet's patch) may
    not switch: at shutdown the last database call simply blocks. (Handing it to a green thread instead
    waits until the loop wakes up, which on an idle server is never.)
    """
    try:
        import psycopg2.extensions

        psycopg2.extensions.set_wait_callback(None)
    except ImportError:
        pass
    from workspace.realtime.presence import forget_worker

    try:
        with app.app_context():
            forget_worker()
    finally:
        # Not SystemExit: under eventlet the signal may land in any greenlet, which would swallow it.
        os._exit(0)


def main() -> None:
    import signal

    from flask_migrate import upgrade

    with app.app_context():
        upgrade()
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    host = os.environ.get("HOST", "127.0.0.1")
    port = int(os.environ.get("PORT", "5000"))
    print(f"Baraza is running: open http://{host}:{port}/ (Ctrl+C to stop)", flush=True)
    if ASYNC_MODE == "eventlet":
        serve_eventlet(host, port)
    else:
        socketio.run(app, host=host, port=port, allow_unsafe_werkzeug=True)


def serve_eventlet(host: str, port: int) -> None:
    """What socketio.run does under eventlet, plus two settings it does not expose.

    - max_size: eventlet's server accepts 1,024 connections unless told otherwise;
    - TCP_NODELAY (inherited by accepted sockets): small packets such as acknowledgements go out at
      once instead of waiting for the peer's delayed ACK (measured: ~60 ms -> ~15 ms per action).
    """
    import socket

    import eventlet.wsgi

    listener = eventlet.listen((host, port))
    listener.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    eventlet.wsgi.server(listener, app, max_size=app.config["MAX_CONNECTIONS"], log_output=app.debug)


if __name__ == "__main__":
    main()
