# ruff: noqa: E501 - one written paragraph and its expected result per line
"""The appeal rules each on their own, against hand-written paragraphs with the outcome a person expects.

Issue #18: a test per rule family that fails when that family breaks (the money-per-period family never
matching, a call-to-action phrase dropped from a lexicon, a rule that can no longer fire), with news that
merely talks about donations, subscriptions or newsletters beside each positive. Expected outcomes are
written here, never derived from the module's own regular expressions. The mutation run of
cleaners/appeals.py (bench/mutation.py, bench/README.md) uses these tests.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from cleaners import appeals
from cleaners.appeals import is_appeal, matcher, score
from cleaners.lexicons import LexiconError, _load


def _fired(text: str, lang: str) -> list[str]:
    m = matcher((lang,))
    low, words, keys, cjk = appeals._tokens(text)
    return [r.id for r in m.fired(text, low, m.keys(words, keys), cjk, words)]


# --- openers written with British and American spelling (the lexicon once wrote "favou?r") ----------------


@pytest.mark.parametrize(
    "line", ["A quick favour:", "A quick favor:", "We have a small favour to ask.", "We have a small favor to ask."]
)
def test_favour_openers_match_both_spellings(line: str) -> None:
    assert score(line, ("en",)).opener, line


def test_a_question_mark_inside_a_phrase_word_is_rejected(tmp_path: Path) -> None:
    """Phrases are not regular expressions: "favou?r" only ever matched the text "favou?r"."""
    path = tmp_path / "xx.yaml"
    path.write_text('language: xx\nopeners: ["a quick favou?r"]\n', encoding="utf-8")
    with pytest.raises(LexiconError, match="only ends a word"):
        _load(path)


# --- Arabic: a particle attached to any word of a phrase, not only its first -----------------------------

# (text, the rule that must fire): و "and" / ف "so" / ب "with" / ال "the" written onto a later word
ARABIC_CLITIC_LATER = [
    ("ادعم وصحافة الحي", "appeal:cta:ar:support-us"),  # "support, and the journalism of the quarter": و on word 2
    ("تابعونا وعلى فيسبوك", "appeal:social:ar:follow-us"),  # "follow us, and on Facebook"
    ("اشتركوا ولمواصلة القراءة", "appeal:subscription:ar:subscribe-to-read"),  # "subscribe, and to keep reading"
    ("ساهم في ودعم الموقع", "appeal:cta:ar:support-us"),  # "contribute to, and support"
]


@pytest.mark.parametrize(("text", "rule"), ARABIC_CLITIC_LATER, ids=[f"ar-later-{i}" for i in range(len(ARABIC_CLITIC_LATER))])
def test_arabic_particle_is_stripped_from_every_word_of_a_phrase(text: str, rule: str) -> None:
    assert rule in _fired(text, "ar"), (text, _fired(text, "ar"))


def test_arabic_opener_with_a_particle_on_its_first_word() -> None:
    assert score("ورسالة من التحرير", ("ar",)).opener  # "and a message from the editors"
    assert score("رسالة من التحرير", ("ar",)).opener
    assert not score("رسالتنا إلى الحكومة واضحة", ("ar",)).opener  # news: "our message to the government is clear"


# --- German ad-blocker pleas in both word orders -----------------------------------------------------------

GERMAN_ADBLOCK = [
    # (paragraph, is an appeal)
    ("Bitte deaktivieren Sie Ihren Werbeblocker für diese Seite.", True),  # verb first: the imperative
    ("Deaktiviere deinen Adblocker, um weiterzulesen.", True),
    ("Pausieren Sie Ihren Ad-Blocker für unsere Seite.", True),
    ("Bitte den Adblocker deaktivieren, damit die Seite lädt.", True),  # the noun first (the older phrase)
    ("Nur wenige Nutzer deaktivieren ihren Werbeblocker, wenn eine Seite darum bittet.", False),  # news about it
    ("Viele Leser deaktivieren den Adblocker nie, zeigt eine Umfrage des Verlegerverbands.", False),
]


@pytest.mark.parametrize(("text", "appeal"), GERMAN_ADBLOCK, ids=[f"de-adblock-{i}" for i in range(len(GERMAN_ADBLOCK))])
def test_german_ad_blocker_plea_in_either_word_order(text: str, appeal: bool) -> None:
    rule = is_appeal(text, ("de", "en"))
    assert (rule is not None) == appeal, (text, score(text, ("de", "en")))
    if appeal:
        assert rule.removeprefix("appeal:button:").removeprefix("appeal:") == "adblock:de:adblock"


@pytest.mark.parametrize("text", ["Follow our podcast.", "Subscribe to our weekly podcast on city hall."])
def test_english_podcast_follow_and_subscribe_fire_the_podcast_rule(text: str) -> None:
    """The phrase was written "listen to|subscribe_to|follow our": a first word "listen", then one of the
    others, so "follow our podcast" alone never matched."""
    assert "appeal:podcast:en:podcast" in score(text, ("en",)).fired, text


def test_a_story_about_a_podcast_is_not_a_podcast_plea() -> None:
    text = "The mayor said on her weekly podcast that the bridge would open in May."
    assert "appeal:podcast:en:podcast" not in score(text, ("en",)).fired and is_appeal(text, ("en",)) is None
