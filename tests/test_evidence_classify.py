"""What a re-check of an archived article found (monitor.evidence): each rule of classify, the
redirects that are and are not removal, and the re-renderings that are not edits. Texts are
written here, in English, Simplified and Traditional Chinese and Russian; no corpus, no I/O."""

from __future__ import annotations

import pytest

from monitor.evidence.classify import EDITED, Fetched, Verdict, classify
from monitor.evidence.removal import is_home_or_section, says_removed, similar_to_missing
from monitor.evidence.textdiff import compare, split_line

URL = "https://www.example.com/news/2024/05/cac-orders-vpn-removal.html"

EN = """Regulators tighten the Great Firewall ahead of the Wuzhen summit
May 29, 2024 10:20 GMT
1,234 views
The Cyberspace Administration of China has ordered app stores to remove 3 million VPN apps.
Officials describe the campaign as a defence of cyber sovereignty. Each state, they say, \
should govern the internet inside its borders as it sees fit.
Researchers at the U.S. lab measured a 2.5 percent rise in blocked sites this month.
"""

ZH_HANS = """网信办部署清朗专项行动
2024年5月29日 10:20　阅读 1234
国家网信办近日印发通知，部署开展为期两个月的清朗专项行动。
通知要求各地网信部门加强对网络账号的管理，依法处置违法违规账号。
有关负责人表示，将持续净化网络生态，营造清朗的网络空间。
"""

ZH_HANT = """網信辦部署清朗專項行動
2024年5月29日 10:20　閱讀 1234
國家網信辦近日印發通知，部署開展為期兩個月的清朗專項行動。
通知要求各地網信部門加強對網絡賬號的管理，依法處置違法違規賬號。
有關負責人表示，將持續淨化網絡生態，營造清朗的網絡空間。
"""

RU = """Роскомнадзор заблокировал ещё несколько VPN-сервисов
Просмотров: 5
Ведомство сообщило, что доступ к сервисам ограничен с 1 марта 2024 г. в связи с нарушением закона.
По словам экспертов, пользователи переходят на другие протоколы.
"""

# An article ABOUT deletions: it quotes the notice Chinese platforms show, and is long.
ABOUT_DELETIONS = (
    "微博用户发现，许多讨论防火长城的帖子只剩下一行字：“该内容已被删除”。"
    + "研究人员统计了一个月内被删除的帖子，发现涉及翻墙软件的内容最多，其次是对网络主权的讨论。"
    * 14
)


def fetched(text: str, url: str = URL, status: int | None = 200, title: str = "") -> Fetched:
    return Fetched(status=status, url=url, text=text, title=title)


def verdict(text: str, url: str = URL, status: int | None = 200, title: str = "") -> Verdict:
    """The verdict on a re-check of the English article."""
    return classify(URL, EN, fetched(text, url, status, title))


# ---- the HTTP answer -------------------------------------------------------------------


@pytest.mark.parametrize("status", [404, 410])
def test_not_found_and_gone_are_removed(status: int) -> None:
    v = verdict("", status=status)
    assert (v.kind, v.reason) == ("removed", f"HTTP {status}")


@pytest.mark.parametrize("status", [500, 502, 503, 429])
def test_server_errors_and_rate_limits_are_unreachable_never_removed(status: int) -> None:
    v = verdict("Page not found", status=status)
    assert (v.kind, v.reason) == ("unreachable", f"HTTP {status}")


def test_a_network_failure_is_unreachable_with_its_reason() -> None:
    v = classify(URL, EN, Fetched(status=None, url=URL, reason="timed out after 30 s"))
    assert (v.kind, v.reason) == ("unreachable", "timed out after 30 s")


def test_a_403_is_removed_only_when_the_page_says_so() -> None:
    assert verdict("Access denied.", status=403) == Verdict("unreachable", "HTTP 403")
    v = verdict("此内容因违规无法查看", status=403)
    assert (v.kind, v.reason) == ("removed", "HTTP 403; the page says 此内容因违规无法查看")
    assert verdict("", status=451, title="Page not found").kind == "removed"


