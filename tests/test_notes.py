"""Collective notes in process: the agenda template, permissions, versions, publishing, exports, actions.

The sync itself runs over real sockets in test_notes_sync.py.
"""

from __future__ import annotations

import contextlib
import io
import re
import zlib
from datetime import date

import pytest
from conftest import message_body

from workspace import permissions
from workspace.board.models import Board
from workspace.extensions import db
from workspace.notes import crdt, services, store
from workspace.notes.models import FollowUpAction, NoteContributor, NoteDoc, NotesNotice, NoteSummary, NoteVersion
from workspace.realtime.protocol import Refused

WORLD_TEXT = "Arabic: مرحبا بالعالم. Chinese: 你好，世界. Russian: Привет, мир."


@pytest.fixture(autouse=True)
def request_context(app):
    """Services run inside a request (or a socket event) in the app: the template's strings need a locale."""
    with app.test_request_context():
        yield


@pytest.fixture
def people(create_user, create_exchange, add_member):
    users = {
        role: create_user(email=f"{role}@example.org", name=f"{role.title()} Person")
        for role in ("coordinator", "moderator", "note_taker", "participant", "observer", "invitee", "outsider")
    }
    exchange = create_exchange(coordinator=users["coordinator"])
    for role in ("moderator", "note_taker", "participant", "observer"):
        add_member(exchange, users[role], role=role)
    return exchange, users


@pytest.fixture
def closed(people, create_session, invite_to_session):
    exchange, users = people
    session = create_session(
        exchange, mode="closed", status="ended", agenda=[("Water tariffs", 20), ("الهيئات التنظيمية", 30)]
    )
    session.agenda_items[0].expected_outcome = "Three tariff options compared"
    db.session.commit()
    invite_to_session(session, users["invitee"])
    return session


def write(session, person: str, name: str, value: str, attrs: dict | None = None) -> int:
    """An edit as a client would send it: a Yjs update appended at the end of the current document."""
    store.ensure_doc(session)
    doc = store.load_doc(session.id)
    before = doc.get_state()
    text = crdt.text_of(doc)
    text.insert(len(str(text).encode()), value, attrs or {})  # pycrdt's offsets are UTF-8 bytes
    return store.append(session.id, doc.get_update(before), person, name)


def login(auth, users, who):
    auth.login(users[who].email)


# --- the template and the document ----------------------------------------------------------------------


def test_first_open_builds_the_agenda_template(closed):
    store.ensure_doc(closed)
    delta = crdt.delta_of(store.load_doc(closed.id))
    lines = {}
    text = ""
    for op in delta:
        for piece in re.split(r"(\n)", op["insert"]):
            if piece == "\n":
                lines[text] = op.get("attributes") or {}
                text = ""
            else:
                text += piece
    assert lines[closed.title] == {"header": 1}
    assert lines["Water tariffs"] == {"header": 2} and lines["الهيئات التنظيمية"] == {"header": 2}
    assert lines["Key learning points"] == {"header": 2}
    assert lines["Follow-up actions"] == {"header": 2}
    assert "Expected outcome: Three tariff options compared" in lines
    bold = [op for op in delta if op.get("attributes") == {"bold": True}]
    assert bold and bold[0]["insert"] == "Expected outcome:"
    # Written once: opening again does not add a second template.
    store.ensure_doc(closed)
    assert crdt.plain_text(store.load_doc(closed.id)).count("Key learning points") == 1


def test_updates_are_stored_then_compacted_without_loss(app, closed):
    for n in range(30):
        write(closed, "u:1", "Writer", f"line {n}\n")
    assert db.session.get(NoteDoc, closed.id).last_seq == 30
    before = crdt.plain_text(store.load_doc(closed.id))
    store.compact(closed.id)
    doc = db.session.get(NoteDoc, closed.id)
    db.session.refresh(doc)
    assert doc.snapshot_seq == 30 and doc.pending_bytes == 0
    assert db.session.execute(db.select(db.func.count()).select_from(store.NoteUpdate)).scalar_one() == 0
    assert crdt.plain_text(store.load_doc(closed.id)) == before
    write(closed, "u:1", "Writer", "after compaction")
    assert crdt.plain_text(store.load_doc(closed.id)).endswith("after compaction")


