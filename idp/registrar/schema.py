"""The registrar's tables: what Kamailio reads to authenticate a REGISTER and route a call.

They live in the registrar's own database (``IDP_REGISTRAR_DATABASE_URL``), which Business ID
writes and Kamailio only reads (``deploy/kamailio/kamailio.cfg``). One row per account that may
register, in the shape of Kamailio's stock ``subscriber`` table (``auth_db`` reads ``username``,
``domain`` and the HA1 column it is told), with the account's call settings beside it (the
configuration reads them with ``sqlops`` on each INVITE). No password is ever stored here: only
the digest HA1s, ``MD5(user:realm:password)`` in ``ha1`` and SHA-256 (RFC 8760) in
``ha1_sha256``; ``password`` and ``ha1b`` stay empty.
"""

from __future__ import annotations

from sqlalchemy import Column, Integer, MetaData, String, Table, UniqueConstraint

metadata = MetaData()

#: Incoming-call routing: to the registered SIP phone, to the GSM gateway, or to both at once.
SIP, GSM, SIP_AND_GSM = "SIP", "GSM", "SIP+GSM"
#: The call settings of a row, as ``Connector.sip_account`` gives them.
CALL_SETTINGS = (
    "routing",
    "trunk_lines",
    "forward_all",
    "forward_busy",
    "forward_no_answer",
    "no_answer_seconds",
    "forward_unreachable",
)

subscriber = Table(
    "subscriber",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("username", String(64), nullable=False, server_default=""),  # the SIP login (digits)
    Column("domain", String(64), nullable=False, server_default=""),  # the realm
    Column("password", String(64), nullable=False, server_default=""),  # always empty
    Column("ha1", String(128), nullable=False, server_default=""),  # MD5 HA1
    Column("ha1b", String(128), nullable=False, server_default=""),  # unused: always empty
    Column("ha1_sha256", String(64), nullable=False, server_default=""),
    # Whose account this is: the connector id and its account key (ServiceLink.account).
    Column("service", String(32), nullable=False, server_default=""),
    Column("account", String(128), nullable=False, server_default=""),
    # Call settings; a forwarding target is a number in digits, "" when that forwarding is off.
    Column("routing", String(8), nullable=False, server_default=SIP),
    Column("trunk_lines", Integer, nullable=False, server_default="0"),  # 0: no limit
    Column("forward_all", String(32), nullable=False, server_default=""),
    Column("forward_busy", String(32), nullable=False, server_default=""),
    Column("forward_no_answer", String(32), nullable=False, server_default=""),
    Column("no_answer_seconds", Integer, nullable=False, server_default="20"),
    Column("forward_unreachable", String(32), nullable=False, server_default=""),
    UniqueConstraint("username", "domain", name="subscriber_account_idx"),
    UniqueConstraint("service", "account", name="subscriber_service_account_idx"),
)
