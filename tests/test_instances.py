"""The instance registry on SQLite and PostgreSQL: register, heartbeats, cycles, stop, forget."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import Engine

from monitor.store import instances

NOW = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)
TIMEOUT = timedelta(minutes=5)


def _register(engine: Engine, instance_id: str, now: datetime = NOW) -> None:
    instances.register(
        engine, instance_id=instance_id, host="worker-1", pid=4242, version="0.1.0", now=now
    )


def test_a_registered_instance_is_alive_until_silent_or_stopped(engine: Engine) -> None:
    _register(engine, "a" * 32)
    [info] = instances.instances(engine)
    assert (info.id, info.host, info.pid, info.version) == ("a" * 32, "worker-1", 4242, "0.1.0")
    assert info.started_at == info.heartbeat_at == NOW
    assert info.started_at.tzinfo is not None and info.started_at.utcoffset() == timedelta(0)
    assert (info.stopped_at, info.last_cycle_at, info.last_cycle) == (None, None, None)
    assert instances.is_alive(info, NOW + TIMEOUT, TIMEOUT)
    assert not instances.is_alive(info, NOW + TIMEOUT + timedelta(seconds=1), TIMEOUT)

    instances.heartbeat(engine, "a" * 32, NOW + timedelta(minutes=4))
    [info] = instances.instances(engine)
    assert info.heartbeat_at == NOW + timedelta(minutes=4)
    assert instances.is_alive(info, NOW + timedelta(minutes=9), TIMEOUT)

    stopped = datetime(2026, 12, 5, 10, 30, tzinfo=timezone(timedelta(hours=1)))  # 09:30 UTC
    instances.stop(engine, "a" * 32, stopped)
    [info] = instances.instances(engine)
    assert info.stopped_at == stopped and info.stopped_at.utcoffset() == timedelta(0)
    assert not instances.is_alive(info, info.heartbeat_at, TIMEOUT)


def test_record_cycle_keeps_the_summary_and_last_cycle_finds_the_newest(engine: Engine) -> None:
    assert instances.last_cycle(engine) is None
    _register(engine, "first")
    _register(engine, "second", NOW + timedelta(seconds=5))
    assert [i.id for i in instances.instances(engine)] == ["second", "first"]
    assert instances.last_cycle(engine) is None  # registered, no cycle yet

    summary = {"feeds_polled": 12, "hits": 3, "duration_ms": 1520, "stages": {"fetch": 0.8}}
    instances.record_cycle(engine, "first", NOW + timedelta(minutes=1), summary)
    instances.record_cycle(engine, "second", NOW + timedelta(seconds=50), {"hits": 0})

    newest = instances.last_cycle(engine)
    assert newest is not None and newest.id == "first"
    assert newest.last_cycle == summary
    assert newest.last_cycle_at == newest.heartbeat_at == NOW + timedelta(minutes=1)
    assert newest.last_cycle_at is not None and newest.last_cycle_at.tzinfo is not None
    assert [i.id for i in instances.instances(engine)] == ["first", "second"]


def test_forget_removes_stopped_and_silent_instances(engine: Engine) -> None:
    _register(engine, "stopped")
    _register(engine, "silent")
    _register(engine, "alive")
    _register(engine, "stopped-lately")
    instances.stop(engine, "stopped", NOW + timedelta(minutes=1))
    instances.heartbeat(engine, "alive", NOW + timedelta(hours=2))
    instances.heartbeat(engine, "stopped-lately", NOW + timedelta(hours=2))
    instances.stop(engine, "stopped-lately", NOW + timedelta(hours=2))

    assert instances.forget(engine, NOW + timedelta(hours=1)) == 2
    assert sorted(i.id for i in instances.instances(engine)) == ["alive", "stopped-lately"]
    assert instances.forget(engine, NOW + timedelta(hours=1)) == 0

    instances.heartbeat(engine, "silent", NOW + timedelta(hours=3))  # forgotten stays forgotten
    assert "silent" not in {i.id for i in instances.instances(engine)}
