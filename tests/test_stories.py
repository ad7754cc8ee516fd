"""Stories: a syndicated copy of an article joins its story; one alert per story per profile,
listing the other outlets; unrelated articles stay apart. Signatures are bit for bit those of
datasketch's MinHash ("affine32", seed 1), which computed them before, and importing the module
loads neither datasketch nor scipy."""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import hashlib
import json
import random
import string
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import lxml.etree
import lxml.html
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from monitor.ingest.minhash import MAX_CHARS, MIN_CHARS, NUM_PERM, SHINGLE, signature
from monitor.pipeline.stories import BANDS, ROWS, THRESHOLD, similarity
from monitor.profiles.normalize import fold
from monitor.runtime.lifecycle import run_once
from monitor.runtime.service import Service
from monitor.store.hits import query_hits
from tests.conftest import REPO, fresh_python, open_database
from tests.newsroom import UNRELATED_TEXT, article_page, seed_text

WIRE = [p for p in seed_text().splitlines() if p.strip()]
CORPUS = REPO.parent / "shared" / "corpus"

ENGLISH = (
    "Delegates from more than a hundred countries gathered in the canal town of Wuzhen this "
    "week for the annual World Internet Conference, where officials of the host country "
    "argued that every state should be free to set the rules for the networks inside its "
    "borders. Speakers from technology companies presented self-driving cars, remote surgery "
    "and factory robots in the exhibition hall, while foreign researchers asked how open "
    "data flows can be reconciled with strict controls on content. Several panels dealt "
    "with the governance of artificial intelligence, the protection of minors online and "
    "cooperation against fraud by telephone and over the internet. The organisers closed the "
    "event with a statement calling for dialogue under the United Nations."
)
CHINESE = (
    "第十届世界互联网大会于十一月在浙江乌镇开幕，来自一百二十多个国家和地区的政府官员、企业负责人、"
    "学者和技术专家出席了开幕式。会议由国家互联网信息办公室和浙江省人民政府共同主办，主题是共建网络"
    "空间命运共同体。主办方表示，本届大会设置了二十多个分论坛，讨论人工智能治理、数据跨境流动、数字"
    "经济合作、未成年人网络保护和网络安全等议题。与会者在发言中强调，各国应当尊重彼此的网络主权，加"
    "强在打击网络犯罪方面的合作，同时推动数字技术惠及发展中国家。一些外国学者则指出，不同国家对互联"
    "网管理的理解差异很大，如何在安全与开放之间取得平衡仍然是一个难题。大会期间还举办了互联网之光博"
    "览会，数百家企业展示了自动驾驶、智能制造、远程医疗和智慧城市等领域的新产品和新应用。乌镇这座江"
    "南水乡小镇自二〇一四年起成为大会的永久会址，每年吸引大量游客和媒体前来。组委会发布的成果文件呼"
    "吁各方在联合国框架下加强对话，共同制定被普遍接受的网络空间国际规则。"
)


def test_signatures_tell_copies_from_other_stories() -> None:
    original = "\n".join(WIRE)
    copy = "BEIJING (Wire) — " + original.replace("Sputnik", "Agencies") + "\nReporting by staff."
    other = UNRELATED_TEXT + " ".join(WIRE[:1])  # another story sharing one paragraph
    a, b, c = signature(original), signature(copy), signature(other)
    assert a is not None and b is not None and c is not None
    assert similarity(a, b) >= THRESHOLD > similarity(a, c)
    assert signature("Too short to tell.") is None


