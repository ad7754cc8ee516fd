"""Evidence files: each hit article's page as it was fetched, kept as WARC (ISO 28500, the
format web archives use; written and read by warcio) in a folder (`evidence.dir`).

One gzipped file per distinct body, named by the body's SHA-256 (`ab/cd/abcd….warc.gz`):
a page fetched again unchanged, or the same body at two addresses, is stored once. The file
holds the response record (status line, headers, body) and the request record that asked
for it, written to a temporary name and renamed, so a file that exists is whole and a crash
leaves at most a stray temporary file. The body is kept as read, inflated: the response's
Content-Encoding and Transfer-Encoding headers are kept under X-Monitor-Original-* and its
Content-Length is the stored body's, so that any WARC reader replays it as it was served.

Several instances on PostgreSQL share one folder (a network file system, or a bucket mounted
as one); writing the same file twice writes the same bytes, so they need no lock.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from monitor.models import Capture

log = logging.getLogger("monitor.evidence")
_HOP_BY_HOP = ("content-encoding", "transfer-encoding")  # undone by reading the body
ORIGINAL = "X-Monitor-Original-"


@dataclass(frozen=True, slots=True)
class Kept:
    """A body kept: its SHA-256, its file (relative to the folder), and whether this call
    wrote it (False: it was kept before)."""

    sha256: str
    path: str
    wrote: bool


def body_sha256(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def relative_path(sha256: str) -> str:
    return f"{sha256[:2]}/{sha256[2:4]}/{sha256}.warc.gz"


def keep(folder: Path, capture: Capture) -> Kept:
    """The capture's body in its file under `folder`, written unless it is there already."""
    sha = body_sha256(capture.body)
    path = relative_path(sha)
    target = folder / path
    if target.is_file():
        return Kept(sha, path, wrote=False)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=".writing-", suffix=".warc.gz", dir=target.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            write_exchange(out, capture)
            out.flush()
            os.fsync(out.fileno())
        Path(temporary).replace(target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return Kept(sha, path, wrote=True)


def keep_or_say(folder: Path, capture: Capture) -> Kept | None:
    """`keep`, where a folder that cannot be written (full, not permitted) costs the body
    alone, said in the log, never what is stored with it (an article, a re-check)."""
    try:
        return keep(folder, capture)
    except OSError as exc:
        log.error("evidence for %s not kept: %s (check evidence.dir, %s)", capture.url, exc, folder)
        return None


def write_exchange(out: IO[bytes], capture: Capture) -> None:
    """The response and request records of one fetch, gzipped record by record."""
    writer = WARCWriter(out, gzip=True)
    date = capture.fetched_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    response = writer.create_warc_record(
        capture.final_url,
        "response",
        payload=BytesIO(capture.body),
        length=len(capture.body),
        warc_headers_dict={
            "WARC-Date": date,
            "WARC-Payload-Digest": _digest(body_sha256(capture.body)),
        },
        http_headers=_response_headers(capture),
    )
    request = writer.create_warc_record(
        capture.final_url,
        "request",
        payload=BytesIO(b""),
        length=0,
        warc_headers_dict={
            "WARC-Date": date,
            "WARC-Concurrent-To": response.rec_headers.get_header("WARC-Record-ID"),
        },
        http_headers=StatusAndHeaders(
            f"GET {_request_target(capture.final_url)} HTTP/{capture.http_version}",
            list(capture.request_headers) or [("Host", urlsplit(capture.final_url).netloc)],
            is_http_request=True,
        ),
    )
    writer.write_record(response)
    writer.write_record(request)


def write_revisit(out: IO[bytes], capture: Capture, sha256: str, original_date: str) -> None:
    """A later fetch whose body equals one kept before: a revisit record (the WARC profile
    "identical payload digest") with this fetch's status and headers, pointing at the
    original by address, date and digest."""
    writer = WARCWriter(out, gzip=True)
    record = writer.create_revisit_record(
        capture.final_url,
        digest=_digest(sha256),
        refers_to_uri=capture.url,
        refers_to_date=original_date,
        http_headers=_response_headers(capture, length=None),
    )
    record.rec_headers.replace_header(
        "WARC-Date", capture.fetched_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    )
    writer.write_record(record)


def records(folder: Path, path: str) -> Iterator[Any]:
    """The records of one evidence file, as warcio reads them (payload read on demand)."""
    with (folder / path).open("rb") as stream:
        yield from ArchiveIterator(stream)


def raw(folder: Path, path: str) -> bytes:
    """One evidence file's bytes (gzip members, concatenated as they are into an export)."""
    return (folder / path).read_bytes()


def _response_headers(capture: Capture, length: int | None = -1) -> StatusAndHeaders:
    """The response's status line and headers as kept: the encodings undone by reading are
    renamed X-Monitor-Original-*, and Content-Length is the kept body's (`length` -1; None:
    the headers' own, for a revisit, which holds no body)."""
    headers: list[tuple[str, str]] = []
    for name, value in capture.headers:
        if name.lower() in _HOP_BY_HOP:
            headers.append((ORIGINAL + name, value))
        elif name.lower() != "content-length" or length is None:
            headers.append((name, value))
    if length is not None:
        headers.append(("Content-Length", str(len(capture.body))))
    status = f"{capture.status} {capture.reason}".strip()
    return StatusAndHeaders(status, headers, protocol=f"HTTP/{capture.http_version}")


def _request_target(url: str) -> str:
    parts = urlsplit(url)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def _digest(sha256: str) -> str:
    """A WARC payload digest: the algorithm, then the digest in base 32 (as web archives
    write it); the SHA-256 the file is named by, so a revisit and its original agree."""
    return "sha256:" + base64.b32encode(bytes.fromhex(sha256)).decode("ascii")


def header_pairs(pairs: Iterable[Iterable[str]]) -> tuple[tuple[str, str], ...]:
    """Headers read back from the database's JSON (lists of two strings)."""
    return tuple((str(name), str(value)) for name, value in pairs)
