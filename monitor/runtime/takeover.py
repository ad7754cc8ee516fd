"""A dead instance's work taken over: this instance's heartbeat (a thread of its own, so a
busy event loop never makes it look dead), how long a silent one keeps its claims, and the
lines that say what was taken over or skipped, and why."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from types import TracebackType

from monitor.store.claims import Held, TakenOver

log = logging.getLogger("monitor.service")

HEARTBEAT_MAX = 10.0  # seconds between two heartbeats at most (less with a shorter tick)
SILENT_HEARTBEATS = 3  # heartbeats missed before an instance's claims are void
SILENT_MIN = 10.0  # seconds: never sooner (a slow database, a paused machine)


def heartbeat_every(tick: float) -> float:
    return min(tick, HEARTBEAT_MAX)


def silent_after(tick: float) -> timedelta:
    """How long an instance's heartbeat may be late before its claims are taken over (30 s
    with the default tick of 30 s)."""
    return timedelta(seconds=max(SILENT_HEARTBEATS * heartbeat_every(tick), SILENT_MIN))


class Heartbeat:
    """Calls `beat()` every `every` seconds in a daemon thread while the block runs; a failed
    beat (the database away) is logged once, until one succeeds, and the next one tried."""

    def __init__(self, beat: Callable[[], None], every: float) -> None:
        self._beat, self._every = beat, every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="heartbeat", daemon=True)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        self._thread.join(timeout=self._every + 5)

    def _run(self) -> None:
        failing = False  # one line per outage (the outage's own lines say the rest)
        while not self._stop.wait(self._every):
            try:
                self._beat()
            except Exception as exc:  # noqa: BLE001  (the next beat may succeed)
                if not failing:
                    log.warning("heartbeat not written: %s", str(exc).splitlines()[0])
                failing = True
            else:
                failing = False


def log_taken_over(taken: list[TakenOver], now: datetime) -> None:
    for gone in taken:
        silent = (now - gone.heartbeat_at).total_seconds()
        log.warning(
            "taking over from instance %s (%s pid %d, silent for %.0f s): %d feeds and %d "
            "deliveries it had claimed",
            gone.instance[:12],
            gone.host,
            gone.pid,
            silent,
            gone.feeds,
            gone.deliveries,
        )


def skipped_lines(held: list[Held], now: datetime, silent: timedelta) -> list[str]:
    """One line per holder of feeds or deliveries this cycle could not take, and why:
    "12 feeds skipped: claimed by instance 3f2a9c1b7d0e (vm pid 123, alive, heartbeat 3 s ago;
    taken over once silent for 30 s)"."""
    lines = []
    for h in sorted(held, key=lambda h: (-h.feeds, h.instance or "")):
        counted = [
            f"{n} {noun}" for n, noun in ((h.feeds, "feeds"), (h.deliveries, "deliveries")) if n
        ]
        what = " and ".join(counted) + " skipped"
        if h.instance is None or h.heartbeat_at is None:
            until = f" until {h.lease_until:%H:%M:%S} UTC" if h.lease_until else ""
            who = f"instance {h.instance[:12]}, no longer registered" if h.instance else "unnamed"
            lines.append(f"{what}: claimed ({who}; lease{until})")
            continue
        age = max((now - h.heartbeat_at).total_seconds(), 0.0)  # clocks a moment apart
        state = "stopped" if h.stopped else "alive" if age <= silent.total_seconds() else "silent"
        lines.append(
            f"{what}: claimed by instance {h.instance[:12]} ({h.host} pid {h.pid}, {state}, "
            f"heartbeat {age:.0f} s ago; taken over once silent for "
            f"{silent.total_seconds():.0f} s)"
        )
    return lines
