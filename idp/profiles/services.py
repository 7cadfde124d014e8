"""Create profiles and change what identifies them, with the notices seed 000 asks for."""

from __future__ import annotations

from flask import current_app

from idp.audit.services import record
from idp.delivery.services import send
from idp.extensions import db
from idp.i18n import language_for
from idp.profiles.email_links import LINKS
from idp.profiles.errors import EmailInUse, LinkInvalid, PhoneTaken
from idp.profiles.models import EmailLink, Profile
from idp.security.emails import normalise_email
from idp.security.passwords import hash_password
from idp.security.phones import mask_phone
from idp.sessions.services import end_sessions
from idp.timeutil import utcnow


def find_by_phone(phone: str) -> Profile | None:
    """Return the profile registered with an E.164 number."""
    profile: Profile | None = db.session.scalar(db.select(Profile).where(Profile.phone == phone))
    return profile


def find_by_verified_email(email: str) -> Profile | None:
    """Return the profile that has confirmed ``email`` (case-insensitive)."""
    profile: Profile | None = db.session.scalar(
        db.select(Profile).where(
            Profile.email == normalise_email(email), Profile.email_verified_at.is_not(None)
        )
    )
    return profile


def create_profile(
    phone: str,
    email: str,
    first_name: str,
    last_name: str,
    password: str,
    locale: str,
    email_verified: bool = False,
) -> Profile:
    """Create a profile; raise PhoneTaken (or EmailInUse for a verified address) on conflict."""
    if find_by_phone(phone):
        raise PhoneTaken()
    email = normalise_email(email)
    if email_verified and find_by_verified_email(email):
        raise EmailInUse()
    now = utcnow()
    profile = Profile(
        phone=phone,
        email=email,
        first_name=first_name,
        last_name=last_name,
        password_hash=hash_password(password),
        locale=locale,
        offer_version=current_app.config["IDP_OFFER_VERSION"],
        offer_accepted_at=now,
        email_verified_at=now if email_verified else None,
    )
    db.session.add(profile)
    db.session.flush()
    record("profile.created", profile.id, offer_version=profile.offer_version)
    db.session.commit()
    return profile


def send_confirmation(profile: Profile) -> None:
    """E-mail a link that confirms the profile's (unconfirmed) address."""
    url = LINKS.issue(profile.id, "confirm", profile.email)
    send(
        "email_confirm",
        profile.email,
        profile.locale,
        profile.id,
        profile=profile,
        url=url,
        hours=current_app.config["IDP_EMAIL_LINK_HOURS"],
    )


def replace_unconfirmed_email(profile: Profile, email: str) -> None:
    """Correct the address of a profile that has not confirmed it yet, and send a new link."""
    profile.email = normalise_email(email)
    record("profile.email_corrected", profile.id)
    db.session.commit()
    send_confirmation(profile)


def request_email_change(profile: Profile, new_email: str) -> None:
    """Send a confirmation link to ``new_email``; the address changes when it is followed."""
    new_email = normalise_email(new_email)
    url = LINKS.issue(profile.id, "change", new_email)
    send(
        "email_change_confirm",
        new_email,
        language_for(profile),
        profile.id,
        profile=profile,
        url=url,
        hours=current_app.config["IDP_EMAIL_LINK_HOURS"],
    )
    record("profile.email_change_requested", profile.id)
    db.session.commit()


def confirm_email(token: str) -> tuple[Profile, EmailLink]:
    """Redeem a confirmation or change link; raise LinkInvalid or EmailInUse."""
    link = LINKS.redeem(token)
    profile = db.session.get(Profile, link.profile_id)
    if profile is None or (link.purpose == "confirm" and link.email != profile.email):
        raise LinkInvalid()  # used up: a link for an address the profile no longer has
    owner = find_by_verified_email(link.email)
    if owner is not None and owner.id != profile.id:
        db.session.commit()  # the link is used up either way
        raise EmailInUse()
    old_email = profile.email
    profile.email = link.email
    profile.email_verified_at = utcnow()
    record("profile.email_confirmed" if link.purpose == "confirm" else "profile.email_changed", profile.id)
    db.session.commit()
    if link.purpose == "change" and old_email != link.email:
        locale = language_for(profile)
        send("email_changed_old", old_email, locale, profile.id, profile=profile, new_email=link.email)
        send("email_changed_new", link.email, locale, profile.id, profile=profile)
    return profile, link


def set_password(
    profile: Profile, password: str, keep_session_id: int | None, event: str, notice_kind: str
) -> None:
    """Replace the password, end the profile's other sessions and notify it by e-mail."""
    profile.password_hash = hash_password(password)
    profile.password_changed_at = utcnow()
    ended = end_sessions(profile.id, keep_id=keep_session_id)
    record(event, profile.id, sessions_ended=ended)
    db.session.commit()
    send(notice_kind, profile.email, language_for(profile), profile.id, profile=profile)


def change_phone(profile: Profile, new_phone: str) -> None:
    """Move the profile to a confirmed new number; tell the old number and the e-mail address."""
    if find_by_phone(new_phone):
        raise PhoneTaken()
    old_phone = profile.phone
    profile.phone = new_phone
    record("profile.phone_changed", profile.id)
    db.session.commit()
    locale = language_for(profile)
    send("sms_phone_changed", old_phone, locale, profile.id, new_phone=mask_phone(new_phone))
    send(
        "phone_changed",
        profile.email,
        locale,
        profile.id,
        profile=profile,
        new_phone=mask_phone(new_phone),
    )


def change_name(profile: Profile, first_name: str, last_name: str) -> bool:
    """Correct the profile's name: audited, told by e-mail, and in the ``name`` claims of the next
    token a relying service gets. Return False, changing nothing, when it is the name it has."""
    if (first_name, last_name) == (profile.first_name, profile.last_name):
        return False
    profile.first_name, profile.last_name = first_name, last_name
    record("profile.name_changed", profile.id)
    db.session.commit()
    send("name_changed", profile.email, language_for(profile), profile.id, profile=profile)
    return True
