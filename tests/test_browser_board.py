"""Browser tests of the live board: contributions and their moderation, XSS, the speaker queue, polls, people.

Playwright drives Debian's chromium (never `playwright install`) against the real server. Assertions are on
structure, ids and data-* attributes, not on wording. One server serves the module; each test builds its world.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import LiveServer
from playwright.sync_api import expect
from realtime_support import LiveClient, build_world, http_session, server_app
from test_browser_live import AXE_PATH, PHONE, enter, open_page, sign_in  # noqa: F401  (open_page is a fixture)

from config import BASE_DIR
from workspace.extensions import db
from workspace.realtime.models import SessionEvent

pytestmark = [pytest.mark.browser, pytest.mark.live]

SCREENSHOT = Path("/tmp/live-board-ar.png")


@pytest.fixture(scope="module")
def live_server(tmp_path_factory):
    server = LiveServer(tmp_path_factory.mktemp("live-board"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


def join_as_guest(page, server, code: str, name: str):
    page.goto(f"{server.url}/join/{code}")
    page.fill("#display_name", name)
    with page.expect_navigation():
        page.locator("main form.form button[type=submit]").click()
    expect(page.locator("#live-connection")).to_have_attribute("data-state", "connected")
    return page


def contribute(page, text: str) -> None:
    page.fill("#board-body", text)
    page.locator("#board-composer button[type=submit]").click()


def name_of(world, kind: str) -> str:
    """Display names in build_world: the kind, titled, and the world's tag (also in the email address)."""
    tag = world.emails[kind].split("@")[0].rsplit("-", 1)[1]
    return f"{kind.replace('_', ' ').title()} {tag}"


def card(page, text: str):
    """The board's entry whose body contains `text`."""
    return page.locator("#board-list li.contrib", has=page.locator(":scope > article .contrib-body", has_text=text))


def own(entry, selector: str):
    """Inside an entry's own card, not in its replies."""
    return entry.locator(":scope > article").locator(selector)


def test_a_guest_contribution_is_approved_and_pinned_and_others_see_it(open_page, live_server):  # noqa: F811
    world = build_world(live_server, {"open_live": {"mode": "open", "status": "live", "guest_policy": "open"}})
    session_id, code = world.sessions["open_live"], world.codes["open_live"]
    mod = enter(open_page(), live_server, world.emails["coordinator"], session_id)
    peer = enter(open_page(), live_server, world.emails["participant"], session_id)
    guest = join_as_guest(open_page(), live_server, code, "Zawadi Guest")

    # Open sessions are pre-moderated: the guest's words wait, shown only to the guest and to moderators.
    text = "How do you *fund* the regulator?"
    contribute(guest, text)
    expect(guest.locator("#board-mine-list li")).to_have_count(1)
    expect(guest.locator("#board-mine-list li .contrib-body em")).to_have_text("fund")
    expect(guest.locator("#board-body")).to_have_value("")
    waiting = mod.locator("#board-queue-list li")
    expect(waiting).to_have_count(1)
    expect(waiting.locator(".contrib-author")).to_have_text("Zawadi Guest")
    expect(waiting.locator(".contrib-guest")).to_be_visible()
    expect(mod.locator("#board-queue-count")).to_have_text("1")
    assert peer.locator("#board-list li").count() == 0
    assert peer.locator("#board-queue").count() == 0  # no moderation tools for a participant

    waiting.locator("[data-board='approve']").click()
    expect(mod.locator("#board-queue-list li")).to_have_count(0)
    entry = card(peer, "How do you")
    expect(entry).to_have_count(1)
    expect(own(entry, ".contrib-author")).to_have_text("Zawadi Guest")
    expect(own(entry, ".contrib-guest")).to_be_visible()
    expect(own(entry, ".contrib-pinned")).to_be_hidden()
    expect(guest.locator("#board-mine")).to_be_hidden()
    expect(own(card(guest, "How do you"), ".contrib-you")).to_be_visible()

    # The moderator pins it: the third participant sees it pinned, above a newer contribution.
    contribute(mod, "A newer point from the chair")
    expect(peer.locator("#board-list > li.contrib")).to_have_count(2)
    expect(peer.locator("#board-list > li.contrib").first.locator(".contrib-body")).to_contain_text("newer point")
    mod_entry = card(mod, "How do you")
    own(mod_entry, ".contrib-mod summary").click()
    own(mod_entry, "[data-board='pin']").click()
    expect(own(entry, ".contrib-pinned")).to_be_visible()
    expect(peer.locator("#board-list > li.contrib").first.locator(".contrib-body")).to_contain_text("How do you")
    assert "contrib-is-pinned" in entry.get_attribute("class")

    # Support: pressed for the supporter, counted for everyone.
    vote = own(entry, "[data-board='vote']")
    vote.click()
    expect(vote).to_have_attribute("aria-pressed", "true")
    expect(own(card(mod, "How do you"), ".contrib-votes")).to_have_text("1")

    # A reply sits under its parent; the chair highlights the question for everyone.
    own(entry, "[data-board='reply']").click()
    reply_form = own(entry, "form.board-write")
    reply_form.locator("textarea").fill("We use a levy on utilities.")
    reply_form.locator("button[type=submit]").click()
    # The participant's reply is held too (pre-moderation); the moderator approves it.
    mod.locator("#board-queue-list li [data-board='approve']").click()
    expect(entry.locator(".contrib-replies li.contrib-reply")).to_have_count(1)
    expect(card(mod, "How do you").locator(".contrib-replies li .contrib-body")).to_have_text(
        "We use a levy on utilities."
    )
    own(mod_entry, "[data-board='highlight']").click()
    expect(guest.locator("#board-highlight")).to_be_visible()
    expect(guest.locator("#board-highlight .board-highlight-body")).to_contain_text("How do you")