def test_malformed_and_oversized_updates_are_refused(app, closed):
    store.ensure_doc(closed)
    for bad in (b"\x01\x02garbage", b"\xff" * 40, b"\x00"):
        with pytest.raises(Refused) as refused:
            store.check_update(bad)
        assert refused.value.code == "notes_malformed"
    with pytest.raises(Refused) as refused:
        store.check_update(b"\x00" * (app.config["NOTES_MAX_UPDATE_BYTES"] + 1))
    assert refused.value.code == "notes_too_large"
    app.config["NOTES_MAX_DOC_BYTES"] = len(db.session.get(NoteDoc, closed.id).snapshot) + 2000
    write(closed, "u:1", "Writer", "x" * 500)
    with pytest.raises(Refused) as refused:
        write(closed, "u:1", "Writer", "y" * 3000)
    assert refused.value.code == "notes_too_large"
    assert "y" * 100 not in crdt.plain_text(store.load_doc(closed.id))  # nothing stored, nothing corrupted


def test_the_guard_catches_panics_but_not_exits():
    class PanicException(BaseException):  # what pyo3 raises for a Rust panic
        pass

    def panic():
        raise PanicException("index out of bounds")

    with pytest.raises(Refused):
        crdt.guarded(panic)
    for passing in (KeyboardInterrupt, SystemExit, crdt.GreenletExit):

        def stop(kind=passing):
            raise kind()

        with pytest.raises(passing):
            crdt.guarded(stop)


# --- who may do what ----------------------------------------------------------------------------------------


def test_editing_rights_follow_the_session_setting(app, closed, people):
    _exchange, users = people
    editors = {who for who, user in users.items() if permissions.can_edit_notes(user, closed)}
    assert editors == {"coordinator", "moderator", "note_taker"}
    readers = {who for who, user in users.items() if permissions.can_read_notes(user, closed)}
    assert readers == {"coordinator", "moderator", "note_taker", "participant", "observer", "invitee"}
    services.set_editors(closed, "everyone")
    editors = {who for who, user in users.items() if permissions.can_edit_notes(user, closed)}
    assert editors == readers
    assert not permissions.can_read_notes(None, closed)


def test_open_session_outsiders_see_notes_only_once_published(app, client, auth, people, create_session):
    exchange, users = people
    session = create_session(exchange, mode="open", status="ended")
    write(session, "u:1", "Writer", "Open notes body")
    assert client.get(f"/sessions/{session.id}/notes").status_code == 404
    assert client.get(f"/sessions/{session.id}/notes/summary").status_code == 404
    services.publish(session, users["moderator"])
    r = client.get(f"/sessions/{session.id}/notes")
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/sessions/{session.id}/notes/summary")
    page = client.get(f"/sessions/{session.id}/notes/summary").get_data(as_text=True)
    assert "Open notes body" in page and "Confidential" not in page
    login(auth, users, "outsider")
    assert client.get(f"/sessions/{session.id}/notes/summary.md").status_code == 200


def test_closed_notes_never_reach_outsiders(app, client, auth, closed, people):
    _exchange, users = people
    write(closed, "u:1", "Writer", "Secret body")
    services.publish(closed, users["moderator"])
    for path in ("", "/summary", "/summary.md", "/summary.pdf", "/versions"):
        assert client.get(f"/sessions/{closed.id}/notes{path}").status_code in (302, 404)
    login(auth, users, "outsider")
    for path in ("", "/summary", "/summary.md", "/summary.html", "/summary.docx"):
        response = client.get(f"/sessions/{closed.id}/notes{path}")
        assert response.status_code == 404
        assert b"Secret body" not in response.data


