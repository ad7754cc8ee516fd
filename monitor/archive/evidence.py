"""A hit's evidence as one WARC file any web-archive tool reads (`monitor evidence export`):
a warcinfo record saying what the bundle is, then every version of the article's page,
oldest first. A body goes in once, as the response and request records it was first kept
with (byte for byte the kept file); a later fetch of the same body, or a fetch whose body was
first kept for another address, follows as a revisit record with its own date, status and
headers, pointing at that response by address, date and SHA-256 digest. A version without a
body (a 404 or 410, whose page the fetcher does not read; no answer at all) is a metadata
record: the monitor's own account of that re-check (JSON), not the server's bytes.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from io import BytesIO
from pathlib import Path
from typing import IO

from warcio.warcwriter import WARCWriter

from monitor.models import Capture
from monitor.store import warcfiles
from monitor.store.evidence import Version


def write_bundle(out: IO[bytes], folder: Path, versions: Sequence[Version], about: str) -> int:
    """Write the bundle of these versions (one article's) to `out`; the number of records."""
    writer = WARCWriter(out, gzip=True)
    info = writer.create_warcinfo_record(
        "evidence.warc.gz", {"software": "governance-news monitor", "description": about}
    )
    writer.write_record(info)
    written = 1
    included: dict[str, tuple[str, str]] = {}  # sha256 -> (address, date) of its response
    for version in versions:
        if version.sha256 is None or version.warc is None:
            _write_metadata(writer, version)  # no body was kept for it
            written += 1
            continue
        if version.sha256 not in included:
            original = _response_of(folder, version.warc)
            out.write(warcfiles.raw(folder, version.warc))
            written += 2
            included[version.sha256] = original
            if version.wrote_body and original[0] == version.url:
                continue  # the file is this version's own fetch
        address, date = included[version.sha256]
        warcfiles.write_revisit(out, _capture(version, address), version.sha256, date)
        written += 1
    return written


def _write_metadata(writer: WARCWriter, version: Version) -> None:
    """A re-check that kept no body, as the monitor recorded it."""
    payload = json.dumps(version.record(), ensure_ascii=False).encode("utf-8")
    record = writer.create_warc_record(
        version.url or "urn:monitor:no-answer",
        "metadata",
        payload=BytesIO(payload),
        length=len(payload),
        warc_content_type="application/json",
        warc_headers_dict={"WARC-Date": version.fetched_at.strftime("%Y-%m-%dT%H:%M:%SZ")},
    )
    writer.write_record(record)


def _response_of(folder: Path, path: str) -> tuple[str, str]:
    """The address and date of the response record in a kept file."""
    for record in warcfiles.records(folder, path):
        if record.rec_type == "response":
            headers = record.rec_headers
            return headers.get_header("WARC-Target-URI"), headers.get_header("WARC-Date")
    raise ValueError(f"{path}: no response record in this evidence file")


def _capture(version: Version, original_address: str) -> Capture:
    """A later version as a capture without its body (the revisit points at it)."""
    return Capture(
        url=original_address,
        final_url=version.url,
        status=version.http_status or 0,
        reason="",
        http_version="1.1",
        headers=version.headers,
        request_headers=version.request_headers,
        body=b"",
        fetched_at=version.fetched_at,
    )