XSS_PAYLOADS = [
    "<script>window.__xss = 1</script>",
    '<img src=x onerror="window.__xss = 2">',
    '<svg onload="window.__xss = 3">',
    "[click me](javascript:window.__xss=4)",
    '<a href="javascript:window.__xss=5">x</a>',
    '"><script>window.__xss = 6</script>',
    '<iframe src="javascript:window.__xss=7"></iframe>',
    '**<b onmouseover="window.__xss = 8">bold</b>**',
    "<style>*{display:none}</style>",
    "javascript:window.__xss=10",
    '[x](JaVaScRiPt:window.__xss=11) <details open ontoggle="window.__xss=12">',
    '![img](x" onerror="window.__xss=13)',
    '<math><mtext><table><mglyph><style><img src=x onerror="window.__xss=14">',
    '`<img src=x onerror="window.__xss=15">`',
    "[a](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
]


def test_contributions_cannot_run_script_or_break_the_page(open_page, live_server):  # noqa: F811
    world = build_world(live_server, {"closed_live": {"mode": "closed", "status": "live"}})
    session_id = world.sessions["closed_live"]
    dialogs = []
    watcher = enter(open_page(), live_server, world.emails["participant"], session_id)  # follows the events
    watcher.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    watcher.evaluate("window.__xss = 0")

    author = LiveClient(live_server, http_session(live_server, world.emails["observer"]), session_id)
    try:
        for payload in XSS_PAYLOADS[:-3]:
            assert author.act("board.post", body=payload)["ok"], payload
        # Some through the page's own composer too.
        for payload in XSS_PAYLOADS[-3:]:
            contribute(watcher, payload)
        expect(watcher.locator("#board-list > li.contrib")).to_have_count(len(XSS_PAYLOADS))
    finally:
        author.disconnect()

    fresh = enter(open_page(), live_server, world.emails["note_taker"], session_id)  # draws them from the snapshot
    fresh.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    fresh.evaluate("window.__xss = 0")
    expect(fresh.locator("#board-list > li.contrib")).to_have_count(len(XSS_PAYLOADS))
    for page in (watcher, fresh):
        board = page.locator("#board")
        board.locator(".contrib-body").first.hover()
        for b in board.locator(".contrib-body b, .contrib-body strong").all():
            b.hover()
        page.wait_for_timeout(300)
        found = page.evaluate(
            """() => {
                const board = document.getElementById("board");
                const bad = board.querySelectorAll(
                    "script, iframe, img, svg, math, style, object, embed, details,"
                    + "[onerror], [onload], [onmouseover], [ontoggle]");
                const links = Array.from(board.querySelectorAll("a[href]")).map(a => a.getAttribute("href"))
                    .filter(h => !/^(https?:|mailto:)/i.test(h.trim()));
                return {xss: window.__xss, bad: Array.from(bad).map(e => e.outerHTML), links: links};
            }"""
        )
        assert found == {"xss": 0, "bad": [], "links": []}, found
        # The text survives as text: what was typed is readable, not executed.
        expect(card(page, "window.__xss = 1")).to_have_count(1)
    assert dialogs == []


