"""Directory sync: SCIM 2.0 per organisation (Entra ID, Okta), built on scim2-server."""
