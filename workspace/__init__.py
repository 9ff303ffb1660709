"""Baraza: a workspace for peer-to-peer learning between public-policy teams."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from config import BASE_DIR, Config, config_from_env


def create_app(config: Config | None = None) -> Flask:
    app = Flask(
        __name__,
        template_folder=str(BASE_DIR / "templates"),
        static_folder=str(BASE_DIR / "static"),
        instance_path=str(BASE_DIR / "instance"),
    )
    app.config.from_object(config or config_from_env())
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)

    from . import setup

    setup.register_defaults(app)
    setup.register_extensions(app)
    setup.register_blueprints(app)
    setup.register_security(app)
    setup.register_errorhandlers(app)
    setup.register_template_helpers(app)
    setup.register_commands(app)
    return app
