"""Logs never hold a token of a URL: ID token hints, codes, e-mail link tokens."""

from __future__ import annotations

import logging

import pytest

from idp.logs import RedactSecrets, redact

ID_TOKEN = "eyJhbGciOiJFUzI1NiIsImtpZCI6ImFiYyJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlLXNpZ25hdHVyZQ"
LINK_TOKEN = "eyJpZCI6IjEyMyIsInAiOiJyZXNldCJ9.Z0abc1.7hQjVbVQ2bC4xq8wHbdG9Yl1Ub0"


@pytest.mark.parametrize(
    ("line", "secret"),
    [
        (f'"GET /logout?id_token_hint={ID_TOKEN}&state=abc HTTP/1.1" 200 -', ID_TOKEN),
        (f'"GET /services/iptel/reset/{LINK_TOKEN} HTTP/1.1" 200 -', LINK_TOKEN),
        (f'"POST /email/confirm/{LINK_TOKEN} HTTP/1.1" 302 -', LINK_TOKEN),
        ('"GET /authorize?login_hint=%2B380671112233&client_id=x HTTP/1.1"', "%2B380671112233"),
        ('"GET /cb?code=SplxlOBeZQQYbYS6WxSbIA&state=xyz HTTP/1.1"', "SplxlOBeZQQYbYS6WxSbIA"),
    ],
)
def test_secrets_in_request_lines_are_blanked(line, secret):
    cleaned = redact(line)
    assert secret not in cleaned and "[redacted]" in cleaned


def test_ordinary_lines_are_left_alone():
    line = '"GET /services/multifon/cabinet?tab=routing HTTP/1.1" 200 -'
    assert redact(line) == line


def test_the_access_log_of_the_development_server_is_redacted(app, caplog):
    handler = logging.StreamHandler()
    handler.addFilter(RedactSecrets())
    record = logging.LogRecord(
        "werkzeug",
        logging.INFO,
        __file__,
        1,
        '%s - - "%s" %s -',
        ("127.0.0.1", f"GET /logout?id_token_hint={ID_TOKEN} HTTP/1.1", "200"),
        None,
    )
    assert handler.filter(record)
    assert ID_TOKEN not in record.getMessage() and "id_token_hint=[redacted]" in record.getMessage()


def test_the_product_puts_the_filter_on_its_handlers(app):
    assert all(
        any(isinstance(f, RedactSecrets) for f in handler.filters) for handler in logging.getLogger().handlers
    )


def test_gunicorn_access_logs_are_redacted():
    from types import SimpleNamespace

    from gunicorn.config import Config

    from idp.logs import RedactingGunicornLogger

    logger = RedactingGunicornLogger(Config())
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": f"/logout?id_token_hint={ID_TOKEN}",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "PATH_INFO": "/logout",
        "QUERY_STRING": f"id_token_hint={ID_TOKEN}",
    }
    response = SimpleNamespace(status="200 OK", response_length=10, sent=10, headers=[])
    request = SimpleNamespace(headers=[])
    atoms = logger.atoms(response, request, environ, SimpleNamespace(seconds=0, microseconds=1))
    assert ID_TOKEN not in atoms["r"] and ID_TOKEN not in atoms["q"]
