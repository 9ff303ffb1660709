"""Command-line tasks: `flask --app workspace <command>`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click
from flask import Flask

from config import BASE_DIR

BABEL = [sys.executable, "-m", "babel.messages.frontend"]
POT = str(BASE_DIR / "translations" / "messages.pot")
TRANSLATIONS = str(BASE_DIR / "translations")


def _pybabel(*args: str) -> None:
    subprocess.run([*BABEL, *args], check=True, cwd=BASE_DIR)  # noqa: S603 (fixed argv, no shell)


@click.group()
def translate() -> None:
    """Extract, update and compile the translation catalogs."""


def extract_argv(output: str) -> list[str]:
    """The pybabel extraction, shared by the command and the test that checks the catalogs are current."""
    return [
        *BABEL,
        "extract",
        "-F",
        "babel.cfg",
        "-k",
        "_l",
        "-k",
        "lazy_gettext",
        "--no-location",
        "--sort-output",
        "--project",
        "Baraza",
        "-o",
        output,
        ".",
    ]


@translate.command()
def extract() -> None:
    """Write translations/messages.pot from the code and templates."""
    subprocess.run(extract_argv(POT), check=True, cwd=BASE_DIR)  # noqa: S603 (fixed argv, no shell)


@translate.command()
def update() -> None:
    """Merge the template into every language's catalog."""
    _pybabel("update", "-i", POT, "-d", TRANSLATIONS, "--no-fuzzy-matching", "--ignore-obsolete")


@translate.command("compile")
def compile_() -> None:
    """Build the .mo files the app reads."""
    _pybabel("compile", "-d", TRANSLATIONS, "--statistics")


@translate.command()
@click.argument("lang")
def init(lang: str) -> None:
    """Start a catalog for a new language."""
    _pybabel("init", "-i", POT, "-d", TRANSLATIONS, "-l", lang)


@click.command("seed-demo")
@click.option("--reset", is_flag=True, help="Delete the demo exchange and create it again.")
def seed_demo(reset: bool) -> None:
    """Create a realistic demo exchange and print how to sign in."""
    from .demo import seed

    seed(reset=reset, echo=click.echo)


def init_app(app: Flask) -> None:
    app.cli.add_command(translate)
    app.cli.add_command(seed_demo)
    Path(TRANSLATIONS).mkdir(exist_ok=True)
