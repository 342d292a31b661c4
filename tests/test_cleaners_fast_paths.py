"""`normalise`, the text layer's comparison form, is the documented one on tricky texts.

(The appeal scorer is checked against written examples in tests/test_lexicons.py, not against its own regexes.)
"""

from __future__ import annotations

from cleaners.article import normalise

SCORED = [
    "The Norvale city council voted seven to two on Tuesday to build a second bridge across the Alder River.",
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


def test_normalise_is_the_documented_form() -> None:
    import re
    import unicodedata

    for text in [*SCORED, "a_b c__d", "x\u00a0y\u2028z", "ǅ ﬁ ½ İstanbul", "a\u200bb", "٣٤ — “quoted”"]:
        ref = " ".join(re.sub(r"[\W_]+", " ", unicodedata.normalize("NFKC", text).casefold()).split())
        assert normalise(text) == ref

