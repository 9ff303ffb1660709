"""Contributions' Markdown subset, rendered then sanitised with nh3: what is offered works, nothing else runs."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workspace.board.render import ALLOWED_ATTRIBUTES, ALLOWED_TAGS, render

REL = 'rel="nofollow noopener noreferrer ugc"'


class Tags(HTMLParser):
    """Every element and attribute in a piece of HTML, as a browser's tokenizer would see them."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, dict[str, str | None]]] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, dict(attrs)))

    handle_startendtag = handle_starttag


def assert_inert(html: str) -> None:
    """No script, no event handler, no URL that runs code or embeds content; only the offered tags."""
    lowered = html.lower()
    assert "<script" not in lowered and "<iframe" not in lowered and "<svg" not in lowered, html
    for tag, attrs in Tags(html).found:
        assert tag in ALLOWED_TAGS, (tag, html)
        assert set(attrs) <= ALLOWED_ATTRIBUTES.get(tag, set()) | ({"rel"} if tag == "a" else set()), (tag, attrs)
        assert not [a for a in attrs if a.startswith("on")], attrs
        for name in ("href", "src"):
            value = attrs.get(name)
            if value is None:
                continue
            squeezed = re.sub(r"[\x00-\x20]", "", value).lower()
            assert not squeezed.startswith(("javascript:", "data:", "vbscript:")), value
            scheme = re.match(r"^([a-z][a-z0-9+.-]*):", squeezed)  # as a browser's URL parser reads it
            assert scheme is None or scheme.group(1) in ("http", "https", "mailto"), value
    if "<a " in html:
        assert all(attrs.get("rel") == REL[5:-1] for tag, attrs in Tags(html).found if tag == "a"), html


# --- the subset ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("markdown", "html"),
    [
        ("*soft* and _also_", "<p><em>soft</em> and <em>also</em></p>"),
        ("**strong** and __too__", "<p><strong>strong</strong> and <strong>too</strong></p>"),
        ("- one\n- two", "<ul>\n<li>one</li>\n<li>two</li>\n</ul>"),
        ("1. first\n2. second", "<ol>\n<li>first</li>\n<li>second</li>\n</ol>"),
        ("3. third", '<ol start="3">\n<li>third</li>\n</ol>'),
        (
            "[the report](https://example.org/r?a=1&b=2)",
            f'<p><a href="https://example.org/r?a=1&amp;b=2" {REL}>the report</a></p>',
        ),
        ("<https://example.org>", f'<p><a href="https://example.org" {REL}>https://example.org</a></p>'),
        ("[write](mailto:team@example.org)", f'<p><a href="mailto:team@example.org" {REL}>write</a></p>'),
        ("line one\nline two", "<p>line one<br>\nline two</p>"),
        ("`code`", "<p><code>code</code></p>"),
        ("\\*not emphasis\\*", "<p>*not emphasis*</p>"),
        ("Ceci est **important** : l’eau", "<p>Ceci est <strong>important</strong> : l’eau</p>"),
        ("هذا **مهم**", "<p>هذا <strong>مهم</strong></p>"),
    ],
)
def test_the_markdown_subset(markdown, html):
    assert render(markdown) == html
    assert_inert(render(markdown))


@pytest.mark.parametrize(
    ("markdown", "html"),
    [
        # What the board does not offer stays literal text.
        ("# Not a heading", "<p># Not a heading</p>"),
        ("> not a quote", "<p>&gt; not a quote</p>"),
        ("![an image](https://example.org/x.png)", f'<p>!<a href="https://example.org/x.png" {REL}>an image</a></p>'),
        ("| a | b |\n|---|---|", "<p>| a | b |<br>\n|---|---|</p>"),
    ],
)
def test_what_is_not_offered_stays_text(markdown, html):
    assert render(markdown) == html


def test_raw_html_is_escaped_not_interpreted():
    assert render("<b>bold?</b>") == "<p>&lt;b&gt;bold?&lt;/b&gt;</p>"
    assert render("<script>alert(1)</script>") == "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>"
    assert render('<a href="https://x.org" onclick="steal()">x</a>') == (
        '<p>&lt;a href="https://x.org" onclick="steal()"&gt;x&lt;/a&gt;</p>'  # text: quotes are harmless
    )
    assert render("a & b < c") == "<p>a &amp; b &lt; c</p>"


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        " javascript:alert(1)",
        "javascript&#58;alert(1)",
        "&#106;avascript:alert(1)",
        "java&#09;script:alert(1)",
        "java\tscript:alert(1)",
        "vbscript:msgbox(1)",
        "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
        "data:image/svg+xml,<svg onload=alert(1)>",
        "file:///etc/passwd",
    ],
)
def test_links_that_would_run_code_are_dropped(url):
    html = render(f"[click me]({url})")
    assert_inert(html)
    for tag, attrs in Tags(html).found:
        if tag == "a":
            href = re.sub(r"[\x00-\x20]", "", attrs.get("href", "")).lower()
            assert not href.startswith(("javascript:", "data:", "vbscript:", "file:")), html


XSS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=https://evil.example/x.js></SCRIPT>",
    "<img src=x onerror=alert(1)>",
    "<svg/onload=alert(1)>",
    "<iframe src=javascript:alert(1)></iframe>",
    "<body onload=alert(1)>",
    '<a href="javascript:alert(1)">x</a>',
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    '<div style="background:url(javascript:alert(1))">x</div>',
    '"><script>alert(1)</script>',
    "'><img src=x onerror=alert(1)>",
    "[x](javascript:alert(1))",
    "[x](javascript://%0Aalert(1))",
    '[x](https://ok.example "a" onmouseover="alert(1)")',
    "[<img src=x onerror=alert(1)>](https://ok.example)",
    "**<img src=x onerror=alert(1)>**",
    "- <script>alert(1)</script>\n- [y](data:text/html,<script>alert(1)</script>)",
    "<<script>script>alert(1)<</script>/script>",
    "<scr<script>ipt>alert(1)</script>",
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    '<a href="https://ok.example" style="x" target="_blank">x</a>',
    "`<script>alert(1)</script>`",
    "<!--<script>alert(1)//-->",
    "<![CDATA[<script>alert(1)</script>]]>",
    '<object data="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg=="></object>',
    "<form action=javascript:alert(1)><button>x</button></form>",
    "<details open ontoggle=alert(1)>",
    '<https://ok.example/" onmouseover="alert(1)>',
    "<javascript:alert(1)>",
    "[x](<javascript:alert(1)>)",
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
]


@pytest.mark.parametrize("payload", XSS)
def test_known_xss_payloads_come_out_inert(payload):
    html = render(payload)
    assert_inert(html)
    # Nothing a browser would run: a real tag never opens anything but the offered ones.
    assert not re.search(r"<(?!/?(p|br|em|strong|ul|ol|li|a|code)\b)[a-z!]", html, re.I), html


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "<",
                ">",
                "&",
                '"',
                "'",
                "[",
                "]",
                "(",
                ")",
                "*",
                "_",
                "`",
                "\n",
                "- ",
                "1. ",
                "javascript:",
                "data:",
                "onerror=",
                "script",
                "img",
                "a href=",
                "https://x.org",
                "\\",
                "&#x3c;",
                " ",
                "x",
                "é",
                "中",
                "ع",
            ]
        ),
        max_size=40,
    ).map("".join)
)
def test_any_input_renders_to_offered_tags_only(text):
    assert_inert(render(text))
