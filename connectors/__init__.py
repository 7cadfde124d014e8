"""Service connectors: one package each, declared by an ``idp.connectors`` entry point."""
