"""Evidence kept for hits (docs/evidence.md): one cycle over a real HTTP server on loopback,
on SQLite and PostgreSQL. The page of an article with a hit is kept as fetched in a WARC file
named by its body's SHA-256 (a gzip-encoded page kept inflated, its encoding recorded), an
article without a hit keeps nothing, the same body at two addresses is stored once;
`monitor evidence` shows the versions and `monitor evidence export` writes a bundle that
warcio's own reader reads back, replaying the served bytes exactly."""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import json
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from typer.testing import CliRunner
from warcio.archiveiterator import ArchiveIterator

from monitor.cli import app
from monitor.runtime.lifecycle import run_once
from monitor.runtime.service import Service
from monitor.store.evidence import versions
from monitor.store.evidencewatch import claim_due
from monitor.store.hits import query_hits
from tests.conftest import open_database
from tests.newsroom import article_page

pytestmark = pytest.mark.slow  # whole cycles with extraction workers
LEASE = timedelta(minutes=15)

PARAGRAPHS = [
    "The Great Firewall blocked two more foreign news sites this week, users in Beijing said.",
    "Engineers who study the system said the blocking began on Monday and affected mobile "
    "networks first, then home broadband in several provinces.",
    "Officials did not comment on the change, which followed new rules on online content.",
    "Researchers said circumvention tools were slower but still worked for most users.",
]
OTHER = [
    "The city council approved a new bus line connecting the harbour and the old town.",
    "Construction starts in spring and the line should open within two years, officials said.",
    "Residents asked for more frequent service in the evenings and on weekends.",
]


def _serve(httpserver: HTTPServer) -> dict[str, bytes]:
    pages = {
        "/gfw": article_page("Great Firewall blocks more sites", PARAGRAPHS).encode(),
        "/bus": article_page("New bus line approved", OTHER).encode(),
    }
    pages["/copy"] = pages["/gfw"]  # the same page at a second address
    now = format_datetime(datetime.now(UTC), usegmt=True)
    items = "".join(
        f"<item><title>{path[1:]}</title><link>{httpserver.url_for(path)}</link>"
        f"<guid>{path}</guid><pubDate>{now}</pubDate></item>"
        for path in pages
    )
    feed = (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>{items}</channel></rss>'
    )
    httpserver.expect_request("/feed").respond_with_data(feed, content_type="application/rss+xml")
    httpserver.expect_request("/gfw").respond_with_data(
        gzip.compress(pages["/gfw"]),
        content_type="text/html; charset=utf-8",
        headers={"Content-Encoding": "gzip", "X-Served-By": "loopback"},
    )
    for path in ("/bus", "/copy"):
        httpserver.expect_request(path).respond_with_data(
            pages[path], content_type="text/html; charset=utf-8"
        )
    return pages