def test_editor_page_loads_its_own_bundle_and_the_live_page_stays_light(app, client, auth, people, create_session):
    exchange, users = people
    session = create_session(exchange, mode="closed", status="live")
    login(auth, users, "note_taker")
    page = client.get(f"/sessions/{session.id}/notes").get_data(as_text=True)
    assert "vendor/notes.min.js" in page and 'data-editable="true"' in page
    live = client.get(f"/sessions/{session.id}/live").get_data(as_text=True)
    assert "notes.min.js" not in live and f"/sessions/{session.id}/notes" in live
    detail = client.get(f"/sessions/{session.id}").get_data(as_text=True)
    assert f"/sessions/{session.id}/notes" in detail
    auth.logout()
    login(auth, users, "participant")
    page = client.get(f"/sessions/{session.id}/notes").get_data(as_text=True)
    assert 'data-editable="false"' in page


def test_editors_setting_is_for_moderators(app, client, auth, closed, people):
    _exchange, users = people
    login(auth, users, "note_taker")
    assert client.post(f"/sessions/{closed.id}/notes/settings", data={"editors": "everyone"}).status_code == 403
    auth.logout()
    login(auth, users, "moderator")
    assert client.post(f"/sessions/{closed.id}/notes/settings", data={"editors": "everyone"}).status_code == 302
    assert db.session.get(NoteDoc, closed.id).editors == "everyone"
    assert permissions.can_edit_notes(users["participant"], closed)


# --- versions -----------------------------------------------------------------------------------------------


def test_named_versions_can_be_browsed_and_restored(app, client, auth, closed, people):
    _exchange, users = people
    write(closed, "u:1", "Writer", "First draft of the lessons: مرحبا، 你好, привет.")
    login(auth, users, "note_taker")
    assert client.post(f"/sessions/{closed.id}/notes/versions", data={"name": "Before lunch"}).status_code == 302
    version = db.session.execute(db.select(NoteVersion)).scalar_one()
    assert version.name == "Before lunch" and version.created_by_name == "Note_Taker Person"
    kept = crdt.plain_text(store.load_doc(closed.id))
    write(closed, "u:1", "Writer", " A later paragraph that will go.", {"bold": True})
    listing = client.get(f"/sessions/{closed.id}/notes/versions").get_data(as_text=True)
    assert "Before lunch" in listing
    shown = client.get(f"/sessions/{closed.id}/notes/versions/{version.id}").get_data(as_text=True)
    assert "First draft of the lessons: مرحبا، 你好, привет." in shown and "later paragraph" not in shown
    r = client.post(f"/sessions/{closed.id}/notes/versions/{version.id}/restore")
    assert r.status_code == 302
    assert crdt.plain_text(store.load_doc(closed.id)) == kept
    auth.logout()
    login(auth, users, "participant")  # a reader: may browse, not restore
    assert client.get(f"/sessions/{closed.id}/notes/versions/{version.id}").status_code == 200
    assert client.post(f"/sessions/{closed.id}/notes/versions/{version.id}/restore").status_code == 403


# --- publishing and exports ---------------------------------------------------------------------------------


def test_publishing_tells_every_participant_in_the_app_and_by_email(
    smtp_server, config, app, client, auth, closed, people
):
    _exchange, users = people
    app.config.update(MAIL_SERVER=config.MAIL_SERVER, MAIL_PORT=config.MAIL_PORT)  # the app came first
    write(closed, "u:3", "Note_Taker Person", WORLD_TEXT)
    login(auth, users, "moderator")
    r = client.post(f"/sessions/{closed.id}/notes/publish")
    assert r.status_code == 302 and r.headers["Location"].endswith("/notes/summary")
    summary = db.session.get(NoteSummary, closed.id)
    assert "مرحبا بالعالم" in summary.html and 'dir="auto"' in summary.html
    recipients = {m["To"] for m in smtp_server}
    expected = {
        users[w].email for w in ("coordinator", "moderator", "note_taker", "participant", "observer", "invitee")
    }
    assert recipients == expected
    body = message_body(smtp_server[0])
    assert f"/sessions/{closed.id}/notes/summary" in body and "Confidential" in body
    assert db.session.execute(db.select(db.func.count()).select_from(NotesNotice)).scalar_one() == len(expected)
    auth.logout()
    login(auth, users, "participant")
    home = client.get("/").get_data(as_text=True)
    assert f"/sessions/{closed.id}/notes/summary" in home
    client.get(f"/sessions/{closed.id}/notes/summary")
    assert f"/sessions/{closed.id}/notes/summary" not in client.get("/").get_data(as_text=True)  # read: gone


