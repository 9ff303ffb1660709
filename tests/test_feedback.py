"""Feedback forms: building, every question type end to end, bad input, once-only, anonymity, results, CSV."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from config import LANGUAGES
from workspace.extensions import db
from workspace.feedback import services
from workspace.feedback.exports import safe_cell
from workspace.feedback.models import FeedbackForm, FeedbackQuestion, FormState
from workspace.sessions import live
from workspace.sessions.models import ExchangeSession
from workspace.timeutil import utcnow

ALL_KINDS = [
    # kind, required, texts, options per language
    ("rating", True, {"en": "How relevant was it?", "fr": "Quelle pertinence ?"}, {}),
    ("scale", True, {"en": "How likely to recommend?", "fr": "Le recommanderiez-vous ?"}, {}),
    ("single", True, {"en": "Outcome reached?", "fr": "Résultat atteint ?"}, {"en": "Yes\nNo", "fr": "Oui\nNon"}),
    ("multiple", False, {"en": "What helped?"}, {"en": "Cases\nPeers\nVisits"}),
    ("short", False, {"en": "One word"}, {}),
    ("long", True, {"en": "What will you apply?", "ar": "ما الذي ستطبقه؟"}, {}),
]


def question_data(kind, required, texts, options) -> dict:
    data = {"kind": kind}
    if required:
        data["required"] = "y"
    for lang in LANGUAGES:
        data[f"text_{lang}"] = texts.get(lang, "")
        data[f"options_{lang}"] = options.get(lang, "")
    return data


@pytest.fixture
def people(create_user, create_exchange, add_member):
    coordinator = create_user(email="coord@example.org", name="Coordinator Amina")
    exchange = create_exchange(coordinator)
    members = [create_user(email=f"p{i}@example.org", name=f"Person {i}") for i in range(3)]
    for m in members:
        add_member(exchange, m)
    return coordinator, exchange, members


def build_form(client, auth, session, kinds=ALL_KINDS, anonymous=False, template="") -> FeedbackForm:
    """Through the builder's routes, as the coordinator; then opened by hand."""
    become(auth, "coord@example.org")
    data = {"template": template}
    if anonymous:
        data["anonymous"] = "y"
    assert client.post(f"/sessions/{session.id}/feedback", data=data).status_code == 302
    for spec in kinds:
        response = client.post(f"/sessions/{session.id}/feedback/questions/new", data=question_data(*spec))
        assert response.status_code == 302, response.get_data(as_text=True)
    assert client.post(f"/sessions/{session.id}/feedback/state", data={"state": "open"}).status_code == 302
    auth.logout()
    form = db.session.execute(db.select(FeedbackForm).filter_by(session_id=session.id)).scalar_one()
    db.session.refresh(form)
    assert form.current_state() == FormState.OPEN
    return form


def become(auth, email: str) -> None:
    auth.logout()
    auth.login(email)


def field_names(form) -> list[str]:
    return [f"q{q.id}" for q in form.questions]


def full_answers(form) -> dict:
    q = field_names(form)
    return {q[0]: "4", q[1]: "9", q[2]: "o1", q[3]: ["o1", "o2"], q[4]: "Mentoring", q[5]: "The registry model."}


def error_next_to(page: str, field: str) -> str | None:
    match = re.search(rf'<p class="error" id="{field}-error">(.*?)</p>', page, re.S)
    return match.group(1).strip() if match else None


def stored_rows(table: str) -> list[dict]:
    db.session.expire_all()
    rows = [dict(r._mapping) for r in db.session.execute(sa.text(f"SELECT * FROM {table}"))]  # noqa: S608
    for row in rows:  # SQLite hands JSON back as text
        for name in ("answers", "draft"):
            if isinstance(row.get(name), str):
                row[name] = json.loads(row[name])
    return rows


# --- building ---------------------------------------------------------------------------------------------


