"""The business profile: profiles, SMS challenges, sessions, messages, audit.

Revision ID: 0001
Revises:
Create Date: 2026-11-23 17:56:45.411180

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "profiles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(length=32), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("email_verified_at", sa.DateTime(), nullable=True),
        sa.Column("last_name", sa.String(length=100), nullable=False),
        sa.Column("first_name", sa.String(length=100), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("password_changed_at", sa.DateTime(), nullable=False),
        sa.Column("locale", sa.String(length=5), nullable=False),
        sa.Column("offer_version", sa.String(length=32), nullable=False),
        sa.Column("offer_accepted_at", sa.DateTime(), nullable=False),
        sa.Column("sms_2fa_enabled", sa.Boolean(), nullable=False),
        sa.Column("totp_secret_encrypted", sa.Text(), nullable=True),
        sa.Column("totp_enabled_at", sa.DateTime(), nullable=True),
        sa.Column("totp_last_step", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_profiles")),
        sa.UniqueConstraint("phone", name=op.f("uq_profiles_phone")),
        sa.UniqueConstraint("subject", name=op.f("uq_profiles_subject")),
    )
    with op.batch_alter_table("profiles", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_profiles_email"), ["email"], unique=False)
        batch_op.create_index(
            "uq_profiles_verified_email",
            ["email"],
            unique=True,
            sqlite_where=sa.text("email_verified_at IS NOT NULL"),
            postgresql_where=sa.text("email_verified_at IS NOT NULL"),
        )

    op.create_table(
        "signin_throttles",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_signin_throttles")),
    )
    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("event", sa.String(length=64), nullable=False),
        sa.Column("profile_id", sa.Integer(), nullable=True),
        sa.Column("actor_profile_id", sa.Integer(), nullable=True),
        sa.Column("ip", sa.String(length=64), nullable=True),
        sa.Column("user_agent", sa.String(length=300), nullable=True),
        sa.Column("details", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_profile_id"],
            ["profiles.id"],
            name=op.f("fk_audit_events_actor_profile_id_profiles"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["profile_id"],
            ["profiles.id"],
            name=op.f("fk_audit_events_profile_id_profiles"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
    )
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_events_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_events_event"), ["event"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_events_profile_id"), ["profile_id"], unique=False)

    op.create_table(
        "email_links",
        sa.Column("id", sa.String(length=43), nullable=False),
        sa.Column("profile_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("used_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["profile_id"],
            ["profiles.id"],
            name=op.f("fk_email_links_profile_id_profiles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_email_links")),
    )
    with op.batch_alter_table("email_links", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_email_links_profile_id"), ["profile_id"], unique=False)

    op.create_table(
        "messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("kind", sa.String(length=48), nullable=False),
        sa.Column("locale", sa.String(length=5), nullable=False),
        sa.Column("recipient", sa.String(length=254), nullable=False),
        sa.Column("profile_id", sa.Integer(), nullable=True),
        sa.Column("subject", sa.String(length=200), nullable=True),
        sa.Column("body_encrypted", sa.Text(), nullable=False),
        sa.Column("html_encrypted", sa.Text(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("transport", sa.String(length=16), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["profile_id"], ["profiles.id"], name=op.f("fk_messages_profile_id_profiles"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_messages")),
    )
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_messages_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_messages_recipient"), ["recipient"], unique=False)
        batch_op.create_index(batch_op.f("ix_messages_state"), ["state"], unique=False)

    op.create_table(
        "recovery_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("profile_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("used_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["profile_id"],
            ["profiles.id"],
            name=op.f("fk_recovery_codes_profile_id_profiles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recovery_codes")),
    )
    with op.batch_alter_table("recovery_codes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_recovery_codes_profile_id"), ["profile_id"], unique=False)

    op.create_table(
        "sms_challenges",
        sa.Column("id", sa.String(length=43), nullable=False),
        sa.Column("purpose", sa.String(length=32), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("profile_id", sa.Integer(), nullable=True),
        sa.Column("code_hash", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("last_sent_at", sa.DateTime(), nullable=False),
        sa.Column("sends", sa.Integer(), nullable=False),
        sa.Column("failed_attempts", sa.Integer(), nullable=False),
        sa.Column("sends_code", sa.Boolean(), nullable=False),
        sa.Column("notice_kind", sa.String(length=48), nullable=True),
        sa.Column("message_id", sa.Integer(), nullable=True),
        sa.Column("verified_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["profile_id"],
            ["profiles.id"],
            name=op.f("fk_sms_challenges_profile_id_profiles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sms_challenges")),
    )
    with op.batch_alter_table("sms_challenges", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sms_challenges_phone"), ["phone"], unique=False)

    op.create_table(
        "web_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("profile_id", sa.Integer(), nullable=True),
        sa.Column("authenticated_at", sa.DateTime(), nullable=True),
        sa.Column("amr", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(), nullable=False),
        sa.Column("ip", sa.String(length=64), nullable=True),
        sa.Column("user_agent", sa.String(length=300), nullable=True),
        sa.Column("ended_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["profile_id"],
            ["profiles.id"],
            name=op.f("fk_web_sessions_profile_id_profiles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_web_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_web_sessions_token_hash")),
    )
    with op.batch_alter_table("web_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_web_sessions_profile_id"), ["profile_id"], unique=False)


def downgrade():
    with op.batch_alter_table("web_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_web_sessions_profile_id"))

    op.drop_table("web_sessions")
    with op.batch_alter_table("sms_challenges", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sms_challenges_phone"))

    op.drop_table("sms_challenges")
    with op.batch_alter_table("recovery_codes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_recovery_codes_profile_id"))

    op.drop_table("recovery_codes")
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_messages_state"))
        batch_op.drop_index(batch_op.f("ix_messages_recipient"))
        batch_op.drop_index(batch_op.f("ix_messages_created_at"))

    op.drop_table("messages")
    with op.batch_alter_table("email_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_email_links_profile_id"))

    op.drop_table("email_links")
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_events_profile_id"))
        batch_op.drop_index(batch_op.f("ix_audit_events_event"))
        batch_op.drop_index(batch_op.f("ix_audit_events_created_at"))

    op.drop_table("audit_events")
    op.drop_table("signin_throttles")
    with op.batch_alter_table("profiles", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_profiles_verified_email",
            sqlite_where=sa.text("email_verified_at IS NOT NULL"),
            postgresql_where=sa.text("email_verified_at IS NOT NULL"),
        )
        batch_op.drop_index(batch_op.f("ix_profiles_email"))

    op.drop_table("profiles")
