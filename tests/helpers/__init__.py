"""Test helpers: ``pages`` for what a browser does (forms with their CSRF token, sign-in,
registration, cabinets), ``records`` for what the app stored (profiles, the outbox, table rows,
translations), ``templates`` for sharing compiled templates between the apps of a run."""