def test_publishing_waits_for_the_end_of_the_session(app, client, auth, people, create_session):
    exchange, users = people
    session = create_session(exchange, mode="closed", status="live")
    login(auth, users, "moderator")
    client.post(f"/sessions/{session.id}/notes/publish")
    assert db.session.get(NoteSummary, session.id) is None
    auth.logout()
    session.status = "ended"
    db.session.commit()
    login(auth, users, "note_taker")
    assert client.post(f"/sessions/{session.id}/notes/publish").status_code == 403


def pdf_fonts_and_text(pdf: bytes) -> tuple[set[str], str]:
    """Font names and the ToUnicode maps of a PDF (its streams are compressed)."""
    streams = b""
    for match in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        with contextlib.suppress(zlib.error):  # not every stream is compressed
            streams += zlib.decompress(match.group(1))
    fonts = {f.decode().split("+")[-1] for f in re.findall(rb"/BaseFont\s*/([A-Za-z0-9+\-_]+)", pdf + streams)}
    chars = "".join(chr(int(h, 16)) for h in re.findall(rb"<[0-9a-f]{4}> <([0-9a-f]{4})>", streams))
    return fonts, chars


def export_all(client, session_id) -> dict[str, bytes]:
    out = {}
    for fmt in ("md", "html", "pdf", "docx"):
        response = client.get(f"/sessions/{session_id}/notes/summary.{fmt}")
        assert response.status_code == 200, fmt
        assert "attachment" in response.headers["Content-Disposition"]
        out[fmt] = response.data
    return out


def docx_text(data: bytes) -> str:
    from docx import Document

    document = Document(io.BytesIO(data))
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        parts += [cell.text for row in table.rows for cell in row.cells]
    parts += [p.text for s in document.sections for p in s.header.paragraphs + s.footer.paragraphs]
    parts.append(document.core_properties.author or "")
    return "\n".join(parts)


def test_exports_carry_the_notes_in_every_format(app, client, auth, closed, people):
    _exchange, users = people
    write(closed, "u:3", "Note_Taker Person", WORLD_TEXT + "\n")
    write(closed, "u:3", "Note_Taker Person", "Decision", {"bold": True})
    db.session.add(
        FollowUpAction(session_id=closed.id, what="Share the tariff model", who="Lucía Gómez", due_on=date(2031, 5, 1))
    )
    db.session.commit()
    services.publish(closed, users["moderator"])
    login(auth, users, "participant")
    files = export_all(client, closed.id)
    md, html = files["md"].decode(), files["html"].decode()
    for text in (md, html, docx_text(files["docx"])):
        assert "مرحبا بالعالم" in text and "你好，世界" in text and "Привет, мир" in text
        assert "Water tariffs" in text and "Share the tariff model" in text
        assert "Confidential" in text  # a closed session
        assert "Note_Taker Person" in text and "Lucía Gómez" in text  # attribution is on
    assert "**Decision**" in md and "<strong>Decision</strong>" in html and 'dir="auto"' in html
    assert "# Water tariffs" in md.replace("## Water tariffs", "# Water tariffs")
    assert files["pdf"].startswith(b"%PDF")
    fonts, chars = pdf_fonts_and_text(files["pdf"])
    assert any("Arabic" in f for f in fonts), fonts  # Arabic shaped with an Arabic font, not boxes
    assert any("WenQuanYi" in f or "CJK" in f for f in fonts), fonts
    assert {"م", "你", "П", "C"} <= set(chars)  # Confidential, Arabic, Chinese, Cyrillic glyphs are there
    from docx import Document

    rtl = [p for p in Document(io.BytesIO(files["docx"])).paragraphs if "مرحبا" in p.text]
    props = rtl[0]._p.pPr
    assert props is None or props.find("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}bidi") is None
    # (that paragraph starts with Latin "Arabic:", so it is left to right; an Arabic one is right to left)


