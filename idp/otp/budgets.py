"""SMS send budgets per number, per client IP and per number prefix (against SMS pumping).

The counters live in Flask-Limiter's storage: process memory in development, Redis when
``IDP_REDIS_URL`` is set, so every instance draws from the same budget.
"""

from __future__ import annotations

from flask import current_app
from limits import parse_many

from idp.extensions import client_ip, limiter
from idp.security.phones import number_prefix


def _budgets(phone: str) -> list[tuple[str, str, str]]:
    config = current_app.config
    prefix = number_prefix(phone, config["IDP_SMS_PREFIX_DIGITS"])
    return [
        (config["IDP_SMS_BUDGET_NUMBER"], "sms-number", phone),
        (config["IDP_SMS_BUDGET_IP"], "sms-ip", client_ip()),
        (config["IDP_SMS_BUDGET_PREFIX"], "sms-prefix", prefix),
    ]


def spend_sms_budget(phone: str) -> bool:
    """Count one SMS to ``phone``; return False (counting nothing) when a budget is spent."""
    checks = [(item, scope, key) for spec, scope, key in _budgets(phone)
              for item in parse_many(spec)]
    if not all(limiter.limiter.test(item, scope, key) for item, scope, key in checks):
        return False
    for item, scope, key in checks:
        limiter.limiter.hit(item, scope, key)
    return True
