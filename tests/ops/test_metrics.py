"""/metrics: who may read it, and what the counters and the delivery queue show."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
from prometheus_client.parser import text_string_to_metric_families

from idp import create_app
from idp.config import ConfigError, load_config
from idp.delivery.jobs import enqueue, register_job
from idp.delivery.services import send
from idp.metrics import mark_process_dead
from idp.otp import budgets
from idp.otp.errors import BudgetExceeded
from tests.helpers.pages import sign_in
from tests.oauth.helpers import register_client

OUTSIDER = {"REMOTE_ADDR": "10.1.2.3"}
TOKEN = "scraper-token-0123456789abcdef"


def parse(text: str) -> dict[tuple[str, frozenset], float]:
    """The samples of a Prometheus text exposition, by name and labels."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def scrape(client) -> dict[tuple[str, frozenset], float]:
    response = client.get("/metrics")
    assert response.status_code == 200, response.status_code
    return parse(response.get_data(as_text=True))


def value(samples, name: str, **labels) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


# --- access -----------------------------------------------------------------------------------------


def test_metrics_are_not_found_from_another_address(client):
    response = client.get("/metrics", environ_base=OUTSIDER)
    unknown = client.get("/no-such-page", environ_base=OUTSIDER)
    assert response.status_code == unknown.status_code == 404
    assert response.headers["Content-Type"] == unknown.headers["Content-Type"]  # the same page
    assert b"idp_" not in response.get_data()
    assert "Set-Cookie" not in response.headers  # not even the CSRF secret of the page's forms


def test_metrics_are_served_to_loopback(client):
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    assert response.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in response.headers
    assert ("idp_delivery_metrics_up", frozenset()) in parse(response.get_data(as_text=True))


@pytest.mark.idp_settings(IDP_METRICS_TOKEN=TOKEN)
def test_the_bearer_token_admits_from_any_address(client):
    admitted = client.get("/metrics", environ_base=OUTSIDER, headers={"Authorization": f"Bearer {TOKEN}"})
    assert admitted.status_code == 200
    wrong = client.get("/metrics", environ_base=OUTSIDER, headers={"Authorization": f"Bearer {TOKEN}x"})
    assert wrong.status_code == 404
    basic = client.get("/metrics", environ_base=OUTSIDER, headers={"Authorization": f"Basic {TOKEN}"})
    assert basic.status_code == 404


@pytest.mark.idp_settings(IDP_METRICS_ALLOW="10.0.0.0/8, 2001:db8::/32")
def test_allowed_networks_replace_loopback(client):
    assert client.get("/metrics", environ_base=OUTSIDER).status_code == 200
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "::ffff:10.9.9.9"}).status_code == 200
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "2001:db8::7"}).status_code == 200
    assert client.get("/metrics").status_code == 404  # 127.0.0.1 is no longer listed


@pytest.mark.idp_settings(IDP_TRUSTED_PROXIES=1)
def test_behind_a_trusted_proxy_the_client_address_decides(client):
    """A proxy on the same host (127.0.0.1) forwards a public client: that client is refused."""
    public = {"REMOTE_ADDR": "127.0.0.1"}
    forwarded = client.get("/metrics", environ_base=public, headers={"X-Forwarded-For": "203.0.113.5"})
    assert forwarded.status_code == 404
    local = client.get("/metrics", environ_base=public, headers={"X-Forwarded-For": "127.0.0.1"})
    assert local.status_code == 200


@pytest.mark.parametrize("bad", ["10.0.0.0/33", "localhost", "10.0.0.1,example.org"])
def test_a_bad_network_is_a_configuration_error(settings, bad):
    with pytest.raises(ConfigError, match="IDP_METRICS_ALLOW"):
        create_app({**settings, "IDP_METRICS_ALLOW": bad})
    with pytest.raises(ConfigError, match="IDP_METRICS_ALLOW"):
        load_config({"IDP_METRICS_ALLOW": bad})


# --- counters ---------------------------------------------------------------------------------------


