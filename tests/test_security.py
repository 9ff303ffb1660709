"""Headers, cookies, CSRF, body size, no inline script anywhere."""

import re

import pytest

from config import BASE_DIR, DevelopmentConfig, ProductionConfig
from workspace import create_app


def test_security_headers_on_every_response(client):
    for path in ("/", "/login", "/does-not-exist", "/static/css/app.css"):
        headers = client.get(path).headers
        csp = headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp
        assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "same-origin"
        assert "Strict-Transport-Security" not in headers  # plain HTTP here


def test_hsts_over_https(client):
    response = client.get("/", base_url="https://localhost")
    assert "max-age=" in response.headers["Strict-Transport-Security"]


def test_no_inline_script_or_handlers_in_templates():
    for path in (BASE_DIR / "templates").rglob("*.html"):
        text = path.read_text()
        for tag in re.findall(r"<script\b[^>]*>", text):
            assert "src=" in tag, f"inline script in {path}"
        assert not re.search(r"\son[a-z]+\s*=", text), f"inline event handler in {path}"
        assert not re.search(r"\sstyle\s*=", text), f"inline style in {path}"


def test_cookie_flags(app, create_user):
    from conftest import PASSWORD

    create_user(email="bo@example.org")
    client = app.test_client()
    response = client.post("/login", data={"email": "bo@example.org", "password": PASSWORD, "remember": "y"})
    cookies = {c.split("=", 1)[0]: c for c in response.headers.getlist("Set-Cookie")}
    for name in ("session", "remember_token"):
        assert "HttpOnly" in cookies[name]
        assert "SameSite=Lax" in cookies[name]


def test_secure_cookies_outside_development(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "x" * 32)
    config = ProductionConfig()
    assert config.SESSION_COOKIE_SECURE and config.REMEMBER_COOKIE_SECURE
    monkeypatch.delenv("SECRET_KEY")
    with pytest.raises(RuntimeError):
        ProductionConfig()


def test_development_secret_key_is_generated_once_in_instance(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("DATABASE_URL", "sqlite://")
    config = DevelopmentConfig()
    first = create_app(config)
    key_file = BASE_DIR / "instance" / "secret_key"
    assert key_file.exists() and oct(key_file.stat().st_mode)[-3:] == "600"
    second = create_app(DevelopmentConfig())
    assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"] == key_file.read_text().strip()


def test_csrf_is_enforced_outside_tests(monkeypatch):
    from conftest import TestingConfig

    config = TestingConfig()
    config.WTF_CSRF_ENABLED = True
    app = create_app(config)
    from workspace.extensions import db

    with app.app_context():
        db.create_all()
        response = app.test_client().post("/login", data={"email": "a@example.org", "password": "whatever123"})
        assert response.status_code == 400
        db.drop_all()


def test_request_body_limit(client, config):
    response = client.post("/login", data={"email": "a@example.org", "password": "x" * (2 * 1024 * 1024)})
    assert response.status_code == 413


def test_errors_are_pages_not_stack_traces(client):
    response = client.get("/sessions/999999")
    assert response.status_code == 404
    assert b"Traceback" not in response.data and b"<html" in response.data
    assert client.get("/sessions/not-a-number").status_code == 404
    assert client.put("/login").status_code == 405
