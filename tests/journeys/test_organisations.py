"""J7 and J8 on the organisation page, in Chromium: the owner invites a colleague by SMS and by
e-mail, the colleague registers their own profile from the invitation and accepts it; the owner
takes a colleague's access away and their open cabinet refuses the next request; an account's
ownership is handed on."""

from __future__ import annotations

import pytest

from idp.extensions import db
from tests.journeys.conftest import fill_code, flash_texts, is_signed_in, new_page, sign_in, submit

A1, A2 = "+79260250730", "+79260250731"
LABEL_A1, LABEL_A2 = "+7 (926) 025-07-30", "+7 (926) 025-07-31"
PASSWORD = "Str0ngPassw0rd"
ORG_NAME = "ТОВ «Коваль і партнери»"


@pytest.fixture
def organisation(app, users, lang):
    """An organisation with two MultiFon accounts; its owner owns A1 (A2 has no owner yet)."""
    from connectors.multifon.store import provision
    from idp.connectors.contract import VerifiedAccount
    from idp.connectors.links import link
    from idp.orgs.models import ORG_OWNER
    from idp.orgs.services import add_member, assign_account, create_organisation
    from idp.profiles.models import Profile

    owner = users.create(phone="+380671230001", email="owner@example.com", password=PASSWORD, locale=lang)
    with app.app_context():
        for number in (A1, A2):
            provision(number, "SipPassw0rd", balance="1520.50")
        db.session.commit()
        profile = db.session.get(Profile, owner.id)
        link(profile, "multifon", VerifiedAccount(A1, LABEL_A1))
        org = create_organisation("UA", "32855961", ORG_NAME)
        accounts = {number: assign_account(org, "multifon", number).id for number in (A1, A2)}
        add_member(org, profile, ORG_OWNER)
        return {"id": org.id, "owner": owner, "accounts": accounts}


def give_access(app, users, organisation, lang: str, phone: str, email: str, role: str = "user"):
    """A colleague who already has ``role`` on A1 and is a member of the organisation."""
    from idp.connectors.models import ServiceLink
    from idp.orgs.services import add_member, get_organisation
    from idp.profiles.models import Profile

    colleague = users.create(
        phone=phone, email=email, password=PASSWORD, locale=lang, first_name="Ivan", last_name="Petrenko"
    )
    with app.app_context():
        db.session.add(
            ServiceLink(profile_id=colleague.id, connector="multifon", account=A1, label=LABEL_A1, role=role)
        )
        db.session.commit()
        add_member(get_organisation(organisation["id"]), db.session.get(Profile, colleague.id))
    return colleague


def open_organisation(page, base: str, profile) -> None:
    """Sign in as ``profile`` and follow the home page's link to the organisation page."""
    sign_in(page, base, profile.phone, PASSWORD)
    page.wait_for_url(base + "/")
    with page.expect_navigation():
        page.click("[data-organisations-link]")
    page.wait_for_url("**/org/*")


def invite(page, organisation, channel: str, address: str, role: str = "user") -> None:
    with page.expect_navigation():
        page.click("[data-invite]")
    page.wait_for_url("**/invite")
    page.check(f"input[name=channel][value={channel}]")
    page.fill("#address", address)
    page.check(f"input[name=accounts][value='{organisation['accounts'][A1]}']")
    page.check(f"input[name=role][value={role}]")
    page.fill("#current_password", PASSWORD)


def register_from_invitation(page, base: str, outbox, phone: str, email: str, lang: str) -> None:
    """On the invitation: "Register", the wizard, the e-mail link; back on the invitation."""
    with page.expect_navigation():
        page.click("[data-invitation-register]")
    assert "/register?" in page.url
    if not page.input_value("#phone"):
        page.fill("#phone", phone)
    submit(page)
    fill_code(page, outbox.code(phone))
    page.fill("#last_name", "Шевченко" if lang != "en" else "Shevchenko")
    page.fill("#first_name", "Тарас" if lang != "en" else "Taras")
    page.fill("#email", email)
    page.check("#accept_offer")
    submit(page)
    page.fill("#password", PASSWORD)
    page.fill("#confirm", PASSWORD)
    submit(page)
    page.wait_for_url("**/register/email")
    page.goto(base + outbox.link(email, "email_confirm"))
    submit(page)
    page.wait_for_url("**/invite/*")