def test_requests_and_sign_ins_are_counted(app, client, users):
    machine = register_client(app, grant_types=["client_credentials"], redirect_uris=None, scope="pbx.read")
    profile = users.create()
    before = scrape(client)
    token = client.post("/token", data={"grant_type": "client_credentials"}, headers=machine.basic_auth)
    assert token.status_code == 200
    sign_in(client, profile.phone, "Wrong-password-1")
    sign_in(client, "+380670000000", "Wrong-password-1")  # nobody's number fails the same way
    client.open("/healthz", method="BREW")
    after = scrape(client)

    def grew(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    token_labels = {"endpoint": "oauth.token", "method": "POST", "status": "200"}
    assert grew("idp_http_requests_total", **token_labels) == 1
    assert grew("idp_http_request_duration_seconds_count", endpoint="oauth.token") == 1
    assert grew("idp_http_request_duration_seconds_bucket", endpoint="oauth.token", le="+Inf") == 1
    assert grew("idp_signins_total", result="failure") == 2
    assert grew("idp_signins_total", result="success") == 0
    # A method nobody routes: no endpoint matched, and the method is no label value of its own.
    assert grew("idp_http_requests_total", endpoint="unmatched", method="other", status="405") == 1

    sign_in(client, profile.phone)
    assert grew_since(after, client, "idp_signins_total", result="success") == 1


def grew_since(before, client, name, **labels) -> float:
    return value(scrape(client), name, **labels) - value(before, name, **labels)


def test_unknown_paths_are_counted_as_unmatched(client):
    before = scrape(client)
    assert client.get("/no-such-page").status_code == 404
    assert (
        grew_since(
            before, client, "idp_http_requests_total", endpoint="unmatched", method="GET", status="404"
        )
        == 1
    )


@pytest.mark.idp_settings(IDP_SIGNIN_LIMIT_IP="2/minute")
def test_a_rate_limit_refusal_is_counted(client, users):
    profile = users.create()
    before = scrape(client)
    for _ in range(3):
        sign_in(client, profile.phone, "Wrong-password-1")
    assert grew_since(before, client, "idp_throttled_total", limit="http:auth.signin") == 1
    labels = {"endpoint": "auth.signin", "method": "POST", "status": "429"}
    assert grew_since(before, client, "idp_http_requests_total", **labels) == 1


@pytest.mark.idp_settings(IDP_SIGNIN_FREE_FAILURES=1)
def test_a_sign_in_delay_is_counted(client, users):
    profile = users.create()
    before = scrape(client)
    sign_in(client, profile.phone, "Wrong-password-1")
    sign_in(client, profile.phone, "Wrong-password-1")  # within the delay: not even checked
    assert grew_since(before, client, "idp_throttled_total", limit="signin_delay") == 1
    assert grew_since(before, client, "idp_signins_total", result="failure") == 1


@pytest.mark.idp_settings(IDP_SMS_BUDGET_PROFILE="1/hour")
def test_a_spent_sms_budget_is_counted(app, client):
    before = scrape(client)
    with app.test_request_context():
        budgets.spend("+380671234567", budgets.PROVEN, profile_id=7)
        with pytest.raises(BudgetExceeded):
            budgets.spend("+380671234567", budgets.PROVEN, profile_id=7)
    assert grew_since(before, client, "idp_throttled_total", limit="sms_profile") == 1


# --- delivery, computed at scrape time ----------------------------------------------------------------


def _do_nothing(_payload: dict) -> None:
    """The handler of the test job (never run here: no worker runs)."""


@pytest.mark.idp_settings(IDP_SMS_TRANSPORT="smpp", IDP_SMPP_SYSTEM_ID="test")
def test_the_queue_and_the_messages_by_state(app, client):
    register_job("ops_metrics_test", _do_nothing)
    with app.app_context():
        enqueue("ops_metrics_test", {"n": 1})
        send("sms_test", "+380671234567", "en")  # SMPP: waits for the worker
        send("email_test", "someone@example.com", "en")  # the outbox delivers at once
    samples = scrape(client)
    assert value(samples, "idp_queue_depth", channel="job") == 1
    assert value(samples, "idp_queue_depth", channel="sms") == 1
    assert value(samples, "idp_queue_depth", channel="email") == 0
    assert value(samples, "idp_queue_oldest_age_seconds", channel="job") >= 0
    assert value(samples, "idp_messages", channel="sms", state="queued") == 1
    assert value(samples, "idp_messages", channel="email", state="delivered") == 1
    assert value(samples, "idp_backchannel_deliveries", state="queued") == 0
    assert value(samples, "idp_delivery_metrics_up") == 1


# --- several worker processes -------------------------------------------------------------------------

# Two processes count into PROMETHEUS_MULTIPROC_DIR: this one once, a forked child twice.
WORKERS = textwrap.dedent(
    """
    import multiprocessing

    from idp.metrics import count_signin


    def child():
        count_signin("success")
        count_signin("success")


    count_signin("success")
    worker = multiprocessing.get_context("fork").Process(target=child)
    worker.start()
    worker.join()
    assert worker.exitcode == 0
    print(worker.pid)
    """
)


def test_multiprocess_mode_adds_up_every_process(client, tmp_path, monkeypatch):
    folder = tmp_path / "prometheus"
    folder.mkdir()
    env = {"PROMETHEUS_MULTIPROC_DIR": str(folder), "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-c", WORKERS], env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    child_pid = int(done.stdout.strip())
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(folder))
    samples = scrape(client)
    assert value(samples, "idp_signins_total", result="success") == 3
    assert value(samples, "idp_delivery_metrics_up") == 1  # the database's metrics still come
    mark_process_dead(child_pid)  # what gunicorn's child_exit calls: the counts stay
    assert value(scrape(client), "idp_signins_total", result="success") == 3
