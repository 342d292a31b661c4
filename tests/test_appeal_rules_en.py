# ruff: noqa: E501 - one written paragraph and its frozen result per line
"""The English appeal rules, each on its own, against written paragraphs with their frozen scores.

The lexicon tests build their inputs from the rules themselves, so a phrase dropped from a lexicon drops its
test too. Here each row is a paragraph a person wrote, with what the scorer must give for it: the total, the
rule that makes it an appeal (None: news), and every rule that fired. Most rows fire one appeal rule and
nothing else of its kind, so a rule that stops matching changes the row's result. The money-per-period rule
decides rows where the reader and the publisher are named and nothing else asks.
"""

from __future__ import annotations

import pytest

from cleaners.appeals import THRESHOLD, is_appeal, score
from cleaners.lexicons import lexicons

# (what the row shows, paragraph, score, is_appeal, fired rule ids without their "appeal:" prefix)
ROWS = [
    ('support-us', 'Support us so that this site can stay online for everybody.', 6, 'appeal:cta:en:support-us', ('cta:en:support-us', 'imperative:en', 'we:en')),
    ('support-us', 'Support our journalism this year.', 7, 'appeal:button:cta:en:support-us', ('cta:en:support-us', 'imperative:en', 'we:en', 'topic:en')),
    ('support-us', 'Support independent journalism in the valley.', 5, 'appeal:button:cta:en:support-us', ('cta:en:support-us', 'imperative:en', 'topic:en')),
    ('act-now', 'Donate now and keep the lights on.', 5, 'appeal:cta:en:act-now', ('cta:en:act-now', 'imperative:en', 'topic:en')),
    ('donate-to', 'Donate to our fund before the year ends.', 7, 'appeal:cta:en:donate-to', ('cta:en:donate-to', 'imperative:en', 'we:en', 'topic:en')),
    ('make-gift', 'Make a monthly donation before the year ends.', 4, 'appeal:cta:en:make-gift', ('cta:en:make-gift', 'topic:en')),
    ('become-member', 'Become a member before the year ends.', 5, 'appeal:cta:en:become-member', ('cta:en:become-member', 'imperative:en', 'topic:en')),
    ('please-support', 'Please consider supporting this site.', 4, 'appeal:button:cta:en:please-consider', ('cta:en:please-consider', 'cta:en:please-support')),
    ('please-consider', 'Please consider, if at all possible, becoming one of them.', 3, None, ('cta:en:please-consider',)),
    ('we-need-you', 'We need your help to keep going.', 5, 'appeal:cta:en:we-need-you', ('cta:en:we-need-you', 'reader:en', 'we:en')),
    ('readers-like-you', 'It is readers like you who keep this site alive.', 4, 'appeal:cta:en:readers-like-you', ('cta:en:readers-like-you', 'reader:en')),
    ('made-possible', 'This site is funded by the generosity of readers.', 3, None, ('cta:en:made-possible',)),
    ('made-possible', 'Thousands already did. Join them today.', 4, 'appeal:button:cta:en:made-possible', ('cta:en:made-possible',)),
    ('every-gift', 'Every contribution, big or small, helps.', 4, 'appeal:button:cta:en:every-gift', ('cta:en:every-gift', 'topic:en')),
    ('chip-in', 'Chip in before the year ends.', 4, 'appeal:button:cta:en:chip-in', ('cta:en:chip-in',)),
    ('help-us', 'Help us keep this site online.', 6, 'appeal:button:cta:en:help-us', ('cta:en:help-us', 'imperative:en', 'we:en')),
    ('can-you', 'Could you spare a little before the year ends?', 4, 'appeal:cta:en:can-you', ('cta:en:can-you', 'reader:en')),
    ('if-you-value', 'If you value this kind of reporting, there is a way to show it.', 4, 'appeal:cta:en:if-you-value', ('cta:en:if-you-value', 'reader:en')),
    ('tell-friends', 'Tell your friends about this site.', 4, 'appeal:button:cta:en:tell-friends', ('cta:en:tell-friends', 'reader:en')),
    ('tell-friends', 'Refer a friend and get a tote bag.', 3, None, ('cta:en:tell-friends',)),
    ('tell-friends', 'Share this article with a friend today.', 3, None, ('cta:en:tell-friends',)),
    ('join-community', 'Join our growing community of readers.', 6, 'appeal:button:cta:en:join-community', ('cta:en:join-community', 'imperative:en', 'we:en')),
    ('already-member', 'Already a subscriber? Log in here.', 5, 'appeal:button:subscription:en:already-member', ('imperative:en', 'subscription:en:already-member', 'topic:en')),
    ('subscribe-to-read', 'Subscribe to read the rest of this story.', 5, 'appeal:subscription:en:subscribe-to-read', ('imperative:en', 'subscription:en:subscribe-to-read', 'topic:en')),
    ('subscribe-to-read', 'To continue reading, become a subscriber.', 4, 'appeal:button:cta:en:become-member', ('cta:en:become-member', 'subscription:en:subscribe-to-read', 'topic:en')),
    ('subscribe-to-read', 'Subscribe for unlimited access.', 5, 'appeal:button:subscription:en:subscribe-to-read', ('imperative:en', 'subscription:en:subscribe-to-read', 'topic:en')),
    ('exclusive', 'This story is exclusive to subscribers.', 4, 'appeal:button:subscription:en:exclusive', ('subscription:en:exclusive', 'topic:en')),
    ('digital-subscription', 'Start your digital subscription today.', 6, 'appeal:button:subscription:en:digital-subscription', ('imperative:en', 'subscription:en:digital-subscription', 'reader:en', 'topic:en')),
    ('newsletter-signup', 'Sign up for our morning newsletter.', 7, 'appeal:button:newsletter:en:newsletter-signup', ('imperative:en', 'newsletter:en:newsletter-signup', 'we:en', 'topic:en')),
    ('newsletter-signup', 'Subscribe to our weekly briefing.', 7, 'appeal:button:newsletter:en:newsletter-signup', ('imperative:en', 'newsletter:en:newsletter-signup', 'we:en', 'topic:en')),
    ('newsletter-inbox', 'The best stories, delivered to your inbox.', 5, 'appeal:newsletter:en:newsletter-inbox', ('newsletter:en:newsletter-inbox', 'reader:en', 'topic:en')),
    ('free-counter', 'You have read 3 of 5 free articles this month.', 5, 'appeal:paywall:en:free-counter', ('paywall:en:free-counter', 'reader:en')),
    ('free-counter', '2 free articles left.', 4, 'appeal:button:paywall:en:free-counter', ('paywall:en:free-counter',)),
    ('free-counter', 'This is your last free article.', 5, 'appeal:button:paywall:en:free-counter', ('paywall:en:free-counter', 'reader:en')),
    ('adblock', 'It looks like you are using an ad blocker.', 5, 'appeal:adblock:en:adblock', ('adblock:en:adblock', 'reader:en')),
    ('adblock', 'Please disable your ad blocker to see this page.', 5, 'appeal:adblock:en:adblock', ('adblock:en:adblock', 'reader:en')),
    ('app-download', 'Download our free app for breaking news.', 6, 'appeal:app:en:app-download', ('app:en:app-download', 'imperative:en', 'we:en')),
    ('app-download', 'Get the app.', 4, 'appeal:button:app:en:app-download', ('app:en:app-download', 'imperative:en')),
    ('app-download', 'Available on the App Store and Google Play.', 3, None, ('app:en:app-download',)),
    ('podcast', 'Listen to our daily podcast.', 7, 'appeal:button:podcast:en:podcast', ('imperative:en', 'podcast:en:podcast', 'we:en', 'topic:en')),
    ('podcast', 'Find it wherever you get your podcasts.', 5, 'appeal:podcast:en:podcast', ('podcast:en:podcast', 'reader:en', 'topic:en')),
    ('ads-fund', 'Ads help fund our reporting. Please add us to your allowlist.', 7, 'appeal:adblock:en:ads-fund', ('adblock:en:ads-fund', 'reader:en', 'we:en', 'topic:en')),
    ('articles-left', "You've read 4 articles this month. 2 articles left.", 5, 'appeal:paywall:en:articles-left', ('paywall:en:articles-left', 'reader:en')),
    ('listen-on', 'Listen on Spotify, with new episodes every Friday.', 4, 'appeal:podcast:en:listen-on', ('imperative:en', 'podcast:en:listen-on')),
    ('members-get', 'Members get ad-free reading and exclusive newsletters.', 4, 'appeal:subscription:en:members-get', ('subscription:en:members-get', 'topic:en')),
    ('follow-us', 'Follow us on the usual networks.', 4, 'appeal:button:social:en:follow-us', ('social:en:follow-us', 'we:en')),
    ('follow-us', "Follow the mayor's office on Twitter.", 4, 'appeal:button:social:en:follow-us', ('social:en:follow-us',)),
    ('money', 'From just $5 a month.', 0, None, ('money:en',)),
    ('money', 'We ask only $5 a month.', 3, None, ('we:en', 'money:en')),
    ('imperative', 'It is simple. Donate.', 4, 'appeal:button:imperative:en', ('imperative:en', 'topic:en')),
    ('imperative', 'The fund is short this year. Subscribe, and the gap closes.', 2, None, ('imperative:en', 'topic:en')),
    ('news', 'The council said donations to the fund rose to $5 a month per household, according to the report.', -1, None, ('topic:en', 'money:en')),
    ('news', 'The mayor urged residents to support local shops during the festival.', -2, None, ()),
    ('news', 'Our correspondent reports from the valley.', 1, None, ('we:en',)),
    ('opener', 'A message from the editor:', 2, None, ()),
    ('opener', 'Dear readers,', 2, None, ()),
    ('dismiss', 'Remind me later', 4, 'appeal:dismiss:en', ('dismiss:en',)),
    ('dismiss', 'No thanks', 4, 'appeal:dismiss:en', ('dismiss:en',)),
    ('close', 'Close', 4, 'appeal:close:en', ('close:en',)),
    ('money', 'Your $5 a month keeps us going.', 4, 'appeal:money:en', ('reader:en', 'we:en', 'money:en')),
    ('money', 'A donation of €10 per month keeps us going.', 4, 'appeal:money:en', ('we:en', 'topic:en', 'money:en')),
    ('money', 'Your 5 dollars a week keep us going.', 4, 'appeal:money:en', ('reader:en', 'we:en', 'money:en')),
    ('money', 'Your support, £3 monthly, keeps us going.', 4, 'appeal:money:en', ('reader:en', 'we:en', 'money:en')),
    ('money', 'Your USD 50 yearly keeps us going.', 4, 'appeal:money:en', ('reader:en', 'we:en', 'money:en')),
    ('money', 'Thanks to your $60 a year, we stay free.', 4, 'appeal:money:en', ('reader:en', 'we:en', 'money:en')),
    ('news', 'Your $5 keeps us going.', 2, None, ('reader:en', 'we:en')),
    ('news', 'Your 5 a month keeps us going.', 2, None, ('reader:en', 'we:en')),
    ('news', 'We ask only $5 a month.', 3, None, ('we:en', 'money:en')),
    ('news', 'The mayor said: “Donate now, and help us rebuild.”', 2, None, ('cta:en:act-now', 'we:en', 'topic:en')),
    ('news', 'He said readers should subscribe to the newsletter, the report said.', 2, None, ('newsletter:en:newsletter-signup', 'topic:en')),
]  # fmt: skip


