"""Profile matching: word boundaries, plural/possessive endings, CJK substrings, any/all/none,
scores and snippets — on values, no I/O."""

from __future__ import annotations

import pytest

from monitor.models import Profile
from monitor.profiles.matcher import MARK, Matcher
from monitor.profiles.normalize import fold


def _profile(name: str = "p", **terms: tuple[str, ...]) -> Profile:
    return Profile(name=name, version="v1", tags=("t",), **terms)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "hit"),
    [
        ("The Great Firewall blocks it", True),
        ("the great firewall's reach", True),
        ("the Great Firewall’s reach", True),
        ("two great firewalls", True),
        ("GREAT  FIREWALL", True),
        ("Great\u200bFirewall and Great\u00adFirewall", False),  # invisible chars join the words
        ("a greatfirewall", False),
        ("the Great Firewallz", False),
        ("ungreat firewall", False),
        ("Ｇｒｅａｔ Ｆｉｒｅｗａｌｌ", True),  # full-width letters fold by NFKC
    ],
)
def test_latin_terms_match_on_word_boundaries(text: str, hit: bool) -> None:
    matcher = Matcher([_profile(any_terms=("Great Firewall",))])
    assert bool(matcher.match("", text)) is hit


def test_cjk_terms_match_inside_unspaced_text() -> None:
    matcher = Matcher([_profile(any_terms=("防火长城", "网信办"))])
    [match] = matcher.match("", "据报道，国家网信办表示防火长城将继续运行。")
    assert match.matched_terms == ["防火长城", "网信办"]


def test_mixed_script_term() -> None:
    matcher = Matcher([_profile(any_terms=("CAC网信办",))])
    assert matcher.match("", "据CAC网信办消息")  # a CJK neighbour is a boundary for Latin
    assert matcher.match("", "(CAC网信办)")
    assert not matcher.match("", "据XCAC网信办消息")  # the Latin side needs a word boundary


def test_all_and_none_lists() -> None:
    profile = _profile(any_terms=("firewall",), all_terms=("China",), none_terms=("fire safety",))
    matcher = Matcher([profile])
    assert matcher.match("", "China's firewall tightened")
    assert not matcher.match("", "The firewall tightened")  # `all` term missing
    assert not matcher.match("", "China firewall fire safety code")  # `none` term present


def test_title_matches_weigh_more_and_min_score_applies() -> None:
    strict = Profile(name="strict", version="v", any_terms=("censorship",), min_score=3)
    matcher = Matcher([strict])
    assert not matcher.match("Weather", "Some censorship here.")
    [match] = matcher.match("Censorship grows", "Nothing else.")
    assert match.score == 3.0


def test_snippet_marks_matches_in_original_spelling() -> None:
    matcher = Matcher([_profile(any_terms=("great firewall", "firewall"))])
    text = "x " * 200 + "Critics of China's GREAT  Firewall said the firewall grows." + " y" * 200
    [match] = matcher.match("", text)
    assert f"{MARK}GREAT  Firewall{MARK}".replace("  ", " ") in match.snippet
    assert f"the {MARK}firewall{MARK} grows" in match.snippet
    assert match.snippet.startswith("…")
    assert match.snippet.endswith("…")
    assert len(match.snippet) < 300


def test_one_matcher_serves_many_profiles() -> None:
    profiles = [
        _profile("gfw", any_terms=("Great Firewall", "防火长城")),
        _profile("cac", any_terms=("Cyberspace Administration of China", "网信办")),
        _profile("off", any_terms=("bread",)),
    ]
    matches = Matcher(profiles).match("网信办", "The Great Firewall")
    assert sorted(m.profile for m in matches) == ["cac", "gfw"]


def test_disabled_profiles_never_match() -> None:
    profile = Profile(name="off", version="v", any_terms=("bread",), enabled=False)
    assert Matcher([profile]).match("bread", "bread") == []


def test_fold_maps_back_to_original_positions() -> None:
    folded, origin = fold("  Ａ\u200bB\u3000\u3000c ß")
    assert folded == "ab c ss"
    assert [origin[i] for i in range(len(folded))] == [2, 4, 5, 7, 8, 9, 9]
