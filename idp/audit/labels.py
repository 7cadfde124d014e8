"""How audit events and devices are named on the profile's security page."""

from __future__ import annotations

import ua_parser
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

EVENT_LABELS = {
    "profile.created": _l("Profile registered"),
    "profile.email_corrected": _l("E-mail corrected during registration"),
    "profile.email_confirmed": _l("E-mail confirmed"),
    "profile.email_change_requested": _l("E-mail change requested"),
    "profile.email_changed": _l("E-mail changed"),
    "profile.phone_changed": _l("Phone number changed"),
    "profile.name_changed": _l("Name changed"),
    "password.changed": _l("Password changed"),
    "password.restored": _l("Password restored by SMS"),
    "signin.succeeded": _l("Signed in"),
    "signin.failed": _l("Failed sign-in attempt"),
    "signin.totp": _l("Sign-in confirmed with the authenticator app"),
    "signin.recovery_code_used": _l("Recovery code used to sign in"),
    "sms_code.accepted": _l("SMS code confirmed"),
    "reauthentication.failed": _l("Wrong password entered in settings"),
    "signout": _l("Signed out"),
    "two_factor.sms_enabled": _l("SMS codes at sign-in turned on"),
    "two_factor.sms_disabled": _l("SMS codes at sign-in turned off"),
    "two_factor.totp_enabled": _l("Authenticator app added"),
    "two_factor.totp_disabled": _l("Authenticator app removed"),
    "two_factor.recovery_codes_generated": _l("New recovery codes created"),
    "session.ended": _l("A session was ended"),
    "session.ended_others": _l("Other sessions were ended"),
    "session.ended_everywhere": _l("Signed out everywhere"),
    "oauth.authorized": _l("Signed in to an application"),
    "oauth.consent_given": _l("Access granted to an application"),
    "oauth.consent_denied": _l("Access denied to an application"),
    "oauth.access_revoked": _l("An application's access was revoked"),
    "signin.refused_disabled": _l("Sign-in refused: the profile is disabled"),
    # Organisations, access to their accounts, invitations (issue 14).
    "org.created": _l("Organisation registered"),
    "org.status_changed": _l("Organisation status changed"),
    "org.renamed": _l("Organisation renamed"),
    "api.called": _l("Provisioning API called"),
    "org.account_assigned": _l("Account added to the organisation"),
    "org.member_added": _l("Person added to the organisation"),
    "org.role_changed": _l("Role in the organisation changed"),
    "org.member_removed": _l("Person removed from the organisation"),
    "access.granted": _l("Access given"),
    "access.revoked": _l("Access taken away"),
    "access.role_changed": _l("Role on an account changed"),
    "access.ownership_transferred": _l("Account ownership handed on"),
    "access.sip_password_replaced": _l("SIP password replaced after access was taken away"),
    "invitation.created": _l("Colleague invited"),
    "invitation.resent": _l("Invitation sent again"),
    "invitation.withdrawn": _l("Invitation withdrawn"),
    "invitation.accepted": _l("Invitation accepted"),
    # Directory sync (idp.scim).
    "scim.token_created": _l("SCIM token made"),
    "scim.token_revoked": _l("SCIM token revoked"),
    "scim.user_linked": _l("Directory user linked to a profile"),
    "service.linked": _l("Account linked to a profile"),
    "service.unlinked": _l("Account unlinked from a profile"),
    "service.role_refused": _l("Action refused: the role does not allow it"),
    # The operator's staff.
    "staff.granted": _l("Staff role given"),
    "staff.revoked": _l("Staff role taken away"),
    "staff.confirmed": _l("Staff member confirmed it was them"),
    "staff.sessions_ended": _l("Sessions ended by the operator's staff"),
    "profile.disabled": _l("Profile disabled by the operator"),
    "profile.enabled": _l("Profile enabled again by the operator"),
    "two_factor.reset_by_staff": _l("Second factor reset by the operator's staff"),
}


def event_label(event: str) -> str:
    """Return the localised name of an audit event."""
    return str(EVENT_LABELS.get(event, event))


def device_label(user_agent: str | None) -> str:
    """Return a short "Browser on System" name for a User-Agent string."""
    if not user_agent:
        return _("Unknown device")
    parsed = ua_parser.parse(user_agent)
    browser = parsed.user_agent.family if parsed.user_agent else None
    system = parsed.os.family if parsed.os else None
    if browser and system:
        return _("%(browser)s on %(system)s", browser=browser, system=system)
    return browser or system or _("Unknown device")
