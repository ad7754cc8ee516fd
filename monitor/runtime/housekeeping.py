"""What an instance does beside polling that is not delivery: the system notices (feeds
failing, gone, recovered or silent; a profile's hits spiking) and the retention job
(article text, and evidence), each with its log line."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine

from monitor.alerts.outbox import Outbox
from monitor.alerts.schedules import debounce_window
from monitor.alerts.spikes import HitCounts, find_spikes
from monitor.config.settings import Settings
from monitor.pipeline.health import notices
from monitor.store import feeds, retention
from monitor.store.evidenceprune import prune_evidence

log = logging.getLogger("monitor.service")


def feed_notices(engine: Engine, outbox: Outbox, settings: Settings, now: datetime) -> int:
    """Queue notices for the system channels about feeds failing, gone, recovered or
    silent; each notice and the record that it was made commit together."""
    due = notices(feeds.feed_health(engine), settings.health, now)
    for notice in due:
        outbox.notify_system(
            f"feed-{notice.kind}",
            f"feed-{notice.kind}:{notice.feed_id}:{now.isoformat()}",
            notice.title,
            notice.body,
            feed_notice=(notice.feed_id, notice.kind),
        )
    return len(due)


def spike_notices(counts: HitCounts, outbox: Outbox, settings: Settings, now: datetime) -> int:
    """Queue a notice for each profile whose hits spiked (one per profile per window);
    how many notices were queued."""
    queued = 0
    for spike in find_spikes(counts, now, settings.alerts):
        window, _ = debounce_window(now, settings.alerts.spike_window)
        queued += outbox.notify_system(
            "spike",
            f"spike:{spike.profile}:{window.isoformat(timespec='seconds')}",
            f"Spike in profile {spike.profile}: {spike.recent} hits",
            f"Profile {spike.profile} stored {spike.recent} hits since "
            f"{spike.window_start:%Y-%m-%d %H:%M} UTC, against {spike.baseline:.1f} per "
            "window on average before (alerts.spike_factor / spike_window / "
            "spike_baseline). Something is happening, or a feed or the profile changed.",
        )
    return queued


def prune(
    engine: Engine, settings: Settings, evidence_dir: Path, now: datetime
) -> retention.PruneReport | None:
    """The retention job: the evidence older than evidence.retention is deleted, and article
    text older than retention.article_text (None: text is kept for good)."""
    if settings.evidence.retention:
        keep_evidence = timedelta(seconds=settings.evidence.retention)
        gone = prune_evidence(engine, evidence_dir, now, keep_evidence)
        if gone.articles:
            log.info(
                "retention: evidence of %d articles deleted (%d files, %d bytes)",
                gone.articles,
                gone.files,
                gone.file_bytes,
            )
    keep = settings.retention.article_text
    if not keep:
        return None
    report = retention.prune(engine, now, timedelta(seconds=keep))
    if report.articles and report.cutoff:
        log.info(
            "retention: text of %d articles fetched before %s deleted (%d bytes)",
            report.articles,
            report.cutoff.isoformat(timespec="seconds"),
            report.text_bytes,
        )
    return report
