"""Browser test: a participant fills in and sends a feedback form in French; the coordinator reads the results.

Playwright drives Debian's chromium (never `playwright install`). Assertions are on structure and data-*
attributes, not on wording.
"""

from __future__ import annotations

import pytest
from test_browser import DEMO_EMAIL, DEMO_PASSWORD, follow, open_page, page, sign_in  # noqa: F401

pytestmark = pytest.mark.browser


def send(tab) -> None:
    """Press "send my answers" (the form has a second button: save for later) and wait for the next page."""
    with tab.expect_navigation() as navigation:
        tab.locator("main button[name=action][value=submit]").click()
    assert navigation.value.status < 500


def test_fill_and_send_a_form_in_french_then_see_the_results(page, live_server):  # noqa: F811
    base = live_server.url
    live_server.flask("seed-demo")
    sign_in(page, base, "claire@demo.baraza", DEMO_PASSWORD)  # an observer whose profile is in French
    assert page.locator("html").get_attribute("lang") == "fr"

    # The dashboard lists the open form of the diagnostic meeting.
    follow(page, "main .feedback-due a[href='/sessions/1/feedback/answer']")
    assert page.locator("main [data-kind=anonymous]").count() == 1  # said before answering

    # Leave a required question empty: the error sits next to it, what was typed stays.
    fields = page.locator("main .feedback-form .question")
    assert fields.count() == 6
    page.locator(".question[data-kind=long] textarea").first.fill("La cartographie des lacunes.")
    send(page)
    assert page.locator("main .question.has-error .error").count() == 4
    assert page.locator(".question[data-kind=long] textarea").first.input_value() == "La cartographie des lacunes."

    # Fill every question and send.
    ratings = page.locator(".question[data-kind=rating]")
    for i in range(ratings.count()):
        ratings.nth(i).locator("input[value='4']").check()
    page.locator(".question[data-kind=single] input[type=radio]").first.check()
    send(page)
    assert page.locator("main .error").count() == 0
    assert page.locator("main .flash-success, .flashes .flash-success").count() == 1
    assert page.locator("main button[name=action][value=submit]").count() == 1  # can still edit until it closes

    # The coordinator sees five answers now, in French too.
    page.context.clear_cookies()
    sign_in(page, base, DEMO_EMAIL, DEMO_PASSWORD)
    page.goto(base + "/language/fr?next=/sessions/1/feedback/results")
    assert page.locator("html").get_attribute("lang") == "fr"
    assert page.locator("#response-rate").get_attribute("data-responses") == "5"
    assert page.locator("main svg.bar").count() > 0
    assert "La cartographie des lacunes." in page.locator("main").inner_text()
