"""Browser tests of the notes editor: two people type into it at the same time and end with the same text;
the page passes axe-core in English and Arabic, and an Arabic paragraph sits beside an English one.

Playwright drives Debian's chromium (never `playwright install`).
"""

from __future__ import annotations

import pytest
from conftest import LiveServer
from playwright.sync_api import expect
from realtime_support import build_world, server_app
from test_browser_live import AXE_PATH, PHONE, RUN_AXE, open_page, sign_in  # noqa: F401  (fixture)

from workspace.extensions import db
from workspace.notes import crdt, store

pytestmark = [pytest.mark.browser, pytest.mark.live]

EDITOR = "#notes-editor .ql-editor"


@pytest.fixture(scope="module")
def live_server(tmp_path_factory):
    server = LiveServer(tmp_path_factory.mktemp("notes-browser"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


def open_notes(page, server, email: str, session_id: int):
    sign_in(page, server, email)
    page.goto(f"{server.url}/sessions/{session_id}/notes")
    expect(page.locator("#notes-connection")).to_have_attribute("data-state", "connected")
    expect(page.locator(EDITOR)).to_have_attribute("contenteditable", "true")
    expect(page.locator(EDITOR)).to_contain_text("Key learning points")  # the agenda template arrived
    return page


def editor_text(page) -> str:
    return page.locator(EDITOR).inner_text()


def test_two_pages_typing_at_once_end_with_the_same_text(open_page, live_server):  # noqa: F811
    world = build_world(live_server)
    session_id = world.sessions["closed_live"]
    a = open_notes(open_page(), live_server, world.emails["note_taker"], session_id)
    b = open_notes(open_page(), live_server, world.emails["moderator"], session_id)
    reader = open_page()
    sign_in(reader, live_server, world.emails["participant"])
    reader.goto(f"{live_server.url}/sessions/{session_id}/notes")
    expect(reader.locator(EDITOR)).to_have_attribute("contenteditable", "false")  # read only

    # Both at the end of the first line (the title), typing in turns faster than the send interval.
    for page in (a, b):
        page.locator(EDITOR + " h1").click()
        page.keyboard.press("End")
    words_a, words_b = "alpha beta gamma delta", "один два три четыре"
    for char_a, char_b in zip(words_a, words_b.ljust(len(words_a)), strict=True):
        a.keyboard.type(char_a)
        b.keyboard.type(char_b)
    b.keyboard.press("Enter")
    b.keyboard.type("مرحبا بكم في الملاحظات")

    expect(b.locator(EDITOR)).to_contain_text("delta")
    expect(a.locator(EDITOR)).to_contain_text("مرحبا بكم")
    for page in (a, b, reader):
        expect(page.locator("#notes-saved")).not_to_have_text("Saving…")
    a.wait_for_function(
        "([sel, other]) => document.querySelector(sel).innerText === other",
        arg=[EDITOR, editor_text(b)],
        timeout=10_000,
    )
    final = editor_text(a)
    assert final == editor_text(b)
    reader.wait_for_function(
        "([sel, other]) => document.querySelector(sel).innerText === other", arg=[EDITOR, final], timeout=10_000
    )
    flat = final.replace("\n", "")
    for word in (*words_a.split(), *words_b.split()):  # letters interleave, but no keystroke is lost
        assert sum(flat.count(c) for c in set(word)) >= len(word)
    # The people list shows the others, by name.
    expect(a.locator("#notes-people li")).to_have_count(3)
    # What the pages show is what the server stored.
    app = server_app(live_server)
    with app.app_context():
        stored = crdt.plain_text(store.load_doc(session_id))
        db.session.remove()
    assert "مرحبا بكم في الملاحظات" in stored and "alpha" in stored.replace("\n", "")


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_the_notes_page_has_no_serious_accessibility_violations(open_page, live_server, lang):  # noqa: F811
    if not AXE_PATH.exists():
        pytest.fail(f"axe-core is missing at {AXE_PATH}: run `npm ci`")
    world = build_world(live_server)
    session_id = world.sessions["closed_live"]
    page = open_page(bypass_csp=True, viewport=PHONE if lang == "ar" else None)
    sign_in(page, live_server, world.emails["moderator"])
    page.goto(f"{live_server.url}/language/{lang}")
    page.goto(f"{live_server.url}/sessions/{session_id}/notes")
    expect(page.locator("#notes-connection")).to_have_attribute("data-state", "connected")
    expect(page.locator(EDITOR)).to_have_attribute("contenteditable", "true")
    expect(page.locator(EDITOR)).to_have_attribute("role", "textbox")
    # Keyboard only: Tab from the toolbar reaches the editor, and typing there works.
    page.locator(EDITOR).focus()
    page.keyboard.press("Control+End")
    page.keyboard.type("English line")
    page.keyboard.press("Enter")
    page.keyboard.type("سطر عربي")
    arabic = page.locator(EDITOR + " p", has_text="سطر عربي")
    english = page.locator(EDITOR + " p", has_text="English line")
    # Each paragraph's direction follows its own text: the Arabic one starts at the right edge.
    box_en = english.bounding_box()
    right_ar = page.evaluate(
        "(sel) => { const p = [...document.querySelectorAll(sel)].find(e => e.innerText.includes('سطر عربي'));"
        " const r = document.createRange(); r.selectNodeContents(p); return r.getBoundingClientRect().right; }",
        EDITOR + " p",
    )
    if lang == "en":
        assert right_ar > box_en["x"] + box_en["width"] * 0.8, "the Arabic paragraph is not right to left"
    expect(arabic).to_be_visible()
    page.add_script_tag(path=str(AXE_PATH))
    result = page.evaluate(RUN_AXE)
    if lang == "ar":
        page.screenshot(path="/tmp/notes-ar.png", full_page=True)
    else:
        page.screenshot(path="/tmp/notes-en.png", full_page=True)
    assert not result["violations"], "\n".join(result["violations"])
    assert result["overflow"] <= 0, f"the notes page scrolls sideways by {result['overflow']}px"


def _stored_locally(page) -> None:
    """Wait until IndexedDB has committed every write made so far (a later read of the same store waits for it)."""
    page.evaluate(
        """() => new Promise((resolve, reject) => {
            const name = document.getElementById('notes').notes.local().name;
            const open = indexedDB.open(name);
            open.onerror = () => reject(open.error);
            open.onsuccess = () => {
                const tx = open.result.transaction('updates', 'readonly');
                tx.objectStore('updates').count();
                tx.oncomplete = () => { open.result.close(); resolve(); };
            };
        })"""
    )


def test_edits_made_offline_survive_a_reload_and_reach_the_server(open_page, live_server):  # noqa: F811
    world = build_world(live_server)
    session_id = world.sessions["closed_live"]
    url = f"{live_server.url}/sessions/{session_id}/notes"
    a = open_notes(open_page(), live_server, world.emails["note_taker"], session_id)
    context = a.context
    # No service worker: to reopen the page while offline, serve the page and its files as they were.
    names = [url] + a.evaluate("performance.getEntriesByType('resource').map(e => e.name)")
    files = {}
    for name in names:
        if "/socket.io/" in name:
            continue
        response = context.request.get(name)
        files[name] = (response.status, response.headers, response.body())
    online = {"value": True}

    def serve(route):
        if online["value"]:
            return route.continue_()
        kept = files.get(route.request.url)
        if kept is None:
            return route.abort("internetdisconnected")
        return route.fulfill(status=kept[0], headers=kept[1], body=kept[2])

    context.route("**/*", serve)  # the WebSocket is not routed: offline, it fails as it would

    online["value"] = False
    context.set_offline(True)
    expect(a.locator("#notes-connection")).to_have_attribute("data-state", "offline")
    a.locator(EDITOR).click()
    a.keyboard.press("Control+End")
    a.keyboard.press("Enter")
    a.keyboard.type("kept offline 7c1e")
    expect(a.locator(EDITOR)).to_contain_text("kept offline 7c1e")
    _stored_locally(a)
    a.close()  # the tab is closed before the connection returns

    b = context.new_page()
    b.goto(url)
    expect(b.locator(EDITOR)).to_contain_text("kept offline 7c1e")  # from IndexedDB, still offline
    expect(b.locator("#notes-connection")).not_to_have_attribute("data-state", "connected")
    expect(b.locator(EDITOR)).to_have_attribute("contenteditable", "true")
    b.locator(EDITOR).click()
    b.keyboard.press("Control+End")
    b.keyboard.type(" and after the reload")
    _stored_locally(b)
    app = server_app(live_server)
    with app.app_context():
        assert "kept offline" not in crdt.plain_text(store.load_doc(session_id))
        db.session.remove()

    online["value"] = True
    context.set_offline(False)
    expect(b.locator("#notes-connection")).to_have_attribute("data-state", "connected", timeout=20_000)
    expect(b.locator("#notes-saved")).to_have_text("All changes saved")
    other = open_notes(open_page(), live_server, world.emails["moderator"], session_id)
    expect(other.locator(EDITOR)).to_contain_text("kept offline 7c1e and after the reload")
    other.wait_for_function(
        "([sel, other]) => document.querySelector(sel).innerText === other",
        arg=[EDITOR, editor_text(b)],
        timeout=10_000,
    )
    assert editor_text(other) == editor_text(b)
    with app.app_context():
        assert "kept offline 7c1e and after the reload" in crdt.plain_text(store.load_doc(session_id))
        db.session.remove()


def test_signing_out_clears_the_notes_kept_in_the_browser(open_page, live_server):  # noqa: F811
    """A closed session's notes kept for offline editing must not stay on a shared computer."""
    world = build_world(live_server)
    page = open_notes(open_page(), live_server, world.emails["note_taker"], world.sessions["closed_live"])
    kept = "indexedDB.databases().then((all) => all.map((d) => d.name).filter((n) => n.startsWith('baraza-notes-')))"

    def wait_until(wanted):
        for _ in range(50):
            if wanted(page.evaluate(kept)):
                return
            page.wait_for_timeout(100)
        raise AssertionError(f"notes kept in the browser: {page.evaluate(kept)}")

    wait_until(lambda names: len(names) == 1)
    page.goto(live_server.url + "/")  # the notes page is closed when they sign out (another tab, say)
    with page.expect_navigation():
        page.locator("form[action$='/logout'] button").click()
    wait_until(lambda names: names == [])
