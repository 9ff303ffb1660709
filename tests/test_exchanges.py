"""Exchanges, members, invitations by email link."""

from datetime import timedelta

from conftest import PASSWORD, first_link, message_body

from workspace.exchanges.models import Exchange, Invitation, Membership
from workspace.extensions import db
from workspace.timeutil import utcnow
from workspace.tokens import hash_token


def exchange_form(**overrides):
    data = {
        "title": "Creative economy strategy",
        "goal": "Learn how others finance creative hubs.",
        "seeking_country": "KE",
        "providing_countries": ["CO", "PT"],
        "working_languages": ["en", "es"],
    }
    data.update(overrides)
    return data


def test_create_exchange_makes_creator_coordinator(client, auth, create_user):
    user = create_user(email="amina@example.org")
    auth.login("amina@example.org")
    response = client.post("/exchanges/new", data=exchange_form())
    assert response.status_code == 302
    exchange = db.session.execute(db.select(Exchange)).scalar_one()
    assert exchange.providing_countries == ["CO", "PT"]
    assert exchange.working_languages == ["en", "es"]
    member = db.session.execute(db.select(Membership)).scalar_one()
    assert (member.user_id, member.role) == (user.id, "coordinator")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Creative economy strategy" in page and "Colombia" in page and "Kenya" in page


def test_create_exchange_validation(client, auth, create_user):
    create_user(email="amina@example.org")
    auth.login("amina@example.org")
    bad = [
        exchange_form(title=""),
        exchange_form(title="x" * 201),
        exchange_form(providing_countries=[]),
        exchange_form(providing_countries=["KE"]),  # the seeking country cannot also provide
        exchange_form(providing_countries=["QQ"]),
        exchange_form(working_languages=[]),
        exchange_form(working_languages=["xx"]),
        exchange_form(seeking_country="<script>"),
    ]
    for data in bad:
        response = client.post("/exchanges/new", data=data)
        assert response.status_code == 200, data
        assert b'class="error"' in response.data
    assert db.session.execute(db.select(db.func.count(Exchange.id))).scalar() == 0


def test_invitation_email_accept_single_use(smtp_server, app, create_user, create_exchange):
    coordinator = create_user(email="amina@example.org")
    exchange = create_exchange(coordinator)
    coord = app.test_client()
    coord.post("/login", data={"email": "amina@example.org", "password": PASSWORD})
    response = coord.post(
        f"/exchanges/{exchange.id}/members",
        data={
            "emails": "lucia@example.org, Joao@Example.org\nlucia@example.org",
            "role": "moderator",
            "side": "providing",
        },
    )
    assert response.status_code == 302
    assert sorted(m["To"] for m in smtp_server) == ["joao@example.org", "lucia@example.org"]
    assert db.session.execute(db.select(db.func.count(Invitation.id))).scalar() == 2

    link = first_link(message_body(next(m for m in smtp_server if m["To"] == "lucia@example.org")))
    path = link.split("localhost", 1)[-1]

    guest = app.test_client()
    page = guest.get(path)
    assert page.status_code == 200 and b"lucia@example.org" in page.data  # asks to sign in first

    lucia = create_user(email="lucia@example.org")
    guest.post("/login", data={"email": "lucia@example.org", "password": PASSWORD})
    response = guest.post(path)
    assert response.status_code == 302
    member = db.session.execute(db.select(Membership).filter_by(user_id=lucia.id)).scalar_one()
    assert (member.role, member.side) == ("moderator", "providing")
    # Single use.
    assert guest.get(path).status_code == 404
    assert guest.post(path).status_code == 404


def test_expired_and_unknown_invitations_are_404(client, create_exchange, create_user):
    exchange = create_exchange()
    db.session.add(
        Invitation(
            exchange=exchange,
            email="x@example.org",
            token_hash=hash_token("expired"),
            expires_at=utcnow() - timedelta(seconds=1),
        )
    )
    db.session.commit()
    assert client.get("/invitations/expired").status_code == 404
    assert client.get("/invitations/nonsense").status_code == 404
    assert client.get("/invitations/" + "a" * 500).status_code == 404


def test_invite_form_rejects_bad_addresses(client, auth, create_user, create_exchange, smtp_server):
    coordinator = create_user(email="amina@example.org")
    exchange = create_exchange(coordinator)
    auth.login("amina@example.org")
    for emails in ("", "not an email", ",".join(f"p{i}@example.org" for i in range(51))):
        response = client.post(
            f"/exchanges/{exchange.id}/members", data={"emails": emails, "role": "participant", "side": "seeking"}
        )
        assert response.status_code == 200
        assert b'id="emails-error"' in response.data
    response = client.post(
        f"/exchanges/{exchange.id}/members", data={"emails": "a@example.org", "role": "king", "side": "seeking"}
    )
    assert b'id="role-error"' in response.data
    assert smtp_server == []


def test_members_page_shows_balance(client, auth, create_user, create_exchange, add_member):
    coordinator = create_user(email="amina@example.org", country="KE", gender="woman")
    exchange = create_exchange(coordinator)
    add_member(exchange, create_user(country="CO", gender="man"), side="providing")
    add_member(exchange, create_user(country="CO"), side="providing")
    auth.login("amina@example.org")
    page = client.get(f"/exchanges/{exchange.id}/members").get_data(as_text=True)
    assert "Colombia: <strong>2</strong>" in page
    assert "woman: <strong>1</strong>" in page
    assert "Not given: <strong>1</strong>" in page


def test_exchange_keeps_a_coordinator(client, auth, create_user, create_exchange, add_member):
    coordinator = create_user(email="amina@example.org")
    exchange = create_exchange(coordinator)
    own = db.session.execute(db.select(Membership).filter_by(user_id=coordinator.id)).scalar_one()
    auth.login("amina@example.org")
    client.post(f"/exchanges/{exchange.id}/members/{own.id}", data={"role": "participant", "side": "seeking"})
    client.post(f"/exchanges/{exchange.id}/members/{own.id}/remove")
    db.session.refresh(own)
    assert own.role == "coordinator"


def test_coordinator_changes_role_and_removes_member(client, auth, create_user, create_exchange, add_member):
    exchange = create_exchange(create_user(email="amina@example.org"))
    member = add_member(exchange, create_user())
    auth.login("amina@example.org")
    client.post(f"/exchanges/{exchange.id}/members/{member.id}", data={"role": "note_taker", "side": "providing"})
    db.session.refresh(member)
    assert (member.role, member.side) == ("note_taker", "providing")
    member_id = member.id
    client.post(f"/exchanges/{exchange.id}/members/{member_id}/remove")
    db.session.expire_all()
    assert db.session.get(Membership, member_id) is None