def accept(page) -> None:
    with page.expect_navigation():
        page.click("[data-invitation-accept]")
    page.wait_for_url("**/")


@pytest.mark.browser
@pytest.mark.parametrize("lang", ["uk"])
def test_j7_invite_a_colleague_by_sms(browser, live_server, app, organisation, outbox, shot, text, lang):
    number = "+380672220001"
    owner = new_page(browser, lang)
    open_organisation(owner, live_server, organisation["owner"])
    assert owner.inner_text("[data-org-name]") == ORG_NAME
    assert "ЄДРПОУ 32855961" in owner.inner_text("[data-org-number]")
    shot(owner, "1-organisation")
    invite(owner, organisation, "sms", "+380 67 222 0001")
    shot(owner, "2-invite-form")
    submit(owner)
    owner.wait_for_url("**/org/*")
    assert text(lang, "The invitation was sent to %(address)s.", address="+380 67 222 0001") in flash_texts(
        owner
    )
    assert "+380 67 222 0001" in owner.inner_text("[data-invitations]")
    shot(owner, "3-invitation-pending")

    # The colleague, on a phone, opens the link of the SMS and registers with the invited number.
    sms = outbox.last(number, "invitation_sms")
    assert sms.locale == lang and ORG_NAME in sms.text
    colleague = new_page(browser, lang, mobile=True)
    colleague.goto(live_server + outbox.link(number, "invitation_sms"))
    assert text(lang, "Invitation to %(organisation)s", organisation=ORG_NAME) in colleague.inner_text(
        "main h1"
    )
    assert LABEL_A1 in colleague.inner_text("[data-invited-accounts]")
    shot(colleague, "4-invitation")
    register_from_invitation(colleague, live_server, outbox, number, "taras@example.com", lang)
    shot(colleague, "5-invitation-signed-in")
    accept(colleague)
    assert text(
        lang,
        "You now have access to %(accounts)s of %(organisation)s.",
        accounts=LABEL_A1,
        organisation=ORG_NAME,
    ) in flash_texts(colleague)
    assert colleague.locator("[data-service-card=multifon]").count() == 1
    shot(colleague, "6-home-with-the-account")
    assert outbox.last("owner@example.com", "invitation_accepted")

    owner.reload()
    access = owner.inner_text(f"[data-account='{A1}'] [data-access='{number}']")
    assert "Тарас" in access and text(lang, "user") in access
    assert owner.locator("[data-invitations] [data-invitation]").count() == 0


@pytest.mark.browser
@pytest.mark.parametrize("lang", ["ru"])
def test_j7_invite_a_colleague_by_email(browser, live_server, app, organisation, outbox, shot, text, lang):
    address = "colleague@example.com"
    owner = new_page(browser, lang, mobile=True)
    open_organisation(owner, live_server, organisation["owner"])
    shot(owner, "1-organisation")
    invite(owner, organisation, "email", "Colleague@Example.com", role="viewer")
    submit(owner)
    owner.wait_for_url("**/org/*")
    assert text(lang, "The invitation was sent to %(address)s.", address=address) in flash_texts(owner)
    assert "colleague@example.com" in owner.inner_text("[data-invitations]")
    shot(owner, "2-invitation-pending")

    letter = outbox.last(address, "invitation_email")
    assert letter.locale == lang
    colleague = new_page(browser, lang)
    colleague.goto(live_server + outbox.link(address, "invitation_email"))
    shot(colleague, "3-invitation")
    register_from_invitation(colleague, live_server, outbox, "+380672220002", address, lang)
    accept(colleague)
    assert colleague.locator("[data-service-card=multifon]").count() == 1
    shot(colleague, "4-home-with-the-account")
    owner.reload()
    assert text(lang, "viewer") in owner.inner_text(f"[data-account='{A1}'] [data-access='+380672220002']")