def test_templates_are_written_in_every_language(app, client, auth, people, create_session):
    coordinator, exchange, _ = people
    session = create_session(exchange)
    form = build_form(client, auth, session, kinds=[], template="session")
    assert [q.key for q in form.questions] == ["relevance", "outcomes", "moderation", "peers", "apply", "suggestions"]
    for q in form.questions:
        assert set(q.texts) == set(LANGUAGES) and all(q.texts.values())
        assert q.texts["fr"] != q.texts["en"] and q.texts["ar"] != q.texts["en"]
        for option in q.options:
            assert set(option["texts"]) == set(LANGUAGES)
    lessons = services.create_form(create_session(exchange), "lessons", True, True, None)
    assert {q.kind for q in lessons.questions} >= {"scale", "long", "multiple", "short", "rating"}


def test_builder_reorders_previews_and_validates(client, auth, people, create_session):
    _, exchange, _ = people
    session = create_session(exchange)
    form = build_form(client, auth, session)
    become(auth, "coord@example.org")
    first, second = form.questions[0].id, form.questions[1].id
    client.post(f"/feedback/questions/{first}/move", data={"direction": "down"})
    db.session.expire_all()
    assert [q.id for q in db.session.get(FeedbackForm, form.id).questions][:2] == [second, first]
    preview = client.get(f"/sessions/{session.id}/feedback/preview").get_data(as_text=True)
    assert "How relevant was it?" in preview and 'name="action"' not in preview
    # A choice question needs two options; a question needs a text.
    page = client.post(
        f"/sessions/{session.id}/feedback/questions/new", data=question_data("single", False, {"en": "Q"}, {"en": "A"})
    ).get_data(as_text=True)
    assert error_next_to(page, "options_en")
    page = client.post(
        f"/sessions/{session.id}/feedback/questions/new", data=question_data("short", False, {}, {})
    ).get_data(as_text=True)
    assert error_next_to(page, "text_en")


# --- every question type, end to end ------------------------------------------------------------------------


def test_every_question_type_end_to_end(app, client, auth, people, create_session):
    _, exchange, members = people
    session = create_session(exchange, status="ended")
    form = build_form(client, auth, session)
    for i, member in enumerate(members[:2]):
        become(auth, member.email)
        answers = full_answers(form)
        if i == 1:
            q = field_names(form)
            answers.update({q[0]: "2", q[1]: "10", q[2]: "o2", q[3]: ["o2"], q[4]: ""})
        response = client.post(f"/sessions/{session.id}/feedback/answer", data={**answers, "action": "submit"})
        assert response.status_code == 302, response.get_data(as_text=True)
        auth.logout()

    rows = stored_rows("feedback_responses")
    assert len(rows) == 2
    become(auth, "coord@example.org")
    page = client.get(f"/sessions/{session.id}/feedback/results").get_data(as_text=True)
    assert 'data-responses="2" data-participants="4"' in page
    averages = re.findall(r'data-average="([^"]*)"', page)
    assert [float(a) for a in averages] == [3.0, 9.5]
    assert "The registry model." in page and "Mentoring" in page
    assert "Person 0" in page  # a named form shows who answered
    assert page.count('<svg class="bar"') == 5 + 11 + 2 + 3

    # The respondent's language: the French text when there is one, English otherwise.
    client.set_cookie("baraza_lang", "fr")
    auth.logout()
    become(auth, members[2].email)
    client.get("/language/fr?next=/")
    answer_page = client.get(f"/sessions/{session.id}/feedback/answer").get_data(as_text=True)
    assert "Quelle pertinence ?" in answer_page and "Oui" in answer_page and "What helped?" in answer_page


