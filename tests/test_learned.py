"""The learned check: the features it reads, its arithmetic, its file, how a profile's veto
and rescue change a match, and that the shipped model is the one the development texts
train (and only they)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from benchmarks import learn
from benchmarks.labelled import read_corpus
from monitor.errors import ConfigError
from monitor.profiles.files import load_profiles
from monitor.profiles.learned import LEARNED_FILE, LearnedModel, load_model, tokens
from monitor.profiles.matcher import Matcher, outcome
from monitor.profiles.normalize import fold
from monitor.profiles.profile import Doc, Learned, Profile
from monitor.profiles.query import parse_query

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO / "benchmarks" / "corpus" / "relevance"


def test_tokens_are_word_stems_and_pairs_and_cjk_pairs_and_triples() -> None:
    assert tokens(fold("China censors websites")[0]) == [
        "china",
        "censor",
        "china censor",
        "websit",
        "censor websit",
    ]
    assert tokens(fold("网信办发布")[0]) == [
        "网信",
        "信办",
        "办发",
        "发布",
        "网信办",
        "信办发",
        "办发布",
    ]
    # a CJK run breaks a pair of words; Traditional folds to Simplified first
    assert tokens(fold("VPN 網信辦 blocked")[0]) == ["vpn", "网信", "信办", "网信办", "blocke"]


def tiny_model() -> LearnedModel:
    features = ["blocks", "bakery", "china"]
    return LearnedModel(
        index={f: i for i, f in enumerate(features)},
        idf=(2.0, 2.0, 1.0),
        weights={"p": (-1.0, (6.0, -6.0, 0.0))},
        languages=("en", "zh"),
    )


def test_probability_is_logistic_regression_on_unit_tf_idf() -> None:
    model = tiny_model()
    vector = model.vector(fold("China blocks blocks sites")[0])
    # blocks: (1 + ln 2) * 2; china: 1 * 1; "sites" is not a feature
    blocks, china = (1 + math.log(2)) * 2.0, 1.0
    length = math.hypot(blocks, china)
    assert dict(vector) == pytest.approx({0: blocks / length, 2: china / length})
    expected = 1 / (1 + math.exp(-(-1.0 + 6.0 * blocks / length)))
    assert model.probability("p", vector) == pytest.approx(expected)
    assert model.probability("p", ()) == pytest.approx(1 / (1 + math.e))  # the bias alone


def checked(query: str, veto: float = 0.0, rescue: float | None = None) -> Matcher:
    node = parse_query(query, concepts={})
    return Matcher([Profile("p", "v1", node, query, learned=Learned(tiny_model(), veto, rescue))])


def test_veto_drops_a_match_the_model_rejects() -> None:
    matcher = checked("china", veto=0.5)
    assert matcher.match(Doc("", "China blocks more websites"))
    bakery = Doc("", "A bakery in China wins a bread award")
    assert not matcher.match(bakery)
    result = outcome(matcher.evaluation(matcher.profiles[0], bakery))
    assert result.why_not.startswith("learned check: 0.00 is below veto 0.5")
    assert checked("china").match(bakery)  # veto 0 consults nothing: the query decides
    assert checked("china", rescue=0.9).match(bakery)  # a rescue never drops a match


def test_rescue_makes_a_match_of_a_text_with_some_terms_the_query_misses() -> None:
    matcher = checked("china AND firewall", rescue=0.9)
    found = matcher.match(Doc("", "China blocks foreign sites again"))
    assert [m.matched_terms for m in found] == [["china"]]  # the terms found show where
    assert "**China**" in found[0].snippet
    assert not matcher.match(Doc("", "A bakery in China"))  # the model says no
    assert not matcher.match(Doc("", "Somebody blocks things"))  # none of its terms
    result = outcome(matcher.evaluation(matcher.profiles[0], Doc("", "A bakery in China")))
    assert result.why_not.startswith("the query does not hold (learned check 0.00 is below")


def test_the_check_keeps_to_the_languages_the_model_learnt() -> None:
    vetoing, rescuing = checked("china", veto=0.5), checked("china AND firewall", rescue=0.9)
    bakery, blocking = "A bakery in China wins an award", "China blocks foreign sites again"
    assert not vetoing.match(Doc("", bakery, language="en"))
    assert vetoing.match(Doc("", bakery, language="it"))  # Italian: the query decides alone
    assert rescuing.match(Doc("", blocking, language="zh-Hans"))  # zh covers zh-Hans
    assert not rescuing.match(Doc("", blocking, language="de"))
    result = outcome(vetoing.evaluation(vetoing.profiles[0], Doc("", bakery, language="it")))
    assert result.matched and result.learned is None  # not consulted


def test_the_model_file_errors_name_the_file(tmp_path: Path) -> None:
    missing = tmp_path / LEARNED_FILE
    with pytest.raises(ConfigError, match=r"benchmarks\.learn") as caught:
        load_model(missing)
    assert str(missing) in str(caught.value)
    missing.write_text('{"features": ["a"], "idf": [1.0, 2.0], "profiles": {}}')
    with pytest.raises(ConfigError, match="differ in length"):
        load_model(missing)
    missing.write_text("[]")
    with pytest.raises(ConfigError, match="not a learned model"):
        load_model(missing)


def test_a_profile_file_asks_for_the_check(tmp_path: Path) -> None:
    folder = tmp_path / "profiles"
    folder.mkdir()
    (folder / "p.yaml").write_text("query: china\nlearned: {veto: 0.3, rescue: 0.8}\n")
    with pytest.raises(ConfigError) as caught:
        load_profiles(tmp_path)
    assert caught.value.line == 2 and "benchmarks.learn" in str(caught.value)
    model = {"features": ["china"], "idf": [1.0], "profiles": {"q": {"bias": 0, "weights": [1]}}}
    (tmp_path / LEARNED_FILE).write_text(json.dumps(model))
    with pytest.raises(ConfigError, match="no weights for 'p'"):
        load_profiles(tmp_path)
    model["profiles"] = {"p": {"bias": 0, "weights": [1]}}
    (tmp_path / LEARNED_FILE).write_text(json.dumps(model))
    (profile,) = load_profiles(tmp_path)
    assert profile.learned is not None
    assert (profile.learned.veto, profile.learned.rescue) == (0.3, 0.8)
    model["profiles"] = {"p": {"bias": 1, "weights": [1]}}  # retrained: hits say so
    (tmp_path / LEARNED_FILE).write_text(json.dumps(model))
    assert load_profiles(tmp_path)[0].version != profile.version
    (tmp_path / LEARNED_FILE).write_text("not json")  # a profile without the check
    (folder / "p.yaml").write_text("query: china\n")  # does not read the file
    assert load_profiles(tmp_path)[0].learned is None


@pytest.mark.slow
def test_the_shipped_model_is_what_the_development_texts_train(tmp_path: Path) -> None:
    """Retraining reproduces config/learned.json (a profile or label edit that changes the
    model must retrain it), it saw the development texts only, and the service's arithmetic
    gives scikit-learn's probabilities."""
    pytest.importorskip("sklearn")
    fresh = tmp_path / LEARNED_FILE
    learn.train(CORPUS, fresh)
    shipped = json.loads((REPO / "config" / LEARNED_FILE).read_text(encoding="utf-8"))
    trained = json.loads(fresh.read_text(encoding="utf-8"))
    assert trained["features"] == shipped["features"]
    assert trained["trained_on"] == shipped["trained_on"]
    for name, entry in trained["profiles"].items():
        assert entry["bias"] == pytest.approx(shipped["profiles"][name]["bias"], abs=1e-3)
        assert entry["weights"] == pytest.approx(shipped["profiles"][name]["weights"], abs=1e-3)
    texts, _ = read_corpus(CORPUS, default_split="dev")
    dev = [t for t in texts if t.split == "dev"]
    assert trained["trained_on"].startswith(f"{len(dev)} development texts")
    bodies = [fold(t.body)[0] for t in dev[:40]]
    vectorizer, models = learn._fit(
        [fold(t.body)[0] for t in dev], {"p": [int("great_firewall" in t.relevant) for t in dev]}
    )
    theirs = models["p"].predict_proba(vectorizer.transform(bodies))[:, 1]
    model = load_model(fresh)
    ours = [model.probability("great_firewall", model.vector(b)) for b in bodies]
    assert ours == pytest.approx(list(theirs), abs=1e-5)