@pytest.mark.browser
@pytest.mark.parametrize("lang", ["en"])
def test_j7_a_used_or_foreign_link_says_why(
    browser, live_server, app, organisation, users, outbox, shot, text, lang
):
    from idp.orgs import invitations
    from idp.orgs.services import Actor, get_organisation
    from idp.profiles.models import Profile

    with app.app_context():
        invitations.invite(
            Actor.person(db.session.get(Profile, organisation["owner"].id)),
            get_organisation(organisation["id"]),
            "sms",
            "+380672220003",
            [("multifon", A2)],
            "user",
            lang,
        )
    stranger = users.create(phone="+380672220004", password=PASSWORD, locale=lang)
    page = new_page(browser, lang, mobile=True)
    sign_in(page, live_server, stranger.phone, PASSWORD)
    page.wait_for_url(live_server + "/")
    page.goto(live_server + outbox.link("+380672220003", "invitation_sms"))
    assert text(
        lang,
        "This invitation was sent to %(address)s, which is not the phone number of your profile. "
        "Sign in with the profile of that number, or register one with it.",
        address="+380 67 222 0003",
    ) in page.inner_text("[data-invitation-refusal]")
    assert page.locator("[data-invitation-accept]").count() == 0
    shot(page, "1-another-profile")
    with page.expect_navigation():
        page.click("[data-invitation-switch]")
    assert "/signin?next=/invite/" in page.url
    assert not is_signed_in(page)
    holder = users.create(phone="+380672220003", email="holder@example.com", password=PASSWORD, locale=lang)
    page.fill("#identifier", holder.phone)  # the invited number may already be filled in
    page.fill("#password", PASSWORD)
    submit(page)
    page.wait_for_url("**/invite/*")
    accept(page)
    page.go_back()
    page.reload()
    assert text(lang, "This invitation was already used.") in page.inner_text("[data-invitation-refusal]")
    shot(page, "2-used")


@pytest.mark.browser
@pytest.mark.parametrize("lang", ["en"])
def test_j8_the_owner_takes_a_colleagues_access_away(
    browser, live_server, app, organisation, users, outbox, shot, text, lang
):
    colleague = give_access(app, users, organisation, lang, "+380672220010", "employee@example.com")
    employee = new_page(browser, lang)
    sign_in(employee, live_server + "", colleague.phone, PASSWORD)
    employee.wait_for_url(live_server + "/")
    employee.goto(live_server + "/services/multifon/")
    employee.wait_for_url("**/services/multifon/cabinet")
    shot(employee, "1-employee-cabinet")

    owner = new_page(browser, lang, mobile=True)
    open_organisation(owner, live_server, organisation["owner"])
    row = owner.locator(f"[data-account='{A1}'] [data-access='{colleague.phone}']")
    with owner.expect_navigation():
        row.locator("[data-revoke]").click()
    owner.fill("#reason", "Left the company")
    owner.fill("#current_password", "Wr0ngPassword")
    submit(owner)
    assert text(lang, "The current password is wrong.") in owner.inner_text("main")
    owner.fill("#reason", "Left the company")
    owner.fill("#current_password", PASSWORD)
    shot(owner, "2-revoke-form")
    submit(owner)
    owner.wait_for_url("**/org/*")
    assert text(
        lang,
        "%(name)s no longer has access to account %(account)s; their sessions were ended.",
        name="Ivan Petrenko",
        account=LABEL_A1,
    ) in flash_texts(owner)
    assert owner.locator(f"[data-access='{colleague.phone}']").count() == 0
    events = owner.inner_text("[data-events]")
    assert "Left the company" in events and "Ivan Petrenko" in events
    shot(owner, "3-access-taken-away")

    # The employee's open cabinet refuses the next request: they are signed out.
    employee.reload()
    employee.wait_for_url("**/services/multifon/login")
    assert not is_signed_in(employee)
    shot(employee, "4-employee-signed-out")
    sign_in(employee, live_server, colleague.phone, PASSWORD)
    employee.wait_for_url(live_server + "/")
    assert employee.locator("[data-service-card=multifon]").count() == 0
    assert outbox.last("employee@example.com", "access_revoked")


