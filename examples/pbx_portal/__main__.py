"""``python -m examples.pbx_portal``: serve the portal on 127.0.0.1 at the port of PBX_URL."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from examples.pbx_portal.app import create_app, settings_from_environment


def main() -> None:
    settings = settings_from_environment()
    port = urlsplit(settings["base_url"]).port or 80
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = create_app(**settings)
    print(
        f"Virtual PBX portal: {settings['base_url']}  (signs in with {settings['issuer']}, "
        f"client {settings['client_id']})",
        flush=True,
    )
    app.run(host="127.0.0.1", port=port, threaded=True)


if __name__ == "__main__":
    main()
