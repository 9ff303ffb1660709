def test_home_renders(client):
    response = client.get("/")
    assert response.status_code == 200
    assert b"Baraza" in response.data


def test_register_login_logout(client, auth):
    response = client.post(
        "/register",
        data={
            "display_name": "Ana",
            "email": "Ana@Example.org",
            "password": "long enough pw",
            "confirm": "long enough pw",
            "timezone": "Europe/Lisbon",
        },
    )
    assert response.status_code == 302
    assert client.get("/profile").status_code == 200
    auth.logout()
    assert client.get("/profile").status_code == 302
    assert auth.login("ana@example.org", "long enough pw").status_code == 302