def test_csv_is_parsed_back_and_safe(client, auth, people, create_session):
    _, exchange, members = people
    session = create_session(exchange, status="ended")
    form = build_form(client, auth, session)
    become(auth, members[0].email)
    answers = {**full_answers(form), field_names(form)[4]: "=HYPERLINK(1)", field_names(form)[5]: "+1 more, @ you"}
    client.post(f"/sessions/{session.id}/feedback/answer", data={**answers, "action": "submit"})
    become(auth, "coord@example.org")
    response = client.get(f"/sessions/{session.id}/feedback/answers.csv")
    assert response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert rows[0][:2] == ["Respondent", "Date"] and rows[0][2] == "How relevant was it?"
    assert rows[1] == [
        "Person 0",
        date.today().isoformat(),
        "4",
        "9",
        "Yes",
        "Cases; Peers",
        "'=HYPERLINK(1)",
        "'+1 more, @ you",
    ]
    assert [safe_cell(v) for v in ("-2", "@x", "\tx", "\rx", "ok", None)] == ["'-2", "'@x", "'\tx", "'\rx", "ok", ""]


# --- bad input -------------------------------------------------------------------------------------------------


def test_bad_input_is_refused_next_to_the_field_and_typed_text_is_kept(client, auth, people, create_session):
    _, exchange, members = people
    session = create_session(exchange, status="ended")
    form = build_form(client, auth, session)
    q = field_names(form)
    become(auth, members[0].email)
    cases = {
        q[0]: {q[0]: "6"},  # out of range
        q[1]: {q[1]: "eleven"},
        q[2]: {q[2]: "o9"},  # unknown option
        q[3]: {q[3]: ["o1", "nope"]},
        q[4]: {q[4]: "x" * 301},  # oversized
        q[5]: {q[5]: "   "},  # required, blank
    }
    for field, bad in cases.items():
        data = {**full_answers(form), **bad, "action": "submit"}
        response = client.post(f"/sessions/{session.id}/feedback/answer", data=data)
        page = response.get_data(as_text=True)
        assert response.status_code == 200
        assert error_next_to(page, field), field
        assert [f for f in q if error_next_to(page, f)] == [field]
        assert "Mentoring" in page or field == q[4]  # what was typed comes back
        assert "The registry model." in page or field == q[5]
    assert stored_rows("feedback_responses") == []
    # Missing required answers, in French.
    client.get("/language/fr?next=/")
    page = client.post(f"/sessions/{session.id}/feedback/answer", data={q[4]: "gardé", "action": "submit"})
    page = page.get_data(as_text=True)
    assert [f for f in q if error_next_to(page, f)] == [q[0], q[1], q[2], q[5]]
    assert "This question needs an answer." not in page and "gardé" in page


def test_answers_after_closing_and_a_second_submission_are_refused(client, auth, people, create_session):
    _, exchange, members = people
    session = create_session(exchange, status="ended")
    form = build_form(client, auth, session, anonymous=True)
    url = f"/sessions/{session.id}/feedback/answer"
    become(auth, members[0].email)
    assert client.post(url, data={**full_answers(form), "action": "submit"}).status_code == 302
    # Editing one's own anonymous answer, from the same browser, until the form closes.
    edited = {**full_answers(form), field_names(form)[0]: "1", "action": "submit"}
    assert client.post(url, data=edited).status_code == 302
    assert [r["answers"] for r in stored_rows("feedback_responses")][0]
    assert len(stored_rows("feedback_responses")) == 1
    # Another browser, the same person: once only.
    other = client.application.test_client()
    other.post("/login", data={"email": members[0].email, "password": "correct horse battery"})
    page = other.post(url, data={**full_answers(form), "action": "submit"}).get_data(as_text=True)
    assert "You have already answered this form." in page and "The registry model." in page
    assert len(stored_rows("feedback_responses")) == 1

    # Closed by its closing time: refused, typed answers kept.
    f = db.session.get(FeedbackForm, form.id)
    f.closes_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    become(auth, members[1].email)
    page = client.post(url, data={**full_answers(form), "action": "submit"}).get_data(as_text=True)
    assert "This form is closed" in page and "The registry model." in page
    assert len(stored_rows("feedback_responses")) == 1
    assert db.session.get(FeedbackForm, form.id).current_state() == FormState.CLOSED


# --- anonymity and once-only -----------------------------------------------------------------------------------


