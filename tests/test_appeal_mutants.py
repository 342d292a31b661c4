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
from cleaners.appeals import THRESHOLD, is_appeal, matcher, score, strip_paragraphs
from cleaners.lexicons import LexiconError, _load, lexicons
from tests.appeal_corpus import phrase_example


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
    # the noun first needs a plea word ("bitte") or the reader's own blocker before it: news also puts it so
    ("Um weiterzulesen, Ihren Werbeblocker bitte ausschalten.", True),
    ("Bitte Adblocker pausieren, um weiterzulesen.", True),
    ("Eine Studie zeigt, wie oft Nutzer den Werbeblocker pausieren.", False),
    ("Wer seinen Adblocker ausschalten will, findet das Symbol oben rechts, schreibt der Hersteller.", False),
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


# --- every English phrase, each in a paragraph where no other appeal rule fires --------------------------

# (rule, paragraph): each paragraph is an appeal, and this rule is the only appeal phrase in it (reader, "we",
# topic words and imperative verbs may add to the score: they never make an appeal on their own)
EN_PHRASES = [
    ("support-us", "Support us if this site matters to you."),
    ("support-us", "You can support our reporting from the valley."),
    ("support-us", "You can support local news from the valley."),
    ("act-now", "Give today, while the match lasts."),
    ("donate-to", "You can donate to our fund at any time."),
    ("make-gift", "Make a one-time gift before midnight."),
    ("become-member", "Become an insider: it costs you less than a coffee."),
    ("please-support", "Please support the site."),
    ("please-consider", "Please consider, if you can, becoming a supporter."),
    ("we-need-you", "We count on you."),
    ("readers-like-you", "Listeners like you make this show."),
    ("made-possible", "This work is possible thanks to the support of our readers."),
    ("made-possible", "Thousands did. Join us now."),
    ("every-gift", "Every dollar you give helps."),
    ("chip-in", "Pitch in if you can."),
    ("help-us", "Help us stay independent."),
    ("can-you", "Can you help us this week?"),
    ("if-you-value", "If you enjoyed this article, pass it on."),
    ("tell-friends", "Tell your friends."),
    ("tell-friends", "Refer a friend."),
    ("tell-friends", "Share this story with a friend."),
    ("join-community", "Join the community of supporters."),
    ("already-member", "Already a member? Sign in."),
    ("subscribe-to-read", "Log in to continue."),
    ("subscribe-to-read", "To continue reading, you need to subscribe."),
    ("subscribe-to-read", "Subscribe for full access."),
    ("exclusive", "Exclusively for our members."),
    ("digital-subscription", "Try unlimited access for a month."),
    ("newsletter-signup", "Sign up to our daily briefing."),
    ("newsletter-signup", "Sign up for the evening newsletter."),
    ("newsletter-signup", "Subscribe to this digest."),
    ("newsletter-signup", "Receive the newsletter in the inbox of your choice."),
    ("newsletter-signup", "Join our mailing list."),
    ("newsletter-inbox", "Straight to your inbox."),
    ("free-counter", "Read 2 of 3 free articles."),
    ("free-counter", "3 free stories remaining."),
    ("free-counter", "This is your final free story."),
    ("free-counter", "Free stories this month: 3."),
    ("adblock", "We see you use an adblocker."),
    ("adblock", "Please turn off the ad blocker."),
    ("app-download", "Install our app."),
    ("app-download", "Get the app."),
    ("app-download", "Available on the Google Play store."),
    ("app-download", "Available on Google Play."),  # the store badges' own wording, with or without "the"
    ("app-download", "Get it on Google Play."),
    ("app-download", "Download on the App Store."),
    ("podcast", "Follow our podcast."),
    ("podcast", "Wherever you get your podcasts."),
    ("follow-us", "Follow me on the networks."),
    ("follow-us", "Follow the team on Instagram."),
    ("ads-fund", "Advertising helps pay for this site."),
    ("ads-fund", "Put us on your whitelist."),
    ("ads-fund", "Allowlist our site."),
    ("articles-left", "You have read 3 stories."),
    ("articles-left", "5 stories remaining."),
    ("listen-on", "Stream on Pocket Casts."),
    ("listen-on", "New episodes each Monday."),
    ("members-get", "Subscribers enjoy unlimited reading."),
]
ASKING = ("cta", "subscription", "newsletter", "app", "podcast", "social", "paywall", "adblock")


