"""Find profiles, organisations and service accounts for the operator's staff console.

One search box takes what a caller tells the operator: a phone number in any format, an e-mail
address, an organisation's registration number or part of its name, or a service account (its
number, as the connector stores it or as it is shown). Every kind is tried; what matches is shown.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import func

from idp.connectors import registry
from idp.connectors.models import ServiceLink
from idp.extensions import db
from idp.orgs.models import OrgAccount, Organisation
from idp.orgs.services import access_to_each, account_label, organisation_of, search_organisations
from idp.profiles.models import Profile
from idp.security.emails import normalise_email
from idp.security.phones import read_phone

LIMIT = 20
QUERY_LIMIT = 100


@dataclass
class Holder:
    """Somebody's access to an account: the link (with the role) and the profile."""

    link: ServiceLink
    profile: Profile


def holders(connector_id: str, account: str) -> list[Holder]:
    """Who holds access to an account, the owner first, with their profiles."""
    return holders_of_each([(connector_id, account)]).get((connector_id, account), [])


def holders_of_each(accounts: Iterable[tuple[str, str]]) -> dict[tuple[str, str], list[Holder]]:
    """Who holds access to each of ``accounts`` (connector, account), the owner first, with their
    profiles: two queries for all of them."""
    links = access_to_each(accounts)
    ids = {link.profile_id for held in links.values() for link in held}
    profiles = (
        {p.id: p for p in db.session.scalars(db.select(Profile).where(Profile.id.in_(ids)))} if ids else {}
    )
    return {
        key: [Holder(link, profiles[link.profile_id]) for link in held if link.profile_id in profiles]
        for key, held in links.items()
    }


@dataclass
class AccountHit:
    """A service account that matched: who holds it, and the organisation it belongs to."""

    connector: str
    account: str
    label: str
    organisation: Organisation | None
    holders: list[Holder]


@dataclass
class Results:
    """What one search found, each kind in its own list."""

    query: str
    profiles: list[Profile] = field(default_factory=list)
    organisations: list[Organisation] = field(default_factory=list)
    accounts: list[AccountHit] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.profiles or self.organisations or self.accounts)


def search(text: str) -> Results:
    """Everything ``text`` names: profiles, organisations and service accounts."""
    text = " ".join((text or "").split())[:QUERY_LIMIT]
    results = Results(text)
    if not text:
        return results
    results.profiles = find_profiles(text)
    results.organisations = search_organisations(text, LIMIT)
    results.accounts = find_accounts(text)
    return results


def find_profile(text: str) -> Profile | None:
    """The profile with this phone number (any format) or e-mail address, or None."""
    found = find_profiles(text)
    return found[0] if len(found) == 1 else None


def find_profiles(text: str) -> list[Profile]:
    """Profiles by phone number (any format) or by e-mail address (confirmed or not)."""
    text = text.strip()
    if "@" in text:
        query = db.select(Profile).where(func.lower(Profile.email) == normalise_email(text))
        return list(db.session.scalars(query.order_by(Profile.id).limit(LIMIT)))
    phone = read_phone(text)
    if phone is None:
        return []
    return list(db.session.scalars(db.select(Profile).where(Profile.phone == phone)))


def account_candidates(text: str) -> list[str]:
    """How an account typed as ``text`` may be stored: as typed, as an E.164 number, and as each
    service reads its own logins (a MultiFon number typed "8 926 …" the way people in Russia do)."""
    text = text.strip()
    read = [read_phone(text), *(c.normalise_login(text) for c in registry.installed().values())]
    return list(dict.fromkeys([text, *(value for value in read if value)]))


def find_accounts(text: str) -> list[AccountHit]:
    """Service accounts by their id in the connector or the label people see (a MultiFon number)."""
    candidates = account_candidates(text)
    keys: dict[tuple[str, str], None] = {}
    linked = db.select(ServiceLink.connector, ServiceLink.account).where(
        db.or_(ServiceLink.account.in_(candidates), ServiceLink.label == text.strip())
    )
    assigned = db.select(OrgAccount.connector, OrgAccount.account).where(OrgAccount.account.in_(candidates))
    for connector, account in [*db.session.execute(linked), *db.session.execute(assigned)]:
        keys[(connector, account)] = None
    return [
        AccountHit(
            connector,
            account,
            account_label(connector, account),
            organisation_of(connector, account),
            holders(connector, account),
        )
        for connector, account in sorted(keys)[:LIMIT]
    ]