def test_anonymous_answers_are_not_linked_to_anyone(app, client, auth, people, create_session):
    _, exchange, members = people
    session = create_session(exchange, status="ended")
    form = build_form(client, auth, session, anonymous=True)
    url = f"/sessions/{session.id}/feedback/answer"
    for member in members:
        become(auth, member.email)
        # A draft first: kept for its owner, then gone once submitted.
        client.post(url, data={field_names(form)[4]: "draft text", "action": "save"})
        assert "draft text" in client.get(url).get_data(as_text=True)
        assert client.post(url, data={**full_answers(form), "action": "submit"}).status_code == 302
        auth.logout()

    responses, responders = stored_rows("feedback_responses"), stored_rows("feedback_responders")
    assert len(responses) == 3 and len(responders) == 3
    identities = {m.email for m in members} | {m.display_name for m in members}
    for row in responses:
        assert row["user_id"] is None and row["guest_id"] is None
        assert re.fullmatch(r"[0-9a-f]{32}", row["id"])
        assert str(row["submitted_on"])[:10] == date.today().isoformat() and len(str(row["submitted_on"])) == 10
        assert not any(i in str(row) for i in identities)
    for row in responders:
        assert row["draft"] is None and row["submitted"]
        assert set(row) == {"id", "form_id", "key", "submitted", "draft"}  # no time, no link to a response
        assert not any(i in str(row) for i in identities)
        assert row["key"] not in {r["edit_token_hash"] for r in responses}
    assert {r["key"] for r in responders} == {services.respondent_key(form, f"u:{m.id}") for m in members}

    become(auth, "coord@example.org")
    exported = client.get(f"/sessions/{session.id}/feedback/answers.csv").data.decode("utf-8-sig")
    assert not any(i in exported for i in identities | {date.today().isoformat()})
    assert len(list(csv.reader(io.StringIO(exported)))) == 4
    results = client.get(f"/sessions/{session.id}/feedback/results").get_data(as_text=True)
    assert not any(m.display_name in results for m in members)


def test_guests_of_an_open_session_answer_once_each(app, client, people, create_session):
    _, exchange, _ = people
    session = create_session(exchange, mode="open", status="live")
    services.create_form(session, "session", True, True, None)
    live.end(db.session.get(ExchangeSession, session.id), "u:1", None)  # the end opens the form
    assert services.form_of(session).current_state() == FormState.OPEN
    session.status = "scheduled"  # guests join sessions that have not ended: let them in, then end again
    db.session.commit()
    guests = [app.test_client(), app.test_client()]
    for n, guest in enumerate(guests):
        assert guest.post(f"/join/{session.join_code}", data={"display_name": f"Walk-in {n}"}).status_code == 302
    session.status = "ended"
    db.session.commit()

    form = services.form_of(session)
    first_option = {q.id: q.options[0]["id"] for q in form.questions if q.options}
    answers = {f"q{q.id}": first_option.get(q.id, "3" if q.kind == "rating" else "") for q in form.questions}
    url = f"/sessions/{session.id}/feedback/answer"
    for guest in guests:
        assert guest.post(url, data={**answers, "action": "submit"}).status_code == 302
    second = guests[0].post(url, data={**answers, "action": "submit"})
    assert second.status_code == 302  # the same browser edits its own anonymous answer ...
    guests[0].delete_cookie("session")  # ... a browser without it is a stranger, not a second vote
    assert guests[0].post(url, data={**answers, "action": "submit"}).status_code == 403
    assert len(stored_rows("feedback_responses")) == 2
    assert len(stored_rows("feedback_responders")) == 2
    assert client.get(url).status_code == 403  # not a guest of this session


def test_one_answer_per_member_on_named_forms_even_from_two_browsers(app, client, auth, people, create_session):
    _, exchange, members = people
    session = create_session(exchange, status="ended")
    form = build_form(client, auth, session)
    who = services.Respondent(f"u:{members[0].id}", user_id=members[0].id)
    with app.test_request_context():
        services.submit(form, who, {str(form.questions[0].id): 5})
        with pytest.raises(services.Refused):
            services.save_draft(form, who, {})
    with app.test_request_context():
        response = services.submit(form, who, {str(form.questions[0].id): 3})  # named: an edit of the same row
    assert response.user_id == members[0].id
    assert [r["answers"] for r in stored_rows("feedback_responses")] == [{str(form.questions[0].id): 3}]
    with app.test_request_context(), pytest.raises(ValueError):
        services.submit(form, who, {str(form.questions[0].id): 7})


