"""Accounts: registration, sign-in, throttling, server-side logout, password reset by email, profile."""

from conftest import PASSWORD, first_link, message_body

from workspace.auth.models import LoginSession, PasswordReset, User
from workspace.extensions import db
from workspace.timeutil import utcnow


def register(client, **overrides):
    data = {
        "display_name": "Ana Sousa",
        "email": "ana@example.org",
        "password": PASSWORD,
        "confirm": PASSWORD,
        "timezone": "Europe/Lisbon",
    }
    data.update(overrides)
    return client.post("/register", data=data)


def test_register_creates_account_with_hashed_password(client):
    response = register(client, email="  Ana@Example.ORG ")
    assert response.status_code == 302
    user = db.session.execute(db.select(User)).scalar_one()
    assert user.email == "ana@example.org"
    assert user.timezone == "Europe/Lisbon"
    assert user.password_hash.startswith("scrypt:")
    assert PASSWORD not in user.password_hash


def test_register_refuses_bad_input_and_keeps_what_was_typed(client, create_user):
    create_user(email="taken@example.org")
    cases = [
        ({"email": "not-an-email"}, b'id="email-error"'),
        ({"email": "taken@example.org"}, b'id="email-error"'),
        ({"password": "short", "confirm": "short"}, b'id="password-error"'),
        ({"confirm": "something else entirely"}, b'id="confirm-error"'),
        ({"timezone": "Mars/Olympus"}, b'id="timezone-error"'),
        ({"display_name": "x" * 81}, b'id="display_name-error"'),
        ({"display_name": ""}, b'id="display_name-error"'),
    ]
    for overrides, marker in cases:
        response = register(client, **overrides)
        assert response.status_code == 200, overrides
        assert marker in response.data, overrides
        assert b'aria-invalid="true"' in response.data
    assert db.session.execute(db.select(db.func.count(User.id))).scalar() == 1
    # What the person typed is still in the form.
    response = register(client, email="not-an-email", display_name="Keep Me")
    assert b'value="Keep Me"' in response.data


def test_register_errors_are_translated(client):
    client.set_cookie("baraza_lang", "fr")
    response = register(client, password="short", confirm="short")
    assert 'lang="fr"' in response.get_data(as_text=True)
    assert "Use between" not in response.get_data(as_text=True)


def test_login_wrong_password_then_right(client, auth, create_user):
    create_user(email="bo@example.org")
    response = auth.login("bo@example.org", "wrong password!")
    assert response.status_code == 200
    assert b'id="password-error"' in response.data
    response = auth.login("BO@example.org")
    assert response.status_code == 302
    assert client.get("/profile").status_code == 200


def test_login_next_only_goes_to_this_site(client, create_user):
    create_user(email="bo@example.org")
    response = client.post("/login?next=https://evil.example/", data={"email": "bo@example.org", "password": PASSWORD})
    assert response.headers["Location"] == "/"
    client.post("/logout")
    response = client.post("/login?next=/profile", data={"email": "bo@example.org", "password": PASSWORD})
    assert response.headers["Location"] == "/profile"


def test_failed_logins_are_throttled_per_account(client, auth, create_user):
    create_user(email="bo@example.org")
    statuses = [auth.login("bo@example.org", f"wrong {i} password").status_code for i in range(6)]
    assert statuses[:5] == [200] * 5
    assert statuses[5] == 429
    # Even the right password is refused while the account is throttled.
    assert auth.login("bo@example.org").status_code == 429


def test_failed_logins_are_throttled_per_ip(client, auth):
    statuses = [auth.login(f"nobody{i}@example.org", "wrong password").status_code for i in range(11)]
    assert statuses[-1] == 429
    assert 200 in statuses[:10]


def test_logout_revokes_the_login_session_on_the_server(app, create_user):
    create_user(email="bo@example.org")
    client = app.test_client()
    client.post("/login", data={"email": "bo@example.org", "password": PASSWORD})
    stolen_cookie = client.get_cookie("session").value
    client.post("/logout")
    assert db.session.execute(db.select(LoginSession)).scalar_one().revoked_at is not None
    # Replaying the old cookie no longer signs anyone in.
    replay = app.test_client()
    replay.set_cookie("session", stolen_cookie)
    assert replay.get("/profile").status_code == 302


