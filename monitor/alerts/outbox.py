"""The outbox worker: deliver what is due after it was committed, and record each result.

One pass: digests whose period is over are made, then every due instant alert is sent (one
message per article and channel, naming its profiles) unless its channel is in quiet hours or
its profile passed the debounce limit, then every due digest and notice; channels are sent to
at the same time, each at its own pace (monitor.alerts.throttle). Each row is recorded on its
own, so a failing channel is retried later without the others being resent; a crash between a
channel's answer and the record is the only way a message can go out twice (docs/alerts.md,
"Delivery guarantees"). Rows are claimed a small batch at a time through OutboxStore
(monitor.alerts.ports): instances sharing a PostgreSQL database never send the same row, and a
crashed instance's claims run out.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from monitor.alerts.channels import LOG_CHANNEL, AlertConfig
from monitor.alerts.compose import AlertItem, Format, Message, Notice
from monitor.alerts.digests import digest_of, period_starts
from monitor.alerts.feedbacklinks import FeedbackLinks
from monitor.alerts.ports import Kind, OutboxStore, Row, Sender
from monitor.alerts.render import Templates
from monitor.alerts.schedules import DEBOUNCE, debounce_window, quiet_until
from monitor.alerts.throttle import Throttle
from monitor.backoff import backoff
from monitor.config.settings import AlertSettings
from monitor.errors import DeliveryError
from monitor.models import ChannelSpec, NoticeDraft, PendingAlert, PendingMessage

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


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    held: int = 0  # quiet hours, or debounced into a digest
    throttled: float = 0.0  # seconds of the pass spent in services' spacing between messages


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
    # channel → time.monotonic() of its last message, for its `throttle` (the service keeps
    # one across reloads)
    last_sent: dict[str, float] = field(default_factory=dict)
    links: FeedbackLinks | None = None  # each hit's feedback links; None: messages have none
    _counts: dict[str, int] = field(default_factory=dict, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)

    def deliver(self) -> DeliveryReport:
        """One delivery pass over everything due now."""
        self._counts = {"sent": 0, "retrying": 0, "failed": 0, "held": 0}
        self._pace = Throttle(self._channel, self.last_sent, self.stopping, self.clock)
        now = self.clock()
        self.store.close_digests(
            now, period_starts(self.config.schedules, self.settings.debounce_window)
        )
        self._empty_digests(now)
        # only rows due when the pass began: one attempt per row and pass, however long the
        # pass takes (a row failing now is due again after its backoff, in a later pass)
        self._drain(self.store.claim_alerts, "alert", self._deliver_alerts, ALERTS_PER_PASS, now)
        self._drain(
            self.store.claim_messages, "message", self._deliver_messages, MESSAGES_PER_PASS, now
        )
        return DeliveryReport(**self._counts, throttled=self._pace.spent(self.sender))

    def _drain(
        self,
        claim: Callable[..., list[Row]],
        kind: Kind,
        deliver: Callable[[list[Row]], None],
        limit: int,
        due_by: datetime,
    ) -> None:
        """Claim due rows a batch at a time and deliver them, up to `limit` in this pass.

        What is left of a batch once half its lease has passed (a slow channel) is given back,
        and so is the rest of a batch that a shutdown or an unexpected error interrupts: no
        lease runs out while this instance may still send, and no row waits for one needlessly.
        """
        done = 0
        while done < limit and not self.stopping():
            claimed_at = self.clock()
            batch = claim(
                claimed_at, lease=self.lease, limit=min(CLAIM_BATCH, limit - done), due_by=due_by
            )
            if not batch:
                return
            units = self._messages_of(batch)
            left: list[list[Row]] = []  # messages not sent (a stop, half the lease, a bug)
            try:
                done += self._pace.send(units, deliver, claimed_at + self.lease / 2, left)
            finally:
                ids = [row.id for unit in left for row in unit]
                self.store.release(kind, ids, claimed_at + self.lease, claimed_at)

    def _count(self, result: str, rows: int) -> None:
        with self._lock:  # channels are sent to from several threads
            self._counts[result] += rows

    def _messages_of(self, batch: list[Row]) -> list[list[Row]]:
        """The claimed rows as messages: an alert row with the other rows of its article to
        the same channel (unless that channel asks for one message per profile), every other
        row alone."""
        units: dict[object, list[Row]] = {}
        for row in batch:
            key: object = row.id
            if isinstance(row, PendingAlert):
                channel = self._channel(row.channel)
                if channel is None or channel.group == "article":
                    key = (row.hit.article_id, row.channel)
            units.setdefault(key, []).append(row)
        return list(units.values())

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

    def send_now(self, kind: str, title: str, body: str) -> int:
        """A system notice sent at once to the system channels, past the outbox (for when
        the database is what fails): not recorded, so not retried. Channels it reached."""
        notice = Notice(title, body, kind, ref=kind)
        reached = 0
        for key in self.system:
            channel = self._channel(key)
            if channel is None:
                continue
            try:
                fmt = self.sender.format_for(channel)
                self.sender.send(channel, self.templates.notice(notice, fmt))
                reached += 1
            except DeliveryError as exc:
                log.error("notice %r not sent to %s: %s", title, key, exc)
        log.warning("system notice: %s\n%s", title, body)
        return reached

    # -- instant alerts ------------------------------------------------------------------
    def _deliver_alerts(self, alerts: list[PendingAlert]) -> None:
        """One message about one article to one channel, naming every profile it matched
        (the alerts of profiles past their debounce limit go to the window's digest)."""
        first = alerts[0]
        channel = self._channel(first.channel)
        now = self.clock()
        if channel is not None and channel.quiet is not None:
            until = quiet_until(channel.quiet, now)
            if until is not None:
                for alert in alerts:
                    self.store.hold("alert", alert.id, until)
                self._count("held", len(alerts))
                return
        told = [alert for alert in alerts if not self._debounced(alert, now)]
        if not told:
            return
        ids = [alert.id for alert in told]
        item = AlertItem(
            told[0].hit,
            told[0].also,
            ref="alert-" + "+".join(map(str, ids)),
            others=tuple(alert.hit for alert in told[1:]),
        )

        def sent() -> None:
            for row_id in ids:
                self.store.mark_sent("alert", row_id, self.clock())

        def failed(error: str, retry: datetime | None) -> None:
            for row_id in ids:
                self.store.mark_failed("alert", row_id, error, retry)

        self._send(
            channel,
            first.channel,
            lambda fmt: self.templates.alert(item, fmt, links=self.links),
            attempts=max(alert.attempts for alert in told),
            on_sent=sent,
            on_failed=failed,
            rows=len(ids),
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
        self._count("held", 1)
        return True

    # -- digests and notices -------------------------------------------------------------
    def _deliver_messages(self, messages: list[PendingMessage]) -> None:
        for message in messages:  # a digest or a notice is a message of its own
            self._deliver_message(message)

    def _deliver_message(self, message: PendingMessage) -> None:
        channel = self._channel(message.channel)
        now = self.clock()
        if channel is not None and channel.quiet is not None:
            until = quiet_until(channel.quiet, now)
            if until is not None:
                self.store.hold("message", message.id, until)
                self._count("held", 1)
                return

        def render(fmt: Format) -> Message:
            if message.kind == "digest":
                rows = self.store.digest_hits(message.id)
                digest = digest_of(message, rows, self.config.schedules)
                return self.templates.digest(digest, fmt, self.links)
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
        rows: int = 1,
    ) -> None:
        """Render and send one message, then record the result of the `rows` outbox rows it
        carries (counted per row in the DeliveryReport, like alerts_created)."""
        try:
            if key == LOG_CHANNEL:
                text = render("text")
                log.warning("ALERT %s\n%s", text.title, text.body)
            elif channel is None:
                raise DeliveryError(f"channel {key} is no longer in alerts.yaml")
            else:
                with self._pace.sending(key):
                    self.sender.send(channel, render(self.sender.format_for(channel)))
        except DeliveryError as exc:
            self._failed(key, channel, attempts + 1, str(exc), on_failed, rows)
            return
        on_sent()
        self._count("sent", rows)

    def _failed(
        self,
        key: str,
        channel: ChannelSpec | None,
        attempts: int,
        error: str,
        record: Callable[[str, datetime | None], None],
        rows: int = 1,
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
        self._count("failed" if retry_at is None else "retrying", rows)
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
