"""Profiles as the operator's systems need them: found by number or address, disabled, enabled,
signed out everywhere (``/api/v1/profiles``). The operator's clients only, but for finding: a
client bound to an organisation finds its own members alone."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _

from idp.api import schemas
from idp.api.auth import Caller
from idp.api.common import operator_only, refusals
from idp.api.operations import operation
from idp.api.problems import Problem, field_problem
from idp.extensions import db
from idp.orgs import revocation, services
from idp.profiles.models import Profile
from idp.profiles.services import find_by_phone
from idp.security.emails import normalise_email
from idp.security.phones import InvalidPhone, normalize_phone

TAG = "Profiles"


def profile_data(profile: Profile) -> dict[str, Any]:
    return {
        "id": profile.id,
        "subject": profile.subject,
        "name": profile.full_name,
        "phone_number": profile.phone,
        "email": profile.email or None,
        "email_verified": profile.email_verified,
        "language": profile.locale,
        "disabled": profile.disabled_at is not None,
        "created_at": profile.created_at,
    }


def _found(query: schemas.ProfileQuery) -> list[Profile]:
    if query.phone_number:
        try:
            profile = find_by_phone(normalize_phone(query.phone_number))
        except InvalidPhone as exc:
            raise field_problem(
                422, "#/phone_number", _("Enter a valid phone number, e.g. +380 44 123 45 67.")
            ) from exc
        return [profile] if profile is not None else []
    if query.email:
        address = normalise_email(query.email)
        return list(db.session.scalars(db.select(Profile).where(Profile.email == address).limit(20)))
    raise field_problem(422, "#/phone_number", _("Give phone_number or email."))


@operation(
    "GET",
    "/profiles",
    scope="profiles:read",
    tag=TAG,
    summary="Find profiles by phone number or e-mail",
    query=schemas.ProfileQuery,
    response=schemas.ProfileList,
)
def find_profiles(caller: Caller, query: schemas.ProfileQuery):
    """The number in any usual format; the address in any case. An unknown one gives an empty list."""
    found = _found(query)
    if caller.org_id is not None:
        found = [p for p in found if services.membership(caller.org_id, p.id) is not None]
    return {"items": [profile_data(p) for p in found]}


def _profile(caller: Caller, profile_id: int) -> Profile:
    profile = db.session.get(Profile, profile_id) if 0 < profile_id < 2**31 else None
    if profile is None or (
        caller.org_id is not None and services.membership(caller.org_id, profile.id) is None
    ):
        raise Problem(404, _("There is no such profile."))
    return profile


@operation(
    "GET",
    "/profiles/<int:profile_id>",
    scope="profiles:read",
    tag=TAG,
    summary="Read a profile",
    response=schemas.Profile,
    etag=True,
)
def get_profile(caller: Caller, profile_id: int):
    return profile_data(_profile(caller, profile_id))


@operation(
    "POST",
    "/profiles/<int:profile_id>/disable",
    scope="profiles:disable",
    tag=TAG,
    summary="Disable a profile",
    body=schemas.Action,
    response=schemas.Profile,
)
def disable_profile(caller: Caller, profile_id: int, body: schemas.Action):
    """It cannot sign in until enabled again; every session and token of it ends now."""
    operator_only(caller)
    profile = _profile(caller, profile_id)
    with refusals():
        revocation.disable_profile(caller.actor, profile, body.reason, body.ticket)
    return profile_data(profile)


@operation(
    "POST",
    "/profiles/<int:profile_id>/enable",
    scope="profiles:disable",
    tag=TAG,
    summary="Enable a disabled profile",
    body=schemas.Action,
    response=schemas.Profile,
)
def enable_profile(caller: Caller, profile_id: int, body: schemas.Action):
    operator_only(caller)
    profile = _profile(caller, profile_id)
    with refusals():
        revocation.enable_profile(caller.actor, profile, body.reason, body.ticket)
    return profile_data(profile)


@operation(
    "POST",
    "/profiles/<int:profile_id>/sessions/end",
    scope="profiles:disable",
    tag=TAG,
    summary="End every session of a profile",
    body=schemas.Action,
    response=schemas.SessionsEnded,
)
def end_sessions(caller: Caller, profile_id: int, body: schemas.Action):
    """Every browser session, grant and refresh token; relying services get back-channel logout."""
    operator_only(caller)
    profile = _profile(caller, profile_id)
    with refusals():
        ended = revocation.end_all_sessions(caller.actor, profile, body.reason, body.ticket)
    return {"sessions_ended": ended}
