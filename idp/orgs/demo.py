"""The demo organisation of ``idp demo``: the demo profile owns it and its accounts, an employee
has ``user`` access to one of them, and a colleague's invitation is pending (J7, J8 to try)."""

from __future__ import annotations

from idp.connectors.links import find_link, links_of
from idp.connectors.models import USER, ServiceLink
from idp.extensions import db
from idp.orgs.invitations import EMAIL, invite, pending_of
from idp.orgs.models import ORG_OWNER
from idp.orgs.services import (
    Actor,
    OrgError,
    account_label,
    add_member,
    assign_account,
    create_organisation,
    find_organisation,
    membership,
)
from idp.profiles.models import Profile
from idp.profiles.services import create_profile, find_by_phone
from idp.security.passwords import verify_password

ORG_COUNTRY = "UA"
ORG_NUMBER = "44000004"  # a valid ЄДРПОУ (python-stdnum), of no real company we know of
ORG_NAME = "ТОВ «Демо Телеком»"
EMPLOYEE_PHONE = "+380441234568"
EMPLOYEE_EMAIL = "taras@business-id.example"
INVITED_EMAIL = "colleague@business-id.example"


def ensure_demo_organisation(owner: Profile, password: str) -> list[str]:
    """Create (idempotently) the demo organisation around ``owner``; the lines ``idp demo`` prints."""
    org = find_organisation(ORG_COUNTRY, ORG_NUMBER) or create_organisation(ORG_COUNTRY, ORG_NUMBER, ORG_NAME)
    if membership(org.id, owner.id) is None:
        add_member(org, owner, ORG_OWNER)
    owned = links_of(owner.id)
    for row in owned:
        assign_account(org, row.connector, row.account)
    employee = _ensure_employee(password)
    shared = next((row for row in owned if row.connector == "multifon"), owned[0] if owned else None)
    if shared is not None:
        _ensure_access(employee, shared)
        if membership(org.id, employee.id) is None:
            add_member(org, employee)
    lines = [
        f"organisation {org.name} (ЄДРПОУ {org.number}): owner {owner.full_name}",
        f"page        /org/{org.id}  (people, accounts, invitations, security events)",
    ]
    if shared is not None:
        lines.append(
            f"employee    {employee.full_name}: user access to {shared.label}; "
            f"sign in with {employee.phone} and "
            + (
                f"password {password}"
                if verify_password(employee.password_hash, password)
                else "the password set since"
            )
        )
        lines.append(_pending_invitation_line(org, owner, shared))
    lines += [
        "try J7      on the organisation page, invite a colleague by e-mail or SMS; open the link from",
        "            /dev/outbox in another browser and register with the invited address or number",
        f"try J8      take {employee.first_name}'s access away on the organisation page while they are",
        "            signed in to the PBX portal: their sessions end, the portal is logged out",
        "staff       `idp staff grant --phone +380441234567 --role manager` opens /staff to the demo profile",
        "            (it must turn on a second factor first, at /security)",
    ]
    return lines


def _ensure_employee(password: str) -> Profile:
    employee = find_by_phone(EMPLOYEE_PHONE)
    if employee is None:
        employee = create_profile(
            EMPLOYEE_PHONE, EMPLOYEE_EMAIL, "Taras", "Kovalenko", password, "uk", email_verified=True
        )
    return employee


def _ensure_access(employee: Profile, shared: ServiceLink) -> None:
    if find_link(employee.id, shared.connector, shared.account) is None:
        db.session.add(
            ServiceLink(
                profile_id=employee.id,
                connector=shared.connector,
                account=shared.account,
                label=shared.label,
                role=USER,
            )
        )
        db.session.commit()


def _pending_invitation_line(org, owner: Profile, shared: ServiceLink) -> str:
    """A pending invitation as a viewer, made once (the letter is in the development outbox)."""
    if not any(invitation.address == INVITED_EMAIL for invitation in pending_of(org)):
        try:
            invite(
                Actor.person(owner),
                org,
                EMAIL,
                INVITED_EMAIL,
                [(shared.connector, shared.account)],
                "viewer",
                "uk",
            )
        except OrgError as error:
            return f"invitation  not made: {error}"
    label = account_label(shared.connector, shared.account)
    return f"invitation  pending for {INVITED_EMAIL} (viewer of {label}); its letter is in /dev/outbox"
