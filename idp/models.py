"""Import every model so SQLAlchemy's metadata (and Alembic) sees all tables."""

from idp.api.models import IdempotentRequest
from idp.atomic import SerialLock
from idp.audit.models import AuditEvent, AuditRef
from idp.auth.models import SignInThrottle
from idp.connectors.models import ServiceLink
from idp.delivery.models import Message, MessagePart
from idp.generations import CacheGeneration
from idp.oauth.models import (
    AuthorizationCode,
    Client,
    Consent,
    Grant,
    RefreshToken,
    RevokedAccessToken,
    SigningKey,
)
from idp.orgs.models import Invitation, Membership, OrgAccount, Organisation, StaffMember
from idp.otp.models import SmsChallenge
from idp.otp.pow import ProofSolution
from idp.profiles.models import EmailLink, Profile, RecoveryCode
from idp.scim.models import ScimToken, ScimUser
from idp.sessions.models import WebSession

__all__ = [
    "AuditEvent",
    "AuditRef",
    "IdempotentRequest",
    "AuthorizationCode",
    "CacheGeneration",
    "Client",
    "Consent",
    "EmailLink",
    "Grant",
    "Invitation",
    "Membership",
    "Message",
    "MessagePart",
    "OrgAccount",
    "Organisation",
    "Profile",
    "ProofSolution",
    "RecoveryCode",
    "RefreshToken",
    "RevokedAccessToken",
    "ScimToken",
    "ScimUser",
    "SerialLock",
    "ServiceLink",
    "SignInThrottle",
    "SigningKey",
    "SmsChallenge",
    "StaffMember",
    "WebSession",
]
