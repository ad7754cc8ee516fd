"""A profile's focus: evidence in the headline, the lead or several places, not one passing
mention deep in the body; briefs are all lead; the setting is read and checked from YAML."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.errors import ConfigError
from monitor.profiles.files import load_profiles
from monitor.profiles.focus import sentence_ends
from monitor.profiles.matcher import Matcher, outcome
from monitor.profiles.profile import Doc, Focus, Profile
from monitor.profiles.query import parse_query

FILLER = [
    "The town council met on Tuesday to discuss the budget for the coming year in detail.",
    "Several members asked for more money for roads, schools and the public library.",
    "A local bakery reported record sales of its sourdough loaf during the autumn fair.",
    "The weather stayed mild for most of the week, with some rain expected on Sunday.",
    "Visitors crowded the canals and the old bridges during the long holiday weekend.",
    "Hotel owners said bookings were up by a fifth compared with the previous season.",
]


def focused(
    lead: int = 3, mentions: int = 0, query: str = '"World Internet Conference"'
) -> Matcher:
    node = parse_query(query, concepts={})
    return Matcher([Profile("wic", "v1", node, query, focus=Focus(lead, mentions))])


def matches(matcher: Matcher, text: str, title: str = "") -> bool:
    return bool(matcher.match(Doc(title=title, text=text)))


MENTION = "Wuzhen has hosted the World Internet Conference every year since 2014."


def test_a_passing_mention_deep_in_a_long_text_does_not_match() -> None:
    text = " ".join([*FILLER, MENTION])
    assert not matches(focused(), text)
    matcher = focused()
    assert outcome(matcher.evaluation(matcher.profiles[0], Doc("", text))).why_not == (
        "focus: the evidence is not in the headline or the first 3 sentences (a passing mention)"
    )
    matcher = focused(mentions=2)
    assert outcome(matcher.evaluation(matcher.profiles[0], Doc("", text))).why_not == (
        "focus: the evidence is not in the headline, the first 3 sentences or 2 places"
        " (a passing mention)"
    )
    unfocused = Matcher([Profile("wic", "v1", parse_query('"World Internet Conference"'))])
    assert unfocused.match(Doc("", text))  # the same query without focus matches


@pytest.mark.parametrize("at", [0, 1, 2])
def test_evidence_in_the_lead_matches(at: int) -> None:
    sentences = list(FILLER)
    sentences.insert(at, MENTION)
    assert matches(focused(), " ".join(sentences))
    sentences = list(FILLER)
    sentences.insert(3, MENTION)  # the fourth sentence: past a lead of three
    assert not matches(focused(), " ".join(sentences))
    assert matches(focused(lead=4), " ".join(sentences))


def test_evidence_in_the_headline_matches() -> None:
    text = " ".join([*FILLER, MENTION])
    assert matches(focused(), text, title="World Internet Conference opens")
    assert not matches(focused(), text, title="Town council meets")


def test_several_places_match_where_one_does_not() -> None:
    twice = " ".join([*FILLER, MENTION, *FILLER[:2], "The World Internet Conference ends."])
    assert not matches(focused(), twice)
    assert matches(focused(mentions=2), twice)
    close = " ".join([*FILLER, "The World Internet Conference (the World Internet Conference)."])
    assert not matches(focused(mentions=2), close)  # two names side by side are one place


def test_a_brief_is_all_lead() -> None:
    brief = " ".join([*FILLER[:4], MENTION])  # five sentences: at most twice a lead of three
    assert matches(focused(), brief)
    assert not matches(focused(lead=2), brief)


def test_short_lines_do_not_use_up_the_lead() -> None:
    furniture = "HOME | NEWS | WORLD\nBy Staff Reporter\n12 May 2024\nPhoto: Reuters\n"
    text = furniture + " ".join([*FILLER[:2], MENTION, *FILLER[2:]])
    assert matches(focused(), text)


def test_sentences_end_at_latin_and_cjk_stops_and_line_breaks() -> None:
    text = (
        "国家网信办今天发布了新的管理规定。专家表示规定将于明年施行！\nNav\n"
        "The rule takes effect in June this year."
    )
    ends = sentence_ends(text)
    pieces = [text[a:b] for a, b in zip([0, *ends], ends, strict=False)]
    assert [p.strip() for p in pieces] == [
        "国家网信办今天发布了新的管理规定。",
        "专家表示规定将于明年施行！",
        "Nav\nThe rule takes effect in June this year.",
    ]
    assert sentence_ends(text, limit=2) == ends[:2]  # a long text is read only that far


def test_the_context_of_an_and_is_not_evidence() -> None:
    query = '"World Internet Conference" AND Wuzhen'
    text = "Wuzhen is a water town with canals and bridges near Shanghai. " + " ".join(
        [*FILLER, MENTION]
    )
    assert not matches(focused(query=query), text)  # Wuzhen in the lead only gives context


def test_focus_is_read_from_the_profile_file(tmp_path: Path) -> None:
    folder = tmp_path / "profiles"
    folder.mkdir()
    (folder / "wic.yaml").write_text(
        "query: '\"World Internet Conference\"'\nfocus: {lead: 4, mentions: 2}\n"
    )
    (profile,) = load_profiles(tmp_path)
    assert profile.focus == Focus(4, 2)
    (folder / "wic.yaml").write_text("query: x\nfocus:\n  lead: 0\n")
    with pytest.raises(ConfigError) as caught:
        load_profiles(tmp_path)
    assert caught.value.line == 3
    assert "focus.lead" in str(caught.value)
