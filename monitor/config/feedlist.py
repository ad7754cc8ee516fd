"""The feed list in config/feeds.yaml: load and validate it, edit it in place, OPML in and out."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit
from xml.etree.ElementTree import Element, SubElement, indent, tostring
from xml.sax import SAXParseException
from xml.sax.handler import ContentHandler
from xml.sax.xmlreader import AttributesImpl, Locator

from defusedxml import sax as safe_sax
from pydantic import BaseModel, ConfigDict, field_validator
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from monitor.config.settings import POLL_INTERVALS
from monitor.config.yamlfile import line_of, read_yaml, validate, write_yaml
from monitor.errors import ConfigError
from monitor.models import FeedSpec

FEEDS_FILE = "feeds.yaml"


def check_feed_url(url: str) -> str:
    """A feed URL must be absolute http(s) with a host."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"expected an absolute http:// or https:// URL, got {url!r}")
    return url.strip()


class _FeedItem(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str
    name: str | None = None
    interval: Annotated[float, POLL_INTERVALS] | None = None
    enabled: bool = True

    _check_url = field_validator("url")(classmethod(lambda cls, v: check_feed_url(v)))


class _FeedsFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    feeds: list[_FeedItem] = []


def feeds_path(config_dir: Path) -> Path:
    return config_dir / FEEDS_FILE


def load_feeds(config_dir: Path) -> list[FeedSpec]:
    """All feeds of feeds.yaml, validated; a URL listed twice is an error naming both lines."""
    path = feeds_path(config_dir)
    data = read_yaml(path)
    parsed = validate(_FeedsFile, data, path)
    seen: dict[str, int] = {}
    specs = []
    for index, item in enumerate(parsed.feeds):
        line = line_of(data, ["feeds", index]) or 0
        if item.url in seen:
            raise ConfigError(
                f"feeds[{index}].url: {item.url} is already listed at line {seen[item.url]}",
                path=path,
                line=line,
            )
        seen[item.url] = line
        interval = None if item.interval is None else int(item.interval)
        specs.append(FeedSpec(item.url, item.name, interval, item.enabled))
    return specs


def _edit(config_dir: Path) -> tuple[Path, CommentedMap, CommentedSeq]:
    path = feeds_path(config_dir)
    data = read_yaml(path) if path.exists() else None
    if data is None:
        data = CommentedMap()
    validate(_FeedsFile, data, path)  # never rewrite a file we could not read correctly
    if not isinstance(data.get("feeds"), CommentedSeq):
        data["feeds"] = CommentedSeq()
    return path, data, data["feeds"]


def add_feeds(config_dir: Path, specs: Iterable[FeedSpec]) -> list[FeedSpec]:
    """Append feeds not yet listed (comments and order of the file are kept); return the added."""
    path, data, feeds = _edit(config_dir)
    present = {str(item.get("url")) for item in feeds if isinstance(item, CommentedMap)}
    added = []
    for spec in specs:
        url = check_feed_url(spec.url)
        if url in present:
            continue
        item = CommentedMap(url=url)
        if spec.name:
            item["name"] = spec.name
        if spec.interval:
            item["interval"] = spec.interval
        feeds.append(item)
        present.add(url)
        added.append(spec)
    if added:
        write_yaml(path, data)
    return added


def remove_feed(config_dir: Path, url: str) -> bool:
    """Remove one feed by URL; False when it was not listed."""
    path, data, feeds = _edit(config_dir)
    for index, item in enumerate(feeds):
        if isinstance(item, CommentedMap) and item.get("url") == url.strip():
            del feeds[index]
            write_yaml(path, data)
            return True
    return False


@dataclass(frozen=True, slots=True)
class RejectedOutline:
    """An OPML outline that names a feed we cannot poll: its line in the file and why."""

    line: int
    reason: str


@dataclass(frozen=True, slots=True)
class OpmlFeeds:
    """What an OPML file holds: its feeds in order, and the outlines refused."""

    feeds: list[FeedSpec]
    rejected: list[RejectedOutline]


class _Outlines(ContentHandler):
    """Collects every <outline> element (nested folders included) with its line."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[int, dict[str, str]]] = []
        self._where: Locator | None = None

    def setDocumentLocator(self, locator: Locator) -> None:
        self._where = locator

    def startElement(self, name: str, attrs: AttributesImpl) -> None:
        if name == "outline":
            line = self._where.getLineNumber() if self._where else 0
            self.found.append((line or 0, dict(attrs)))


def scan_opml(path: Path) -> OpmlFeeds:
    """The feeds of an OPML file (every outline with an xmlUrl, nested folders included) and
    the outlines refused: an xmlUrl that is not an absolute http(s) URL, an outline of type
    rss or atom without one. A file that is not readable XML is a ConfigError (with its line
    when the parser gives one)."""
    outlines = _Outlines()
    try:
        with path.open("rb") as document:
            safe_sax.parse(document, outlines)
    except FileNotFoundError:
        raise ConfigError("file not found", path=path) from None
    except SAXParseException as exc:
        raise ConfigError(
            f"not a readable OPML document: {exc.getMessage()}", path=path, line=exc.getLineNumber()
        ) from None
    except Exception as exc:  # noqa: BLE001  (defusedxml raises many unrelated types)
        raise ConfigError(f"not a readable OPML document: {exc}", path=path) from None
    feeds, rejected = [], []
    for line, attrs in outlines.found:
        url = (attrs.get("xmlUrl") or "").strip()
        label = attrs.get("text") or attrs.get("title") or url
        if not url:
            if attrs.get("type", "").lower() in ("rss", "atom"):
                rejected.append(RejectedOutline(line, f"outline {label!r}: no xmlUrl"))
            continue  # a folder, or a note
        try:
            check_feed_url(url)
        except ValueError as exc:
            rejected.append(RejectedOutline(line, f"outline {label!r}: {exc}"))
            continue
        feeds.append(FeedSpec(url=url, name=attrs.get("title") or attrs.get("text") or None))
    return OpmlFeeds(feeds, rejected)


def read_opml(path: Path) -> list[FeedSpec]:
    """Every feed of an OPML file, or a ConfigError naming the first outline refused."""
    found = scan_opml(path)
    if found.rejected:
        first = found.rejected[0]
        raise ConfigError(first.reason, path=path, line=first.line)
    return found.feeds


def write_opml(specs: Iterable[FeedSpec], title: str = "governance-news-monitor feeds") -> str:
    """An OPML 2.0 document listing the feeds."""
    opml = Element("opml", version="2.0")
    SubElement(SubElement(opml, "head"), "title").text = title
    body = SubElement(opml, "body")
    for spec in specs:
        attrs = {"type": "rss", "xmlUrl": spec.url, "text": spec.name or spec.url}
        if spec.name:
            attrs["title"] = spec.name
        SubElement(body, "outline", attrs)
    indent(opml)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + tostring(opml, encoding="unicode") + "\n"
