"""MultiFon Business: the built-in connector, published as ``connectors.multifon:connector``."""

from connectors.multifon import models  # noqa: F401  (register the tables with the metadata)
from connectors.multifon.connector import MultifonConnector

connector = MultifonConnector()
