"""Demo data for the embedded default: one profile anybody can sign in with, and (in development)
the client of the demo relying party, the virtual PBX portal in ``examples/pbx_portal``."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from flask import current_app

from idp.extensions import db
from idp.oauth.clients import check_uri, create_client, find_client, rotate_secret
from idp.oauth.models import Client
from idp.profiles.models import Profile
from idp.profiles.services import create_profile, find_by_phone
from idp.security.passwords import verify_password

DEMO_PHONE = "+380441234567"
DEMO_EMAIL = "demo@business-id.example"
DEMO_PASSWORD = "DemoPassw0rd"  # noqa: S105 - printed by `idp demo`

DEMO_CLIENT_ID = "pbx-portal"
DEMO_CLIENT_NAME = "Virtual PBX portal"
DEMO_CLIENT_SCOPE = "openid profile email phone offline_access services"
DEMO_CLIENT_GRANTS = ["authorization_code", "refresh_token"]
DEMO_CLIENT_FILE = "pbx-portal-client.json"


def ensure_demo_data() -> Profile:
    """Create the demo profile unless it exists; return it."""
    profile = find_by_phone(DEMO_PHONE)
    if profile is None:
        profile = create_profile(
            DEMO_PHONE, DEMO_EMAIL, "Olena", "Demchenko", DEMO_PASSWORD, "uk", email_verified=True
        )
    return profile


def ensure_demo_services(profile: Profile) -> dict[str, list[str]]:
    """Let every enabled connector create its demo accounts; what ``idp demo`` prints, by service."""
    from idp.connectors.registry import installed

    return {
        connector.name("en"): lines
        for connector in installed().values()
        if (lines := connector.demo(profile))
    }


def describe_demo_password(profile: Profile) -> str:
    """The demo's password as ``idp demo`` prints it: itself, unless it was changed since."""
    if verify_password(profile.password_hash, DEMO_PASSWORD):
        return DEMO_PASSWORD
    return "the one you set (it is not the demo's any more; /recover restores it by SMS code)"


class DemoUnavailable(RuntimeError):
    """The demo relying party is for development only."""


@dataclass
class DemoClient:
    """The demo portal's registration and where its credentials are."""

    client: Client
    path: Path
    portal_url: str
    created: bool  # registered just now
    written: bool  # the credentials file was (re)written


def demo_client_file() -> Path:
    """Where ``idp demo`` keeps the portal's credentials: beside the embedded database.

    That is ``instance/`` (the app's instance path) unless ``IDP_DATA_DIR`` names another
    folder, so a secret always sits next to the database it is valid for.
    """
    folder = current_app.config["IDP_DATA_DIR"] or current_app.instance_path
    return Path(folder) / DEMO_CLIENT_FILE


def ensure_demo_client() -> DemoClient:
    """Register the virtual PBX portal's client unless it exists, and keep its file current.

    The client is confidential and not first-party, so the consent page shows. Its secret is
    only ever known at creation or rotation, so it is written then, with the issuer, to
    :func:`demo_client_file` (mode 0600); a missing or stale file means a new secret.
    """
    if current_app.config["IDP_ENV"] != "development":
        raise DemoUnavailable("the demo relying party is registered in development only")
    url = current_app.config["IDP_DEMO_RP_URL"].rstrip("/")
    path = demo_client_file()
    issuer = current_app.config["IDP_ISSUER"].rstrip("/")
    client = find_client(DEMO_CLIENT_ID)
    created = False
    if client is None:
        registered = create_client(
            DEMO_CLIENT_NAME,
            [f"{url}/callback"],
            first_party=False,
            grant_types=DEMO_CLIENT_GRANTS,
            scope=DEMO_CLIENT_SCOPE,
            post_logout_redirect_uris=[f"{url}/"],
            backchannel_logout_uri=f"{url}/backchannel-logout",
            client_id=DEMO_CLIENT_ID,
        )
        client, secret, created = registered.client, registered.secret, True
    else:
        _follow_portal_url(client, url)
        secret = _secret_in_file(path, client)
        if secret is None or _read(path).get("issuer") != issuer:
            secret = secret or rotate_secret(client)
        else:
            return DemoClient(client, path, url, created=False, written=False)
    _write(path, {"client_id": client.client_id, "client_secret": secret, "issuer": issuer})
    return DemoClient(client, path, url, created=created, written=True)


def _follow_portal_url(client: Client, url: str) -> None:
    """Point the registration at ``IDP_DEMO_RP_URL`` if it changed since the client was made."""
    wanted = {
        "redirect_uris_json": json.dumps([check_uri(f"{url}/callback", False, "redirect URI")]),
        "post_logout_redirect_uris_json": json.dumps(
            [check_uri(f"{url}/", False, "post-logout redirect URI")]
        ),
        "backchannel_logout_uri": check_uri(f"{url}/backchannel-logout", False, "back-channel logout URI"),
    }
    changed = False
    for attribute, value in wanted.items():
        if getattr(client, attribute) != value:
            setattr(client, attribute, value)
            changed = True
    if changed:
        db.session.commit()


def _read(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _secret_in_file(path: Path, client: Client) -> str | None:
    """The secret the file holds, if it is this client's current one."""
    data = _read(path)
    secret = data.get("client_secret")
    if data.get("client_id") != client.client_id or not isinstance(secret, str):
        return None
    return secret if client.check_client_secret(secret) else None


def _write(path: Path, data: dict) -> None:
    """Write ``data`` readable by its owner only (0600), replacing the file in one step."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        os.fchmod(file.fileno(), 0o600)
        json.dump(data, file, indent=2)
        file.write("\n")
    os.replace(temporary, path)
