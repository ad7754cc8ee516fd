"""Claims on the outbox: instances sharing a PostgreSQL database never take the same alert or
message, a claim left unsent runs out with its lease, digests are made once, and two delivery
passes at the same moment send each alert once through a real webhook on 127.0.0.1."""

from __future__ import annotations

import contextlib
import json
import re
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, event
from sqlmodel import Session, select

from monitor.alerts.compose import Format
from monitor.alerts.compose import Message as AlertMessage
from monitor.alerts.outbox import CLAIM_BATCH as BATCH
from monitor.alerts.outbox import LEASE, DeliveryReport
from monitor.config.settings import Settings
from monitor.models import Article, ChannelSpec, Entry, FeedSpec, Match, Route
from monitor.runtime.service import Service
from monitor.store import articles, backlog, feeds, messages, outbox
from monitor.store.engine import open_engine, upgrade
from monitor.store.gateway import Database
from monitor.store.tables import AlertRow, MessageRow
from tests.conftest import Clock, RecordingSender, open_database
from tests.loopback import LoopbackServer, QuietHandler, serving

NOW = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)
claim_alerts = partial(outbox.claim_alerts, lease=LEASE, limit=BATCH)
claim_messages = partial(outbox.claim_messages, lease=LEASE, limit=BATCH)
FEED = "https://news.example/rss"
REF = re.compile(r"alert-(\d+)")

Table = type[AlertRow] | type[MessageRow]


def _engine(url: str) -> Engine:
    engine = open_engine(url)
    upgrade(engine)
    return engine


@pytest.fixture
def instances(postgres_url: str) -> Iterator[tuple[Engine, Engine]]:
    """Two engines on one PostgreSQL database: two instances, each with its own connections. The
    second one gives up waiting for a lock after 5 s: a test meeting a lock fails, never hangs."""
    first = _engine(postgres_url)
    second = _engine(f"{postgres_url}?options=-c%20lock_timeout%3D5s")
    yield first, second
    first.dispose()
    second.dispose()


INSTANT = Route("hook")


def _alerts(engine: Engine, count: int, route: Route = INSTANT) -> None:
    """`count` hits of profile gfw, each with an alert to `route`, stored as the pipeline does."""
    feeds.sync_feeds(engine, [FeedSpec(FEED, name="News Example")], NOW)
    feed_id = feeds.feed_rows(engine)[FEED].id or 0
    for n in range(count):
        url = f"https://news.example/{n}"
        articles.store_article(
            engine,
            feed_id=feed_id,
            entry=Entry(f"guid-{n}", url, f"Story {n}", "", NOW),
            article=Article(url, f"Story {n}", "Text about the Great Firewall."),
            matches=[Match("gfw", "v1", ["Great Firewall"], 1.0, "the **Great Firewall**")],
            routes={"gfw": [route]},
            now=NOW,
        )


def _notices(engine: Engine, count: int) -> None:
    for n in range(count):
        messages.enqueue(engine, ["hook"], f"notice:{n}", "spike", NOW, title="t", body="b")


KINDS: dict[str, tuple[Callable[[Engine, int], None], Callable[..., list[Any]], Table]] = {
    "alerts": (_alerts, claim_alerts, AlertRow),
    "messages": (_notices, claim_messages, MessageRow),
}


def _next_attempts(engine: Engine, table: Table) -> dict[int, tuple[str, datetime]]:
    with Session(engine) as session:
        rows = session.exec(select(table.id, table.status, table.next_attempt_at)).all()
    return {row_id or 0: (status, due) for row_id, status, due in rows}


@pytest.mark.parametrize("kind", KINDS)
def test_a_claim_in_progress_is_skipped_by_another_instance(
    instances: tuple[Engine, Engine], kind: str
) -> None:
    first, second = instances
    fill, claim, table = KINDS[kind]
    fill(first, 5)
    meanwhile: list[list[int]] = []

    def claim_before_commit(_conn: Connection) -> None:
        # the first instance's rows are locked and leased, but nothing is committed yet
        assert {due for _, due in _next_attempts(second, table).values()} == {NOW}
        meanwhile.append([row.id for row in claim(second, NOW, limit=10)])

    event.listen(first, "commit", claim_before_commit)
    try:
        mine = [row.id for row in claim(first, NOW, limit=2)]
    finally:
        event.remove(first, "commit", claim_before_commit)

    [theirs] = meanwhile
    assert len(mine) == 2 and len(theirs) == 3
    assert sorted(mine + theirs) == sorted(_next_attempts(first, table))
    assert claim(first, NOW) == claim(second, NOW + LEASE - timedelta(seconds=1)) == []


