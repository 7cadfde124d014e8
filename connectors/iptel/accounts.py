"""IP-telephony accounts (seed 000): connection with an e-mailed initial password, the password
that is both the portal's and the SIP password, activation by its first change, disconnection.

The password is sealed with AES-GCM bound to the number (``idp.security.crypto.seal``): the SIP
registrar needs its value, so it cannot be a one-way hash; it is never logged or shown.
"""

from __future__ import annotations

import hmac
import re
import secrets
import string

from email_validator import EmailNotValidError, validate_email

from connectors.iptel import notices
from connectors.iptel.models import ACTIVE, DISCONNECTED, INACTIVE, IptelAccount, IptelForwarding
from idp.connectors.sdk import (
    LANGUAGES,
    broken_rules,
    db,
    display_phone,
    read_phone,
    record,
    registrar_changed,
    seal,
    unseal,
    utcnow,
)
from idp.connectors.sdk import normalise_email as one_form_of_email

# Initial passwords leave out characters that are easy to misread in a letter (0/O, 1/l/I).
INITIAL_ALPHABET = "".join(c for c in string.ascii_letters + string.digits if c not in "0O1lI")
INITIAL_LENGTH = 12


class ConnectError(ValueError):
    """The values given to ``connect`` cannot make an account (the message says why)."""


def sealing_context(number: str) -> str:
    """What a password is sealed to: its own account."""
    return f"iptel:{number}"


def label(number: str) -> str:
    """How a number is shown: "+380 44 123 4567"."""
    return display_phone(number)


def find(number: str | None) -> IptelAccount | None:
    """The account with this E.164 number, or None."""
    if not number:
        return None
    return db.session.scalar(db.select(IptelAccount).where(IptelAccount.number == number))


def accounts() -> list[IptelAccount]:
    """Every account, by number."""
    return list(db.session.scalars(db.select(IptelAccount).order_by(IptelAccount.number)))


def initial_password() -> str:
    """A random password that meets the password rules, easy to copy from a letter."""
    while True:
        password = "".join(secrets.choice(INITIAL_ALPHABET) for _ in range(INITIAL_LENGTH))
        if (
            re.search("[A-Z]", password)
            and re.search("[a-z]", password)
            and re.search("[0-9]", password)
            and not broken_rules(password)
        ):
            return password


def normalise_email(text: str) -> str:
    """The address in the one form Business ID keeps every address in (trimmed, lower case, the
    part before the @ too); raise ConnectError when it is not an e-mail address."""
    try:
        return one_form_of_email(validate_email(text.strip(), check_deliverability=False).normalized)
    except EmailNotValidError as exc:
        raise ConnectError(f"e-mail: {text!r} is not a valid address") from exc


def check_connection(number: str, email: str, language: str) -> tuple[str, str]:
    """The number in E.164 and the address, if ``connect`` can connect them (checked before
    anything is stored or sent); raise ConnectError otherwise."""
    e164 = read_phone(number)
    if e164 is None:
        raise ConnectError(f"number: {number!r} is not a valid phone number")
    address = normalise_email(email)
    if language not in LANGUAGES:
        raise ConnectError(f"language: must be one of {', '.join(LANGUAGES)}")
    account = find(e164)
    if account is not None and account.status != DISCONNECTED:
        raise ConnectError(f'{e164} is already connected; its owner can use "Forgot password?"')
    return e164, address


def connect(number: str, email: str, language: str = "uk", forwarding_allowed: bool = True) -> IptelAccount:
    """Connect the service: the account starts inactive with a random initial password, which is
    e-mailed to ``email`` in ``language``. A disconnected number is connected afresh."""
    e164, address = check_connection(number, email, language)
    account = find(e164)
    if account is None:
        account = IptelAccount(number=e164)
        db.session.add(account)
    else:
        db.session.execute(db.delete(IptelForwarding).where(IptelForwarding.account_id == account.id))
    password = initial_password()
    account.email, account.language, account.forwarding_allowed = address, language, forwarding_allowed
    account.status, account.activated_at, account.password_changed_at = INACTIVE, None, None
    account.password_sealed = seal(password, sealing_context(e164))
    db.session.flush()
    record("iptel.connected", None, connector="iptel", account=e164)
    registrar_changed("iptel", e164)
    db.session.commit()
    notices.initial_password(account, password)
    return account


