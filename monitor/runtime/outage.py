"""The database being unreachable or unwritable (a lost PostgreSQL server, a full disk), as
one fault of the instance: one log line when it starts, one when it ends with how long it
lasted, a notice to the system channels if it lasts beyond a bound, and /healthz 503 while
it lasts. Every job meets it; the health job's heartbeat (a write) says when it is over."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

log = logging.getLogger("monitor.service")

NOTICE_AFTER = timedelta(minutes=5)  # an outage this long is sent to the system channels


class Outage:
    """The state of one database, as the jobs meet it."""

    def __init__(
        self, where: str, clock: Callable[[], datetime], notice_after: timedelta = NOTICE_AFTER
    ) -> None:
        self.where = where
        self.clock = clock
        self.notice_after = notice_after
        self.since: datetime | None = None  # when the current outage was first met
        self.error: str | None = None  # its latest error, in one line
        self.told = False  # the system channels were sent a notice about it
        self._since_check = False  # a job other than the health check met it since the last

    @property
    def down(self) -> bool:
        return self.since is not None

    def met(self, error: str, *, check: bool = False) -> None:
        """A job (`check`: the health job) found the database unavailable: said once per
        outage."""
        self._since_check = self._since_check or not check
        if self.since is None:
            self.since = self.clock()
            log.error(
                "database unavailable (%s): %s; jobs fail until it is back, what was "
                "committed is kept and the work is taken up again then",
                self.where,
                error,
            )
        self.error = error

    def notice_due(self) -> bool:
        """True once per outage, when it has lasted notice_after: time to tell the channels."""
        if self.since is None or self.told or self.clock() - self.since < self.notice_after:
            return False
        self.told = True
        return True

    def lasted(self) -> str:
        return _duration(self.clock() - self.since) if self.since else "0 s"

    def checked(self) -> bool:
        """Called by the health job before its write: whether another job met the outage
        since its previous call (then a write that succeeds does not end it yet: a full disk
        may take a heartbeat's update and refuse an article)."""
        failed, self._since_check = self._since_check, False
        return failed

    def cleared(self) -> bool:
        """The health job's write succeeded and no job failed since its previous one: the
        outage, if any, is over (said with how long it lasted). True when its notice had
        been sent, so its end should be too."""
        if self.since is None:
            return False
        log.warning("database reachable again (%s) after %s", self.where, self.lasted())
        told, self.since, self.error, self.told = self.told, None, None, False
        return told


def _duration(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min {seconds % 60} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"
