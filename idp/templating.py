"""What every template can use: the signed-in profile, the language, formatting filters."""

from __future__ import annotations

from flask import Flask, current_app, has_request_context, request
from flask_babel import format_datetime

from idp.audit.labels import device_label, event_label
from idp.i18n import LANGUAGE_NAMES, current_locale
from idp.links import external_url
from idp.otp import pow
from idp.otp.sms import flow_sms_state
from idp.security.passwords import MAX_LENGTH, password_rules, rule_text
from idp.security.phones import display_phone, mask_phone
from idp.sessions.services import current_profile


def register_template_helpers(app: Flask) -> None:
    """Attach the context processor and filters to ``app``."""

    @app.context_processor
    def layout_context():
        # Messages are also rendered by the worker and the CLI, where there is no request.
        in_request = has_request_context()
        return {
            "me": current_profile() if in_request else None,
            "locale": current_locale(),
            "languages": LANGUAGE_NAMES,
            "product_name": current_app.config["IDP_PRODUCT_NAME"],
            "operator_name": current_app.config["IDP_OPERATOR_NAME"],
            "is_development": current_app.config["IDP_ENV"] == "development",
            "here": request.full_path.rstrip("?") if in_request else "/",
            "otp_minutes": current_app.config["IDP_OTP_TTL_SECONDS"] // 60,
            "password_rule_items": password_rule_items,
        }

    app.add_template_global(external_url)
    app.add_template_global(flow_sms_state)
    app.add_template_global(pow.challenge, "proof_challenge")
    app.add_template_filter(display_phone, "phone")
    app.add_template_filter(event_label, "event_label")
    app.add_template_filter(device_label, "device")
    app.add_template_filter(mask_phone, "masked_phone")
    app.add_template_filter(scope_text, "scope_text")
    app.add_template_filter(lambda value: format_datetime(value, "medium") if value else "", "when")


def password_rule_items() -> list[tuple[str, str, int, int]]:
    """Return (rule id, localised text, min length, max length) for the password hints."""
    minimum = current_app.config["IDP_PASSWORD_MIN_LENGTH"]
    return [(rule, rule_text(rule), minimum, MAX_LENGTH) for rule in password_rules()]


def scope_text(scope: str) -> str:
    """What a scope gives an application, in the person's language ("" for unknown scopes)."""
    from idp.oauth.authorize import SCOPE_TEXTS

    return str(SCOPE_TEXTS.get(scope, ""))
