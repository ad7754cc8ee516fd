"""The README's "Quick start", run as written: from a fresh copy of the project to an e-mail
with the story's headline, through a real HTTP server, a real SMTP server (aiosmtpd) and the
real `monitor` command.

Each fenced block of the section follows a marker comment that says what to do with it:

    <!-- quickstart: setup -->              not run: the test uses the virtual environment it
                                            runs in (.venv under `make`) as
                                            `source .venv/bin/activate` (which the block must
                                            contain) would: its bin/ first on PATH
    <!-- quickstart: run -->                run by bash (-e) in the copy's folder
    <!-- quickstart: serve -->              each line a server left running in its own terminal:
                                            started in the background, waited for until it
                                            listens, stopped at the end
    <!-- quickstart: replace "LINE" in PATH -->   the line LINE of PATH replaced by the block

The only substitutions: the ports the section uses (8000 for HTTP, 8025 for SMTP) become free
ones, everywhere in the section. The servers run with PYTHONUNBUFFERED=1 so that what the mail
server prints reaches its log file as it happens. Everything runs in a copy: the working
tree's config/ and data/ are never touched.
"""

from __future__ import annotations

import email
import email.policy
import os
import re
import signal
import socket
import subprocess
import sys
import urllib.request
from contextlib import ExitStack
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

import feedparser
import pytest

from monitor.config.feedlist import load_feeds
from tests.conftest import REPO, copy_project, free_port, wait_until

pytestmark = pytest.mark.slow  # processes, servers or whole cycles: `make test-quick` skips it

PROJECT = ("monitor", "config", "pyproject.toml", "constraints.txt", "Makefile", "run_monitor.py")
HTTP, SMTP = "8000", "8025"  # the ports as the README writes them
MARKER = re.compile(r"<!-- quickstart: (?P<kind>\w+)(?P<args>[^>]*?)\s*-->\n```\w*\n(.*?)```", re.S)
REPLACE = re.compile(r'^\s+"(?P<line>[^"]+)" in (?P<path>\S+)$')
BEGIN, END = "---------- MESSAGE FOLLOWS ----------", "------------ END MESSAGE ------------"


@dataclass(frozen=True, slots=True)
class Step:
    kind: str  # setup | run | serve | replace
    args: str
    text: str


def quick_start(readme: str) -> list[Step]:
    """The marked blocks of the README's "Quick start" section, in order."""
    section = readme.split("\n## Quick start\n", 1)[1].split("\n## ", 1)[0]
    steps = [Step(m["kind"], m["args"], m[3]) for m in MARKER.finditer(section)]
    assert section.count("```") == 2 * len(steps), "a block of the Quick start has no marker"
    return steps


def with_ports(steps: list[Step], ports: dict[str, int]) -> list[Step]:
    """The steps with each README port replaced by its free port."""
    out = steps
    for written, free in ports.items():
        assert any(written in s.text for s in steps), f"the Quick start no longer uses {written}"
        pattern = re.compile(rf"\b{written}\b")
        out = [Step(s.kind, s.args, pattern.sub(str(free), s.text)) for s in out]
    return out


def activated(copy: Path) -> dict[str, str]:
    """The environment of a shell where `source .venv/bin/activate` ran (the environment
    running these tests: this repository's .venv under `make`), with the copy's code first on
    the path and no MONITOR_* setting of the user's (conftest removes them)."""
    scripts = Path(sys.executable).parent
    assert (scripts / "monitor").is_file(), f"no `monitor` command beside {sys.executable}"
    return {
        **os.environ,
        "VIRTUAL_ENV": sys.prefix,
        "PATH": f"{scripts}{os.pathsep}{os.environ.get('PATH', '')}",
        "PYTHONPATH": str(copy),
        "PYTHONUNBUFFERED": "1",
        "COLUMNS": "200",
    }


def listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def serve(
    stack: ExitStack, line: str, copy: Path, env: dict[str, str], log: Path
) -> subprocess.Popen[bytes]:
    """Start `line` as a server in the background, stopped (SIGINT, as Ctrl-C) on leaving."""
    output = stack.enter_context(log.open("wb"))
    server = subprocess.Popen(
        ["bash", "-c", f"exec {line}"], cwd=copy, env=env, stdout=output, stderr=output
    )

    def stop() -> None:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()

    stack.callback(stop)
    return server


def replace_line(copy: Path, args: str, block: str) -> None:
    match = REPLACE.match(args)
    assert match, f"replace marker not understood: {args!r}"
    path = copy / match["path"]
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    found = [i for i, line in enumerate(lines) if line.rstrip("\n") == match["line"]]
    assert len(found) == 1, f"{match['path']} should have the line {match['line']!r} once"
    lines[found[0]] = block
    path.write_text("".join(lines), encoding="utf-8")


def printed_mail(log: Path) -> list[EmailMessage]:
    """The messages aiosmtpd's default handler printed: each between its two banner lines."""
    text = log.read_text(encoding="utf-8", errors="replace")
    found = []
    for chunk in text.split(BEGIN)[1:]:
        raw = chunk.split(END, 1)[0].lstrip("\n")
        message = email.message_from_string(raw, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        found.append(message)
    return found


def readable(message: EmailMessage) -> str:
    """Subject and every text part, decoded."""
    parts = [str(message["Subject"])]
    for part in message.walk():
        if part.get_content_maintype() == "text" and isinstance(part, EmailMessage):
            parts.append(part.get_content())
    return "\n".join(parts)


@pytest.mark.timeout(600)
def test_the_quick_start_ends_with_an_email_of_the_story(tmp_path: Path) -> None:
    steps = quick_start((REPO / "README.md").read_text(encoding="utf-8"))
    assert {s.kind for s in steps} == {"setup", "run", "serve", "replace"}
    assert all("source .venv/bin/activate" in s.text for s in steps if s.kind == "setup")
    ports = {HTTP: free_port(), SMTP: free_port()}
    steps = with_ports(steps, ports)
    copy = copy_project(tmp_path / "clone", PROJECT)
    env = activated(copy)
    smtp_log = tmp_path / f"server-{ports[SMTP]}.log"

    with ExitStack() as servers:
        for step in steps:
            if step.kind == "run":
                done = subprocess.run(
                    ["bash", "-euo", "pipefail", "-c", step.text],
                    cwd=copy,
                    env=env,
                    capture_output=True,
                    text=True,
                    timeout=300,
                    check=False,
                )
                assert done.returncode == 0, f"{step.text}\n{done.stdout}\n{done.stderr}"
            elif step.kind == "serve":
                for line in step.text.strip().splitlines():
                    port = next(p for p in ports.values() if str(p) in line)
                    log = tmp_path / f"server-{port}.log"
                    server = serve(servers, line, copy, env, log)
                    wait_until(
                        lambda: listening(port) or server.poll() is not None,  # noqa: B023
                        60,
                        f"{line!r} to listen",
                    )
                    assert server.poll() is None, f"{line!r} exited: {log.read_text()}"
            elif step.kind == "replace":
                replace_line(copy, step.args, step.text)
        wait_until(lambda: END in smtp_log.read_text(errors="replace"), 60, "the e-mail")
        (feed,) = load_feeds(copy / "config")  # the one the walk added, still served
        with urllib.request.urlopen(feed.url, timeout=30) as response:
            (entry,) = feedparser.parse(response.read()).entries

    mails = printed_mail(smtp_log)
    assert mails
    for mail in mails:  # one per story (or per profile, where alerts are not grouped)
        assert entry.title in str(mail["Subject"])
        assert entry.link in readable(mail)