# --- opening, prompting, listing -----------------------------------------------------------------------------


def test_the_form_opens_when_the_session_ends_and_participants_are_prompted(client, auth, people, create_session):
    _, exchange, members = people
    session = create_session(exchange, status="live")
    services.create_form(session, "session", False, True, None)
    become(auth, members[0].email)
    assert "live-feedback" in client.get(f"/sessions/{session.id}/live").get_data(as_text=True)
    home = client.get("/").get_data(as_text=True)
    assert f"/sessions/{session.id}/feedback/answer" not in home  # not open yet

    become(auth, "coord@example.org")
    assert client.post(f"/sessions/{session.id}/status", data={"status": "ended"}).status_code == 302
    db.session.expire_all()
    assert services.form_of(session).current_state() == FormState.OPEN
    become(auth, members[0].email)
    assert f"/sessions/{session.id}/feedback/answer" in client.get("/").get_data(as_text=True)
    assert f"/sessions/{session.id}/feedback/answer" in client.get(f"/sessions/{session.id}").get_data(as_text=True)


def test_closing_time_in_the_past_does_not_block_ending_the_session(app, people, create_session):
    _, exchange, _ = people
    session = create_session(exchange, status="live")
    services.create_form(session, "", False, True, utcnow() - timedelta(hours=1))
    live.end(session, "u:1", None)
    assert session.status == "ended" and services.form_of(session).current_state() == FormState.NOT_OPEN


def test_questions_lock_once_anyone_has_answered(app, client, auth, people, create_session):
    _, exchange, members = people
    session = create_session(exchange, status="ended")
    form = build_form(client, auth, session, kinds=ALL_KINDS[:1])
    become(auth, members[0].email)
    client.post(f"/sessions/{session.id}/feedback/answer", data={field_names(form)[0]: "5", "action": "save"})
    become(auth, "coord@example.org")
    question_id = form.questions[0].id
    client.post(f"/feedback/questions/{question_id}/delete")
    client.post(f"/sessions/{session.id}/feedback/settings", data={"anonymous": "y"})
    db.session.expire_all()
    assert db.session.get(FeedbackQuestion, question_id) is not None
    assert db.session.get(FeedbackForm, form.id).anonymous is False


def test_results_across_the_exchange_and_right_to_left_bars(client, auth, people, create_session):
    _, exchange, members = people
    sessions = [create_session(exchange, status="ended", title=f"Session {n}") for n in range(2)]
    for n, session in enumerate(sessions):
        form = services.create_form(session, "session", True, True, None)
        who = services.Respondent(f"u:{members[0].id}", user_id=members[0].id)
        relevance = form.questions[0]
        with client.application.test_request_context():
            services.submit(form, who, {str(relevance.id): 2 + 2 * n, str(form.questions[1].id): "yes"})
    become(auth, "coord@example.org")
    page = client.get(f"/exchanges/{exchange.id}/feedback").get_data(as_text=True)
    assert "Session 0" in page and "Session 1" in page
    row = re.search(r"How relevant was this session.*?</tr>", page, re.S).group(0)
    assert "2.0" in row and "4.0" in row
    client.get("/language/ar?next=/")
    page = client.get(f"/sessions/{sessions[0].id}/feedback/results").get_data(as_text=True)
    assert 'dir="rtl"' in page
    # One answer, a 2: the empty bars sit at the right edge (x=100), as bars that grow from the right do.
    assert '<rect x="100.00" y="0" width="0.00"' in page
    assert '<rect x="0.00" y="0" width="100.00" height="10" fill="#0b5cad"' in page