def test_password_change_signs_out_other_browsers(app, create_user):
    create_user(email="bo@example.org")
    laptop, phone = app.test_client(), app.test_client()
    for c in (laptop, phone):
        c.post("/login", data={"email": "bo@example.org", "password": PASSWORD})
    response = laptop.post(
        "/profile/password",
        data={"current": PASSWORD, "password": "a brand new password", "confirm": "a brand new password"},
    )
    assert response.status_code == 302
    assert laptop.get("/profile").status_code == 200
    assert phone.get("/profile").status_code == 302


def test_password_change_requires_current_password(client, auth, create_user):
    user = create_user(email="bo@example.org")
    auth.login("bo@example.org")
    response = client.post(
        "/profile/password",
        data={"current": "not it at all", "password": "new password 123", "confirm": "new password 123"},
    )
    assert response.status_code == 200
    assert b'id="current-error"' in response.data
    db.session.refresh(user)
    assert user.check_password(PASSWORD)


def test_remember_cookie_is_revoked_with_the_login_session(app, create_user):
    create_user(email="bo@example.org")
    client = app.test_client()
    client.post("/login", data={"email": "bo@example.org", "password": PASSWORD, "remember": "y"})
    remember = client.get_cookie("remember_token")
    assert remember is not None and remember.http_only
    client.post("/logout")
    replay = app.test_client()
    replay.set_cookie("remember_token", remember.value)
    assert replay.get("/profile").status_code == 302


def test_password_reset_by_email_link(smtp_server, app, create_user):
    user = create_user(email="bo@example.org", locale="fr")
    client = app.test_client()
    other = app.test_client()
    other.post("/login", data={"email": "bo@example.org", "password": PASSWORD})

    response = client.post("/password/forgot", data={"email": "bo@example.org"})
    assert response.status_code == 302
    assert len(smtp_server) == 1
    message = smtp_server[0]
    assert message["To"] == "bo@example.org"
    body = message_body(message)
    link = first_link(body)
    assert "/password/reset/" in link
    assert "Hello" not in body  # written in the user's language (French)

    path = link.split("localhost", 1)[-1]
    assert client.get(path).status_code == 200
    response = client.post(path, data={"password": "my new password!", "confirm": "my new password!"})
    assert response.status_code == 302
    db.session.refresh(user)
    assert user.check_password("my new password!")
    # Single use, and every browser was signed out.
    assert client.get(path).status_code == 404
    assert other.get("/profile").status_code == 302


def test_password_reset_for_unknown_email_says_the_same_and_sends_nothing(smtp_server, client):
    response = client.post("/password/forgot", data={"email": "ghost@example.org"}, follow_redirects=True)
    assert response.status_code == 200
    assert smtp_server == []


def test_expired_or_unknown_reset_link(client, create_user):
    from datetime import timedelta

    from workspace.tokens import hash_token

    user = create_user()
    db.session.add(PasswordReset(user=user, token_hash=hash_token("old"), expires_at=utcnow() - timedelta(minutes=1)))
    db.session.commit()
    assert client.get("/password/reset/old").status_code == 404
    assert client.get("/password/reset/never-issued").status_code == 404
    assert client.post("/password/reset/old", data={"password": "x" * 12, "confirm": "x" * 12}).status_code == 404


def test_reset_without_smtp_writes_the_link_to_the_log(client, create_user, caplog):
    create_user(email="bo@example.org")
    client.post("/password/forgot", data={"email": "bo@example.org"})
    assert "/password/reset/" in caplog.text


def test_profile_edit(client, auth, create_user):
    user = create_user(email="bo@example.org")
    auth.login("bo@example.org")
    response = client.post(
        "/profile",
        data={
            "display_name": "Bo Lindqvist",
            "organisation": "Ministry of Culture",
            "country": "SE",
            "locale": "ru",
            "timezone": "Europe/Stockholm",
            "gender": "non-binary",
        },
    )
    assert response.status_code == 302
    db.session.refresh(user)
    assert (user.display_name, user.country, user.locale, user.timezone, user.gender) == (
        "Bo Lindqvist",
        "SE",
        "ru",
        "Europe/Stockholm",
        "non-binary",
    )
    assert 'lang="ru"' in client.get("/profile").get_data(as_text=True)


def test_profile_refuses_unknown_country_language_and_zone(client, auth, create_user):
    user = create_user(email="bo@example.org")
    auth.login("bo@example.org")
    response = client.post(
        "/profile", data={"display_name": "Bo", "country": "XX", "locale": "tlh", "timezone": "Nowhere/City"}
    )
    assert response.status_code == 200
    for field in ("country", "locale", "timezone"):
        assert f'id="{field}-error"'.encode() in response.data
    db.session.refresh(user)
    assert user.timezone == "UTC"
