"""IP telephony: the built-in connector, published as ``connectors.iptel:connector``."""

from connectors.iptel import models  # noqa: F401  (register the tables with the metadata)
from connectors.iptel.connector import IptelConnector

connector = IptelConnector()