def test_hand_floor_and_a_poll_from_question_to_closed_results(open_page, live_server):  # noqa: F811
    world = build_world(live_server, {"closed_live": {"mode": "closed", "status": "live"}})
    session_id = world.sessions["closed_live"]
    mod = enter(open_page(), live_server, world.emails["coordinator"], session_id)
    peer = enter(open_page(), live_server, world.emails["participant"], session_id)

    # A time limit per speaker, so the floor comes with a countdown.
    mod.fill("#board-speaker-seconds", "120")
    mod.locator("#board-settings button[type=submit]").click()
    expect(peer.locator("#hand-button")).to_be_enabled()
    peer.locator("#hand-button").click()
    expect(peer.locator("#hand-button")).to_have_attribute("data-state", "waiting")
    expect(mod.locator("#speaker-waiting li")).to_have_count(1)
    expect(mod.locator("#speaker-next bdi")).to_have_text(name_of(world, "participant"))
    mod.locator("[data-board='floor-next']").click()
    expect(peer.locator("#speaker-name")).to_have_text(name_of(world, "participant"))
    expect(peer.locator("#hand-button")).to_have_attribute("data-state", "speaking")
    expect(peer.locator("#speaker-countdown")).to_be_visible()
    assert peer.locator("#speaker-countdown").inner_text() in {"02:00", "01:59", "01:58", "01:57"}
    expect(peer.locator("#speakers-announce")).not_to_be_empty()
    expect(peer.locator("#speaker-waiting li")).to_have_count(0)
    expect(mod.locator("#speaker-stats-body table")).not_to_have_count(0)
    mod.locator("[data-board='floor-end']").click()
    expect(peer.locator("#speaker-now")).to_be_hidden()
    expect(peer.locator("#hand-button")).to_have_attribute("data-state", "none")

    # A poll, opened at once, results after closing.
    mod.locator(".poll-new summary").click()
    mod.fill("#poll-question", "Which tariff model?")
    mod.fill("#poll-choice-1", "Flat rate")
    mod.fill("#poll-choice-2", "Increasing blocks")
    mod.select_option("#poll-show", "after_close")
    mod.locator("#poll-create button[name=open][value='1']").click()
    poll = peer.locator("#poll-list li.poll")
    expect(poll).to_have_count(1)
    expect(poll).to_have_attribute("data-status", "open")
    expect(poll.locator(".poll-results")).to_be_hidden()
    poll.locator("label.poll-choice").nth(1).click()
    poll.locator(".poll-submit").click()
    expect(poll.locator(".poll-done")).to_be_visible()
    expect(poll.locator(".poll-submit")).to_be_hidden()
    expect(poll.locator(".poll-results")).to_be_hidden()  # not before the poll closes
    mod_poll = mod.locator("#poll-list li.poll")
    expect(mod_poll.locator(".poll-results meter").nth(1)).to_have_attribute("value", "1")  # moderators: live
    mod_poll.locator("[data-board='poll-close']").click()
    expect(poll).to_have_attribute("data-status", "closed")
    expect(poll.locator(".poll-results")).to_be_visible()
    meters = poll.locator(".poll-results meter")
    expect(meters).to_have_count(2)
    expect(meters.nth(0)).to_have_attribute("value", "0")
    expect(meters.nth(1)).to_have_attribute("value", "1")


def test_muted_removed_and_let_back_in(open_page, live_server):  # noqa: F811
    world = build_world(live_server, {"closed_live": {"mode": "closed", "status": "live"}})
    session_id = world.sessions["closed_live"]
    mod = enter(open_page(), live_server, world.emails["coordinator"], session_id)
    peer = enter(open_page(), live_server, world.emails["participant"], session_id)
    person = f"u:{world.users['participant']}"

    mod.locator(f"#live-people [data-board='mute'][data-person='{person}']").click()
    expect(peer.locator("#board-muted")).to_be_visible()
    expect(peer.locator("#board-body")).to_be_disabled()
    expect(peer.locator("#hand-button")).to_be_disabled()
    expect(mod.locator("#restrictions-list li")).to_have_count(1)
    mod.locator("#restrictions-list [data-board='unmute']").click()
    expect(peer.locator("#board-muted")).to_be_hidden()
    expect(peer.locator("#board-body")).to_be_enabled()

    mod.once("dialog", lambda d: d.accept())
    mod.locator(f"#live-people [data-board='remove'][data-person='{person}']").click()
    expect(peer.locator("#live-stopped")).to_be_visible()
    expect(mod.locator("#restrictions-list [data-board='readmit']")).to_have_count(1)
    mod.locator("#restrictions-list [data-board='readmit']").click()
    expect(mod.locator("#restrictions-list li")).to_have_count(0)


