import pytest

from tests.helpers import share_compiled_templates


def pytest_configure(config):
    config.addinivalue_line("markers", "idp_settings(**values): IDP_* settings of the test's app")


@pytest.fixture(autouse=True)
def english(request, settings):
    """Pages, SMS and e-mails in English unless a test asks otherwise; apply ``idp_settings``."""
    settings["IDP_DEFAULT_LOCALE"] = "en"
    marker = request.node.get_closest_marker("idp_settings")
    if marker:
        settings.update(marker.kwargs)


@pytest.fixture(autouse=True)
def compiled_templates(english, app):
    share_compiled_templates(app)
