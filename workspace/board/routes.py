"""HTTP views of the board: reading it after the session, exports, the moderation log, the report."""

from __future__ import annotations

from . import bp  # noqa: F401