def test_a_locked_board_is_read_only_and_a_refusal_shows_beside_the_composer(open_page, live_server):  # noqa: F811
    world = build_world(live_server, {"closed_live": {"mode": "closed", "status": "live"}})
    session_id = world.sessions["closed_live"]
    mod = enter(open_page(), live_server, world.emails["coordinator"], session_id)
    peer = enter(open_page(), live_server, world.emails["participant"], session_id)

    mod.fill("#board-slow-seconds", "600")
    mod.locator("#board-settings button[type=submit]").click()
    expect(peer.locator("#board-slow")).to_be_visible()
    contribute(peer, "First point")
    expect(card(peer, "First point")).to_have_count(1)
    contribute(peer, "Second point, too soon")
    expect(peer.locator("#board-status")).not_to_be_empty()
    expect(peer.locator("#board-body")).to_have_value("Second point, too soon")  # given back to rewrite later
    assert peer.locator("#live-alert").inner_text() == ""

    mod.locator("#board-settings input[name=locked]").check()
    mod.locator("#board-settings button[type=submit]").click()
    expect(peer.locator("#board-locked")).to_be_visible()
    expect(peer.locator("#board-body")).to_be_disabled()
    expect(own(card(peer, "First point"), "[data-board='vote']")).to_be_disabled()
    expect(mod.locator("#board-body")).to_be_enabled()  # moderators may still write on a locked board

    mod.once("dialog", lambda d: d.accept())
    mod.locator("[data-action='session.end']").click()
    expect(peer.locator("#board-closed")).to_be_visible()
    expect(mod.locator("#board-body")).to_be_disabled()
    expect(peer.locator("#hand-button")).to_be_disabled()


def test_authors_edit_and_withdraw_and_non_attribution_hides_names(open_page, live_server):  # noqa: F811
    world = build_world(live_server, {"closed_live": {"mode": "closed", "status": "live"}})
    session_id = world.sessions["closed_live"]
    mod = enter(open_page(), live_server, world.emails["coordinator"], session_id)
    peer = enter(open_page(), live_server, world.emails["participant"], session_id)
    other = enter(open_page(), live_server, world.emails["observer"], session_id)

    contribute(peer, "Tariffs are *too* low")
    entry = card(peer, "Tariffs are")
    own(entry, "[data-board='edit']").click()
    field = own(entry, "form.board-write textarea")
    expect(field).to_have_value("Tariffs are *too* low")  # the Markdown, back from the HTML
    field.fill("Tariffs are **far too** low")
    own(entry, "form.board-write button[type=submit]").click()
    seen = card(other, "Tariffs are")
    expect(own(seen, ".contrib-body strong")).to_have_text("far too")
    expect(own(seen, ".contrib-edited")).to_be_visible()
    expect(own(seen, "[data-board='edit']")).to_be_hidden()  # only the author may
    expect(own(seen, ".contrib-author")).to_have_text(name_of(world, "participant"))

    mod.locator("#board-settings input[name=non_attribution]").check()
    mod.locator("#board-settings button[type=submit]").click()
    expect(own(seen, ".contrib-author")).not_to_have_text(name_of(world, "participant"))
    contribute(peer, "Said without a name")
    expect(card(other, "Said without a name")).to_have_count(1)
    assert name_of(world, "participant") not in other.locator("#board").inner_text()
    expect(own(card(mod, "Said without a name"), ".contrib-author")).to_have_text(name_of(world, "participant"))
    mod.locator("#board-settings input[name=non_attribution]").uncheck()
    mod.locator("#board-settings button[type=submit]").click()
    expect(own(card(other, "Said without a name"), ".contrib-author")).to_have_text(name_of(world, "participant"))

    peer.once("dialog", lambda d: d.accept())
    own(entry, "[data-board='withdraw']").click()
    expect(card(other, "Tariffs are")).to_have_count(0)
    expect(card(mod, "Tariffs are")).to_have_count(0)


