"""The OpenID Connect provider: signing keys (more of the provider comes with its issue)."""