@pytest.mark.parametrize(("rule", "text"), EN_PHRASES, ids=[f"en-{r}-{i}" for i, (r, _) in enumerate(EN_PHRASES)])
def test_each_english_phrase_alone_makes_its_paragraph_an_appeal(rule: str, text: str) -> None:
    got = score(text, ("en",))
    asking = [f for f in got.fired if f.split(":")[1] in ASKING]
    assert len(asking) == 1 and asking[0].endswith(f":en:{rule}"), got.fired
    assert got.score >= THRESHOLD and is_appeal(text, ("en",)) in (asking[0], f"appeal:button:{asking[0][7:]}")


EN_NEWS = [
    "The charity said donations rose by a third last year.",
    "Subscriptions to the city's streaming service doubled, the company reported.",
    "The newsletter, founded in 1998, covers farm policy in three counties.",
    "Members of the council voted against the plan on Tuesday night.",
    "He asked the committee to support the bill before the summer recess.",
    "Listeners of the station raised $5,000 a year for the shelter, organizers said.",
    "The app was downloaded two million times after the storm, the developer said.",
    "The game is available on Google Play and the App Store from Friday, the studio said.",
    "Several newspapers have put up paywalls; readers of the Ledger pay $9 a month.",
]


@pytest.mark.parametrize("text", EN_NEWS, ids=[f"en-news-{i}" for i in range(len(EN_NEWS))])
def test_english_news_about_donations_subscriptions_and_newsletters_is_kept(text: str) -> None:
    assert is_appeal(text, ("en",)) is None, score(text, ("en",))
    news = [f"The Norvale council met on Tuesday for the {n} time this year." for n in ("first", "second")]
    assert strip_paragraphs([news[0], text, news[1]], ["en"]) == ([news[0], text, news[1]], [])


# --- money per period, in every language: alone it is a signal, next to "we" it decides ------------------

MONEY = [
    ("en", "From just $5 a month."), ("de", "Schon ab 5 Euro im Monat."), ("fr", "Dès 5 € par mois."),
    ("es", "Desde 4 € al mes."), ("it", "Con soli 2 euro al mese."), ("pt", "Por apenas 10 reais por mês."),
    ("nl", "Voor 5 euro per maand."), ("pl", "Już od 10 zł miesięcznie."), ("ru", "Всего 300 рублей в месяц."),
    ("uk", "Лише 100 гривень на місяць."), ("sv", "Bara 50 kr i månaden."), ("da", "Kun 50 kr om måneden."),
    ("no", "Bare 50 kr i måneden."), ("fi", "Vain 5 euroa kuukaudessa."), ("cs", "Jen 100 Kč měsíčně."),
    ("ro", "Doar 10 lei pe lună."), ("tr", "Ayda sadece 20 TL."), ("ar", "بمبلغ 5 دولارات شهريًا"),
    ("ja", "月額300円から。"), ("id", "Mulai Rp 10.000 per bulan."), ("ru", "Всего 300 р. в месяц."),
]  # fmt: skip


@pytest.mark.parametrize(("lang", "text"), MONEY, ids=[f"money-{m[0]}-{i}" for i, m in enumerate(MONEY)])
def test_an_amount_per_period_fires_the_money_rule_in_every_language(lang: str, text: str) -> None:
    got = score(text, (lang,))
    assert got.fired == (f"appeal:money:{lang}",) and got.signal, got


NO_MONEY = [
    ("en", "The ticket costs $5."),  # no period
    ("en", "Prices rose 5 percent a month."),  # no currency
    ("en", "Every month, 5 people came."),
    ("de", "Die Karte kostet 5 Euro."),
    ("fr", "Le billet coûte 5 €, a dit le maire."),
    ("en", "We spent $5 on paint, and the fence was done by the end of the month."),  # too far apart
]


@pytest.mark.parametrize(("lang", "text"), NO_MONEY, ids=[f"no-money-{i}" for i in range(len(NO_MONEY))])
def test_an_amount_without_a_period_close_by_is_not_money_per_period(lang: str, text: str) -> None:
    assert f"appeal:money:{lang}" not in score(text, (lang,)).fired