# ---- redirects -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "final",
    [
        "https://www.example.com/",
        "https://example.com/index.html",
        "https://www.example.com/en/",
        "https://www.example.com/?from=404",
    ],
)
def test_a_redirect_to_the_home_page_is_removed(final: str) -> None:
    v = verdict(EN, url=final)
    assert v.kind == "removed"
    assert v.reason == f"redirected to the site's home page {final}"


@pytest.mark.parametrize(
    "final",
    ["https://www.example.com/news/", "https://www.example.com/news/2024/index.html"],
)
def test_a_redirect_to_a_section_page_is_removed(final: str) -> None:
    assert verdict(EN, url=final).reason == f"redirected to a section page {final}"


def test_a_redirect_to_another_site_is_removed() -> None:
    v = verdict("This domain may be for sale.", url="https://parked.example.net/lander")
    assert (v.kind, v.reason) == (
        "removed",
        "redirected to another site https://parked.example.net/lander",
    )


@pytest.mark.parametrize(
    "final",
    [
        "https://www.example.com/news/2024/05/cac-orders-vpn-removal.html",
        "http://example.com/news/2024/05/cac-orders-vpn-removal.html",
        "https://www.example.com/news/2024/05/cac-orders-vpn-removal.html/",
        "https://www.example.com:443/news/2024/05/cac-orders-vpn-removal.html#top",
    ],
)
def test_https_a_trailing_slash_or_www_is_the_same_page(final: str) -> None:
    assert not is_home_or_section(URL, final)
    assert verdict(EN, url=final).kind == "unchanged"


def test_query_order_and_a_moved_article_are_not_removal() -> None:
    assert not is_home_or_section("http://a.cn/show.php?id=5&c=2", "https://a.cn/show.php?c=2&id=5")
    assert not is_home_or_section(URL, "https://www.example.com/cac-orders-vpn-removal.html")
    assert not is_home_or_section(
        URL, "https://news.example.org/news/2024/05/cac-orders-vpn-removal.html"
    )
    assert is_home_or_section("https://a.cn/?p=123", "https://a.cn/")


# ---- what the page says ----------------------------------------------------------------


def test_the_chinese_deleted_for_violating_rules_page_is_removed() -> None:
    v = verdict("此内容因违规无法查看\n返回首页")
    assert (v.kind, v.reason) == ("removed", "the page says 此内容因违规无法查看")


def test_a_traditional_notice_counts_and_russian_too() -> None:
    assert verdict("該內容已被刪除").reason == "the page says 该内容已被删除"
    assert verdict("Ошибка 404\nСтраница не найдена").reason == "the page says Страница не найдена"
    assert verdict("", title="Материал удалён").reason == "the page says Материал удален"
    assert verdict("抱歉，您访问的页面不存在！").reason == "the page says 抱歉，您访问的页面不存在"


def test_an_article_about_deletions_is_not_removed() -> None:
    # It held the phrase when first fetched; still there, it is the article, not a notice.
    v = classify(URL, ABOUT_DELETIONS, fetched(ABOUT_DELETIONS))
    assert (v.kind, v.reason) == ("unchanged", "no sentence changed")
    # A long text is an article even when the phrase is new in it (a quote added).
    assert says_removed(ABOUT_DELETIONS, "", "") is None
    # A short one says it, unless the original already did.
    assert says_removed("该内容已被删除", "", "") == "该内容已被删除"
    assert says_removed("该内容已被删除", "", "帖子只剩“该内容已被删除”。") is None


def test_a_page_that_answers_like_the_probe_is_removed() -> None:
    missing = "Sorry, we could not find that.\nTry the search box or go back to the front page."
    probe = Fetched(status=200, url="https://www.example.com/zz-no-such-page", text=missing)
    v = classify(URL, EN, fetched(missing), probe)
    assert (v.kind, v.reason) == ("removed", "answers like a page that does not exist")
    assert classify(URL, EN, fetched(EN), probe).kind == "unchanged"
    assert not similar_to_missing("", missing)
    echo = "We looked everywhere for {} and found nothing. Try our search page instead."
    assert similar_to_missing(echo.format(URL), echo.format("/zz-no-such-page"))
    # A probe answered 404 proves nothing about a page that answered 200.
    gone = Fetched(status=404, url=probe.url, text=missing)
    assert classify(URL, EN, fetched(missing), gone).kind == "edited"