def test_rtl_paragraphs_are_marked_in_docx(app, client, auth, closed, people):
    _exchange, users = people
    write(closed, "u:3", "Note_Taker Person", "مرحبا بالعالم\n")
    services.publish(closed, users["moderator"])
    login(auth, users, "participant")
    from docx import Document

    data = client.get(f"/sessions/{closed.id}/notes/summary.docx").data
    paragraph = next(p for p in Document(io.BytesIO(data)).paragraphs if p.text == "مرحبا بالعالم")
    assert paragraph._p.pPr.find("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}bidi") is not None


def test_non_attribution_exports_name_nobody(app, client, auth, closed, people):
    _exchange, users = people
    write(closed, "u:3", "Note_Taker Person", "What we learnt.\n")
    db.session.add(Board(session_id=closed.id, non_attribution=True))
    db.session.add(FollowUpAction(session_id=closed.id, what="Draft the decree", who="Lucía Gómez"))
    db.session.commit()
    assert db.session.execute(db.select(NoteContributor.name)).scalars().all() == ["Note_Taker Person"]
    services.publish(closed, users["moderator"])
    login(auth, users, "participant")
    files = export_all(client, closed.id)
    texts = [files["md"].decode(), files["html"].decode(), docx_text(files["docx"])]
    page = client.get(f"/sessions/{closed.id}/notes/summary").get_data(as_text=True)
    for text in (*texts, page):
        assert "What we learnt." in text and "Draft the decree" in text and "Confidential" in text
        for name in ("Note_Taker Person", "Moderator Person", "Lucía Gómez"):
            assert name not in text
    pdf = files["pdf"]
    _fonts, chars = pdf_fonts_and_text(pdf)
    assert "Moderator Person" not in pdf.decode("latin-1")


def test_open_session_exports_are_not_marked_confidential(app, client, people, create_session):
    exchange, users = people
    session = create_session(exchange, mode="open", status="ended")
    write(session, "u:1", "Writer", "Public lessons\n")
    services.publish(session, users["moderator"])
    files = export_all(client, session.id)
    assert "Confidential" not in files["md"].decode() and "Confidential" not in files["html"].decode()
    assert "Public lessons" in docx_text(files["docx"]) and "Confidential" not in docx_text(files["docx"])


# --- follow-up actions ----------------------------------------------------------------------------------


def test_follow_up_actions_appear_in_the_exchange_overview(
    app, client, auth, closed, people, create_user, create_exchange
):
    exchange, users = people
    login(auth, users, "note_taker")
    r = client.post(
        f"/sessions/{closed.id}/notes/actions",
        data={"what": "Send the regulator's checklist", "who": "Team KE", "due_on": "2031-02-03"},
    )
    assert r.status_code == 302
    action = db.session.execute(db.select(FollowUpAction)).scalar_one()
    assert action.due_on == date(2031, 2, 3) and action.status == "open"
    overview = client.get(f"/exchanges/{exchange.id}").get_data(as_text=True)
    assert "Send the regulator&#39;s checklist" in overview and "2031-02-03" in overview
    client.post(f"/sessions/{closed.id}/notes/actions/{action.id}", data={"status": "done"})
    db.session.refresh(action)
    assert action.status == "done"
    auth.logout()
    login(auth, users, "participant")
    assert client.post(f"/sessions/{closed.id}/notes/actions", data={"what": "x"}).status_code == 403
    assert "Send the regulator" in client.get(f"/exchanges/{exchange.id}").get_data(as_text=True)
    auth.logout()
    other = create_exchange(coordinator=users["outsider"], title="Elsewhere")
    login(auth, users, "outsider")
    assert "Send the regulator" not in client.get(f"/exchanges/{other.id}").get_data(as_text=True)
    assert client.get(f"/exchanges/{exchange.id}").status_code == 404
    auth.logout()
    login(auth, users, "note_taker")
    action_id = action.id
    client.post(f"/sessions/{closed.id}/notes/actions/{action_id}/delete")
    db.session.expire_all()
    assert db.session.get(FollowUpAction, action_id) is None