@pytest.mark.parametrize(
    ("text", "total"),
    [("We ask only $5 a month.", 3), ("We ask only $5.", 1), ("Your $5 a month keeps us going.", 4), ("You give $5 a month.", 1)],
)
def test_money_counts_two_next_to_the_publisher_speaking_as_we(text: str, total: int) -> None:
    assert score(text, ("en",)).score == total


# --- every rule in the data can fire, through the public scorer --------------------------------------------


SHARED_OPENERS = {"hilsen fra": "appeal:opener:da", "nota da": "appeal:opener:it", "queridos lector": "appeal:opener:es",
                  "queridas lector": "appeal:opener:es"}  # fmt: skip


def _all_rules():
    for lang, lex in lexicons().items():
        for r in lex.rules:
            yield pytest.param(lang, r, id=r.id.encode("ascii", "backslashreplace").decode())


@pytest.mark.parametrize(("lang", "rule"), list(_all_rules()))
def test_every_rule_in_the_data_can_fire(lang: str, rule) -> None:
    lex = lexicons()[lang]
    langs = appeals.languages_for([lang])
    if rule.family in ("reader", "we", "topic"):
        for w in rule.words:
            text = f"xq {w.strip('=*')} xq" if not w.startswith("*") else f"xq qqq{w[1:]} xq"
            assert rule.id in score(text, (lang,)).fired, (w, score(text, (lang,)))
    elif rule.family == "money":
        text = f"xq 5 {rule.words[0].rstrip('*')} {phrase_example(appeals.expand(rule.match[0])[0], lex.cjk)} xq"
        assert rule.id in score(text, (lang,)).fired, text
    elif rule.family in ("dismiss", "close"):
        for w in rule.words:
            got = score(w, langs)
            assert got.dismiss and got.score == THRESHOLD, (w, got)
            if rule.family == "close":  # ja lists 閉じる as both: the id is the dismiss rule's, the effect a close's
                assert appeals.dismiss_key(w) in matcher(langs).close, w
            else:
                assert got.rule == rule.id, (w, got)
    elif rule.family == "opener":
        for phrase in rule.match:
            for v in appeals.expand(phrase):
                text = phrase_example(v, lex.cjk)
                # the first opener in lexicon order names the line: a few lines open a box in two languages
                want = SHARED_OPENERS.get(text, rule.id)
                assert appeals._edges().match_opener(text.lower()) == want and score(text, langs).opener, text
    else:  # phrase families: every phrase, and every first-word alternative of it
        for phrase in rule.match:
            for v in appeals.expand(phrase):
                text = phrase_example(v, lex.cjk)
                if rule.family == "imperative":
                    text = f"Xq.{'' if lex.cjk else ' '}{text}"
                got = score(text, (lang,))
                if rule.family == "reported":
                    assert got.reported, text
                else:
                    assert rule.id in got.fired, (text, got.fired)


def test_every_ask_rule_of_every_language_has_an_appeal_button_label() -> None:
    """`is_button` (menus, links) knows every language's appeal words without being told the language."""
    for lang, lex in lexicons().items():
        for r in lex.rules:
            if r.family in ASKING and not lex.cjk:
                label = phrase_example(appeals.expand(r.match[0])[0], False)
                if len(label) <= 40:
                    assert lang in matcher(None).ask_languages(frozenset(appeals._WORD.findall(label.lower()))), (r.id, label)


# --- blocks: opener ... dismiss line, runs after an opener, dismiss lines, adjacency, trailing sentences ------