def test_no_article_text_on_a_200_is_unreachable() -> None:
    for text in ("", "  \n "):
        assert verdict(text) == Verdict("unreachable", "no article text")


# ---- re-rendered or edited -------------------------------------------------------------


def test_whitespace_and_line_breaks_alone_are_unchanged() -> None:
    reflowed = (
        EN.replace(" ", "  ").replace("\n", "\n\n").replace("remove 3 million", "remove 3\nmillion")
    )
    assert verdict(reflowed) == Verdict("unchanged", "no sentence changed")


def test_traditional_and_simplified_renderings_are_unchanged() -> None:
    assert classify(URL, ZH_HANS, fetched(ZH_HANT)).kind == "unchanged"
    assert classify(URL, ZH_HANT, fetched(ZH_HANS)).kind == "unchanged"
    full_width = ZH_HANS.replace("2024", "２０２４").replace("，", ",")
    assert classify(URL, ZH_HANS, fetched(full_width)).kind == "unchanged"


def test_a_changed_counter_or_date_line_is_unchanged() -> None:
    counted = EN.replace("1,234 views", "1,301 views").replace(
        "May 29, 2024 10:20 GMT", "Updated: May 30, 2024 08:00 GMT"
    )
    assert verdict(counted).kind == "unchanged"
    assert classify(URL, ZH_HANS, fetched(ZH_HANS.replace("1234", "1,301"))).kind == "unchanged"
    assert classify(URL, RU, fetched(RU.replace("Просмотров: 5", "Просмотров: 12"))).kind == (
        "unchanged"
    )
    assert verdict(EN.replace("\nOfficials", "\nRelated\nOfficials")).kind == "unchanged"


def test_one_rewritten_sentence_is_edited_with_that_sentence() -> None:
    edited = EN.replace("3 million VPN apps", "4 million VPN apps")
    v = verdict(edited)
    assert v.kind == "edited"
    said = "The Cyberspace Administration of China has ordered app stores to remove {} VPN apps."
    assert (v.removed, v.added) == ((said.format("3 million"),), (said.format("4 million"),))
    assert v.reason.endswith("of the text changed (1 sentence removed, 1 added)")


def test_edits_in_chinese_and_russian() -> None:
    sentence = "有关负责人表示，将持续净化网络生态，营造清朗的网络空间。"
    v = classify(URL, ZH_HANS, fetched(ZH_HANS.replace(sentence, "")))
    assert (v.kind, v.removed, v.added) == ("edited", (sentence,), ())
    assert "(1 sentence removed)" in v.reason
    tail = "Позже ведомство отменило часть блокировок."
    v = classify(URL, RU, fetched(RU + tail))
    assert (v.kind, v.removed, v.added) == ("edited", (), (tail,))


# ---- the parts ---------------------------------------------------------------------------


def test_sentences_keep_abbreviations_and_decimals_whole() -> None:
    assert split_line("The U.S. lab saw 2.5 percent. Mr. Li agreed! 网信办发布。新规？Yes") == [
        "The U.S. lab saw 2.5 percent.",
        "Mr. Li agreed!",
        "网信办发布。",
        "新规？",
        "Yes",
    ]
    assert split_line("В 2021 г. в Москве, т.е. в столице. Конец.") == [
        "В 2021 г. в Москве, т.е. в столице.",
        "Конец.",
    ]


def test_share_is_the_changed_part_and_zero_when_identical() -> None:
    assert compare(EN, EN).share == 0.0
    assert compare("", "").share == 0.0
    change = compare("One sentence here. Another one there.", "One sentence here.")
    assert change.removed == ("Another one there.",)
    assert change.share == pytest.approx(len("another one there.") / (36 + 18))
    assert EDITED == 0.0  # any sentence that is not boilerplate: benchmarks/evidence_threshold
