"""Language-independent appeal signals in HTML (cleaners/signals.py) and the multilingual
interface lines of cleaners/tidy.py."""

from __future__ import annotations

import pytest

from cleaners import clean_html, signals
from cleaners.tidy import tidy

NEWS = "".join(
    f"<p>The Norvale council debated the {n} bridge plan for three hours before the vote on Tuesday.</p>"
    for n in ("first", "second", "third", "fourth", "fifth", "sixth")
)


VENDOR_BOX = '<div class="x1"><p>Wir sind unabhängig und werbefrei.</p><a href="https://steadyhq.com/de/x">Mitmachen</a></div>'


def _page(article_extra: str = "", after: str = "") -> str:
    return (
        "<html><head><title>Bridge</title></head><body><article><h1>Bridge</h1>"
        f"{NEWS}{article_extra}</article>{after}</body></html>"
    )


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://donorbox.org/our-campaign", ("vendor", "donate")),
        ("https://www.patreon.com/somebody", ("vendor", "membership")),
        ("https://apps.apple.com/app/id123", ("vendor", "app")),
        ("https://example.list-manage.com/subscribe/post?u=1", ("vendor", "newsletter")),
        ("/spenden", ("endpoint", "donate")),
        ("https://news.example/fr/faire-un-don?utm=box", ("endpoint", "donate")),
        ("/abonnement/digital", ("endpoint", "subscribe")),
        ("/newsletter-signup", ("endpoint", "newsletter")),
        ("https://donate.example.org/", ("endpoint", "donate")),
        ("/politics/donations-scandal-grows", None),  # a story about donations
        ("/sport/don-jones-interview", None),  # a name
        ("mailto:desk@news.example", None),
        ("#", None),
        (None, None),
    ],
)
def test_endpoint(url: str | None, expected: tuple[str, str] | None) -> None:
    assert signals.endpoint(url) == expected


def test_box_leading_to_a_membership_vendor_is_removed_in_any_language() -> None:
    box = VENDOR_BOX
    art = clean_html(_page(after=box))
    assert "werbefrei" not in art.text and "Norvale" in art.text
    assert any(r.rule == "signal:vendor:membership" for r in art.removed)


def test_pop_up_with_dismiss_control_and_donation_path_is_removed() -> None:
    box = (
        '<div class="y"><button class="close" aria-label="Fermer">×</button>'
        '<p>Merci de votre fidélité</p><a href="/fr/faire-un-don">Je donne</a></div>'
    )
    art = clean_html(_page(after=box))
    assert "fidélité" not in art.text
    assert any(r.rule == "signal:dismiss+endpoint" for r in art.removed)


def test_story_sentence_linking_to_a_donation_page_is_kept() -> None:
    p = (
        '<p>The charity said its <a href="https://donorbox.org/x">donation page</a> crashed under the load '
        "of gifts on Tuesday evening, and volunteers took pledges by phone.</p>"
    )
    art = clean_html(_page(article_extra=p))
    assert "donation page crashed" in art.text
    assert not any(r.rule.startswith("signal:") for r in art.removed)


def test_signals_can_be_switched_off() -> None:
    box = VENDOR_BOX
    saved = set(signals.ENABLED)
    try:
        signals.ENABLED.clear()
        art = clean_html(_page(after=box))
        assert not any(r.rule.startswith("signal:") for r in art.removed)
    finally:
        signals.ENABLED |= saved


def test_interface_lines_in_many_languages() -> None:
    lines = [
        "Lesen Sie auch: Die Bahn streikt wieder",
        "Читайте также: новости дня",
        "Lire aussi : la réforme des retraites",
        "Read more: the bridge vote",
        "More from The Ledger",
        "Czytaj także: nowy most",
        "Baca juga: jembatan baru",
        "اقرأ أيضا: الجسر الجديد",
        "関連記事",
        "Share this article",
    ]
    news = ["Tag der Arbeit: Tausende demonstrierten in Berlin für höhere Löhne und kürzere Arbeitszeiten."]
    kept, removed = tidy([*lines, *news])
    assert kept == news
    assert all(r.rule == "structure:ui-line" for r in removed)