def test_a_post_written_offline_is_shown_as_sending_and_sent_when_back(open_page, live_server):  # noqa: F811
    world = build_world(live_server, {"closed_live": {"mode": "closed", "status": "live"}})
    session_id = world.sessions["closed_live"]
    peer = enter(open_page(), live_server, world.emails["participant"], session_id)
    peer.context.set_offline(True)
    expect(peer.locator("#live-connection")).to_have_attribute("data-state", "offline")
    contribute(peer, "Written on the train")
    expect(peer.locator("#board-mine-list li")).to_have_count(1)
    expect(peer.locator("#board-mine-list li .contrib-body")).to_have_text("Written on the train")
    [[entry]] = peer.evaluate(
        "Object.keys(localStorage).filter(k => k.startsWith('baraza.live.')).map(k => JSON.parse(localStorage[k]))"
    )
    assert entry["name"] == "board.post" and entry["data"]["body"] == "Written on the train"
    peer.context.set_offline(False)
    expect(card(peer, "Written on the train")).to_have_count(1, timeout=20_000)
    expect(peer.locator("#board-mine")).to_be_hidden()
    expect(own(card(peer, "Written on the train"), ".contrib-you")).to_be_visible()
    with server_app(live_server).app_context():
        sent = (
            db.session.execute(db.select(SessionEvent.client_id).filter_by(session_id=session_id, type="contribution"))
            .scalars()
            .all()
        )
    assert sent == [entry["data"]["cid"]]  # sent once, with the cid it was given offline


RUN_AXE = """async () => {
    const result = await axe.run(document, {resultTypes: ["violations"]});
    return {overflow: document.documentElement.scrollWidth - document.documentElement.clientWidth,
            violations: result.violations.filter(v => v.impact === "serious" || v.impact === "critical")
                .map(v => `[${v.impact}] ${v.id}: ${v.help} at ${v.nodes.slice(0, 3).map(n => n.target.join(" "))}`)};
}"""


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_the_board_has_no_serious_accessibility_violations(open_page, live_server, lang):  # noqa: F811
    if not AXE_PATH.exists():
        pytest.fail(f"axe-core is missing at {AXE_PATH}: run `npm ci` in {BASE_DIR}")
    world = build_world(live_server, {"closed_live": {"mode": "closed", "status": "live"}})
    session_id = world.sessions["closed_live"]
    peer = LiveClient(live_server, http_session(live_server, world.emails["participant"]), session_id)
    try:
        first = peer.act("board.post", body="Our *first* question:\n\n- tariffs\n- [the law](https://example.org/law)")
        assert first["ok"]
        ids = [e["data"]["contribution"]["id"] for e in peer.events if e["type"] == "contribution"]
        assert peer.act("board.post", body="A reply", parent_id=ids[0])["ok"]
        assert peer.act("hand.raise")["ok"]
        pages = []
        for email, viewport in [(world.emails["coordinator"], PHONE if lang == "ar" else None)] + (
            [(world.emails["participant"], PHONE)] if lang == "en" else []
        ):
            page = open_page(bypass_csp=True, viewport=viewport)
            sign_in(page, live_server, email)
            page.goto(f"{live_server.url}/language/{lang}")
            page.goto(f"{live_server.url}/sessions/{session_id}/live")
            expect(page.locator("#live-connection")).to_have_attribute("data-state", "connected")
            pages.append(page)
        mod = pages[0]
        expect(mod.locator("html")).to_have_attribute("dir", "rtl" if lang == "ar" else "ltr")
        mod.locator(".poll-new summary").click()
        mod.fill("#poll-question", "Which one?")
        mod.fill("#poll-choice-1", "This")
        mod.fill("#poll-choice-2", "That")
        mod.select_option("#poll-show", "live")
        mod.locator("#poll-create button[name=open][value='1']").click()
        expect(mod.locator("#poll-list li.poll")).to_have_count(1)
        assert peer.act(
            "poll.answer", poll_id=int(mod.locator("#poll-list li.poll").get_attribute("data-poll")), choices=[0]
        )["ok"]
        expect(mod.locator("#poll-list .poll-results")).to_be_visible()
        entry = card(mod, "first")
        expect(entry).to_have_count(1)
        own(entry, ".contrib-mod summary").click()
        own(entry, "[data-board='pin']").click()
        expect(own(entry, ".contrib-pinned")).to_be_visible()
        expect(mod.locator("#speaker-waiting li")).to_have_count(1)
        mod.locator("#speaker-stats summary").click()
        for page in pages:
            expect(page.locator("#board-list > li.contrib")).to_have_count(1)
            page.add_script_tag(path=str(AXE_PATH))
            result = page.evaluate(RUN_AXE)
            if lang == "ar":
                page.screenshot(path=str(SCREENSHOT), full_page=True)
            assert not result["violations"], "\n".join(result["violations"])
            assert result["overflow"] <= 0, f"the live page scrolls sideways by {result['overflow']}px"
    finally:
        peer.disconnect()
