"""Each channel at its own pace: the messages of a claimed batch go to the channels at the same
time, one channel's messages one after the other, its `throttle` waited out between two.

The wait is here rather than in Apprise, whose wait nothing ends: a stop must not wait ten
minutes. A stop, or half the batch's lease gone, ends a channel's queue and what it did not
attempt is handed back to be released. The spacing Apprise keeps on its own (5.5 s between two
messages to most services) is added up per pass and said once when it is long.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

from monitor.alerts.ports import Row, Sender
from monitor.models import ChannelSpec

log = logging.getLogger("monitor.alerts")

THROTTLE_NOTE = 10.0  # seconds of spacing in one pass worth a log line
CHANNELS_AT_ONCE = 8  # channels sent to in parallel within a batch


@dataclass
class Throttle:
    """One delivery pass's pace: `channel` finds a channel by its key, `last_sent` maps a
    channel to the time.monotonic() of its last message (the service keeps one across
    reloads), `stopping` says a shutdown began, `clock` when half a lease is gone."""

    channel: Callable[[str], ChannelSpec | None]
    last_sent: dict[str, float]
    stopping: Callable[[], bool]
    clock: Callable[[], datetime]
    _messages: Counter[str] = field(default_factory=Counter, init=False)  # handed to a channel
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)

    def send(
        self,
        units: list[list[Row]],
        deliver: Callable[[list[Row]], None],
        until: datetime,
        left: list[list[Row]],
    ) -> int:
        """Deliver a batch's messages, channels in parallel, until `until` (half the lease);
        what is not attempted goes to `left`. Rows attempted."""
        queues = _per_channel(units)
        with ThreadPoolExecutor(max_workers=min(len(queues), CHANNELS_AT_ONCE)) as pool:
            work = [pool.submit(self._send_queue, queue, deliver, until, left) for queue in queues]
            return sum(future.result() for future in work)

    def _send_queue(
        self,
        queue: deque[list[Row]],
        deliver: Callable[[list[Row]], None],
        until: datetime,
        left: list[list[Row]],
    ) -> int:
        """Deliver one channel's messages in order until the queue is empty, a stop, or
        `until`; what is not attempted goes to `left` (also when a bug interrupts: the
        message it met keeps its lease, as after a crash). Rows attempted."""
        done = 0
        try:
            while queue:
                if not self._spaced(getattr(queue[0][0], "channel", "")):
                    break  # a stop during the channel's throttle: the rest is given back
                unit = queue.popleft()
                deliver(unit)
                done += len(unit)
                if self.stopping() or self.clock() >= until:
                    break
        finally:
            with self._lock:
                left.extend(queue)
        return done

    def _spaced(self, key: str) -> bool:
        """Wait out a channel's `throttle` since its last message; False when the service
        began stopping first."""
        channel = self.channel(key)
        if channel is None or channel.throttle is None:
            return True
        while (left := self.last_sent.get(key, -1e9) + channel.throttle - time.monotonic()) > 0:
            if self.stopping():
                return False
            time.sleep(min(left, 0.2))
        return True

    @contextmanager
    def sending(self, key: str) -> Iterator[None]:
        """Around one message handed to a channel's service: counted for the pass, and when
        it ended kept for the channel's next wait (also when the service refused it)."""
        with self._lock:
            self._messages[key] += 1
        try:
            yield
        finally:
            self.last_sent[key] = time.monotonic()

    def spent(self, sender: Sender) -> float:
        """The time this pass spent in the services' spacing (Apprise waits that long
        between two messages to one service), said once per pass when it is long."""
        waits = {
            key: (count - 1) * sender.spacing(channel)
            for key, count in self._messages.items()
            if count > 1 and (channel := self.channel(key)) is not None
        }
        total = sum(waits.values())
        if total >= THROTTLE_NOTE:
            log.warning(
                "delivery throttled: %s (Apprise spaces messages to one service; `throttle` "
                "on a channel in alerts.yaml changes it, digests and `group` send fewer)",
                ", ".join(f"{key} ~{wait:.0f}s" for key, wait in sorted(waits.items()) if wait),
            )
        return total


def _per_channel(units: list[list[Row]]) -> list[deque[list[Row]]]:
    """The messages of a batch in one queue per channel, in order: channels are sent to
    at the same time (one slow or throttled service does not hold up the others), each
    channel's messages one after the other."""
    queues: dict[str, deque[list[Row]]] = {}
    for unit in units:
        queues.setdefault(getattr(unit[0], "channel", ""), deque()).append(unit)
    return list(queues.values())