N = [f"The Norvale council met on Tuesday for the {n} time this year to discuss the new bridge." for n in
     ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth")]  # fmt: skip
WEAK = "It is simple: we are funded by you."  # "we" + reader: 2, appeal-ish, not an appeal
STRONG = "Please support our journalism today."  # 7
BLOCK = "appeal:block:opener:en"
PLEA = "appeal:button:cta:en:please-support"


def _find(paras: list[str]) -> tuple[dict, dict]:
    return appeals.find_appeals(paras, ("en",))


def test_an_opener_takes_everything_up_to_its_dismiss_line() -> None:
    paras = [N[0], "Dear readers,", "This year has been hard for small newsrooms.", STRONG, "Remind me later", N[1]]
    assert _find(paras) == ({1: BLOCK, 2: BLOCK, 3: PLEA, 4: "appeal:dismiss:en"}, {})
    kept, removed = strip_paragraphs(paras, ["en"])
    assert kept == [N[0], N[1]] and [r.layer for r in removed] == ["text"] * 4
    assert removed[1].text == "This year has been hard for small newsrooms." and removed[1].rule == BLOCK


def test_an_opener_and_a_dismiss_line_make_a_block_without_an_appeal_between() -> None:
    paras = [N[0], "Dear readers,", "This year has been hard for small newsrooms.", "Not now", N[1]]
    assert _find(paras) == ({1: BLOCK, 2: BLOCK, 3: "appeal:dismiss:en"}, {})


def test_an_opener_without_dismiss_line_runs_to_its_last_appeal_and_the_appeal_ish_lines_after() -> None:
    paras = [N[0], "Dear readers,", STRONG, WEAK, "Thank you.", N[1], N[2]]
    assert _find(paras) == ({1: BLOCK, 2: PLEA, 3: BLOCK, 4: BLOCK}, {})


def test_an_opener_alone_is_kept() -> None:
    assert _find([N[0], "Dear readers,", N[1], N[2]]) == ({}, {})
    assert _find([N[0], "A message from the editor:", N[1]]) == ({}, {})


def test_an_opener_reaches_eight_paragraphs_for_its_appeal() -> None:
    filler = [f"Line {n} of the letter." for n in range(1, 10)]  # neutral, score 0
    near = [N[0], "Dear readers,", *filler[:7], STRONG, N[1]]  # the appeal 8 paragraphs after the opener
    assert _find(near)[0] == {**{k: BLOCK for k in range(1, 9)}, 9: PLEA}
    far = [N[0], "Dear readers,", *filler[:8], STRONG, N[1]]  # 9 after: the opener is on its own
    assert _find(far)[0] == {10: PLEA}


def test_an_opener_block_stops_at_reported_speech_and_at_a_long_paragraph() -> None:
    quoted = [N[0], "Dear readers,", '"Please support our journalism," the mayor said.', STRONG, N[1]]
    assert _find(quoted)[0] == {3: PLEA}
    long = [N[0], "Dear readers,", " ".join(N[:9]), STRONG, N[1]]  # 827 characters of news between
    assert _find(long)[0] == {3: PLEA}


def test_a_dismiss_line_takes_the_appeal_ish_run_before_it_when_it_holds_an_appeal() -> None:
    assert _find([N[0], WEAK, STRONG, "Not now", N[1]]) == (
        {1: "appeal:block:dismiss:en", 2: PLEA, 3: "appeal:dismiss:en"}, {})  # fmt: skip
    assert _find([N[0], WEAK, "Not now", N[1]]) == ({2: "appeal:dismiss:en"}, {})  # no appeal in the run


def test_a_close_line_does_not_pull_in_the_lines_before_it() -> None:
    assert _find([N[0], WEAK, STRONG, "Close", N[1]]) == ({2: PLEA, 3: "appeal:close:en"}, {})


def test_a_dismiss_line_reaches_back_at_most_twenty_paragraphs() -> None:
    weak = [f"We thank you, reader number {n}." for n in range(1, 25)]  # "we" + reader: 2 each
    paras = [N[0], STRONG, *weak[:18], "Not now", N[1]]  # the appeal 19 paragraphs before the dismiss line
    drop = _find(paras)[0]
    assert set(drop) == set(range(1, 21)) and drop[1] == PLEA and drop[20] == "appeal:dismiss:en"
    paras = [N[0], STRONG, *weak[:20], "Not now", N[1]]  # 21 before: the run stops short of it
    drop = _find(paras)[0]
    assert 1 in drop and 2 not in drop and drop[22] == "appeal:dismiss:en"


def test_a_paragraph_of_score_three_next_to_an_appeal_joins_it_and_two_does_not() -> None:
    three = "This site is funded by the generosity of readers."
    assert _find([N[0], STRONG, three, N[1]]) == ({1: PLEA, 2: "appeal:adjacent:cta:en:made-possible"}, {})
    assert _find([N[0], three, STRONG, N[1]]) == ({2: PLEA, 1: "appeal:adjacent:cta:en:made-possible"}, {})
    assert _find([N[0], STRONG, WEAK, N[1]]) == ({1: PLEA}, {})
    chain = [N[0], STRONG, three, three, N[1]]  # adjacency spreads along a run
    assert set(_find(chain)[0]) == {1, 2, 3}


def test_a_news_paragraph_ending_in_an_appeal_loses_only_that_sentence() -> None:
    paras = [N[0] + " Support our journalism: donate today.", N[1]]
    assert _find(paras) == ({}, {0: (len(N[0]) + 1, "appeal:button:cta:en:act-now")})
    kept, removed = strip_paragraphs(paras, ["en"])
    assert kept == [N[0], N[1]]
    assert [(r.rule, r.text) for r in removed] == [
        ("appeal:trailing-sentence:button:cta:en:act-now", "Support our journalism: donate today.")]  # fmt: skip


def test_two_trailing_appeal_sentences_are_cut_together() -> None:
    paras = [N[0] + " Support our journalism. Donate today.", N[1]]
    assert _find(paras) == ({}, {0: (len(N[0]) + 1, "appeal:button:cta:en:act-now")})


def test_a_long_news_paragraph_below_the_threshold_still_loses_its_trailing_appeal() -> None:
    para = " ".join(N[:7]) + " Please support the site."  # over 600 characters: one point less, 3 in all
    assert score(para, ("en",)).score == THRESHOLD - 1
    assert _find([para, N[9]]) == ({}, {0: (para.index("Please"), PLEA)})


def test_a_short_head_is_not_news_to_keep() -> None:
    """Under 40 characters before the appeal sentence: the paragraph goes whole."""
    assert _find(["Bridge news. Support our journalism: donate today.", N[1]]) == ({0: "appeal:cta:en:act-now"}, {})


# --- word lists: acronyms, case-sensitive words, suffixes, substrings --------------------------------------


@pytest.mark.parametrize(
    ("text", "lang", "fired"),
    [
        ("US officials met on Tuesday.", "en", ()),  # "US" is the country, not "us"
        ("The US and our allies met.", "en", ("appeal:we:en",)),  # ...but "our" is the publisher
        ("HELP US NOW", "en", ("appeal:imperative:en", "appeal:we:en")),  # all capitals: no acronyms to tell
        ("US and us", "en", ("appeal:we:en",)),
        ("Wir danken Ihnen.", "de", ("appeal:reader:de", "appeal:we:de")),  # =Ihnen: the polite pronoun
        ("wir danken ihnen.", "de", ("appeal:we:de",)),  # lower-case "ihnen" is "them"
        ("كتابكم", "ar", ("appeal:reader:ar",)),  # the suffix ـكم "your"
        ("كم", "ar", ()),  # the suffix alone is no word with it
        ("あなたの支援", "ja", ("appeal:reader:ja", "appeal:topic:ja")),  # cjk: substrings
        ("Donations and newsletters", "en", ("appeal:topic:en",)),  # stems
    ],
)
def test_word_lists(text: str, lang: str, fired: tuple[str, ...]) -> None:
    assert score(text, (lang,)).fired == fired


class _Ordered(frozenset):
    """A set of words that iterates, and intersects, in a given order (a set's order follows the hash seed)."""

    def __new__(cls, order):
        self = super().__new__(cls, order)
        self.order = list(order)
        return self

    def __iter__(self):
        return iter(self.order)

    def __and__(self, other):
        return [w for w in self.order if w in other]


@pytest.mark.parametrize("order", [("us", "our"), ("our", "us")])
def test_a_word_family_does_not_depend_on_the_order_of_the_words(order) -> None:
    """Which of a family's words was looked at first followed the set's hash order, so "The US and our
    allies" lost its "we" in some processes ("US" was taken for the family's word, and it is an acronym)."""
    text = "The US and our allies met."
    words = _Ordered([*order, "the", "and", "allies", "met"])
    m = matcher(("en",))
    assert m.words.find(text, text.lower(), words, m.keys(frozenset(words)), False) == {"we": "appeal:we:en"}


# --- the phrase syntax (lexicons/README.md), on written text --------------------------------------------


def _matches(phrase: str, text: str, **kw) -> bool:
    import re

    return re.search(appeals.phrase_rx(phrase, **kw), text.lower()) is not None


@pytest.mark.parametrize(
    ("phrase", "text", "hit"),
    [
        ("support us", "Support us", True),
        ("support us", "support  us", True),
        ("support us", "support—us", True),  # up to three signs between words
        ("support us", "supportus", False),
        ("support us", "support users", False),  # whole words
        ("support us", "resupport us", False),
        ("donat*", "donations", True),  # a stem
        ("donat*", "predonations", False),
        ("sign_up now", "sign up now", True),  # a multi-word alternative
        ("sign_up now", "signup now", True),
        ("you've read", "you’ve read", True),  # either apostrophe
        ("you’ve read", "you've read", True),
        ("read # of #", "read 3 of 5", True),  # numbers
        ("read # of #", "read 3,5 of 5", True),
        ("read # of #", "read three of 5", False),
        ("please consider? support", "please support", True),  # an optional word
        ("please consider? support", "please consider support", True),
        ("possible ... support", "possible thanks to the support", True),  # a gap
        ("possible ... support", "possible " + "x" * 45 + " support", False),  # over 40 characters
        ("possible ... support", "possible thanks! then the support", False),  # inside one sentence
        ("a|an? message from", "message from", True),
        ("a|an? message from", "an message from", True),
    ],
)
def test_phrase_syntax(phrase: str, text: str, hit: bool) -> None:
    assert _matches(phrase, text) == hit


def test_expand_splits_the_first_word_into_its_alternatives_and_drops_an_optional_one() -> None:
    assert appeals.expand("a|an? message|note from") == ["message from", "note from", "a message|note from", "an message|note from"]
    assert appeals.expand("donate|give now") == ["donate now", "give now"]
    assert appeals.expand("# free articles") == ["# free articles"]
    assert appeals.expand("please? ... help") == ["please ... help"]  # a gap cannot open a phrase


def test_gates_are_the_keys_of_the_words_a_match_needs() -> None:
    assert appeals.phrase_gates("sign_up for ... newsletter* #") == ({"sig"}, {"for"}, {"new"})
    assert appeals.phrase_gates("/ month|mo") == ({"mon", "mo"},)  # the sign gates nothing
    assert appeals.phrase_gates("a? quick favour|favor") == ({"qui"}, {"fav"})
    assert appeals.phrase_gates("月額|年額 ...", cjk=True) == ({"月額", "年額"},)
    assert appeals._gate_words("sign_up for ... newsletter*") == [(("sign", False),), (("for", False),), (("newsletter", True),)]
    assert appeals._gate_alternatives("sign_up|log_in for ... newsletter* #") == [("sign_up", "log_in"), ("for",), ("newsletter*",)]


@pytest.mark.parametrize(
    ("line", "key"),
    [("Remind me later!", "remind me later"), ("  NOT   now ", "not now"), ("Non-merci", "non merci"), ("×", "×"),
     ("No, thanks.", "no thanks")],
)  # fmt: skip
def test_dismiss_key_drops_case_punctuation_and_spacing(line: str, key: str) -> None:
    assert appeals.dismiss_key(line) == key


def test_a_dismiss_line_is_whole_and_short() -> None:
    assert score("Not now!", ("en",)).dismiss
    assert not score("Not now, the mayor said about the vote.", ("en",)).dismiss


# --- buttons, languages, an appeal box in another language -------------------------------------------------


@pytest.mark.parametrize(
    ("label", "button"),
    [("Donate", True), ("Jetzt abonnieren", True), ("Wesprzyj", True), ("寄付する", True), ("Subscribe now", True),
     ("Home", False), ("", False), ("Sports", False), ("Donate " + "x" * 40, False), ("Donations fell", False)],
)  # fmt: skip
def test_is_button(label: str, button: bool) -> None:
    assert appeals.is_button(label) == button


@pytest.mark.parametrize(
    ("declared", "langs"),
    [("en_US", ("en",)), ("NB", ("en", "no")), ("nn-NO", ("en", "no")), (" de-AT", ("de", "en")), ("xx", ("en",)),
     (None, ("en",)), ("pt-BR", ("en", "pt"))],
)  # fmt: skip
def test_declared_language_picks_the_lexicons(declared, langs) -> None:
    assert appeals.article_languages(["ok"], declared) == langs


def test_languages_for_adds_the_fallback_and_drops_unknown_languages() -> None:
    assert appeals.languages_for(["de", "xx"]) == ("de", "en")
    assert appeals.languages_for([]) == ("en",)
    assert appeals.languages_for(None) is None


def test_a_german_appeal_box_on_an_english_page_is_scored_in_german() -> None:
    box = "Unterstützen Sie unabhängigen Journalismus."
    assert appeals._paragraph_score(box, ("en",)).rule.startswith("appeal:") and score(box, ("en",)).score < THRESHOLD
    german_news = "Der Verein sammelte Spenden für die neue Brücke über den Fluss, berichtete die Zeitung."
    assert appeals._paragraph_score(german_news, ("en",)).score < THRESHOLD
    long_box = box + " " + " ".join(N[:3])  # over 300 characters: not rescored
    assert appeals._paragraph_score(long_box, ("en",)).score < THRESHOLD


# --- imperatives open a sentence; the scorer's edges -----------------------------------------------------


@pytest.mark.parametrize(
    ("text", "imperative"),
    [
        ("The fund is short. Please donate.", True),  # after a politeness word, in a later sentence
        ("They donate often. Donate!", True),  # the second "donate" opens a sentence
        ("They donate often, and so do we.", False),  # not an imperative: inside a sentence
        ("Displease donate.", False),  # "please" must be a word of its own
    ],
)
def test_an_imperative_verb_counts_only_where_it_opens_a_sentence(text: str, imperative: bool) -> None:
    assert ("appeal:imperative:en" in score(text, ("en",)).fired) == imperative


def test_an_empty_paragraph_scores_nothing() -> None:
    assert score("   ") == appeals.Score(0, None, False, False) and not score("   ").dismiss


def test_a_paragraph_of_unknown_language_is_scored_in_the_languages_its_words_suggest() -> None:
    assert score("Jetzt spenden!").rule == "appeal:button:cta:de:act-now"  # no language given: German guessed
    assert score("Jetzt spenden!", ("en",)).score < THRESHOLD  # English only: nothing to see


def test_a_long_trailing_appeal_sentence_is_cut_too() -> None:
    para = N[0] + " Please support our independent journalism with a gift today."  # over 40 characters
    assert _find([para, N[1]]) == ({}, {0: (len(N[0]) + 1, "appeal:cta:en:please-support")})


def test_an_opener_ends_at_its_own_dismiss_line_not_at_one_before_it() -> None:
    paras = [N[0], "Not now", "Dear readers,", STRONG, "Remind me later", WEAK, N[1]]
    assert _find(paras)[0] == {1: "appeal:dismiss:en", 2: BLOCK, 3: PLEA, 4: "appeal:dismiss:en"}  # WEAK stays


def test_an_appeal_before_the_opener_does_not_make_its_block() -> None:
    quote = '"Please support our journalism," the mayor said at the opening of the new bridge.'
    paras = [STRONG, N[0], "Dear readers,", quote, "Remind me later", N[1]]
    assert _find(paras)[0] == {0: PLEA, 4: "appeal:dismiss:en"}  # the reported quote is news


def test_every_dismiss_line_of_an_article_takes_its_run() -> None:
    paras = [N[0], WEAK, STRONG, "Not now", N[1], N[2], WEAK, STRONG, "Not now", N[3]]
    assert set(_find(paras)[0]) == {1, 2, 3, 6, 7, 8}


def test_a_gate_is_the_longest_word_of_a_multi_word_alternative() -> None:
    assert appeals.phrase_gates("in_your inbox") == ({"you"}, {"inb"})


def test_an_opener_without_an_appeal_in_reach_does_not_stop_the_next_opener() -> None:
    filler = [f"Line {n} of the letter." for n in range(1, 10)]  # neutral, score 0
    paras = [N[0], "Dear readers,", *filler, "A message from the editor:", STRONG, N[1]]
    assert _find(paras)[0] == {11: BLOCK, 12: PLEA}


# --- trailing appeal sentences: the news before them is kept -------------------------------------------------

BUS = ("The Norvale council voted on Tuesday to extend the bus network into the northern districts, a plan that"
       " will take three years to complete and cost about 40 million dollars.")  # fmt: skip
ASKS = ["Become a member and help us do more.", "Donate now to keep local reporting free for everyone.",
        "Please support our journalism with a monthly donation today."]  # fmt: skip


def test_a_news_paragraph_ending_in_three_appeal_sentences_keeps_its_news() -> None:
    # the cut once looked at the last two sentences only, and a third made the whole paragraph an appeal
    kept, removed = strip_paragraphs([" ".join([BUS, *ASKS]), N[1]], ["en"])
    assert kept == [BUS, N[1]]
    assert [r.text for r in removed] == [" ".join(ASKS)]


def test_reported_speech_in_the_news_does_not_make_its_trailing_appeal_take_the_paragraph() -> None:
    news = BUS.replace("a plan that will", "a plan that officials said would")
    kept, removed = strip_paragraphs([f"{news} {ASKS[2]}", N[1]], ["en"])
    assert kept == [news, N[1]] and [r.rule for r in removed] == ["appeal:trailing-sentence:cta:en:please-support"]


@pytest.mark.parametrize(
    "tail",
    [
        "\u201cPlease support our journalism with a monthly donation today,\u201d the mayor said.",  # quoted
        "Please support the new bus line, the mayor told residents.",  # reported, no quotes
    ],
)
def test_an_appeal_the_news_reports_is_kept_after_news_with_reported_speech(tail: str) -> None:
    news = BUS.replace("a plan that will", "a plan that officials said would")
    assert strip_paragraphs([f"{news} {tail}", N[1]], ["en"]) == ([f"{news} {tail}", N[1]], [])


def test_a_long_news_paragraph_loses_only_a_weak_trailing_appeal() -> None:
    # over 1,000 characters the paragraph scores 1: only the last pass over weak paragraphs finds the plea
    news = " ".join([BUS] * 6)
    kept, removed = strip_paragraphs([f"{news} Share this story with a friend.", N[1]], ["en"])
    assert kept == [news, N[1]] and [r.text for r in removed] == ["Share this story with a friend."]


def test_a_news_paragraph_over_800_characters_before_a_dismiss_line_is_not_taken_into_its_block() -> None:
    size = 801 - 1 - len(ASKS[2])  # the news, so that the paragraph has exactly 801 characters
    news = " ".join([BUS] * 6)[: size - 1].rstrip()
    news = news + "s" * (size - 1 - len(news)) + "."
    para = f"{news} {ASKS[2]}"
    assert len(para) == 801
    kept, removed = strip_paragraphs([para, "Remind me later", N[1]], ["en"])
    assert kept == [news, N[1]]
    assert [r.rule for r in removed] == ["appeal:trailing-sentence:cta:en:please-support", "appeal:dismiss:en"]


# --- a foreign appeal box that only a weight-1 rule of its language recognises -------------------------------


def test_a_german_follow_box_on_an_english_page_is_scored_in_german() -> None:
    box = "Folgen Sie uns für mehr Berichte aus der Region."  # only the German imperative (weight 1) fires
    assert _fired(box, "de") == ["appeal:imperative:de"] and score(box, ("en",)).score <= 0
    kept, removed = strip_paragraphs([N[0], box, N[1]], ["en"])
    assert kept == [N[0], N[1]] and [r.text for r in removed] == [box]
    news = "Die Wähler in Bayern folgen der Partei seit Jahren, sagte der Forscher."
    assert strip_paragraphs([N[0], news, N[1]], ["en"])[0] == [N[0], news, N[1]]


# --- Arabic: a particle before a two-letter imperative --------------------------------------------------------


@pytest.mark.parametrize("text", ["فكن داعما لصحافتنا", "وكن عضوا معنا"])  # "so be a supporter …", "and be a member …"
def test_an_arabic_particle_before_a_two_letter_imperative_is_stripped(text: str) -> None:
    assert "appeal:imperative:ar" in _fired(text, "ar"), text


def test_the_cut_stops_at_the_first_news_sentence_from_the_end() -> None:
    para = " ".join([BUS, "The vote was seven to two.", ASKS[1], ASKS[2]])
    kept, removed = strip_paragraphs([para, N[1]], ["en"])
    assert kept == [f"{BUS} The vote was seven to two.", N[1]]
    assert [r.text for r in removed] == [f"{ASKS[1]} {ASKS[2]}"]


def test_an_appeal_sentence_followed_by_two_news_sentences_is_not_cut_with_them() -> None:
    # the appeal a paragraph ends in starts in its last sentence or its last two, never earlier: over 1,000
    # characters the paragraph is weak (score 1) and is kept whole
    news = " ".join([BUS] * 6)
    para = " ".join([news, "Follow us on Twitter for more local news.", "The vote was seven to two.", "Work begins in spring."])
    assert strip_paragraphs([para, N[1]], ["en"]) == ([para, N[1]], [])