@pytest.mark.browser
@pytest.mark.parametrize("lang", ["ru"])
def test_hand_on_the_ownership_of_an_account(
    browser, live_server, app, organisation, users, outbox, shot, text, lang
):
    """The owner of A1 leaves: the organisation's administrator makes a colleague its owner."""
    from idp.orgs.models import ORG_ADMIN
    from idp.orgs.services import add_member, get_organisation
    from idp.profiles.models import Profile

    colleague = give_access(app, users, organisation, lang, "+380672220020", "successor@example.com")
    admin = users.create(
        phone="+380672220021",
        email="admin@example.com",
        password=PASSWORD,
        locale=lang,
        first_name="Maria",
        last_name="Bondar",
    )
    with app.app_context():
        add_member(get_organisation(organisation["id"]), db.session.get(Profile, admin.id), ORG_ADMIN)
    page = new_page(browser, lang)
    open_organisation(page, live_server, admin)
    with page.expect_navigation():
        page.click(f"[data-account='{A1}'] [data-transfer]")
    page.select_option("#new_owner", label=f"Ivan Petrenko · {colleague.email}")
    page.check("input[name=old_owner][value=keep]")
    page.fill("#reason", "Уходит на пенсию")
    shot(page, "1-transfer-form")
    with page.expect_navigation():  # confirmed by an SMS code instead of the password
        page.click("[data-org-by-sms]")
    assert page.input_value("#reason") == "Уходит на пенсию"
    assert text(lang, "We sent a code by SMS to %(phone)s.", phone="+380 67 222 0021") in flash_texts(page)
    page.fill("#code", outbox.code(admin.phone))
    shot(page, "2-sms-code")
    submit(page)
    page.wait_for_url("**/org/*")
    assert text(
        lang, "%(name)s now owns account %(account)s.", name="Ivan Petrenko", account=LABEL_A1
    ) in flash_texts(page)
    account = f"[data-account='{A1}']"
    roles = {
        phone: page.get_attribute(f"{account} [data-access='{phone}'] [data-role]", "data-role")
        for phone in (colleague.phone, organisation["owner"].phone)
    }
    assert roles == {colleague.phone: "owner", organisation["owner"].phone: "user"}
    assert "Уходит на пенсию" in page.inner_text("[data-events]")
    shot(page, "3-new-owner")
    assert outbox.last("successor@example.com", "access_granted")


@pytest.mark.parametrize(("lang", "mobile"), [("uk", True), ("ru", False), ("en", False)])
def test_directory_sync_token_is_made_shown_once_used_and_revoked(
    browser, live_server, app, organisation, shot, text, lang, mobile
):
    """The owner makes the organisation's SCIM token on its page, pastes it into the directory
    (here: a SCIM request), and revokes it; the directory's next request is refused."""
    import requests

    page = new_page(browser, lang, mobile=mobile)
    open_organisation(page, live_server, organisation["owner"])
    card = page.locator("[data-scim]")
    base_url = card.locator("[data-scim-base-url]").inner_text()
    assert base_url == f"{live_server}/scim/v2/{organisation['id']}"
    shot(page, "scim-card")
    with page.expect_navigation():
        card.locator("[data-scim-new]").click()
    page.fill("#label", "Microsoft Entra ID")
    page.fill("#current_password", PASSWORD)
    submit(page)
    secret = page.locator("[data-scim-secret]").inner_text().strip()
    assert page.locator("[data-scim-base-url]").inner_text() == base_url
    shot(page, "scim-token-shown-once")
    users = requests.get(f"{base_url}/Users", headers={"Authorization": f"Bearer {secret}"}, timeout=30)
    assert users.status_code == 200 and users.json()["totalResults"] == 0
    with page.expect_navigation():
        page.click("a[href$='#scim']")
    assert secret not in page.content()  # never shown again
    row = page.locator("[data-scim-token]")
    assert "Microsoft Entra ID" in row.inner_text()
    with page.expect_navigation():
        row.locator("[data-scim-revoke]").click()
    page.fill("#current_password", PASSWORD)
    submit(page)
    assert flash_texts(page) == [
        text(lang, "The SCIM token %(label)s was revoked.", label="Microsoft Entra ID")
    ]
    shot(page, "scim-token-revoked")
    refused = requests.get(f"{base_url}/Users", headers={"Authorization": f"Bearer {secret}"}, timeout=30)
    assert refused.status_code == 401
    page.context.close()


