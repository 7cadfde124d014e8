"""OpenID provider: clients, authorization codes, grants, refresh tokens, consents, session ids.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "oauth_clients",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=True),
        sa.Column("redirect_uris_json", sa.Text(), nullable=False),
        sa.Column("post_logout_redirect_uris_json", sa.Text(), nullable=False),
        sa.Column("grant_types_json", sa.Text(), nullable=False),
        sa.Column("scope", sa.String(length=500), nullable=False),
        sa.Column("first_party", sa.Boolean(), nullable=False),
        sa.Column("backchannel_logout_uri", sa.String(length=254), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("secret_rotated_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oauth_clients")),
        sa.UniqueConstraint("client_id", name=op.f("uq_oauth_clients_client_id")),
    )
    op.create_table(
        "oauth_revoked_access_tokens",
        sa.Column("jti", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("jti", name=op.f("pk_oauth_revoked_access_tokens")),
    )
    with op.batch_alter_table("oauth_revoked_access_tokens", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_oauth_revoked_access_tokens_expires_at"), ["expires_at"], unique=False
        )

    op.create_table(
        "oauth_consents",
        sa.Column("profile_id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("scope", sa.String(length=500), nullable=False),
        sa.Column("granted_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["oauth_clients.client_id"],
            name=op.f("fk_oauth_consents_client_id_oauth_clients"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["profile_id"],
            ["profiles.id"],
            name=op.f("fk_oauth_consents_profile_id_profiles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("profile_id", "client_id", name=op.f("pk_oauth_consents")),
    )
    op.create_table(
        "oauth_authorization_codes",
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("grant_id", sa.String(length=32), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("profile_id", sa.Integer(), nullable=False),
        sa.Column("web_session_id", sa.Integer(), nullable=True),
        sa.Column("sid", sa.String(length=32), nullable=True),
        sa.Column("redirect_uri", sa.String(length=500), nullable=False),
        sa.Column("scope", sa.String(length=500), nullable=False),
        sa.Column("nonce", sa.String(length=255), nullable=True),
        sa.Column("code_challenge", sa.String(length=128), nullable=False),
        sa.Column("code_challenge_method", sa.String(length=8), nullable=False),
        sa.Column("auth_time", sa.DateTime(), nullable=False),
        sa.Column("amr", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("used_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["oauth_clients.client_id"],
            name=op.f("fk_oauth_authorization_codes_client_id_oauth_clients"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["profile_id"],
            ["profiles.id"],
            name=op.f("fk_oauth_authorization_codes_profile_id_profiles"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["web_session_id"],
            ["web_sessions.id"],
            name=op.f("fk_oauth_authorization_codes_web_session_id_web_sessions"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("code_hash", name=op.f("pk_oauth_authorization_codes")),
    )
    with op.batch_alter_table("oauth_authorization_codes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_oauth_authorization_codes_grant_id"), ["grant_id"], unique=False)

    op.create_table(
        "oauth_grants",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("profile_id", sa.Integer(), nullable=False),
        sa.Column("web_session_id", sa.Integer(), nullable=True),
        sa.Column("sid", sa.String(length=32), nullable=True),
        sa.Column("scope", sa.String(length=500), nullable=False),
        sa.Column("auth_time", sa.DateTime(), nullable=False),
        sa.Column("amr", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.Column("revoked_reason", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["oauth_clients.client_id"],
            name=op.f("fk_oauth_grants_client_id_oauth_clients"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["profile_id"],
            ["profiles.id"],
            name=op.f("fk_oauth_grants_profile_id_profiles"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["web_session_id"],
            ["web_sessions.id"],
            name=op.f("fk_oauth_grants_web_session_id_web_sessions"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oauth_grants")),
    )
    with op.batch_alter_table("oauth_grants", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_oauth_grants_client_id"), ["client_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_oauth_grants_profile_id"), ["profile_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_oauth_grants_web_session_id"), ["web_session_id"], unique=False)

    op.create_table(
        "oauth_refresh_tokens",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("grant_id", sa.String(length=32), nullable=False),
        sa.Column("scope", sa.String(length=500), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("used_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["grant_id"],
            ["oauth_grants.id"],
            name=op.f("fk_oauth_refresh_tokens_grant_id_oauth_grants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_oauth_refresh_tokens")),
    )
    with op.batch_alter_table("oauth_refresh_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_oauth_refresh_tokens_grant_id"), ["grant_id"], unique=False)

    with op.batch_alter_table("web_sessions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sid", sa.String(length=32), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_web_sessions_sid"), ["sid"])


def downgrade():
    with op.batch_alter_table("web_sessions", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_web_sessions_sid"), type_="unique")
        batch_op.drop_column("sid")

    with op.batch_alter_table("oauth_refresh_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_oauth_refresh_tokens_grant_id"))

    op.drop_table("oauth_refresh_tokens")
    with op.batch_alter_table("oauth_grants", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_oauth_grants_web_session_id"))
        batch_op.drop_index(batch_op.f("ix_oauth_grants_profile_id"))
        batch_op.drop_index(batch_op.f("ix_oauth_grants_client_id"))

    op.drop_table("oauth_grants")
    with op.batch_alter_table("oauth_authorization_codes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_oauth_authorization_codes_grant_id"))

    op.drop_table("oauth_authorization_codes")
    op.drop_table("oauth_consents")
    with op.batch_alter_table("oauth_revoked_access_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_oauth_revoked_access_tokens_expires_at"))

    op.drop_table("oauth_revoked_access_tokens")
    op.drop_table("oauth_clients")
