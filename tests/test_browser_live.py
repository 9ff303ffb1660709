"""Browser tests of the live room: two people follow one session, through a server restart, and the lobby.

Playwright drives Debian's chromium (never `playwright install`). Assertions are on structure and data-*
attributes, not on wording. One server serves the whole module (a start costs seconds); the restart test
stops and starts it on the same port and database.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import LiveServer
from playwright.sync_api import expect
from realtime_support import build_world, guest_session, server_app

from config import BASE_DIR
from workspace.extensions import db
from workspace.realtime.models import SessionEvent

pytestmark = [pytest.mark.browser, pytest.mark.live]

AXE_PATH = BASE_DIR / "node_modules/axe-core/axe.min.js"
PHONE = {"width": 390, "height": 844}
SCREENSHOT = Path("/tmp/live-ar.png")
BACK = 20_000  # ms: a restarted server takes a few seconds, and socket.io waits up to 5 s between attempts


@pytest.fixture(scope="module")
def live_server(tmp_path_factory):
    """Overrides conftest's per-test server: one for the module, each test builds its own world in it."""
    server = LiveServer(tmp_path_factory.mktemp("live-room"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def open_page(browser):
    """Pages in fresh contexts (separate cookies); script errors, CSP refusals and 5xx fail the test."""
    contexts, problems = [], []

    def make(**options):
        context = browser.new_context(**options)
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda e: problems.append(f"script error: {e}"))
        page.on(
            "console",
            lambda m: problems.append(f"console: {m.text}") if "Content Security Policy" in m.text else None,
        )
        page.on("response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 500 else None)
        return page

    yield make
    for context in contexts:
        context.close()
    assert not problems, problems


def sign_in(page, server, email: str) -> None:
    page.goto(server.url + "/login")
    page.fill("#email", email)
    page.fill("#password", "live test password")
    with page.expect_navigation():
        page.locator("main form.form button[type=submit]").click()
    assert page.locator("form[action$='/logout']").count() == 1, "sign-in failed"


def enter(page, server, email: str, session_id: int):
    sign_in(page, server, email)
    page.goto(f"{server.url}/sessions/{session_id}/live")
    expect(page.locator("#live-connection")).to_have_attribute("data-state", "connected")
    return page


def current(page, item_id: int):
    return expect(page.locator(f"#live-agenda .live-item[data-item-id='{item_id}']")).to_have_attribute(
        "aria-current", "step", timeout=BACK
    )


def queued(page) -> list:
    return page.evaluate(
        "Object.keys(localStorage).filter(k => k.startsWith('baraza.live.')).map(k => JSON.parse(localStorage[k]))"
    )


def test_the_room_follows_the_moderator_and_survives_a_server_restart(open_page, live_server):
    world = build_world(live_server, {"closed": {"mode": "closed", "status": "scheduled"}})
    session_id, items = world.sessions["closed"], world.items["closed"]
    mod = enter(open_page(), live_server, world.emails["coordinator"], session_id)
    peer = enter(open_page(), live_server, world.emails["participant"], session_id)
    assert peer.locator("[data-action]").count() == 0  # no controls for a participant
    expect(mod.locator("#people-count")).to_have_text("2")

    mod.locator("[data-action='session.start']").click()
    expect(peer.locator("#live-status")).to_have_attribute("data-status", "live")
    current(peer, items[0])
    mod.locator("[data-action='agenda.next']").click()
    current(peer, items[1])
    expect(peer.locator("#live-agenda .live-item[aria-current]")).to_have_count(1)
    mod.locator("[data-action='timer.start']").click()
    expect(peer.locator("#live-timer")).to_have_attribute("data-state", "running")
    assert re.fullmatch(r"10:00|09:[0-5]\d", peer.locator("#live-timer .timer-value").inner_text())

    # The server goes away: both pages say so, and the moderator's Next waits in the queue.
    live_server.stop()
    try:
        for page in (peer, mod):
            expect(page.locator("#live-connection")).to_have_attribute("data-state", "reconnecting")
        mod.locator("[data-action='agenda.next']").click()
        expect(mod.locator("#live-connection .connection-count")).to_have_text("1")
        expect(mod.locator("#live-connection .connection-queue")).to_be_visible()
        [[entry]] = queued(mod)
        assert entry["name"] == "agenda.next"
    finally:
        live_server.start()  # same port, same database

    for page in (peer, mod):
        expect(page.locator("#live-connection")).to_have_attribute("data-state", "connected", timeout=BACK)
    current(peer, items[2])
    current(mod, items[2])
    expect(mod.locator("#live-connection .connection-queue")).to_be_hidden()
    assert queued(mod) == []
    assert mod.locator("#live-alert").inner_text() == ""
    with server_app(live_server).app_context():
        moves = db.session.execute(
            db.select(SessionEvent.client_id).filter_by(session_id=session_id, type="agenda.current")
        ).all()
    assert [cid for (cid,) in moves if cid == entry["data"]["cid"]] == [entry["data"]["cid"]]  # applied once
    assert len(moves) == 2


def test_an_action_queued_offline_survives_closing_the_page(open_page, live_server):
    world = build_world(live_server, {"closed_live": {"mode": "closed", "status": "live"}})
    session_id, items = world.sessions["closed_live"], world.items["closed_live"]
    mod = enter(open_page(), live_server, world.emails["coordinator"], session_id)
    mod.context.set_offline(True)
    expect(mod.locator("#live-connection")).to_have_attribute("data-state", "offline")
    mod.locator("[data-action='agenda.next']").click()
    expect(mod.locator("#live-connection .connection-count")).to_have_text("1")
    [[entry]] = queued(mod)
    mod.close()  # this page can send nothing more: the next one must find the action in localStorage

    mod.context.set_offline(False)
    again = mod.context.new_page()
    again.goto(f"{live_server.url}/sessions/{session_id}/live")
    current(again, items[0])  # the queued "next" was sent and applied
    expect(again.locator("#live-connection")).to_have_attribute("data-state", "connected")
    # The event can arrive a moment before the acknowledgement that empties the queue.
    again.wait_for_function(
        "() => Object.keys(localStorage).filter(k => k.startsWith('baraza.live.'))"
        ".every(k => JSON.parse(localStorage[k]).length === 0)",
        timeout=BACK,
    )
    with server_app(live_server).app_context():
        sent = db.session.execute(db.select(SessionEvent.client_id).filter_by(session_id=session_id)).scalars().all()
    assert sent == [entry["data"]["cid"]]


def test_lobby_admission_and_signing_out_change_who_is_in_the_room(open_page, live_server):
    world = build_world(live_server, {"open_live": {"mode": "open", "status": "live", "guest_policy": "lobby"}})
    session_id = world.sessions["open_live"]
    mod = enter(open_page(), live_server, world.emails["coordinator"], session_id)

    guest = open_page()
    guest.goto(f"{live_server.url}/join/{world.codes['open_live']}")
    guest.fill("#display_name", "Wanjiru Guest")
    with guest.expect_navigation():
        guest.locator("main form.form button[type=submit]").click()
    assert guest.url.endswith(f"/sessions/{session_id}/live")
    expect(guest.locator("#live-waiting")).to_be_visible()
    expect(guest.locator("#live-room")).to_be_hidden()
    expect(guest.locator("#live-position")).to_contain_text("1")
    assert guest.locator("#live-agenda li").count() == 0  # no room content reaches the lobby

    waiting = mod.locator("#live-lobby li")
    expect(waiting).to_have_count(1)
    waiting.locator("[data-action='lobby.admit']").click()
    expect(guest.locator("#live-room")).to_be_visible()
    expect(guest.locator("#live-waiting")).to_be_hidden()
    expect(guest.locator("#live-agenda li")).to_have_count(3)
    expect(guest.locator("#live-connection")).to_have_attribute("data-state", "connected")
    expect(mod.locator("#live-lobby li")).to_have_count(0)
    expect(mod.locator("#live-people li .badge")).to_have_count(1)  # the guest, marked as one
    expect(mod.locator("#people-count")).to_have_text("2")

    # Signing out in another tab of the same browser ends the live connection; the page offers to sign in.
    other = mod.context.new_page()
    other.goto(live_server.url + "/")
    with other.expect_navigation():
        other.locator("form[action$='/logout'] button").click()
    expect(mod.locator("#live-connection")).to_have_attribute("data-state", "closed")
    expect(mod.locator("#live-stopped")).to_be_visible()
    assert mod.locator("#live-stopped a").get_attribute("href").startswith("/login?next=")


RUN_AXE = """async () => {
    const result = await axe.run(document, {resultTypes: ["violations"]});
    return {overflow: document.documentElement.scrollWidth - document.documentElement.clientWidth,
            violations: result.violations.filter(v => v.impact === "serious" || v.impact === "critical")
                .map(v => `[${v.impact}] ${v.id}: ${v.help} at ${v.nodes.slice(0, 3).map(n => n.target.join(" "))}`)};
}"""


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_the_live_page_has_no_serious_accessibility_violations(open_page, live_server, lang):
    if not AXE_PATH.exists():
        pytest.fail(f"axe-core is missing at {AXE_PATH}: run `npm ci` in {BASE_DIR}")
    world = build_world(live_server, {"open_live": {"mode": "open", "status": "live", "guest_policy": "lobby"}})
    session_id, items = world.sessions["open_live"], world.items["open_live"]
    guest_session(live_server, world.codes["open_live"], "Guest Waiting")  # someone in the lobby
    # The CSP (script-src 'self') would block the injected axe script. Arabic at phone size, English on a desktop.
    page = open_page(bypass_csp=True, viewport=PHONE if lang == "ar" else None)
    sign_in(page, live_server, world.emails["coordinator"])
    page.goto(f"{live_server.url}/language/{lang}")
    enter_page = f"{live_server.url}/sessions/{session_id}/live"
    page.goto(enter_page)
    expect(page.locator("html")).to_have_attribute("dir", "rtl" if lang == "ar" else "ltr")
    expect(page.locator("#live-connection")).to_have_attribute("data-state", "connected")
    page.locator(f".live-item[data-item-id='{items[1]}'] [data-action='agenda.set_current']").click()
    current(page, items[1])
    page.locator("[data-action='timer.start']").click()
    expect(page.locator("#live-timer")).to_have_attribute("data-state", "running")
    expect(page.locator("#live-lobby li")).to_have_count(1)

    page.add_script_tag(path=str(AXE_PATH))
    result = page.evaluate(RUN_AXE)
    if lang == "ar":
        page.screenshot(path=str(SCREENSHOT), full_page=True)
    assert not result["violations"], "\n".join(result["violations"])
    assert result["overflow"] <= 0, f"the live page scrolls sideways by {result['overflow']}px"


def test_events_arriving_in_the_other_order_are_applied_in_order(open_page, live_server):
    """Two workers may publish consecutive events swapped: the page holds the early one for its predecessor."""
    world = build_world(live_server, {"live": {"mode": "closed", "status": "live"}})
    page = enter(open_page(), live_server, world.emails["participant"], world.sessions["live"])
    with server_app(live_server).app_context():
        last = (
            db.session.execute(
                db.select(db.func.max(SessionEvent.seq)).filter_by(session_id=world.sessions["live"])
            ).scalar()
            or 0
        )
    timer = {"running": False, "ends_at": None}
    page.evaluate(
        """([first, second]) => {
            const deliver = (event) => window.BarazaLive.socket.listeners("events").forEach((f) => f([event]));
            deliver(second);
            deliver(first);
        }""",
        [
            {"seq": last + 1, "prev": last, "type": "timer", "data": {"timer": {**timer, "remaining": 100}}},
            {"seq": last + 2, "prev": last + 1, "type": "timer", "data": {"timer": {**timer, "remaining": 200}}},
        ],
    )
    expect(page.locator("#live-timer .timer-value")).to_have_text("03:20")