@pytest.mark.slow
def test_one_alert_per_story_lists_the_other_outlets(
    sqlite_url: str, config_dir: Path, httpserver: HTTPServer
) -> None:
    copy = [f"By Wire Staff. {WIRE[0]}", *WIRE[1:], "Copyright the wire service."]
    pages = {"/a/original.html": WIRE, "/b/copy.html": copy}
    for path, paragraphs in pages.items():
        httpserver.expect_request(path).respond_with_data(
            article_page("WIC opens in Wuzhen", paragraphs), content_type="text/html"
        )
    for name, path in (("a", "/a/original.html"), ("b", "/b/copy.html")):
        httpserver.expect_request(f"/{name}/feed.xml").respond_with_data(
            f'<rss version="2.0"><channel><title>Outlet {name.upper()}</title><item>'
            f"<title>WIC opens in Wuzhen</title><link>{httpserver.url_for(path)}</link>"
            f"<guid>{path}</guid><pubDate>{format_datetime(datetime.now(UTC))}</pubDate>"
            "</item></channel></rss>",
            content_type="application/rss+xml",
        )
    received: list[dict[str, Any]] = []

    def hook(request: Request) -> Response:
        received.append(json.loads(request.get_data()))
        return Response("ok")

    httpserver.expect_request("/hook", method="POST").respond_with_handler(hook)
    (config_dir / "feeds.yaml").write_text(
        "".join(
            ["feeds:\n"]
            + [
                f"  - url: {httpserver.url_for(f'/{n}/feed.xml')}\n    name: Outlet {n.upper()}\n"
                for n in "ab"
            ]
        )
    )
    (config_dir / "alerts.yaml").write_text(
        f"channels:\n  - url: {httpserver.url_for('/hook').replace('http://', 'json://')}\n"
    )
    (config_dir / "monitor.yaml").write_text("extract:\n  workers: 1\n")
    settings, engine = open_database(config_dir, sqlite_url)

    report = asyncio.run(run_once(Service(config_dir, settings, engine)))

    hits = query_hits(engine)
    profiles = {h.profile for h in hits}
    assert {h.url for h in hits} == {httpserver.url_for(p) for p in pages}  # both stored …
    assert len({h.story_id for h in hits}) == 1  # … as one story
    assert report.alerts_created == len(profiles)  # one alert per profile and story …
    [message] = received  # … told in one message naming every profile
    assert all(profile in message["title"] for profile in profiles)
    assert "Also carried by" in message["message"]
    engine.dispose()


# --- the same signatures as datasketch computed them (they are stored and compared across
# versions) -------------------------------------------------------------------------------

Signer = Callable[[str], bytes | None]


@pytest.fixture(scope="module")
def datasketch_signature() -> Signer:
    """signature() as it was computed before monitor.ingest.minhash: with datasketch's MinHash."""
    datasketch = pytest.importorskip("datasketch", minversion="2.0")  # "affine32" is 2.0's

    def reference(text: str) -> bytes | None:
        folded = fold(text[: MAX_CHARS * 2])[0][:MAX_CHARS]
        if len(folded) < MIN_CHARS:
            return None
        shingles = {folded[i : i + SHINGLE] for i in range(len(folded) - SHINGLE + 1)}
        minhash = datasketch.MinHash(num_perm=NUM_PERM, seed=1, scheme="affine32")
        minhash.update_batch([s.encode() for s in shingles])
        return bytes(minhash.hashvalues.astype("<u4").tobytes())

    return reference


def _outcome(sign: Signer, text: str) -> bytes | str | None:
    """The signature, or the kind of error raised (the same texts must fail the same way)."""
    try:
        return sign(text)
    except ValueError as exc:  # UnicodeEncodeError: a lone surrogate cannot be hashed
        return type(exc).__name__


def _assert_same(reference: Signer, texts: list[tuple[str, str]]) -> list[bytes | str | None]:
    outcomes = []
    differ = []
    for name, text in texts:
        expected, got = _outcome(reference, text), _outcome(signature, text)
        if got != expected:
            differ.append(name)
        outcomes.append(got)
    assert not differ, f"{len(differ)} of {len(texts)} differ from datasketch: {differ[:10]}"
    return outcomes


def _letters(rng: random.Random, n: int) -> str:
    return "".join(rng.choices(string.ascii_lowercase, k=n))  # folds to itself


@pytest.mark.slow
def test_same_signatures_as_datasketch_for_samples_and_lengths_at_the_limits(
    datasketch_signature: Signer,
) -> None:
    rng = random.Random(20240611)
    samples = [
        ("english", ENGLISH),
        ("chinese", CHINESE),
        ("mixed", CHINESE + "\n" + ENGLISH),
        ("fullwidth", CHINESE.replace("，", ",") + "ＷＩＣ　２０２３ ﬁnance " * 20),
        ("wire", "\n".join(WIRE)),
        ("unrelated", UNRELATED_TEXT),
        ("one shingle", "x" * 1000),
        ("surrogate", ENGLISH + "\ud800"),
        ("empty", ""),
    ]
    limits = [
        (f"{n} letters", _letters(rng, n))
        for around in (MIN_CHARS, MAX_CHARS, 2 * MAX_CHARS)
        for n in range(around - 3, around + 4)
    ]
    # Runs of spaces fold to one: raw lengths well past the limits, folded ones around them.
    limits += [
        (f"{n} words, spaced", "   ".join(_letters(rng, 4) for _ in range(n)))
        for n in (*range(58, 63), *range(1198, 1203), *range(2398, 2403))
    ]
    outcomes = _assert_same(datasketch_signature, samples + limits)
    assert outcomes[: len(samples)].count(None) == 1  # only the empty text is too short
    assert "UnicodeEncodeError" in outcomes
    assert None in outcomes[len(samples) :]  # the limits were reached from both sides
    assert sum(isinstance(o, bytes) for o in outcomes[len(samples) :]) > len(limits) // 2


