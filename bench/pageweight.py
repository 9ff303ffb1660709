"""Scenario 6, page weight: what a participant's browser downloads and receives, in Debian's chromium.

- bytes to open the live page, cold cache and warm cache: every HTTP response (headers and body as
  transferred, from the DevTools protocol) plus WebSocket frames until the page is usable. The app server
  does not compress; "gzip" is what the same responses weigh gzipped (level 6), as a proxy with
  `gzip on` for HTML, CSS and JavaScript would send them, and is the figure held to the target;
- bytes a second received by an idle participant (WebSocket frames, the page left open);
- time to a usable page on a throttled link (Network.emulateNetworkConditions: 400 kbit/s, 400 ms).

"Usable": the connection indicator says connected and the board shows the session's contributions.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import shutil
import time
import uuid

from .lecture import Context, Setup, start_app

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SLOW_LINK = {"offline": False, "latency": 400, "downloadThroughput": 400_000 / 8, "uploadThroughput": 400_000 / 8}
CONTRIBUTIONS = 20


async def seed_board(url: str, world, count: int) -> None:
    """The moderator posts `count` contributions (a moderator's are published at once)."""
    import aiohttp
    import socketio

    from .clients import PAD
    from .world import login

    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as http:
        cookie = await login(http, url, world.moderator_email)
    sio = socketio.AsyncClient(reconnection=False)
    await sio.connect(url, headers={"Cookie": cookie}, auth={"session": world.session_id}, transports=["websocket"])
    for n in range(count):
        answer = await sio.call("board.post", {"cid": uuid.uuid4().hex, "body": f"Question {n}: {PAD}"}, timeout=30)
        if not answer.get("ok"):
            raise RuntimeError(f"seeding the board failed: {answer}")
    await sio.disconnect()


class Meter:
    """Bytes seen through the DevTools protocol: HTTP responses and WebSocket frames."""

    def __init__(self, cdp):
        self.reset()
        cdp.on("Network.responseReceived", self._response)
        cdp.on("Network.loadingFinished", self._finished)
        cdp.on("Network.webSocketFrameReceived", self._frame)

    def reset(self) -> None:
        self.http = 0
        self.frames = 0
        self.responses: dict[str, dict] = {}

    def _response(self, e) -> None:
        r = e["response"]
        self.responses[e["requestId"]] = {"url": r["url"], "status": r["status"], "type": e.get("type")}

    def _finished(self, e) -> None:
        self.http += int(e["encodedDataLength"])
        if e["requestId"] in self.responses:
            self.responses[e["requestId"]]["bytes"] = int(e["encodedDataLength"])

    def _frame(self, e) -> None:
        self.frames += len(e["response"]["payloadData"].encode())


def _usable(page, count: int, timeout_ms: float) -> bool:
    script = (
        "n => document.querySelector('#live-connection')?.dataset.state === 'connected'"
        " && document.querySelector('#board-count')?.textContent.trim() === String(n)"
    )
    try:
        page.wait_for_function(script, arg=count, timeout=timeout_ms, polling=50)
        return True
    except Exception:  # noqa: BLE001 - a page that never becomes usable is the finding
        return False


def _join(context, url: str, code: str):
    page = context.new_page()
    page.goto(f"{url}/join/{code}")
    page.fill("input[name=display_name]", "Browser guest")
    page.click("form button[type=submit]")
    page.wait_for_url("**/live", timeout=30_000)
    return page


def _gzip_total(page, meter: Meter, bodies: dict) -> int:
    """Headers as transferred plus each body gzipped (what a compressing proxy would send)."""
    total = 0
    for info in meter.responses.values():
        body = bodies.get(info["url"])
        sent = info.get("bytes", 0)
        if body is None or info["status"] == 304:
            total += sent
            continue
        headers = max(0, sent - len(body))
        total += headers + min(len(body), len(gzip.compress(body, 6)))
    return total + meter.frames


def measure(ctx: Context, url: str, world, idle_seconds: float) -> dict:
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium")
    if executable is None:
        return {"error": "chromium is not on PATH (Debian's chromium package)"}
    live_url = f"{url}/sessions/{world.session_id}/live"
    out: dict = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context()
            page = _join(context, url, world.join_code)
            cdp = context.new_cdp_session(page)
            cdp.send("Network.enable")
            meter = Meter(cdp)
            bodies: dict[str, bytes] = {}

            def keep(response):
                with contextlib.suppress(Exception):  # redirects and sockets have no body
                    bodies[response.url] = response.body()

            page.on("response", keep)
            for cache in ("cold", "warm"):
                if cache == "cold":
                    cdp.send("Network.clearBrowserCache")
                meter.reset()
                bodies.clear()
                start = time.time()
                page.goto(live_url)
                ok = _usable(page, CONTRIBUTIONS, 20_000)
                usable = time.time() - start
                page.wait_for_timeout(500)
                out[cache] = {
                    "transferred_bytes": meter.http + meter.frames,
                    "gzip_bytes": _gzip_total(page, meter, bodies),
                    "requests": len(meter.responses),
                    "usable_s": round(usable, 2) if ok else None,
                }
            page.remove_listener("response", keep)
            meter.reset()
            page.wait_for_timeout(idle_seconds * 1000)
            out["idle_bytes_per_s"] = round(meter.frames / idle_seconds, 1)
            context.close()

            slow = browser.new_context()
            page = _join(slow, url, world.join_code)
            cdp = slow.new_cdp_session(page)
            cdp.send("Network.enable")
            cdp.send("Network.clearBrowserCache")
            cdp.send("Network.emulateNetworkConditions", SLOW_LINK)
            start = time.time()
            page.goto(live_url, timeout=60_000)
            ok = _usable(page, CONTRIBUTIONS, 60_000)
            out["throttled_usable_s"] = round(time.time() - start, 2) if ok else None
            slow.close()
        finally:
            browser.close()
    return out


def scenario(ctx: Context, busy: dict | None) -> dict:
    cluster, world = start_app(ctx, Setup())
    try:
        asyncio.run(seed_board(cluster.urls[0], world, CONTRIBUTIONS))
        figures = measure(ctx, cluster.urls[0], world, idle_seconds=4 if ctx.quick else 30)
    finally:
        cluster.stop()
    figures["contributions_on_board"] = CONTRIBUTIONS
    figures["busy_bytes_per_s"] = (busy or {}).get("bytes_per_s_participant")
    figures["busy_from"] = (busy or {}).get("_label")
    return figures
