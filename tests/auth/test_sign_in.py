"""Signing in with the phone number lands on the profile's home."""

from tests.helpers.pages import sign_in


def test_sign_in_with_phone_lands_on_profile_home(client, users):
    profile = users.create()
    page = sign_in(client, profile.phone)
    assert page.status == 302 and page.location == "/"
    assert "Olena Koval" in client.get("/").get_data(as_text=True)
