"""SMS over SMPP 3.4 with smpplib: one transceiver bind, kept alive and re-bound after a drop.

Texts go as GSM 7-bit when every character fits and as UCS-2 otherwise; long texts are split
into concatenated parts (UDH). Each part asks for a delivery receipt, and its ``validity_period``
ends when the message expires, so an SMS with a code never arrives after the code is dead.
``ESME_RTHROTTLED`` and ``ESME_RMSGQFUL`` slow the sender down instead of losing the message.
"""

from __future__ import annotations

import logging
import re
import time
from contextlib import suppress
from dataclasses import dataclass, field

import smpplib.client
import smpplib.consts as c
import smpplib.gsm
import smpplib.smpp
from smpplib import exceptions as smpp_errors

from idp.delivery.models import DELIVERED, EXPIRED, FAILED, REJECTED, UNDELIVERABLE, Message
from idp.delivery.transports import ReceiptHandler, TransportError
from idp.timeutil import backoff, doubled, utcnow

log = logging.getLogger("idp.delivery.smpp")

# smpplib logs every PDU in hex at DEBUG level, SMS bodies included. Codes and passwords must
# never reach a log, so its logger is held at INFO whatever the application's level is.
WIRE_LOGGER = "idp.delivery.smpp.wire"
logging.getLogger(WIRE_LOGGER).setLevel(logging.INFO)

THROTTLING = {c.SMPP_ESME_RTHROTTLED, c.SMPP_ESME_RMSGQFUL}
TEMPORARY = THROTTLING | {c.SMPP_ESME_RSYSERR, c.SMPP_ESME_RSUBMITFAIL}
RECEIPT_STATUS = {
    "DELIVRD": DELIVERED,
    "UNDELIV": UNDELIVERABLE,
    "EXPIRED": EXPIRED,
    "REJECTD": REJECTED,
    "DELETED": FAILED,
    "UNKNOWN": FAILED,
}
# message_state TLV values of SMPP 3.4 §5.2.28.
MESSAGE_STATE = {2: DELIVERED, 3: EXPIRED, 4: FAILED, 5: UNDELIVERABLE, 8: REJECTED}
# esm_class of deliver_sm, bits 2-5: 0001 marks an SMSC delivery receipt (SMPP 3.4 §5.2.12).
MESSAGE_TYPE_MASK, SMSC_DELIVERY_RECEIPT = 0x3C, 0x04
THROTTLE_PATIENCE = 30.0  # seconds a part may wait out throttling before the worker requeues it
MAX_BIND_BACKOFF = 60.0


def sender_address(sender: str) -> tuple[int, int, str]:
    """Return (TON, NPI, address) for the configured sender: a number or an alphanumeric id."""
    digits = sender.lstrip("+")
    if digits.isdigit():
        if sender.startswith("+") or len(digits) > 8:
            return c.SMPP_TON_INTL, c.SMPP_NPI_ISDN, digits
        return c.SMPP_TON_NWSPEC, c.SMPP_NPI_UNK, digits  # a short code
    return c.SMPP_TON_ALNUM, c.SMPP_NPI_UNK, sender[:11]


def relative_validity(seconds: float) -> str:
    """Return an SMPP relative time (``YYMMDDhhmmss000R``) for ``seconds`` from now."""
    seconds = max(60, int(seconds))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    return f"0000{min(days, 99):02d}{hours:02d}{minutes:02d}{secs:02d}000R"


def parse_receipt(pdu) -> tuple[str, str] | None:
    """Return (SMSC message id, state) of a delivery receipt PDU, or None for other PDUs."""
    if (getattr(pdu, "esm_class", 0) or 0) & MESSAGE_TYPE_MASK != SMSC_DELIVERY_RECEIPT:
        return None
    text = (
        pdu.short_message.decode("latin-1")
        if isinstance(pdu.short_message, bytes)
        else str(pdu.short_message or "")
    )
    receipted = getattr(pdu, "receipted_message_id", None)
    smsc_id = receipted.decode() if isinstance(receipted, bytes) else receipted
    if not smsc_id:
        match = re.search(r"\bid:(\S+)", text)
        smsc_id = match.group(1) if match else None
    state = MESSAGE_STATE.get(getattr(pdu, "message_state", None) or 0)
    if state is None:
        match = re.search(r"\bstat:(\w+)", text)
        state = RECEIPT_STATUS.get(match.group(1).upper(), FAILED) if match else None
    return (smsc_id.strip("\x00"), state) if smsc_id and state else None


