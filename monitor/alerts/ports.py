"""What the outbox needs from the parts around it, as protocols: the database (OutboxStore,
implemented by monitor.store.gateway.Database) and the notifier (Sender, implemented by
monitor.alerts.deliver.Notifier). Tests hand the outbox fakes of these."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Literal, Protocol, TypeVar

from monitor.alerts.compose import Format, Message
from monitor.models import ChannelSpec, DigestHit, NoticeDraft, PendingAlert, PendingMessage


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
        self, now: datetime, *, lease: timedelta, limit: int, due_by: datetime | None = None
    ) -> list[PendingAlert]:
        """Due (by `due_by`, else `now`) alerts, oldest first, with the other due alerts of
        the same articles to the same channels."""
        ...

    def claim_messages(
        self, now: datetime, *, lease: timedelta, limit: int, due_by: datetime | None = None
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

    def spacing(self, channel: ChannelSpec) -> float:
        """Seconds the channel's service waits between two messages (Apprise's throttle)."""
        ...
