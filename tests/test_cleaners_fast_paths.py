"""The text layer's fast scoring gives what its full patterns give, and `normalise` is the documented form.

(Kept from the former tests/test_cleaners_speed_parts.py: these paths are our own, not trafilatura's.)
"""

from __future__ import annotations

import pytest

from cleaners import appeals
from cleaners.article import normalise

PARAS = [
    "The Norvale city council voted seven to two on Tuesday to build a second bridge across the Alder River.",
    "Council member Ruth Abara said the vote would relieve traffic on the Main Street bridge.",
    "Engineers will begin soil surveys in June, and the city expects to choose a construction firm soon.",
    "Residents packed the hall for three hours of public comment before the vote was taken.",
]

def _reference_score(p: str) -> tuple[int, str | None, bool, bool]:
    """appeals.score as it was written: every pattern searched in full."""
    A = appeals
    s = p.strip()
    if not s:
        return 0, None, False, False
    if len(s) <= 40 and A._dismiss_key(s) in A._DISMISS_KEYS:
        return A.THRESHOLD, "appeal:dismiss", False, True
    opener = len(s) <= 100 and bool(A.OPENER.search(s))
    cta = A.CTA.search(s) is not None
    imp = A.IMPERATIVE.search(s) is not None
    money = A._DIGIT.search(s) is not None and A.MONEY_PERIOD.search(s) is not None
    own = A.FIRST_PLURAL.search(s) is not None
    total = 3 * cta + (2 if own else 1) * imp + (2 if own else 0) * money
    total += bool(A.SECOND_PERSON.search(s)) + own + bool(A.TOPIC.search(s))
    if A.REPORTED.search(s):
        total -= 2
    if len(s) > 600:
        total -= 1 if len(s) <= 1000 else 2
    if opener and total < A.WEAK:
        total = A.WEAK
    words = len(s.split())
    if (words <= 4 and (cta or imp)) or (words <= 6 and cta and total >= A.THRESHOLD - 1):
        return max(total, A.THRESHOLD), "appeal:button", opener, False
    rule = None
    if total >= A.THRESHOLD:
        rule = "appeal:money-per-period" if money else "appeal:call-to-action" if cta else "appeal:second-person"
    return total, rule, opener, False


SCORED = [
    *PARAS,
    "If you value independent journalism, please support us with a donation today. Every contribution helps.",
    "Sign up for our newsletter to get the best stories in your inbox every morning.",
    "Become a member for just $5 a month and read without ads.",
    "Subscribe now",
    "Donate",
    "Not now",
    "Close",
    "Dear readers,",
    "A message from the editor:",
    "We need your help. Join us today.",
    "Follow us on Twitter for updates.",
    "Already a subscriber? Log in to read.",
    "The charity said donations reached $2 million and it would announce totals in its newsletter.",
    "Subscribers to the city's water service will pay $12 a month more from January, officials said.",
    "US officials told reporters the plan was final.",
    "Our reporters asked us about it.",
    "Unterstützen Sie unabhängigen Journalismus: Schon mit 5 € im Monat helfen Sie uns, weiter zu berichten.",
    "Jetzt spenden! Werden Sie Mitglied.",
    "Die Stiftung teilte mit, die Spenden hätten zwei Millionen Euro erreicht.",
    "Soutenez une rédaction indépendante : faites un don dès 5 € par mois.",
    "Abonnez-vous. Rejoignez-nous.",
    "Apóyanos con una aportación desde 5 € al mes y ayúdanos a seguir informando.",
    "Únete hoy. Hazte socio.",
    "Поддержите независимую журналистику: оформите подписку от 500 ₽ в месяц.",
    "Подпишитесь на нашу рассылку.",
    "Как сообщил фонд, пожертвования в прошлом году достигли двух миллионов рублей.",
    "Your donation of 10 dollars per month keeps us going. Thank you, dear reader.",
    "He said: «Aidez-nous» and left. Tvoje tvoja twoje.",
    "Deine Unterstützung zählt. Unsere Arbeit, Ihre Hilfe: Wir brauchen Ihre Unterstützung.",
    "Nuestro periodismo necesita tu apoyo; suscríbete al boletín.",
    "Наш проект живёт благодаря вам. Твоя помощь важна.",
    "x" * 700 + " subscribe to our newsletter",
    "Membership and donations are down, according to the report.",
    "Donaciones, aportaciones y suscripciones crecieron.",
    "The app's donate button.",
    "dona ahora",
    "Chip in $5 today!",
]


@pytest.mark.parametrize("p", SCORED)
def test_fast_score_equals_the_full_patterns(p: str) -> None:
    for text in (p, p.upper(), p.lower(), f"  {p}  "):
        sc = appeals.score(text)
        assert (sc.score, sc.rule, sc.opener, sc.dismiss) == _reference_score(text), text
        assert sc.reported == (appeals.REPORTED.search(text) is not None)
        assert appeals._cta(text) == (appeals.CTA.search(text) is not None)


def test_normalise_is_the_documented_form() -> None:
    import re
    import unicodedata

    for text in [*SCORED, "a_b c__d", "x\u00a0y\u2028z", "ǅ ﬁ ½ İstanbul", "a\u200bb", "٣٤ — “quoted”"]:
        ref = " ".join(re.sub(r"[\W_]+", " ", unicodedata.normalize("NFKC", text).casefold()).split())
        assert normalise(text) == ref