def test_a_hit_keeps_its_page_as_fetched_and_exports_it(
    database_url: str, config_dir: Path, httpserver: HTTPServer, tmp_path: Path
) -> None:
    pages = _serve(httpserver)
    for old in (config_dir / "profiles").glob("*.yaml"):
        old.unlink()
    (config_dir / "profiles" / "gfw.yaml").write_text('query: "great firewall"\n', "utf-8")
    (config_dir / "feeds.yaml").write_text(
        f"feeds:\n  - url: {httpserver.url_for('/feed')}\n", encoding="utf-8"
    )
    (config_dir / "monitor.yaml").write_text(
        "extract:\n  workers: 1\n  timeout: 60\nfetch:\n  timeout: 20\n"
        f"database_url: {database_url}\n",
        encoding="utf-8",
    )
    settings, engine = open_database(config_dir, database_url)
    asyncio.run(run_once(Service(config_dir, settings, engine)))

    hits = {hit.url.rsplit("/", 1)[-1]: hit for hit in query_hits(engine)}
    assert set(hits) == {"gfw", "copy"}  # the bus line has no hit
    folder = config_dir.parent / "data" / "evidence"  # evidence.dir's default, anchored
    sha = hashlib.sha256(pages["/gfw"]).hexdigest()
    assert [p.name for p in folder.rglob("*.warc.gz")] == [f"{sha}.warc.gz"]  # stored once
    first, second = (versions(engine, hits[name].article_id) for name in ("gfw", "copy"))
    assert len(first) == len(second) == 1
    assert {first[0].sha256, second[0].sha256} == {sha}
    assert [first[0].wrote_body, second[0].wrote_body].count(True) == 1
    assert first[0].classification == "original" and first[0].http_status == 200
    assert ("Content-Encoding", "gzip") in first[0].headers  # as the server sent it
    # each is looked at again an hour later (evidence.recheck's first delay); the bus line not
    due = claim_due(
        engine,
        first[0].fetched_at + timedelta(hours=1, minutes=1),
        limit=10,
        lease=LEASE,
        holder="t",
    )
    assert sorted(w.article_id for w in due) == sorted(h.article_id for h in hits.values())
    assert all(w.profiles == ("gfw",) and w.state == "original" and w.text for w in due)
    assert not claim_due(  # leased for 15 minutes to the first
        engine,
        first[0].fetched_at + timedelta(hours=1, minutes=5),
        limit=10,
        lease=LEASE,
        holder="u",
    )

    runner = CliRunner()
    shown = runner.invoke(
        app, ["--config", str(config_dir), "evidence", str(hits["gfw"].id), "--format", "json"]
    )
    assert shown.exit_code == 0, shown.output
    history = json.loads(shown.stdout)
    assert [v["classification"] for v in history] == ["original"]
    assert history[0]["sha256"] == sha and history[0]["http_status"] == 200
    by_url = runner.invoke(app, ["--config", str(config_dir), "evidence", hits["copy"].url])
    assert by_url.exit_code == 0 and "original" in by_url.stdout

    wrote_gfw = first[0].wrote_body
    for name in ("gfw", "copy"):
        bundle = tmp_path / f"{name}.warc.gz"
        done = runner.invoke(
            app,
            [
                "--config",
                str(config_dir),
                "evidence",
                "export",
                str(hits[name].id),
                "-o",
                str(bundle),
            ],
        )
        assert done.exit_code == 0, done.output
        with bundle.open("rb") as stream:
            records = [
                (r.rec_type, r.http_headers, r.content_stream().read())
                for r in ArchiveIterator(stream)
            ]
        kinds = [kind for kind, _, _ in records]
        assert kinds[0] == "warcinfo" and kinds.count("response") == 1
        http, body = next((h, payload) for kind, h, payload in records if kind == "response")
        assert body == pages["/gfw"]  # the served bytes exactly (inflated from gzip)
        assert http.get_statuscode() == "200"
        # the file is the first fetch's: /gfw's came gzip-encoded, /copy's did not
        encoded = http.get_header("X-Monitor-Original-Content-Encoding")
        assert encoded == ("gzip" if wrote_gfw else None)
        assert http.get_header("Content-Length") == str(len(pages["/gfw"]))
        wrote = (first if name == "gfw" else second)[0].wrote_body
        assert kinds.count("revisit") == (0 if wrote else 1)

    # evidence.retention: `monitor db prune` deletes it once its latest version is older
    # (counted by --dry-run first), the files with it; the hits stay
    with (config_dir / "monitor.yaml").open("a", encoding="utf-8") as extra:
        extra.write("evidence:\n  retention: 1s\n")
    time.sleep(1.1)
    dry = runner.invoke(app, ["--config", str(config_dir), "db", "prune", "--dry-run", "--json"])
    assert dry.exit_code == 0, dry.output
    assert json.loads(dry.stdout)["evidence"]["articles"] == 2
    assert list(folder.rglob("*.warc.gz"))  # nothing deleted yet
    done = runner.invoke(app, ["--config", str(config_dir), "db", "prune", "--json"])
    assert done.exit_code == 0, done.output
    pruned = json.loads(done.stdout)["evidence"]
    assert (pruned["articles"], pruned["versions"], pruned["files"]) == (2, 2, 1)
    assert not list(folder.rglob("*.warc.gz"))
    assert versions(engine, hits["gfw"].article_id) == []
    assert len(query_hits(engine)) == 2
    gone = runner.invoke(app, ["--config", str(config_dir), "evidence", str(hits["gfw"].id)])
    assert gone.exit_code == 1 and "nothing is kept" in str(gone.exception)
    engine.dispose()


def test_evidence_of_an_unknown_hit_is_a_clear_error(database_url: str, config_dir: Path) -> None:
    (config_dir / "monitor.yaml").write_text(f"database_url: {database_url}\n", "utf-8")
    _, engine = open_database(config_dir, database_url)
    engine.dispose()
    runner = CliRunner()
    result = runner.invoke(app, ["--config", str(config_dir), "evidence", "999"])
    assert result.exit_code == 1
    assert "no hit or article '999'" in str(result.exception) + result.output