def create_active(number: str, email: str, password: str, language: str = "uk") -> IptelAccount:
    """An account that is already active with a known password, and no letters: for demo data and
    for moving accounts over from an older portal. ``connect`` is the way for new customers."""
    e164 = read_phone(number)
    if e164 is None or find(e164) is not None:
        raise ConnectError(f"number: {number!r} is not a valid new number")
    now = utcnow()
    account = IptelAccount(
        number=e164,
        email=normalise_email(email),
        language=language,
        password_sealed=seal(password, sealing_context(e164)),
        status=ACTIVE,
        activated_at=now,
        password_changed_at=now,
    )
    db.session.add(account)
    registrar_changed("iptel", e164)
    db.session.commit()
    return account


def verify(number: str, password: str) -> IptelAccount | None:
    """The account if ``password`` is its password and the service is not disconnected."""
    account = find(number)
    # Unknown numbers open a decoy sealed the same way: the same work, no enumeration.
    sealed = account.password_sealed if account else seal(secrets.token_urlsafe(16), sealing_context(number))
    matches = hmac.compare_digest(unseal(sealed, sealing_context(number)).encode(), password.encode())
    if not matches or account is None or account.status == DISCONNECTED:
        return None
    return account


def is_current_password(account: IptelAccount, password: str) -> bool:
    """Tell whether ``password`` is the account's password (constant time)."""
    current = unseal(account.password_sealed, sealing_context(account.number))
    return hmac.compare_digest(current.encode(), password.encode())


def set_password(account: IptelAccount, password: str, *, how: str, profile_id: int | None = None) -> None:
    """Replace the password (``how``: "changed" or "reset"); the first change activates the
    service. The address on file is told, without the password."""
    now = utcnow()
    activating = account.status == INACTIVE
    account.password_sealed = seal(password, sealing_context(account.number))
    account.password_changed_at = now
    if activating:
        account.status, account.activated_at = ACTIVE, now
    record(
        "iptel.activated" if activating else f"iptel.password_{how}",
        profile_id,
        connector="iptel",
        account=account.number,
    )
    registrar_changed("iptel", account.number)
    db.session.commit()
    if activating:
        notices.activated(account)
    else:
        notices.password_changed(account, how)


def make_password_unusable(account: IptelAccount) -> None:
    """Replace the password with a random one nobody knows (after somebody's access was taken
    away): the old one stops working in the portal and in every SIP phone at once. The caller
    sends the address a link to set a new one."""
    account.password_sealed = seal(secrets.token_urlsafe(32), sealing_context(account.number))
    account.password_changed_at = utcnow()
    record("iptel.password_replaced", None, connector="iptel", account=account.number)
    registrar_changed("iptel", account.number)  # the caller commits


def change_email(account: IptelAccount, new_email: str, profile_id: int | None = None) -> str:
    """Make ``new_email`` the account's address; both addresses are told. Returns the old one."""
    old_email, account.email = account.email, new_email
    record("iptel.email_changed", profile_id, connector="iptel", account=account.number)
    db.session.commit()
    notices.email_changed(account, old_email)
    return old_email


def disconnect(number: str) -> None:
    """Disconnect the service: the password stops working and forwarding is switched off."""
    account = find(number)
    if account is None:
        raise LookupError(number)
    account.status = DISCONNECTED
    db.session.execute(
        db.update(IptelForwarding).where(IptelForwarding.account_id == account.id).values(enabled=False)
    )
    record("iptel.disconnected", None, connector="iptel", account=number)
    registrar_changed("iptel", number)
    db.session.commit()
