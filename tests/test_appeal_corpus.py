"""The multilingual appeal corpus (tests/data/appeals, see its README): positives and negatives.

Development part: every language clean (no appeal line kept, no news line lost). Held-out part
(written before the rules were tuned, not looked at while tuning): no news line and no negative
lost in any language; appeal lines kept held at the level measured after the second round of
lexicon work (17 of 122, 6 of 20 languages clean; it was 28 and 3 before). Second held-out part
(heldout2, written and committed before the second round, measured once before and once after
it): issue 14's target, at least 14 languages with no appeal line kept and no news line lost, is
met there (16 of 20; 10 of 160 appeal lines kept, 0 of 143 news lines lost; before the round:
7 of 20, 18 of 160, 1 negative lost). The tests hold the measured levels so they cannot get worse.
"""

from __future__ import annotations

import pytest

from cleaners import clean_html, strip_text
from tests.appeal_corpus import load, score_case, score_split, table

DEV = load("dev")


def _strip(text: str) -> str:
    return strip_text(text)[0]


@pytest.mark.parametrize("lang", sorted(DEV))
def test_dev_corpus_language_is_clean(lang: str) -> None:
    for case in DEV[lang]:
        t = score_case(case, _strip)
        assert not t.appeals_kept, t.appeals_kept
        assert not t.news_lost, t.news_lost


def test_dev_corpus_has_positives_and_negatives_in_twenty_languages() -> None:
    assert len(DEV) >= 20
    for lang, cases in DEV.items():
        labels = [label for case in cases for label, _ in case.lines]
        assert labels.count("A") >= 8 and labels.count("X") >= 3 and labels.count("N") >= 5, lang


HELDOUT_KEPT_MAX = 17  # appeal lines kept, as measured after the second round (28 at the first evaluation)
TARGET_CLEAN_LANGUAGES = 14  # issue 14's target: met on heldout2, not on heldout
HELDOUT2_KEPT_MAX = 10  # appeal lines kept in heldout2, measured once after the second round


def test_heldout_corpus_loses_no_news_and_keeps_no_more_appeals() -> None:
    results = score_split("heldout", _strip)
    clean = [lang for lang, t in results.items() if t.clean]
    report = f"{table(results)}\n(target: {TARGET_CLEAN_LANGUAGES} clean languages; {len(clean)} now)"
    assert len(results) >= 20, report
    assert not [x for t in results.values() for x in t.news_lost], report
    assert sum(len(t.appeals_kept) for t in results.values()) <= HELDOUT_KEPT_MAX, report


def test_second_heldout_part_meets_the_fourteen_language_target() -> None:
    results = score_split("heldout2", _strip)
    clean = [lang for lang, t in results.items() if t.clean]
    report = f"{table(results)}\n(target: {TARGET_CLEAN_LANGUAGES} clean languages; {len(clean)} now)"
    assert len(results) >= 20, report
    assert not [x for t in results.values() for x in t.news_lost], report
    assert len(clean) >= TARGET_CLEAN_LANGUAGES, report
    assert sum(len(t.appeals_kept) for t in results.values()) <= HELDOUT2_KEPT_MAX, report


# --- the false positives and misses named in issue 14 ---------------------------------------

FOOD_BANK = [
    "The Harbor County food bank served more than 12,000 families last month, a record for the charity.",
    "Volunteers sorted donated cans and fresh produce in a warehouse on the east side of the city.",
    '"Please give monthly if you can. Even $10 a month keeps a family fed," director Maria Olsen said.',
    "The county council will vote next week on an emergency grant of $250,000 for the charity.",
]


def test_quoted_plea_for_monthly_gifts_in_a_food_bank_story_is_kept() -> None:
    text = "\n".join(FOOD_BANK)
    assert _strip(text) == text
    body = "".join(f"<p>{p}</p>" for p in FOOD_BANK)
    html = f"<html lang='en'><head><title>Food bank</title></head><body><article>{body}</article></body></html>"
    art = clean_html(html)
    assert all(p in art.text for p in FOOD_BANK), [r.rule for r in art.removed]


def test_reported_ask_to_give_monthly_in_a_campaign_story_is_kept() -> None:
    text = "\n".join(
        [
            "Senator Ana Ruiz launched her re-election campaign on Monday with a rally in the capital.",
            "Supporters were asked to give monthly to the campaign.",
            "Her opponent has not yet said whether he will take part in the debates this autumn.",
        ]
    )
    assert _strip(text) == text


ENGLISH_MISSES = [
    # an inline member plea
    "Independent reporting like this is only possible with the support of members. Join them today.",
    "You've read 4 of 5 free articles this month. Subscribe for unlimited access.",  # metered paywall counter
    "It looks like you're using an ad blocker. Please disable it or support us with a subscription.",  # ad-blocker plea
    "Download our app for breaking news alerts on your phone.",  # app download
    "Listen to our daily podcast wherever you get your podcasts.",  # podcast promotion
]


@pytest.mark.parametrize("appeal", ENGLISH_MISSES)
def test_english_appeals_the_old_rules_kept_are_removed(appeal: str) -> None:
    news = [
        "The Norvale city council voted seven to two on Tuesday to build a second bridge across the river.",
        "The new crossing is expected to cost about 48 million dollars and to open to traffic in 2027.",
        "Council member Ruth Abara said the vote would relieve traffic on the Main Street bridge.",
    ]
    out, removed = strip_text("\n".join([*news[:2], appeal, news[2]]))
    assert out.splitlines() == news, removed
    assert removed and removed[0].rule.startswith("appeal:") and ":en" in removed[0].rule
