"""Metrics computed from the database at scrape time: nothing to keep in step between workers.

Every SMS, e-mail, back-channel logout notice and job is a row of ``messages`` (idp.delivery), so
two grouped queries answer everything: the messages by channel and state, and the queue (messages
still ``queued``) by channel with the age of the oldest.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func
from sqlalchemy.exc import SQLAlchemyError

from idp.delivery.models import (
    DELIVERED,
    EXPIRED,
    FAILED,
    QUEUED,
    REJECTED,
    SENDING,
    SENT,
    UNDELIVERABLE,
    Message,
)
from idp.extensions import db
from idp.timeutil import utcnow

log = logging.getLogger("idp.metrics")

STATES = (QUEUED, SENDING, SENT, DELIVERED, UNDELIVERABLE, EXPIRED, REJECTED, FAILED)
MESSAGE_CHANNELS = ("sms", "email")
BACKCHANNEL = "http"  # idp.oauth.backchannel.CHANNEL
QUEUE_CHANNELS = ("sms", "email", BACKCHANNEL, "job")


class DeliveryCollector(Collector):
    """SMS and e-mail by state, back-channel logouts by state, the queue's depth and age."""

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "idp_delivery_metrics_up", "1 when the delivery metrics could be read from the database."
        )
        try:
            by_state = self._by_channel_and_state()
            queue = self._queue()
        except SQLAlchemyError as exc:
            db.session.rollback()
            log.warning("delivery metrics unavailable: %s", type(exc).__name__)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from self._message_families(by_state)
        yield from self._queue_families(queue)

    @staticmethod
    def _by_channel_and_state() -> dict[tuple[str, str], int]:
        rows = db.session.execute(
            db.select(Message.channel, Message.state, func.count()).group_by(Message.channel, Message.state)
        )
        return {(channel, state): count for channel, state, count in rows}

    @staticmethod
    def _queue() -> dict[str, tuple[int, float]]:
        """(depth, age in seconds of the oldest) of the queued messages of each channel."""
        rows = db.session.execute(
            db.select(Message.channel, func.count(), func.min(Message.created_at))
            .where(Message.state == QUEUED)
            .group_by(Message.channel)
        )
        now = utcnow()
        return {
            channel: (count, max(0.0, (now - oldest).total_seconds()) if oldest else 0.0)
            for channel, count, oldest in rows
        }

    @staticmethod
    def _message_families(by_state: dict[tuple[str, str], int]) -> Iterator[Metric]:
        messages = GaugeMetricFamily(
            "idp_messages",
            "SMS and e-mails stored, by channel and delivery state.",
            labels=("channel", "state"),
        )
        for channel in MESSAGE_CHANNELS:
            for state in STATES:
                messages.add_metric([channel, state], by_state.get((channel, state), 0))
        yield messages
        backchannel = GaugeMetricFamily(
            "idp_backchannel_deliveries",
            "Back-channel logout notices to relying services, by delivery state.",
            labels=("state",),
        )
        for state in STATES:
            backchannel.add_metric([state], by_state.get((BACKCHANNEL, state), 0))
        yield backchannel

    @staticmethod
    def _queue_families(queue: dict[str, tuple[int, float]]) -> Iterator[Metric]:
        depth = GaugeMetricFamily(
            "idp_queue_depth",
            "Messages and jobs waiting for the delivery worker (state queued), by channel.",
            labels=("channel",),
        )
        age = GaugeMetricFamily(
            "idp_queue_oldest_age_seconds",
            "Age of the oldest queued message or job, by channel (0 when none waits).",
            labels=("channel",),
        )
        for channel in sorted(set(QUEUE_CHANNELS) | set(queue)):
            count, oldest = queue.get(channel, (0, 0.0))
            depth.add_metric([channel], count)
            age.add_metric([channel], oldest)
        yield depth
        yield age