@pytest.mark.parametrize(
    ("shows", "text", "total", "appeal", "fired"), ROWS, ids=[f"{r[0]}-{i}" for i, r in enumerate(ROWS)]
)
def test_each_written_paragraph_scores_as_frozen(shows, text, total, appeal, fired):
    got = score(text, ("en",))
    assert (got.score, is_appeal(text, ("en",)), tuple(f.removeprefix("appeal:") for f in got.fired)) == (
        total, appeal, fired), text  # fmt: skip
    assert got.opener == (shows == "opener"), text  # openers start a block; they are not in `fired`
    assert (appeal is not None) == (shows not in ("news", "opener", "please-consider") and total >= THRESHOLD)


def test_every_english_rule_has_a_written_row_where_it_fires():
    fired = {f for row in ROWS for f in row[4]}
    rules = {r.id.removeprefix("appeal:") for r in lexicons()["en"].rules if r.family not in ("reported", "opener")}
    assert rules - fired == set(), "rules without a written paragraph here"


@pytest.mark.parametrize(
    ("family", "text", "rule"),
    [
        ("cta", "Chip in before the year ends.", "appeal:button:cta:en:chip-in"),
        ("cta", "Thousands already did. Join them today.", "appeal:button:cta:en:made-possible"),
        ("paywall", "2 free articles left.", "appeal:button:paywall:en:free-counter"),
        ("app", "Our news, available on the App Store and Google Play.", "appeal:app:en:app-download"),
        ("social", "Follow the mayor's office on Twitter.", "appeal:button:social:en:follow-us"),
        ("subscription", "This story is exclusive to subscribers.", "appeal:button:subscription:en:exclusive"),
        ("newsletter", "The best stories, delivered to your inbox.", "appeal:newsletter:en:newsletter-inbox"),
        ("adblock", "It looks like you are using an ad blocker.", "appeal:adblock:en:adblock"),
        ("podcast", "Find it wherever you get your podcasts.", "appeal:podcast:en:podcast"),
        ("imperative", "It is simple. Donate.", "appeal:button:imperative:en"),
        ("money", "Your $5 a month keeps us going.", "appeal:money:en"),
        ("money", "Thanks to your $60 a year, we stay free.", "appeal:money:en"),
        ("dismiss", "Remind me later", "appeal:dismiss:en"),
        ("close", "Close", "appeal:close:en"),
    ],
)
def test_each_family_alone_makes_an_appeal(family, text, rule):
    """Only this family's rule asks (the others that fire are the reader, "we" and topic words, which never
    make an appeal on their own): without it the paragraph would be news."""
    got = score(text, ("en",))
    asking = [f for f in got.fired if f.split(":")[1] not in ("reader", "we", "topic")]
    assert len(asking) == 1 and asking[0].split(":")[1] == family, got.fired
    assert is_appeal(text, ("en",)) == rule
    words_only = sum(1 for f in got.fired if f.split(":")[1] in ("reader", "we", "topic"))
    assert words_only < THRESHOLD


@pytest.mark.parametrize(
    "text",
    ["Your $5 keeps us going.", "Your 5 a month keeps us going.", "Your month keeps us going.",
     "Our 5 dollars, then after a long long pause for the next month keeps us going."],
)  # fmt: skip
def test_money_needs_an_amount_in_a_currency_close_to_a_period(text):
    assert "appeal:money:en" not in score(text, ("en",)).fired, text
