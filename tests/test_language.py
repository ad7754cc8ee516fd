"""Language identification: py3langid's model cut down to the languages we list."""

from __future__ import annotations

import pytest

from monitor.ingest.language import LANGUAGES, _identifier, detect_language


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("The World Internet Conference opened in Wuzhen on Tuesday with a speech.", "en"),
        ("世界互联网大会乌镇峰会周二开幕，网络主权再次成为讨论的焦点。", "zh"),
        ("Die Weltinternetkonferenz in Wuzhen begann am Dienstag mit einer Rede.", "de"),
        ("Всемирная конференция по интернету открылась во вторник в Учжэне.", "ru"),
        ("La Conférence mondiale de l'internet s'est ouverte mardi à Wuzhen.", "fr"),
    ],
)
def test_languages_are_identified(text: str, code: str) -> None:
    assert detect_language(text) == code


def test_the_model_holds_only_the_listed_languages() -> None:
    # the whole 97-language table is not kept beside the cut (memory in every worker)
    assert set(_identifier().nb_classes) == set(LANGUAGES)
    assert _identifier().nb_ptc.shape[1] == len(_identifier().nb_classes)


def test_text_too_short_to_tell() -> None:
    assert detect_language("  GFW  ") is None