@pytest.mark.parametrize("kind", KINDS)
def test_an_unsent_claim_is_due_again_when_its_lease_ends_and_results_replace_it(
    instances: tuple[Engine, Engine], kind: str
) -> None:
    engine, _ = instances
    fill, claim, table = KINDS[kind]
    fill(engine, 3)
    sent, failed, crashed = (row.id for row in claim(engine, NOW))
    outbox.record_attempt(engine, table, sent, sent_at=NOW)
    outbox.record_attempt(engine, table, failed, error="503", retry_at=NOW + timedelta(minutes=1))

    rows = _next_attempts(engine, table)
    assert rows[sent][0] == "sent"
    assert rows[failed] == ("pending", NOW + timedelta(minutes=1))  # the retry time, not the lease
    assert rows[crashed] == ("pending", NOW + LEASE)
    assert [row.id for row in claim(engine, NOW + timedelta(minutes=1))] == [failed]
    assert claim(engine, NOW + LEASE - timedelta(seconds=1)) == []
    later = NOW + LEASE + timedelta(minutes=1)
    assert [row.id for row in claim(engine, later)] == [failed, crashed]


def test_held_alerts_take_their_hold_time_not_the_lease(instances: tuple[Engine, Engine]) -> None:
    engine, _ = instances
    _alerts(engine, 3)
    quiet, debounced, given_up = (alert.id for alert in claim_alerts(engine, NOW))
    outbox.hold_alert(engine, quiet, NOW + timedelta(hours=7))
    outbox.hold_alert(engine, debounced, NOW + timedelta(minutes=30), digest="debounce")
    Database(engine).mark_failed("alert", given_up, "gone", None)
    rows = _next_attempts(engine, AlertRow)
    assert rows[quiet] == ("pending", NOW + timedelta(hours=7))
    assert rows[debounced] == ("queued", NOW + timedelta(minutes=30))
    assert rows[given_up][0] == "failed"


def test_release_gives_back_only_rows_still_under_that_lease(
    instances: tuple[Engine, Engine],
) -> None:
    engine, _ = instances
    _alerts(engine, 2)
    ids = [alert.id for alert in claim_alerts(engine, NOW)]
    outbox.release(engine, AlertRow, ids, NOW + LEASE + timedelta(seconds=1), NOW)  # not ours
    assert claim_alerts(engine, NOW) == []
    outbox.release(engine, AlertRow, ids, NOW + LEASE, NOW)
    assert [alert.id for alert in claim_alerts(engine, NOW)] == ids


def test_on_sqlite_the_one_instance_finds_its_unsent_claims_due_at_once(sqlite_url: str) -> None:
    """SQLite is locked to one instance: a claim needs no lease, and after a crash the restart
    sends what was claimed and not sent without waiting (tests/test_alert_crash.py)."""
    engine = _engine(sqlite_url)
    _alerts(engine, 2)
    _notices(engine, 1)
    first, second = (alert.id for alert in claim_alerts(engine, NOW))
    Database(engine).mark_failed("alert", first, "503", NOW + timedelta(minutes=1))
    assert [alert.id for alert in claim_alerts(engine, NOW)] == [second]
    assert len(claim_messages(engine, NOW)) == len(claim_messages(engine, NOW))
    engine.dispose()


def test_instances_closing_the_same_digest_together_make_it_once(
    instances: tuple[Engine, Engine], postgres_url: str
) -> None:
    engine, _ = instances
    due = NOW + timedelta(hours=1)
    _alerts(engine, 6, Route("hook", digest="daily", due=due))
    engines = [*instances, _engine(postgres_url), _engine(postgres_url)]
    start = threading.Barrier(len(engines), timeout=30)
    made: list[int] = []

    def close(on: Engine) -> None:
        start.wait()
        made.append(messages.close_digests(on, due, {}))

    threads = [threading.Thread(target=close, args=(on,)) for on in engines]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    for extra in engines[2:]:
        extra.dispose()

    assert sorted(made) == [0, 0, 0, 1]
    [digest] = claim_messages(engine, due)
    assert digest.key == messages.digest_key("daily", due)
    assert len(messages.digest_hits(engine, digest.id)) == 6
    assert backlog.alert_counts(engine) == {"digested": 6}