@pytest.mark.browser
@pytest.mark.parametrize("lang", ["ru", "uk", "en"])
def test_the_owner_finds_a_colleague_among_many_people(
    browser, live_server, app, organisation, users, shot, text, lang
):
    """Sixty people: the page lists fifty, the next page the rest, and a search by part of a name
    typed in lower case (Cyrillic) finds the one person."""
    from idp.orgs.models import ORG_MEMBER
    from idp.orgs.services import add_member, get_organisation
    from idp.profiles.models import Profile

    names = ["Шевченко", "Франко", "Коцюбинський", "Стефаник", "Костенко", "Гончар"]
    made = [
        users.create(
            phone=f"+38050{5_000_000 + n}",
            email=f"staff{n}@example.com",
            locale=lang,
            first_name="Олена",
            last_name=f"{names[n % 6]}-{n:02d}",
        )
        for n in range(60)
    ]
    with app.app_context():
        org = get_organisation(organisation["id"])
        for person in made:
            add_member(org, db.session.get(Profile, person.id), ORG_MEMBER)
    page = new_page(browser, lang, mobile=True)
    open_organisation(page, live_server, organisation["owner"])
    people = page.locator("[data-people] [data-member]")
    assert people.count() == 50
    pager = page.inner_text("[data-people-pager]")
    assert text(lang, "Page %(number)s of %(pages)s", number=1, pages=2) in pager
    assert text(lang, "%(num)s person", "%(num)s people", num=61) in pager
    shot(page, "1-first-fifty")
    with page.expect_navigation():
        page.click("[data-people-next]")
    assert people.count() == 11
    page.fill("#people-q", "стефаник-4")  # Стефаник-45 (one of 60)
    with page.expect_navigation():
        page.click("[data-people-search] button[type=submit]")
    assert people.count() == 1 and "Стефаник-45" in people.first.inner_text()
    assert page.input_value("#people-q") == "стефаник-4"
    shot(page, "2-found-by-name")
    # Handing an account on: the new owner is found the same way, not in a list of sixty.
    page.goto(f"{live_server}/org/{organisation['id']}")
    with page.expect_navigation():
        page.click(f"[data-account='{A1}'] [data-transfer]")
    assert page.locator("#new_owner option").count() == 50
    assert page.is_visible("[data-people-first]")
    shot(page, "3-transfer-among-sixty")
    page.fill("#people-q", "гончар-53")
    with page.expect_navigation():
        page.click("[data-people-search] button[type=submit]")
    assert page.locator("#new_owner option").count() == 1
    page.check("input[name=old_owner][value=keep]")
    page.fill("#reason", "Новий директор")
    page.fill("#current_password", PASSWORD)
    shot(page, "4-new-owner-found")
    with page.expect_navigation():
        page.click("[data-org-submit]")
    assert text(
        lang, "%(name)s now owns account %(account)s.", name="Олена Гончар-53", account=LABEL_A1
    ) in flash_texts(page)
