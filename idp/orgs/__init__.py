"""Organisations (a business customer), their people, service accounts, invitations and revocation."""