@dataclass
class SmppTransport:
    """An ESME bound as a transceiver to one SMSC; used by one worker thread."""

    host: str
    port: int
    system_id: str
    password: str
    sender: str
    enquire_seconds: float = 30
    max_bind_backoff: float = MAX_BIND_BACKOFF
    timeout: float = 10
    name: str = "smpp"
    inline: bool = False
    client: smpplib.client.Client | None = None
    bind_failures: int = 0
    next_bind_at: float = 0
    last_activity: float = 0
    was_bound: bool = False
    responses: dict = field(default_factory=dict)
    receipts: list = field(default_factory=list)

    @classmethod
    def from_config(cls, config) -> SmppTransport:
        return cls(
            host=config["IDP_SMPP_HOST"],
            port=config["IDP_SMPP_PORT"],
            system_id=config["IDP_SMPP_SYSTEM_ID"],
            password=config["IDP_SMPP_PASSWORD"],
            sender=config["IDP_SMS_SENDER"],
            enquire_seconds=config["IDP_SMPP_ENQUIRE_SECONDS"],
            max_bind_backoff=min(MAX_BIND_BACKOFF, config["IDP_DELIVERY_MAX_RETRY_SECONDS"]),
        )

    # -- connection -------------------------------------------------------------------------

    def _bind(self) -> smpplib.client.Client:
        """Return a bound client, binding now unless the backoff after a failure still runs."""
        if self.client is not None:
            return self.client
        wait = self.next_bind_at - time.monotonic()
        if wait > 0:
            raise TransportError(f"SMSC unavailable; next bind in {wait:.0f} s", retry_after=wait)
        client = smpplib.client.Client(
            self.host, self.port, timeout=self.timeout, logger_name=WIRE_LOGGER, allow_unknown_opt_params=True
        )
        client.set_message_sent_handler(self._on_response)
        client.set_error_pdu_handler(self._on_error_pdu)
        client.set_message_received_handler(self._on_deliver)
        try:
            client.connect()
            client.bind_transceiver(system_id=self.system_id, password=self.password)
        except (smpp_errors.ConnectionError, smpp_errors.PDUError, OSError) as exc:
            self._disconnect(client)
            self.bind_failures += 1
            wait = backoff(self.bind_failures, self.max_bind_backoff)
            self.next_bind_at = time.monotonic() + wait
            log.warning("SMPP bind to %s:%s failed (%s); retrying in %.0f s", self.host, self.port, exc, wait)
            raise TransportError(f"SMPP bind failed: {exc}", retry_after=wait) from exc
        log.info("SMPP bound to %s:%s as %s", self.host, self.port, self.system_id)
        self.client, self.bind_failures, self.was_bound = client, 0, True
        self.last_activity = time.monotonic()
        return client

    def _drop(self, reason: object) -> None:
        log.warning("SMPP connection to %s:%s lost: %s", self.host, self.port, reason)
        if self.client is not None:
            self._disconnect(self.client)
        self.client = None
        self.responses.clear()

    @staticmethod
    def _disconnect(client: smpplib.client.Client) -> None:
        with suppress(smpp_errors.ConnectionError, OSError):
            client.disconnect()

    # -- PDU handlers (called by smpplib while reading) ---------------------------------------

    def _on_response(self, pdu) -> None:
        message_id = pdu.message_id.decode() if isinstance(pdu.message_id, bytes) else pdu.message_id
        self.responses[pdu.sequence] = (pdu.status, message_id)

    def _on_error_pdu(self, pdu) -> None:
        # submit_sm_resp errors also reach _on_response; generic_nack only comes here.
        self.responses.setdefault(pdu.sequence, (pdu.status, None))

    def _on_deliver(self, pdu):
        receipt = parse_receipt(pdu)
        if receipt:
            self.receipts.append(receipt)
        return c.SMPP_ESME_ROK

    # -- sending ------------------------------------------------------------------------------

    def deliver(self, message: Message, text: str, html: str | None) -> list[str]:
        """Submit every part of the SMS; return the SMSC's message id of each part."""
        client = self._bind()
        parts, data_coding, esm_class = smpplib.gsm.make_parts(text)
        ton, npi, source = sender_address(self.sender)
        remaining = (message.expires_at - utcnow()).total_seconds() if message.expires_at else 86400
        fields = dict(
            source_addr_ton=ton,
            source_addr_npi=npi,
            source_addr=source,
            dest_addr_ton=c.SMPP_TON_INTL,
            dest_addr_npi=c.SMPP_NPI_ISDN,
            destination_addr=message.recipient.lstrip("+"),
            data_coding=data_coding,
            esm_class=esm_class,
            registered_delivery=c.SMPP_SMSC_DELIVERY_RECEIPT_BOTH,
            validity_period=relative_validity(remaining),
        )
        try:
            return [self._submit(client, part, fields) for part in parts]
        except (smpp_errors.ConnectionError, smpp_errors.PDUError, OSError) as exc:
            self._drop(exc)
            raise TransportError(f"SMPP connection lost while sending: {exc}") from exc

    def _submit(self, client, part: bytes, fields: dict) -> str:
        """Submit one part, waiting out throttling for a while; return its SMSC id."""
        delay, started = 0.2, time.monotonic()
        while True:
            pdu = client.send_message(short_message=part, **fields)
            self.last_activity = time.monotonic()
            status, smsc_id = self._response(client, pdu.sequence)
            if status == c.SMPP_ESME_ROK and smsc_id:
                return smsc_id
            description = c.DESCRIPTIONS.get(status, f"status {status:#x}")
            if status in THROTTLING and time.monotonic() - started < THROTTLE_PATIENCE:
                log.info("SMSC throttling (%s); slowing down for %.1f s", description, delay)
                time.sleep(delay)
                delay = doubled(delay, longest=5.0)
                continue
            raise TransportError(
                f"SMSC refused the message: {description}",
                temporary=status in TEMPORARY,
                retry_after=5.0 if status in THROTTLING else 0,
            )

    def _response(self, client, sequence: int) -> tuple[int, str | None]:
        deadline = time.monotonic() + self.timeout
        while sequence not in self.responses:
            if time.monotonic() > deadline:
                raise smpp_errors.ConnectionError("no submit_sm_resp in time")
            try:
                client.read_once(auto_send_enquire_link=False)
            except TimeoutError as exc:
                raise smpp_errors.ConnectionError("no submit_sm_resp in time") from exc
        return self.responses.pop(sequence)

    # -- receiving and keeping alive ----------------------------------------------------------

    def poll(self, on_receipt: ReceiptHandler) -> None:
        """Read receipts waiting on the socket, keep the bind alive, re-bind after a drop."""
        if self.client is None and self.was_bound and time.monotonic() >= self.next_bind_at:
            try:
                self._bind()
            except TransportError:
                return
        if self.client is not None:
            try:
                self.client.poll(auto_send_enquire_link=False)
                if time.monotonic() - self.last_activity > self.enquire_seconds:
                    self.client.send_pdu(smpplib.smpp.make_pdu("enquire_link", client=self.client))
                    self.last_activity = time.monotonic()
            except (smpp_errors.ConnectionError, smpp_errors.PDUError, OSError) as exc:
                self._drop(exc)
        while self.receipts:
            on_receipt(*self.receipts.pop(0))

    def close(self) -> None:
        """Unbind politely and disconnect."""
        if self.client is None:
            return
        with suppress(smpp_errors.ConnectionError, smpp_errors.PDUError, OSError):
            self.client.unbind()
        self._disconnect(self.client)
        self.client = None