@pytest.mark.slow
def test_same_signatures_as_datasketch_for_random_texts(datasketch_signature: Signer) -> None:
    rng = random.Random(7)
    alphabets = [
        string.ascii_letters + string.digits + string.punctuation + "  \n\t",
        "".join(chr(c) for c in range(0x4E00, 0x4E00 + 400)) + "，。、“”　 ",
        "абвгдеёжзийклмнопрстуфхцчшщъыьэюяАБВГД ",
        "ab ",  # few distinct shingles, many repeats
        "ＡＢＣａｂｃ１２３ﬁﬂ\u00a0\u200b\u0301éÉß",  # NFKC, case folding, combining marks
        "😀🚀🇨🇳𠀀𠀁 e",  # outside the BMP
    ]
    texts = []
    for i in range(300):
        pool = "".join(rng.sample(alphabets, k=rng.randint(1, 3)))
        length = rng.choice(
            [rng.randint(250, 400), rng.randint(400, 7000), rng.randint(7000, 14000)]
        )
        texts.append((f"random {i}", "".join(rng.choices(pool, k=length))))
    outcomes = _assert_same(datasketch_signature, texts)
    assert sum(isinstance(o, bytes) for o in outcomes) > 200


def _corpus_texts() -> list[tuple[str, str]]:
    """Every readable file of the corpus as text, the text of its HTML pages, and the
    human-written article bodies of the extraction benchmark."""
    texts = []
    for path in sorted(p for p in CORPUS.rglob("*") if p.is_file()):
        name = str(path.relative_to(CORPUS))
        try:
            data = path.read_bytes()
            if path.suffix == ".gz":
                data = gzip.decompress(data)
        except (OSError, EOFError):
            continue  # unreadable: not a text we can compare on
        text = data.decode("utf-8", errors="replace")
        texts.append((name, text))
        if path.name.endswith((".html", ".html.gz")):
            with contextlib.suppress(lxml.etree.LxmlError, ValueError):  # no document
                texts.append(
                    (
                        f"{name} (text)",
                        lxml.etree.tostring(
                            lxml.html.fromstring(data), encoding="unicode", method="text"
                        ),
                    )
                )
        if path.name == "ground-truth.json":
            texts += [(f"{name} {key}", v["articleBody"]) for key, v in json.loads(text).items()]
    return texts


@pytest.mark.slow
def test_same_signatures_as_datasketch_for_the_corpus(datasketch_signature: Signer) -> None:
    if not CORPUS.is_dir():
        pytest.skip(f"no corpus at {CORPUS} (only beside the shared workspace)")
    texts = _corpus_texts()
    assert len(texts) > 500
    outcomes = _assert_same(datasketch_signature, texts)
    assert sum(isinstance(o, bytes) for o in outcomes) > 400


def test_signatures_stay_those_stored_by_earlier_versions() -> None:
    """Pinned without datasketch: SHA-256 of signatures made by the datasketch version."""
    pinned = {
        ENGLISH: "9135087dc22423ce32f7a044ecfa14319b9c8b71252e57d7420ff76ee381aa7d",
        CHINESE: "dc616cbfb3f8e3f75467285a7cdd976af0f2f3f4e8593b774a2ceea3125e49af",
        CHINESE
        + "\n"
        + ENGLISH: "441a0af1a511b64eebaebcfd6aa6546687bc591f7b9783deb1b74f18afa99241",
    }
    for text, digest in pinned.items():
        sig = signature(text)
        assert sig is not None and len(sig) == NUM_PERM * 4
        assert hashlib.sha256(sig).hexdigest() == digest


def test_importing_minhash_loads_neither_datasketch_nor_scipy() -> None:
    code = (
        "import sys, monitor.ingest.minhash as s\n"
        "assert s.signature('a fresh interpreter signs this text. ' * 20) is not None\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('datasketch', 'scipy')))"
    )
    output = fresh_python(code)
    assert output == "[]"


def test_similarity_is_the_share_of_equal_slots() -> None:
    sig = signature(ENGLISH)
    assert sig is not None
    words = bytearray(sig)
    for slot in range(10):  # change 10 of the 128 words
        words[slot * 4] ^= 0xFF
    assert similarity(sig, sig) == 1.0
    assert similarity(sig, bytes(words)) == (NUM_PERM - 10) / NUM_PERM
    assert similarity(bytes(words), sig) == (NUM_PERM - 10) / NUM_PERM


def test_the_bands_cover_the_signature_exactly() -> None:
    """stories cuts what minhash makes: 16 bands of 8 slots are its 128 slots, no more."""
    assert BANDS * ROWS == NUM_PERM
