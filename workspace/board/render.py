"""Contributions are a small Markdown subset (emphasis, lists, links), rendered once and sanitised with nh3."""

from __future__ import annotations

import nh3
from markdown_it import MarkdownIt

# Raw HTML off; only the rules the board offers. Everything else stays literal text.
_markdown = MarkdownIt("zero", {"html": False, "linkify": False, "breaks": True}).enable(
    ["emphasis", "list", "link", "newline", "escape", "backticks", "autolink", "paragraph"]
)

ALLOWED_TAGS = {"p", "br", "em", "strong", "ul", "ol", "li", "a", "code"}
ALLOWED_ATTRIBUTES = {"a": {"href"}, "ol": {"start"}}
URL_SCHEMES = {"http", "https", "mailto"}


def render(body: str) -> str:
    """HTML safe to put in any page: nh3 removes whatever the Markdown step let through by mistake."""
    html = _markdown.render(body)
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="nofollow noopener noreferrer ugc",
    ).strip()
