"""Outages of what an instance needs, each told as one fault rather than per job or page.

The database (a lost PostgreSQL server, a full disk): one log line when it starts, one when
it ends with how long it lasted, a notice to the system channels if it lasts beyond
NOTICE_AFTER, /healthz 503 while it lasts. Every job meets it; the health job's write says
when it is over. The extractor (the worker processes cannot import it): one notice until a
page is extracted again."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from monitor.alerts.outbox import Outbox
from monitor.store import faults

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

    def fault(self, exc: BaseException, *, check: bool = False) -> bool:
        """Whether `exc` means the database is unreachable or unwritable; if so the outage
        is noted (said once, when it starts; `check`: met by the health job) and the caller
        goes on without a traceback."""
        error = faults.unavailable(exc)
        if error is None:
            return False
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
        return True

    def probe(self, write: Callable[[], None], outbox: Outbox) -> None:
        """The health job's write: while it fails, the notice once the outage is long; once
        it succeeds after a whole tick in which no other job met the outage (a full disk may
        take a heartbeat's update and refuse an article), the outage is over."""
        others_failed, self._since_check = self._since_check, False
        try:
            write()
        except Exception as exc:
            if not self.fault(exc, check=True):
                raise
            if not self.told and self.clock() - (self.since or self.clock()) >= self.notice_after:
                self.told = True
                outbox.send_now(
                    "database",
                    "Database unavailable",
                    f"The database ({self.where}) has been unavailable for {self._lasted()}: "
                    f"{self.error}\n\nNothing committed is lost; polling and delivery resume "
                    "when it is back.",
                )
            return
        if others_failed or self.since is None:
            return
        lasted = self._lasted()
        log.warning("database reachable again (%s) after %s", self.where, lasted)
        if self.told:
            outbox.notify_system(
                "database",
                f"database:{self.clock().isoformat()}",
                "Database reachable again",
                f"The database ({self.where}) was unavailable for {lasted}; the service has "
                "caught up.",
            )
        self.since, self.error, self.told = None, None, False

    def _lasted(self) -> str:
        return _duration(self.clock() - self.since) if self.since else "0 s"


class ExtractorOutage:
    """The extractor that the worker processes cannot import: told once, until a page is
    extracted again."""

    def __init__(self, clock: Callable[[], datetime]) -> None:
        self.clock = clock
        self.told = False

    def cycle_ended(self, problem: str | None, extracted: int, outbox: Outbox) -> None:
        """After a cycle: `problem` is the last ExtractorUnavailable it met, `extracted` the
        pages it extracted."""
        if problem is not None and not self.told:
            self.told = True
            outbox.notify_system(
                "extract",
                f"extract:{self.clock().isoformat()}",
                "Article extraction unavailable",
                f"{problem}.\n\nEntries are matched on their own title and summary until it "
                "is installed in the service's Python environment (a page is tried again "
                "every minute).",
            )
        elif problem is None and extracted:
            self.told = False


def _duration(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min {seconds % 60} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"
