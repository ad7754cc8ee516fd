"""The outbox worker: deliver what is due after it was committed, and record each result.

One pass: digests whose period is over are made (OutboxStore.close_digests), then
every due instant alert is sent — unless its channel is in quiet hours (held until they end) or
its profile passed the debounce limit for the window (moved into the window's digest, and the
channel told once) — then every due digest and notice. Each row is one message to one channel,
so a failing channel is retried later without the others being resent. A row is marked sent
right after its channel accepted it: a crash between the two is the only way a message can go
out twice (see docs/alerts.md, "Delivery guarantees").

Rows are claimed a small batch at a time (OutboxStore.claim_alerts): instances sharing a
PostgreSQL database never send the same row, and a crashed instance's claims run out. The
database is reached only through OutboxStore (monitor.store.gateway.Database implements it).
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal, Protocol, TypeVar

from monitor.alerts.channels import LOG_CHANNEL, AlertConfig
from monitor.alerts.compose import AlertItem, Digest, DigestGroup, Format, Message, Notice
from monitor.alerts.render import Templates
from monitor.alerts.schedules import DEBOUNCE, debounce_window, quiet_until
from monitor.backoff import backoff
from monitor.config.settings import AlertSettings
from monitor.errors import DeliveryError
from monitor.models import ChannelSpec, DigestHit, NoticeDraft, PendingAlert, PendingMessage

log = logging.getLogger("monitor.alerts")

# How long a claim keeps other instances off a row (alert or message) it has not sent yet. The
# delivery pass claims CLAIM_BATCH rows at a time and gives back what is left of a batch once
# half the lease has passed, so the other half only has to outlast one send and the clock
# difference between two machines; a send takes seconds (Apprise waits 5.5 s between two
# messages to most services, its socket timeouts are 4-15 s), so 20 of them usually fit in the
# first half. The lease is also how long the unsent rows of an instance killed mid-pass wait
# before another instance or its restart sends them: minutes, not hours.
LEASE = timedelta(minutes=10)
CLAIM_BATCH = 20

ALERTS_PER_PASS = 500  # the rest waits for the next pass: a pass ends, whatever the backlog
MESSAGES_PER_PASS = 200


class _Claimed(Protocol):
    @property
    def id(self) -> int: ...


Row = TypeVar("Row", bound=_Claimed)
Kind = Literal["alert", "message"]  # which outbox table a row is in


class OutboxStore(Protocol):
    """What a delivery pass needs from the database (monitor.store.gateway.Database). Claims
    lock and lease rows so that instances sharing a database never take the same one;
    recording a result (sent, failed, held) ends the claim."""

    def claim_alerts(
        self, now: datetime, *, lease: timedelta, limit: int
    ) -> list[PendingAlert]: ...

    def claim_messages(
        self, now: datetime, *, lease: timedelta, limit: int
    ) -> list[PendingMessage]: ...

    def release(self, kind: Kind, ids: list[int], until: datetime, now: datetime) -> None:
        """Give back claimed rows not sent after all (still under the lease `until`)."""

    def hold(
        self,
        kind: Kind,
        row_id: int,
        until: datetime,
        *,
        digest: str | None = None,
        notice: tuple[NoticeDraft, datetime] | None = None,
    ) -> None:
        """Postpone without counting an attempt to `until`; an alert with `digest` moves into
        that digest. A `notice` (the draft, and now) is queued in the same transaction."""

    def mark_sent(self, kind: Kind, row_id: int, now: datetime) -> None: ...

    def mark_failed(self, kind: Kind, row_id: int, error: str, retry_at: datetime | None) -> None:
        """Count a failed attempt; without `retry_at` the row has failed for good."""

    def alerts_in_window(self, profile: str, channel: str, since: datetime) -> int:
        """Instant alerts of a profile sent to a channel since `since`."""
        ...

    def enqueue(
        self, notice: NoticeDraft, now: datetime, *, feed_notice: tuple[int, str] | None = None
    ) -> int:
        """Queue the notice (a message per channel, once per key); how many were added. With
        `feed_notice` (feed id, kind) the feed records that it was told, in the same
        transaction."""
        ...

    def enqueue_digest(
        self,
        channels: list[str],
        schedule: str,
        fire: datetime,
        now: datetime,
        period_start: datetime | None,
    ) -> int: ...

    def close_digests(
        self, now: datetime, period_starts: dict[str, Callable[[datetime], datetime | None]]
    ) -> int:
        """Turn the queued alerts whose digest is due into digest messages."""
        ...

    def digest_hits(self, message_id: int) -> list[DigestHit]: ...


class Sender(Protocol):
    """What the outbox needs from a notifier (monitor.alerts.deliver.Notifier)."""

    def send(self, channel: ChannelSpec, message: Message) -> None: ...

    def format_for(self, channel: ChannelSpec) -> Format: ...


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    held: int = 0  # quiet hours, or debounced into a digest


@dataclass
class Outbox:
    """Everything one delivery pass needs; `system` lists the channels taking system notices
    and `digest_channels` the channels each schedule sends to (for empty digests)."""

    store: OutboxStore
    config: AlertConfig
    sender: Sender
    templates: Templates
    settings: AlertSettings
    clock: Callable[[], datetime]
    started_at: datetime
    system: list[str] = field(default_factory=list)
    digest_channels: dict[str, set[str]] = field(default_factory=dict)
    lease: timedelta = LEASE
    stopping: Callable[[], bool] = lambda: False  # a shutdown began: claim nothing more
    _counts: dict[str, int] = field(default_factory=dict, init=False)

    def deliver(self) -> DeliveryReport:
        """One delivery pass over everything due now."""
        self._counts = {"sent": 0, "retrying": 0, "failed": 0, "held": 0}
        now = self.clock()
        self.store.close_digests(now, self._period_starts())
        self._empty_digests(now)
        self._drain(self.store.claim_alerts, "alert", self._deliver_alert, ALERTS_PER_PASS)
        self._drain(self.store.claim_messages, "message", self._deliver_message, MESSAGES_PER_PASS)
        return DeliveryReport(**self._counts)

    def _drain(
        self,
        claim: Callable[..., list[Row]],
        kind: Kind,
        deliver: Callable[[Row], None],
        limit: int,
    ) -> None:
        """Claim due rows a batch at a time and deliver them, up to `limit` in this pass.

        What is left of a batch once half its lease has passed (a slow channel) is given back,
        and so is the rest of a batch that a shutdown or an unexpected error interrupts: no
        lease runs out while this instance may still send, and no row waits for one needlessly.
        """
        done = 0
        while done < limit and not self.stopping():
            claimed_at = self.clock()
            batch = claim(claimed_at, lease=self.lease, limit=min(CLAIM_BATCH, limit - done))
            if not batch:
                return
            left = deque(batch)
            try:
                while left:
                    deliver(left.popleft())
                    done += 1
                    if self.stopping() or self.clock() >= claimed_at + self.lease / 2:
                        break
            finally:
                ids = [row.id for row in left]
                self.store.release(kind, ids, claimed_at + self.lease, claimed_at)

    def notify_system(
        self,
        kind: str,
        key: str,
        title: str,
        body: str,
        *,
        but: str = "",
        feed_notice: tuple[int, str] | None = None,
    ) -> int:
        """Queue a system notice for the system channels (only the log when there are none);
        `key` makes it unique. With `feed_notice` (feed id, kind) the feed records that it
        was told in the same transaction, even when only the log is told."""
        channels = tuple(c for c in self.system if c != but)
        added = 0
        if channels or feed_notice is not None:
            notice = NoticeDraft(channels, key, kind, title, body)
            added = self.store.enqueue(notice, self.clock(), feed_notice=feed_notice)
        if added or not channels:
            log.warning("system notice: %s\n%s", title, body)
        return added

    # -- instant alerts ------------------------------------------------------------------
    def _deliver_alert(self, alert: PendingAlert) -> None:
        channel = self._channel(alert.channel)
        now = self.clock()
        if channel is not None and channel.quiet is not None:
            until = quiet_until(channel.quiet, now)
            if until is not None:
                self.store.hold("alert", alert.id, until)
                self._counts["held"] += 1
                return
        if self._debounced(alert, now):
            return
        item = AlertItem(alert.hit, alert.also, ref=f"alert-{alert.id}")
        self._send(
            channel,
            alert.channel,
            lambda fmt: self.templates.alert(item, fmt),
            attempts=alert.attempts,
            on_sent=lambda: self.store.mark_sent("alert", alert.id, self.clock()),
            on_failed=lambda error, retry: self.store.mark_failed("alert", alert.id, error, retry),
        )

    def _debounced(self, alert: PendingAlert, now: datetime) -> bool:
        """Past the limit for this window: move the alert into the window's digest."""
        limit = self.settings.debounce_count
        if limit <= 0 or alert.channel == LOG_CHANNEL:
            return False
        start, end = debounce_window(now, self.settings.debounce_window)
        profile = alert.hit.profile
        if self.store.alerts_in_window(profile, alert.channel, start) < limit:
            return False
        told = NoticeDraft(
            (alert.channel,),
            f"debounce:{profile}:{start.isoformat(timespec='seconds')}",
            "debounce",
            f"{profile}: more than {limit} alerts since {start:%H:%M} UTC",
            f"Profile {profile} has sent {limit} alerts to this channel since "
            f"{start:%H:%M} UTC. Its further alerts until {end:%H:%M} UTC are gathered "
            f"into one digest sent then (alerts.debounce_count / debounce_window).",
        )
        # the alert joins the window's digest and the channel is told, in one transaction
        self.store.hold("alert", alert.id, end, digest=DEBOUNCE, notice=(told, now))
        self._counts["held"] += 1
        return True

    # -- digests and notices -------------------------------------------------------------
    def _deliver_message(self, message: PendingMessage) -> None:
        channel = self._channel(message.channel)
        now = self.clock()
        if channel is not None and channel.quiet is not None:
            until = quiet_until(channel.quiet, now)
            if until is not None:
                self.store.hold("message", message.id, until)
                self._counts["held"] += 1
                return

        def render(fmt: Format) -> Message:
            if message.kind == "digest":
                return self.templates.digest(self._digest(message), fmt)
            notice = Notice(
                message.title or "", message.body or "", message.kind, ref=f"message-{message.id}"
            )
            return self.templates.notice(notice, fmt)

        self._send(
            channel,
            message.channel,
            render,
            attempts=message.attempts,
            on_sent=lambda: self.store.mark_sent("message", message.id, self.clock()),
            on_failed=lambda error, retry: self.store.mark_failed(
                "message", message.id, error, retry
            ),
        )

    def _digest(self, message: PendingMessage) -> Digest:
        hits = self.store.digest_hits(message.id)
        groups: dict[str, list[AlertItem]] = {}
        for row in hits:
            groups.setdefault(row.hit.profile, []).append(
                AlertItem(row.hit, row.also, ref=f"alert-{row.alert_id}")
            )
        schedule = self.config.schedules.get(message.schedule or "")
        assert message.period_end is not None
        return Digest(
            schedule=message.schedule or "",
            reason="debounce" if message.schedule == DEBOUNCE else "schedule",
            period_start=message.period_start,
            period_end=message.period_end,
            timezone=schedule.timezone if schedule else "UTC",
            groups=tuple(DigestGroup(name, tuple(items)) for name, items in groups.items()),
            ref=f"message-{message.id}",
        )

    def _period_starts(self) -> dict[str, Callable[[datetime], datetime | None]]:
        window = timedelta(seconds=self.settings.debounce_window)
        starts: dict[str, Callable[[datetime], datetime | None]] = {
            name: schedule.last_fire_before for name, schedule in self.config.schedules.items()
        }
        starts[DEBOUNCE] = lambda due: due - window
        return starts

    def _empty_digests(self, now: datetime) -> None:
        """A schedule with send_empty gets its digest even when no hit came in its period
        (only for fire times since this instance started: no burst of old empty digests)."""
        for name, schedule in self.config.schedules.items():
            channels = sorted(self.digest_channels.get(name, ()))
            fire = schedule.last_fire(now) if schedule.send_empty and channels else None
            if fire is None or fire <= self.started_at:
                continue
            self.store.enqueue_digest(
                channels, name, fire, now, period_start=schedule.last_fire_before(fire)
            )

    # -- sending -------------------------------------------------------------------------
    def _channel(self, key: str) -> ChannelSpec | None:
        return next((c for c in self.config.channels if c.key == key), None)

    def _send(
        self,
        channel: ChannelSpec | None,
        key: str,
        render: Callable[[Format], Message],
        *,
        attempts: int,
        on_sent: Callable[[], None],
        on_failed: Callable[[str, datetime | None], None],
    ) -> None:
        try:
            if key == LOG_CHANNEL:
                text = render("text")
                log.warning("ALERT %s\n%s", text.title, text.body)
            elif channel is None:
                raise DeliveryError(f"channel {key} is no longer in alerts.yaml")
            else:
                self.sender.send(channel, render(self.sender.format_for(channel)))
        except DeliveryError as exc:
            self._failed(key, channel, attempts + 1, str(exc), on_failed)
            return
        on_sent()
        self._counts["sent"] += 1

    def _failed(
        self,
        key: str,
        channel: ChannelSpec | None,
        attempts: int,
        error: str,
        record: Callable[[str, datetime | None], None],
    ) -> None:
        now = self.clock()
        permanent = channel is None or attempts >= self.settings.max_attempts
        delay = backoff(self.settings.retry_delay, attempts, self.settings.max_retry_delay)
        retry_at = None if permanent else now + timedelta(seconds=delay)
        record(error, retry_at)
        log.error(
            "delivery to %s failed (attempt %d): %s%s",
            key,
            attempts,
            error,
            "; given up" if retry_at is None else f"; retrying at {retry_at:%H:%M:%S}",
        )
        self._counts["failed" if retry_at is None else "retrying"] += 1
        if channel is not None and attempts == self.settings.channel_failures:
            self.notify_system(
                "channel-failing",
                f"channel-failing:{key}:{now:%Y-%m-%d}",
                f"Channel {key} is failing",
                f"Delivery to channel {key} failed {attempts} times in a row: {error}\n\n"
                "Its messages are kept and retried; `monitor alerts status` lists them and "
                "`monitor alerts retry` requeues those given up on.",
                but=key,
            )
