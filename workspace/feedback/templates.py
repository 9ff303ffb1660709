"""Built-in forms to start from. Texts are lazy strings, written into a form in every language when applied."""

from __future__ import annotations

from flask import current_app
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from .models import Kind

OUTCOME_OPTIONS = [("yes", _l("Yes, fully")), ("partly", _l("Partly")), ("no", _l("No"))]
CHANGE_OPTIONS = [
    ("strategy", _l("A policy or strategy draft")),
    ("law", _l("A law or regulation")),
    ("institution", _l("How our institution works")),
    ("network", _l("Our network of peers")),
    ("nothing", _l("Nothing yet")),
]

# key, kind, required, text, options
TEMPLATES = {
    "session": {
        "questions": [
            ("relevance", Kind.RATING, True, _l("How relevant was this session to your policy work?"), []),
            ("outcomes", Kind.SINGLE, True, _l("Were the session's expected outcomes reached?"), OUTCOME_OPTIONS),
            ("moderation", Kind.RATING, True, _l("How well was the session moderated?"), []),
            ("peers", Kind.RATING, True, _l("How useful was the exchange with your peers?"), []),
            ("apply", Kind.LONG, False, _l("What will you apply in your own work?"), []),
            ("suggestions", Kind.LONG, False, _l("What would you suggest for the next sessions?"), []),
        ],
    },
    "lessons": {
        "questions": [
            ("overall", Kind.SCALE, True, _l("Overall, how valuable was this exchange for your policy work?"), []),
            ("lessons", Kind.LONG, True, _l("What are the most important lessons you learned?"), []),
            ("changes", Kind.MULTIPLE, False, _l("What has the exchange changed, or will it change?"), CHANGE_OPTIONS),
            ("obstacles", Kind.LONG, False, _l("What could stop you from applying these lessons?"), []),
            ("commitment", Kind.SHORT, False, _l("One follow-up action you commit to"), []),
            ("format", Kind.RATING, True, _l("How well did the format of the exchange work?"), []),
        ],
    },
}
TEMPLATE_LABELS = {
    "session": _l("Session evaluation (relevance, outcomes, moderation, peers, what you will apply, suggestions)"),
    "lessons": _l("Lessons learned, for the wrap-up of the whole exchange"),
    "": _l("Blank form"),
}


def in_every_language(text) -> dict[str, str]:
    """A lazy string rendered in each interface language."""
    texts = {}
    for lang in current_app.config["LANGUAGES"]:
        with force_locale(lang):
            texts[lang] = str(text)
    return texts


def questions_of(key: str) -> list[dict]:
    """The template's questions as fields for FeedbackQuestion, texts in all languages."""
    if key not in TEMPLATES:
        return []
    return [
        {
            "key": qkey,
            "kind": kind,
            "required": required,
            "texts": in_every_language(text),
            "options": [{"id": oid, "texts": in_every_language(label)} for oid, label in options],
        }
        for qkey, kind, required, text, options in TEMPLATES[key]["questions"]
    ]
