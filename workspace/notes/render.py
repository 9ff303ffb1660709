"""Quill delta -> HTML and Markdown. Each paragraph's direction follows its own text (dir="auto")."""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass, field

import nh3

BLOCK_TAGS = {1: "h1", 2: "h2", 3: "h3"}
ALLOWED_TAGS = {
    "h1",
    "h2",
    "h3",
    "p",
    "ul",
    "ol",
    "li",
    "strong",
    "em",
    "u",
    "s",
    "a",
    "code",
    "pre",
    "blockquote",
    "br",
}
ALLOWED_ATTRIBUTES = {"*": {"dir"}, "a": {"href"}}
URL_SCHEMES = {"http", "https", "mailto"}


@dataclass
class Line:
    """One paragraph: its inline runs and its block format (from the newline that ends it)."""

    runs: list[tuple[str, dict]] = field(default_factory=list)
    block: dict = field(default_factory=dict)

    @property
    def text(self) -> str:
        return "".join(t for t, _ in self.runs)

    @property
    def kind(self) -> str:
        if self.block.get("header") in BLOCK_TAGS:
            return BLOCK_TAGS[self.block["header"]]
        if self.block.get("list") in ("bullet", "unchecked", "checked"):
            return "ul"
        if self.block.get("list") == "ordered":
            return "ol"
        if self.block.get("blockquote"):
            return "blockquote"
        if self.block.get("code-block"):
            return "pre"
        return "p"


def lines(delta: list[dict]) -> list[Line]:
    out = [Line()]
    for op in delta:
        value = op.get("insert")
        if not isinstance(value, str):
            continue
        attrs = op.get("attributes") or {}
        parts = value.split("\n")
        for index, part in enumerate(parts):
            if part:
                out[-1].runs.append((part, attrs))
            if index < len(parts) - 1:
                out[-1].block = dict(attrs)
                out.append(Line())
    if not out[-1].runs:
        out.pop()
    return out


def direction(text: str) -> str | None:
    """'rtl' or 'ltr' from the first strong character (Unicode's rule for dir="auto"); None if none."""
    for ch in text:
        kind = unicodedata.bidirectional(ch)
        if kind in ("R", "AL"):
            return "rtl"
        if kind == "L":
            return "ltr"
    return None


def safe_url(url: str) -> str | None:
    url = (url or "").strip()
    return url if re.match(r"^(https?:|mailto:)", url, re.I) else None


# --- HTML -------------------------------------------------------------------------------------------------


def _inline_html(runs: list[tuple[str, dict]]) -> str:
    parts = []
    for value, attrs in runs:
        piece = html.escape(value)
        if attrs.get("code"):
            piece = f"<code>{piece}</code>"
        if attrs.get("bold"):
            piece = f"<strong>{piece}</strong>"
        if attrs.get("italic"):
            piece = f"<em>{piece}</em>"
        if attrs.get("underline"):
            piece = f"<u>{piece}</u>"
        if attrs.get("strike"):
            piece = f"<s>{piece}</s>"
        url = safe_url(attrs.get("link", "")) if attrs.get("link") else None
        if url:
            piece = f'<a href="{html.escape(url)}">{piece}</a>'
        parts.append(piece)
    return "".join(parts)


def to_html(delta: list[dict]) -> str:
    """Sanitised HTML: only the tags the editor offers, every block with dir="auto"."""
    out: list[str] = []
    open_list: str | None = None
    for line in lines(delta):
        kind = line.kind
        inner = _inline_html(line.runs) or "<br>"
        if kind in ("ul", "ol"):
            if open_list != kind:
                if open_list:
                    out.append(f"</{open_list}>")
                out.append(f"<{kind}>")
                open_list = kind
            out.append(f'<li dir="auto">{inner}</li>')
            continue
        if open_list:
            out.append(f"</{open_list}>")
            open_list = None
        out.append(f'<{kind} dir="auto">{inner}</{kind}>')
    if open_list:
        out.append(f"</{open_list}>")
    return nh3.clean(
        "\n".join(out),
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="nofollow noopener noreferrer",
    )


# --- Markdown ---------------------------------------------------------------------------------------------

_MD_SPECIAL = re.compile(r"([\\`*_\[\]#<>|])")


def _inline_md(runs: list[tuple[str, dict]]) -> str:
    parts = []
    for value, attrs in runs:
        piece = _MD_SPECIAL.sub(r"\\\1", value)
        if attrs.get("code"):
            piece = f"`{value.replace('`', '')}`"
        if attrs.get("bold"):
            piece = f"**{piece}**"
        if attrs.get("italic"):
            piece = f"*{piece}*"
        if attrs.get("strike"):
            piece = f"~~{piece}~~"
        url = safe_url(attrs.get("link", "")) if attrs.get("link") else None
        if url:
            piece = f"[{piece}](<{url}>)"
        parts.append(piece)
    return "".join(parts)


def to_markdown(delta: list[dict]) -> str:
    out: list[str] = []
    number = 0
    previous = None
    for line in lines(delta):
        kind = line.kind
        text = _inline_md(line.runs)
        if kind not in ("ul", "ol") and previous in ("ul", "ol"):
            out.append("")
        if kind.startswith("h"):
            out += ["#" * int(kind[1]) + " " + text, ""]
        elif kind == "ul":
            out.append("- " + text)
        elif kind == "ol":
            number = number + 1 if previous == "ol" else 1
            out.append(f"{number}. " + text)
        elif kind == "blockquote":
            out += ["> " + text, ""]
        elif kind == "pre":
            out += ["    " + line.text, ""]
        elif text:
            out += [text, ""]
        previous = kind
    return "\n".join(out).strip() + "\n"