class Receiver(LoopbackServer):
    """A webhook endpoint (Apprise json://) keeping the alert references it receives; its first
    two requests each wait for the other, so they prove two passes were sending at once."""

    def __init__(self) -> None:
        super().__init__(_Handler)
        self.refs: list[str] = []
        self.lock = threading.Lock()
        self.together = threading.Barrier(2, timeout=20)


class _Handler(QuietHandler):
    server: Receiver

    def do_POST(self) -> None:
        payload = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
        with self.server.lock:
            self.server.refs.extend(REF.findall(payload["message"]))
            first_two = len(self.server.refs) <= 2
        if first_two:
            with contextlib.suppress(threading.BrokenBarrierError):  # the test checks it
                self.server.together.wait()
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    with serving(server, before_stop=server.together.abort):
        yield server


@pytest.mark.slow
def test_two_delivery_passes_at_once_send_every_alert_once(
    postgres_url: str, config_dir: Path, receiver: Receiver
) -> None:
    (config_dir / "alerts.yaml").write_text(
        f"channels:\n  - url: {receiver.webhook}\n    name: hook\n"
    )
    (config_dir / "monitor.yaml").write_text("alerts:\n  debounce_count: 0\n")
    engines = [open_database(config_dir, postgres_url) for _ in range(2)]
    try:
        services = [Service(config_dir, s, engine, clock=Clock(NOW)) for s, engine in engines]
        total = BATCH + 10  # more than one batch: both passes get some
        _alerts(services[0].engine, total)
        reports: list[DeliveryReport] = []

        def deliver(service: Service) -> None:
            reports.append(service.outbox.deliver())

        threads = [threading.Thread(target=deliver, args=(service,)) for service in services]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)

        assert not receiver.together.broken  # both passes were sending at the same time
        received = Counter(receiver.refs)
        assert len(received) == total and set(received.values()) == {1}
        assert sorted(report.sent for report in reports) == [10, BATCH]
        assert [service.outbox.deliver().sent for service in services] == [0, 0]
        assert backlog.alert_counts(services[0].engine) == {"sent": total}
    finally:
        for _, engine in engines:
            engine.dispose()


class Interrupting:
    """A sender whose second send meets a bug (not a DeliveryError): the pass stops there."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    def send(self, channel: ChannelSpec, message: AlertMessage) -> None:
        if len(self.sent) == 1:
            raise RuntimeError("a bug")
        self.sent.append(message.title)

    def format_for(self, channel: ChannelSpec) -> Format:
        return "text"

    def spacing(self, channel: ChannelSpec) -> float:
        return 0.0


def _with_one_channel(config_dir: Path, database_url: str) -> tuple[Settings, Engine]:
    """One alert channel (the tests' sender stands in for it), and the database migrated."""
    (config_dir / "alerts.yaml").write_text(
        "channels:\n  - url: json://127.0.0.1:9/\n    name: hook\n"
    )
    return open_database(config_dir, database_url)


def test_a_pass_interrupted_by_a_bug_gives_back_the_rest_of_its_claim(
    postgres_url: str, config_dir: Path
) -> None:
    settings, engine = _with_one_channel(config_dir, postgres_url)
    try:
        service = Service(config_dir, settings, engine, clock=Clock(NOW), sender=Interrupting())
        _alerts(engine, 4)
        with pytest.raises(RuntimeError):
            service.outbox.deliver()
        rows = _next_attempts(engine, AlertRow)
    finally:
        engine.dispose()
    lease = timedelta(seconds=settings.lease)  # the service claims with the `lease` setting
    assert sorted(rows.values()) == [
        ("pending", NOW),  # never tried: given back
        ("pending", NOW),
        ("pending", NOW + lease),  # the one the bug met: waits for its lease, as after a crash
        ("sent", NOW + lease),
    ]


def test_a_shutdown_mid_pass_gives_back_the_rest_of_its_claim(
    postgres_url: str, config_dir: Path
) -> None:
    settings, engine = _with_one_channel(config_dir, postgres_url)
    try:
        sender = RecordingSender()
        service = Service(config_dir, settings, engine, clock=Clock(NOW), sender=sender)
        service.outbox.stopping = lambda: len(sender.sent) == 1  # SIGTERM during the first send
        _alerts(engine, 4)
        assert service.outbox.deliver().sent == 1
        rows = _next_attempts(engine, AlertRow)
    finally:
        engine.dispose()
    lease = timedelta(seconds=settings.lease)
    assert sorted(rows.values()) == [("pending", NOW)] * 3 + [("sent", NOW + lease)]
