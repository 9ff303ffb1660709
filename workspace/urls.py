"""Where to send people after a form: only ever to a path on this site."""

from urllib.parse import urlsplit

from flask import request, url_for


def safe_next(default_endpoint: str = "home.index") -> str:
    target = request.values.get("next", "")
    parts = urlsplit(target)
    if target.startswith("/") and not target.startswith("//") and "\\" not in target and not parts.netloc:
        return target
    return url_for(default_endpoint)
