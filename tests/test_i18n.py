"""Translations: catalogs complete and current, placeholders kept, locale choice, right to left."""

import re
import subprocess
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from config import BASE_DIR, LANGUAGES
from workspace.commands import extract_argv

CATALOG_LANGUAGES = [lang for lang in LANGUAGES if lang != "en"]
# Python placeholders, and the {name} ones the live page's script fills in.
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]|%[sd]|\{(\w+)\}")


def catalog(lang):
    with open(BASE_DIR / "translations" / lang / "LC_MESSAGES" / "messages.po", "rb") as fh:
        return read_po(fh, locale=lang)


def test_catalog_template_is_up_to_date(tmp_path):
    """Extraction from the code finds exactly the strings the template already has."""
    out = tmp_path / "fresh.pot"
    subprocess.run(extract_argv(str(out)), cwd=BASE_DIR, check=True, capture_output=True)
    with open(out, "rb") as fh:
        fresh = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(fh) if m.id}
    with open(BASE_DIR / "translations" / "messages.pot", "rb") as fh:
        current = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(fh) if m.id}
    assert fresh - current == set(), "run `make translations` and translate the new strings"
    assert current - fresh == set(), "obsolete strings in messages.pot: run `make translations`"


@pytest.mark.parametrize("lang", CATALOG_LANGUAGES)
def test_catalog_complete_and_placeholders_kept(lang):
    with open(BASE_DIR / "translations" / "messages.pot", "rb") as fh:
        expected = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(fh) if m.id}
    cat = catalog(lang)
    problems = []
    seen = set()
    for message in cat:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple | list) else (message.id,)
        strs = message.string if isinstance(message.string, tuple | list) else (message.string,)
        seen.add(ids[0])
        if message.fuzzy:
            problems.append(f"fuzzy: {ids[0]!r}")
        want = set(PLACEHOLDER.findall(ids[-1]))
        for s in strs:
            if not s:
                problems.append(f"untranslated: {ids[0]!r}")
            elif set(PLACEHOLDER.findall(s)) != want:
                problems.append(f"placeholders differ: {ids[0]!r} -> {s!r}")
    missing = expected - seen
    assert not missing, f"{lang}: strings missing from the catalog: {sorted(missing)[:5]}"
    assert not problems, f"{lang}: " + "; ".join(problems[:10])


@pytest.mark.parametrize("lang", CATALOG_LANGUAGES)
def test_compiled_catalog_exists(lang):
    mo = Path(BASE_DIR / "translations" / lang / "LC_MESSAGES" / "messages.mo")
    po = mo.with_suffix(".po")
    assert mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime, "run `make translations-compile`"


def test_arabic_page_is_right_to_left(client):
    client.set_cookie("baraza_lang", "ar")
    page = client.get("/login").get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in page
    assert "Sign in" not in page


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_language_renders_main_pages(client, lang):
    client.set_cookie("baraza_lang", lang)
    for path in ("/", "/login", "/register", "/join", "/sessions/open", "/password/forgot"):
        response = client.get(path)
        assert response.status_code == 200
        assert f'lang="{lang}"'.encode() in response.data


def test_locale_order_user_choice_then_switch_then_browser(client, auth, create_user):
    headers = {"Accept-Language": "es-ES,es;q=0.9"}
    assert b'lang="es"' in client.get("/login", headers=headers).data
    client.get("/language/ru?next=/login")
    assert b'lang="ru"' in client.get("/login", headers=headers).data
    create_user(email="bo@example.org", locale="zh")
    auth.login("bo@example.org")
    assert b'lang="zh"' in client.get("/", headers=headers).data
    # The switch, used when signed in, saves the choice on the profile.
    client.get("/language/pt?next=/")
    client.delete_cookie("baraza_lang")
    assert b'lang="pt"' in client.get("/", headers=headers).data


def test_language_switch_is_on_every_page_and_stays_on_site(client):
    page = client.get("/join").get_data(as_text=True)
    for lang in LANGUAGES:
        assert f'hreflang="{lang}"' in page
    response = client.get("/language/fr?next=https://evil.example/")
    assert response.headers["Location"] == "/"
    assert client.get("/language/xx").status_code == 404


def test_dates_and_numbers_follow_the_locale(client, create_exchange, create_session):
    from datetime import datetime

    session = create_session(create_exchange(), mode="open", starts_at=datetime(2027, 3, 5, 9, 0), host_timezone="UTC")
    client.set_cookie("baraza_tz", "UTC")
    client.set_cookie("baraza_lang", "fr")
    page = client.get(f"/sessions/{session.id}").get_data(as_text=True)
    assert "ven. 5 mars 2027" in page and "09:00" in page
    client.set_cookie("baraza_lang", "ar")
    page = client.get(f"/sessions/{session.id}").get_data(as_text=True)
    assert "مارس" in page


def test_browser_time_zone_cookie_is_used_for_visitors(client, create_exchange, create_session):
    from datetime import datetime

    session = create_session(create_exchange(), mode="open", starts_at=datetime(2027, 3, 5, 9, 0), host_timezone="UTC")
    client.set_cookie("baraza_tz", "Asia/Kolkata")
    client.set_cookie("baraza_lang", "fr")
    assert "14:30" in client.get(f"/sessions/{session.id}").get_data(as_text=True)
    client.set_cookie("baraza_tz", "Not/AZone")
    assert client.get(f"/sessions/{session.id}").status_code == 200


def test_zone_label_names_utc_plainly(client):
    client.set_cookie("baraza_tz", "UTC")
    page = client.get("/").get_data(as_text=True)
    assert "Times are shown in UTC." in page and "Unknown" not in page
