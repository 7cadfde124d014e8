"""The provisioning API's request and response bodies (Pydantic models, and so JSON Schema).

Requests refuse fields they do not know (``extra="forbid"``) and bound every string, so a typo in
a client's call is an error it sees, not a silently ignored field.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from idp.api.paging import PageQuery

Country = Literal["UA", "RU"]
OrgStatus = Literal["active", "suspended"]
OrgRole = Literal["owner", "admin", "member"]
AccountRole = Literal["owner", "user", "viewer"]
Channel = Literal["sms", "email"]
Language = Literal["uk", "ru", "en"]
Reason = Field(min_length=1, max_length=500, description="Why: it goes into the audit log.")
Ticket = Field(None, max_length=64, description="A ticket of the operator's system, for the audit log.")
ConnectorId = Field(min_length=1, max_length=32, pattern=r"^[a-z][a-z0-9_]*$")
AccountKey = Field(min_length=1, max_length=64)


def _as_utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# A moment as the database keeps it (naive UTC), answered with its offset: 2026-12-02T18:37:36Z.
Moment = Annotated[datetime, AfterValidator(_as_utc)]


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- organisations ---


class Organisation(BaseModel):
    id: int
    country: Country
    registration_number: str = Field(description="Digits only: ЄДРПОУ, РНОКПП, ИНН, ОГРН or ОГРНИП.")
    number_kind: Literal["edrpou", "rntrc", "inn", "ogrn", "ogrnip"]
    name: str
    status: OrgStatus
    created_at: Moment


class OrganisationPage(BaseModel):
    items: list[Organisation]
    next_cursor: str | None


class OrganisationQuery(PageQuery):
    model_config = ConfigDict(extra="forbid")
    country: Country | None = None
    registration_number: str | None = Field(None, max_length=20, description="Find by its number.")


class NewOrganisation(Request):
    country: Country
    registration_number: str = Field(
        min_length=8, max_length=20, pattern=r"^[0-9][0-9 -]*$", description="Spaces and dashes allowed."
    )
    name: str = Field(min_length=1, max_length=200)


class OrganisationChange(Request):
    name: str | None = Field(None, min_length=1, max_length=200)
    status: OrgStatus | None = None


# --- accounts ---


class Account(BaseModel):
    connector: str
    account: str
    label: str
    organisation_id: int | None
    owner_profile_id: int | None


class AccountList(BaseModel):
    items: list[Account]


class AccountAssignment(Request):
    connector: str = ConnectorId
    account: str = AccountKey


# --- people ---


class Member(BaseModel):
    profile_id: int
    name: str
    phone_number: str
    email: str | None
    role: OrgRole
    since: Moment


class MemberPage(BaseModel):
    items: list[Member]
    next_cursor: str | None


class MemberQuery(PageQuery):
    model_config = ConfigDict(extra="forbid")


class MemberChange(Request):
    role: OrgRole


class Removal(Request):
    reason: str = Reason
    ticket: str | None = Ticket
    replace_password: bool = Field(False, description="Give the accounts new SIP passwords too.")


# --- access ---


class Access(BaseModel):
    profile_id: int
    name: str
    role: AccountRole
    since: Moment


class AccessList(BaseModel):
    items: list[Access]


class AccessChange(Request):
    role: Literal["user", "viewer"]


class Transfer(Request):
    profile_id: int = Field(ge=1, le=2**31 - 1, description="The new owner, a member of the organisation.")
    previous_owner_keeps: bool = Field(True, description="The old owner stays, as user.")
    reason: str = Reason
    ticket: str | None = Ticket


class Revocation(BaseModel):
    accounts: list[str]
    sessions_ended: int
    passwords_replaced: list[str]


# --- invitations ---


class InvitedAccount(Request):
    connector: str = ConnectorId
    account: str = AccountKey


class Invitation(BaseModel):
    id: int
    organisation_id: int
    channel: Channel
    address: str
    role: AccountRole
    accounts: list[InvitedAccount]
    state: Literal["pending", "expired", "accepted", "withdrawn"]
    created_at: Moment
    sent_at: Moment
    expires_at: Moment
    accepted_by: int | None


class InvitationPage(BaseModel):
    items: list[Invitation]
    next_cursor: str | None


class InvitationQuery(PageQuery):
    model_config = ConfigDict(extra="forbid")
    state: Literal["pending", "expired", "accepted", "withdrawn"] | None = None


class NewInvitation(Request):
    channel: Channel
    address: str = Field(min_length=1, max_length=254, description="A phone number or an e-mail address.")
    accounts: list[InvitedAccount] = Field(min_length=1, max_length=50)
    role: AccountRole = "user"
    language: Language = Field("uk", description="The language of the SMS or letter.")


# --- profiles ---


class Profile(BaseModel):
    id: int
    subject: str = Field(description="The sub claim relying services know the person by.")
    name: str
    phone_number: str
    email: str | None
    email_verified: bool
    language: str
    disabled: bool
    created_at: Moment


class ProfileList(BaseModel):
    items: list[Profile]


class ProfileQuery(Request):
    phone_number: str | None = Field(None, max_length=32)
    email: str | None = Field(None, max_length=254)


class Action(Request):
    reason: str = Reason
    ticket: str | None = Ticket


class SessionsEnded(BaseModel):
    sessions_ended: int


# --- audit ---


class AuditEvent(BaseModel):
    id: int
    created_at: Moment
    event: str
    profile_id: int | None
    actor_profile_id: int | None
    ip: str | None
    request_id: str | None  # the request that recorded it, as in the logs (X-Request-ID)
    details: dict[str, object]


class AuditPage(BaseModel):
    items: list[AuditEvent]
    next_cursor: str | None


class AuditQuery(PageQuery):
    model_config = ConfigDict(extra="forbid")
    event: str | None = Field(None, max_length=64, description="One kind of event, e.g. access.revoked.")
    profile_id: int | None = Field(None, ge=1, le=2**31 - 1)
    organisation_id: int | None = Field(None, ge=1, le=2**31 - 1)
    since: datetime | None = None
    until: datetime | None = None
