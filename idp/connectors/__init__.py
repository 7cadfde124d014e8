"""Service connectors: the contract, their registry, links to profiles, login and the account chooser."""
