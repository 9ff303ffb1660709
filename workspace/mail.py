"""Outgoing email: SMTP when configured, otherwise the log, so a local user can follow links."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage

from flask import current_app, render_template
from flask_babel import force_locale


def send_email(to: str, subject_template: str, body_template: str, locale: str | None = None, **context) -> bool:
    """Render the email templates in the recipient's language and send; False if delivery failed."""
    with force_locale(locale or "en"):
        subject = render_template(subject_template, **context).strip()
        body = render_template(body_template, **context)
    msg = EmailMessage()
    msg["From"] = current_app.config["MAIL_DEFAULT_SENDER"]
    msg["To"] = to
    msg["Subject"] = subject
    msg.set_content(body)
    try:
        deliver(msg)
    except (OSError, smtplib.SMTPException):
        current_app.logger.exception("Email to %s could not be delivered", to)
        return False
    return True


def deliver(msg: EmailMessage) -> None:
    cfg = current_app.config
    if not cfg.get("MAIL_SERVER"):
        current_app.logger.warning("Email not sent (no MAIL_SERVER):\n%s", msg.as_string())
        return
    smtp_cls = smtplib.SMTP_SSL if cfg["MAIL_USE_SSL"] else smtplib.SMTP
    with smtp_cls(cfg["MAIL_SERVER"], cfg["MAIL_PORT"], timeout=15) as smtp:
        if cfg["MAIL_USE_TLS"]:
            smtp.starttls()
        if cfg.get("MAIL_USERNAME"):
            smtp.login(cfg["MAIL_USERNAME"], cfg["MAIL_PASSWORD"] or "")
        smtp.send_message(msg)
