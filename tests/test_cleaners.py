"""Behaviour of the cleaners package: text layer, structure layer, repeats, safeguard, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import cleaners
from cleaners import Article, BoilerplateState, Removal, clean_batch, clean_html, is_appeal, strip_text
from cleaners.article import fingerprint
from cleaners.repeats import Keys

# shared/ sits beside the checkout (and beside CI's clone)
SEED = (
    next(
        (p for p in (Path(__file__).resolve().parents[2] / "shared", Path("/work/shared")) if (p / "seeds").is_dir()),
        Path("/work/shared"),
    )
    / "seeds"
    / "000_f2be1da87209a174.txt"
)
DATA = Path(__file__).parent / "data" / "cleaners"
ARTICLE = (DATA / "article.html").read_text(encoding="utf-8")
NEWS = [
    "The Norvale city council voted seven to two on Tuesday to build a second bridge across the Alder River.",
    "The new crossing is expected to cost about 48 million dollars and to open to traffic in 2027.",
    "Council member Ruth Abara said the vote would relieve traffic on the Main Street bridge.",
    "Opponents argued that the money should go to repairing existing roads first.",
    "Engineers will begin soil surveys in June, and the city expects to choose a construction firm soon.",
]


def page(paragraphs: list[str], extra: str = "", title: str = "Norvale news") -> str:
    body = "\n".join(f"<p>{p}</p>" for p in paragraphs)
    return (
        f"<html><head><title>{title}</title></head><body><article><h1>{title}</h1>{body}{extra}</article></body></html>"
    )


# --- text layer ---------------------------------------------------------------------------


@pytest.mark.skipif(not SEED.exists(), reason="seed not available")
def test_seed_keeps_news_and_drops_whole_appeal_block() -> None:
    seed = SEED.read_text(encoding="utf-8")
    lines = [ln for ln in seed.splitlines() if ln.strip()]
    start = next(i for i, ln in enumerate(lines) if ln.startswith("A Message from"))
    news, appeal = lines[:start], lines[start:]
    assert len(news) == 12 and appeal[-1].startswith("Remind me later")
    text, removed = strip_text(seed)
    kept = [ln for ln in text.splitlines() if ln.strip()]
    assert kept == news
    assert [r.text for r in removed] == [" ".join(a.split()) for a in appeal]
    assert all(r.layer == "text" and r.rule.startswith("appeal:") for r in removed)


APPEALS = {
    "en": [
        "If you value independent journalism, please support us with a donation today. Every contribution helps.",
        "Sign up for our newsletter to get the best stories in your inbox every morning.",
        "Become a member for just $5 a month and read without ads.",
    ],
    "de": [
        "Unterstützen Sie unabhängigen Journalismus: Schon mit 5 € im Monat helfen Sie uns, weiter zu berichten.",
        "Abonnieren Sie jetzt unseren Newsletter und verpassen Sie keine Nachricht mehr.",
    ],
    "fr": [
        "Soutenez une rédaction indépendante : faites un don dès 5 € par mois.",
        "Inscrivez-vous à notre newsletter pour recevoir l'essentiel de l'actualité.",
    ],
    "es": [
        "Apóyanos con una aportación desde 5 € al mes y ayúdanos a seguir informando.",
        "Suscríbete a nuestro boletín y recibe las noticias más importantes cada mañana.",
    ],
    "ru": [
        "Поддержите независимую журналистику: оформите подписку от 500 ₽ в месяц.",
        "Подпишитесь на нашу рассылку, чтобы не пропустить главное.",
    ],
}
NEWS_MENTIONS = {
    "en": [
        "The charity said donations reached $2 million and it would announce totals in its newsletter.",
        "Subscribers to the city's water service will pay $12 a month more from January, officials said.",
    ],
    "de": ["Die Stiftung teilte mit, die Spenden hätten im vergangenen Jahr zwei Millionen Euro erreicht."],
    "fr": ["Selon l'association, les dons ont atteint deux millions d'euros, a-t-elle indiqué dans sa lettre."],
    "es": ["Según la fundación, las donaciones alcanzaron los dos millones de euros el año pasado."],
    "ru": ["Как сообщил фонд, пожертвования в прошлом году достигли двух миллионов рублей."],
}


@pytest.mark.parametrize("lang", sorted(APPEALS))
def test_appeals_removed_and_news_mentions_kept(lang: str) -> None:
    for p in APPEALS[lang]:
        assert is_appeal(p), p
    for p in NEWS_MENTIONS[lang]:
        assert is_appeal(p) is None, p
    text = "\n".join(NEWS + NEWS_MENTIONS[lang] + APPEALS[lang][:1] + NEWS[:1])
    out, removed = strip_text(text)
    assert APPEALS[lang][0] not in out
    for p in NEWS + NEWS_MENTIONS[lang]:
        assert p in out
    assert [r.rule for r in removed] and all(r.layer == "text" for r in removed)


@pytest.mark.parametrize(
    ("opener", "dismiss"),
    [
        ("Eine Nachricht der Redaktion:", "Später erinnern"),
        ("Un message de la rédaction :", "Plus tard"),
        ("Un mensaje de la redacción:", "Ahora no"),
        ("Обращение редакции:", "Напомнить позже"),
    ],
)
def test_block_from_opener_to_dismiss_line(opener: str, dismiss: str) -> None:
    lang = {"E": "de", "U": "fr" if "message" in opener else "es", "О": "ru"}[opener[0]]
    block = [opener, "We have a difficult year behind us.", APPEALS[lang][0], dismiss]
    out, removed = strip_text("\n".join(NEWS + block))
    assert out.splitlines() == NEWS
    assert len(removed) == len(block)


def test_trailing_call_to_action_sentence_cut() -> None:
    p = NEWS[0] + " Sign up for our newsletter to get more stories like this in your inbox."
    out, removed = strip_text("\n".join([p, *NEWS[1:]]))
    assert out.splitlines()[0] == NEWS[0]
    assert removed[0].rule == "appeal:trailing-sentence:newsletter:en:newsletter-signup"  # which rule, which language


def test_strip_text_safeguard_keeps_text_and_says_so() -> None:
    text = "\n".join([NEWS[0], *APPEALS["en"], *APPEALS["de"]])
    out, removed = strip_text(text)
    assert out == text
    assert len(removed) == 1 and removed[0].rule == "safeguard" and "would have removed" in removed[0].text


# --- HTML: structure layer, per-source rules, metadata ------------------------------------


def test_clean_html_structure_layer_and_metadata() -> None:
    art = clean_html(ARTICLE, url="https://ledger.example/news/norvale-bridge")
    assert isinstance(art, Article) and art.error is None
    assert art.title == "Norvale council approves new river bridge"
    assert art.authors == ["Jane Ortiz"] and art.published_at == "2024-03-05"
    assert art.language == "en" and art.site_name == "The Norvale Ledger"
    assert art.canonical_url == "https://ledger.example/news/norvale-bridge"
    for needle in ("Support our newsroom", "morning briefing", "Never miss a story"):
        assert needle not in art.text
    assert "donations reached two million dollars" in art.text  # news mention kept
    assert "Engineers will begin soil surveys" in art.text
    rules = {r.rule for r in art.removed}
    assert "structure:token:class=donate" in rules
    assert "structure:token:aria-label=newsletter" in rules
    assert "structure:heading+cta" in rules
    assert all(r.layer == "structure" and r.text for r in art.removed)
    # the audit trail reads as the page does: block elements and buttons are not glued together
    donate = next(r.text for r in art.removed if r.rule == "structure:token:class=donate")
    assert donate.startswith("Support our newsroom Local reporting costs money.") and donate.endswith("Norvale. Donate")
    assert art.fingerprint == cleaners.fingerprint(art.text) and art.cleaner_version == cleaners.CLEANER_VERSION
    json.dumps(art.to_dict())


def test_per_source_rules_xpath_and_css() -> None:
    assert "Advertise your business" in clean_html(ARTICLE).text
    for rules in ({"prune_xpath": ["//div[@class='house-ad']"]}, {"prune_css": ["div.house-ad"]}):
        art = clean_html(ARTICLE, source=rules)
        assert "Advertise your business" not in art.text
        assert any(r.rule.startswith("source:") and "Advertise" in r.text for r in art.removed)


def test_bad_source_rules_are_a_configuration_error_before_any_document() -> None:
    from newsconfig.sources import CleaningRuleError

    for rules, field in (
        ({"prune_css": ["div[["]}, "cleaning.prune_css"),
        ({"prune_xpath": ["//div[@class="]}, "cleaning.prune_xpath"),
        ({"prune_xpath": ["count(//p)"]}, "cleaning.prune_xpath"),
        ({"prune_xpath": ["//p[foo()]"]}, "cleaning.prune_xpath"),  # compiles, fails only when evaluated
        ({"drop": ["//aside"]}, "cleaning.drop"),
    ):
        with pytest.raises(CleaningRuleError) as err:
            clean_html(ARTICLE, source=rules)
        assert err.value.field == field
        with pytest.raises(CleaningRuleError):
            next(clean_batch([(ARTICLE, "u")], source=rules))


def test_headline_is_metadata_not_body() -> None:
    art = clean_html(ARTICLE)
    assert not art.text.startswith(art.title or "?")
    assert any(r.rule == "structure:headline" for r in art.removed)


def test_unknown_source_name_does_not_fail() -> None:
    art = clean_html(ARTICLE, source="no-such-source-anywhere")
    assert art.error is None and "Norvale" in art.text


def test_subscribe_class_around_whole_article_is_kept() -> None:
    html = page(NEWS * 3).replace("<article>", '<article><div class="subscriber-content paywall">')
    html = html.replace("</article>", "</div></article>")
    art = clean_html(html)
    assert all(p in art.text for p in NEWS)


def test_inline_appeal_paragraph_in_html_removed() -> None:
    html = page(NEWS[:3] + [APPEALS["en"][0]] + NEWS[3:])
    art = clean_html(html)
    assert APPEALS["en"][0] not in art.text and all(p in art.text for p in NEWS)
    assert any(r.layer == "text" for r in art.removed)


def test_clean_html_safeguard() -> None:
    appeals = [a for lang in ("en", "de", "fr") for a in APPEALS[lang]] * 2
    art = clean_html(page([*NEWS[:4], *appeals]))
    assert NEWS[0] in art.text and appeals[0] in art.text
    assert [r.rule for r in art.removed if r.layer != "structure"] == ["safeguard"]


# --- cross-article layer --------------------------------------------------------------------

SHARED = "This report was produced with support from the Alder Valley Local News Fund and its partners."


def _docs(n: int) -> list[tuple[str, str]]:
    return [
        (page([f"Story {i}: {p}" for p in NEWS] + [SHARED], title=f"Story {i}"), f"https://ledger.example/{i}")
        for i in range(n)
    ]


def test_batch_removes_repeated_paragraph_in_every_article() -> None:
    arts = list(clean_batch(_docs(6), source={}))
    assert [a.url for a in arts] == [f"https://ledger.example/{i}" for i in range(6)]  # order kept
    for a in arts:
        assert SHARED not in a.text and "Story" in a.text
        assert any(r.layer == "repeat" and r.rule == "repeat:cross-article" for r in a.removed)


def test_state_round_trip_cleans_a_single_later_article() -> None:
    state = BoilerplateState(source="ledger")
    list(clean_batch(_docs(5), state=state))
    restored = BoilerplateState.from_json(state.to_json())
    assert restored.docs == 5 and restored.counts == state.counts
    later = page(["A later story about the bridge opening ceremony on the river.", *NEWS[1:], SHARED])
    assert SHARED in clean_html(later).text
    art = clean_html(later, state=restored)
    assert SHARED not in art.text and NEWS[1] in art.text


def test_recleaning_the_same_batch_with_its_saved_state_changes_nothing() -> None:
    docs = [
        (page([f"Story {i}: {p}" for p in NEWS], title=f"Story {i}"), f"https://ledger.example/{i}") for i in range(2)
    ]
    state = BoilerplateState(source="ledger")
    first = [a.text for a in clean_batch(docs, state=state)]
    for _ in range(4):  # the same partition cleaned again and again, the state saved in between
        state = BoilerplateState.from_json(state.to_json())
        assert [a.text for a in clean_batch(docs, state=state)] == first
    assert state.docs == 2


def test_state_is_bounded() -> None:
    state = BoilerplateState(max_entries=100)
    for i in range(50):
        state.update([f"unique paragraph number {i} with enough characters {j}" for j in range(10)])
    assert len(state.counts) <= 100


# --- bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty document"),
        ("   \n ", "empty document"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "not html"),
        ("just some plain text without any markup", "not html"),
        ("<html><body><nav><a href='/'>Home</a></nav></body></html>", "no article found"),
        (b"<html>" + b"a" * 6_000_000 + b"</html>", "too large"),
    ],
)
def test_bad_input_gives_error_not_exception(data: str | bytes, reason: str) -> None:
    art = clean_html(data)
    assert art.error is not None and art.error.startswith(reason)
    assert art.text == ""
    json.dumps(art.to_dict())


def test_html_fragment_is_cleaned() -> None:
    art = clean_html("<div>" + "".join(f"<p>{p}</p>" for p in NEWS) + f"<p>{APPEALS['en'][0]}</p></div>")
    assert art.error is None and NEWS[0] in art.text and APPEALS["en"][0] not in art.text


def test_deeply_nested_html_does_not_raise() -> None:
    html = "<html><body>" + "<div>" * 5000 + "<p>deep</p>" + "</div>" * 5000 + "</body></html>"
    art = clean_html(html)
    assert isinstance(art, Article)


@pytest.mark.parametrize(
    ("encoding", "declare"),
    [("cp1252", True), ("iso-8859-1", True), ("utf-8", False), ("utf-16", False), ("koi8-r", True)],
)
def test_bytes_input_charset(encoding: str, declare: bool) -> None:
    word = "Привет" if encoding == "koi8-r" else "café"
    paras = [f"{p} The {word} on the corner stayed open." for p in NEWS]
    html = page(paras)
    if declare:
        html = html.replace("<head>", f'<head><meta charset="{encoding}">')
    art = clean_html(html.encode(encoding))
    assert art.error is None and word in art.text


def test_removal_is_a_dataclass() -> None:
    r = Removal("x", "rule", "text")
    assert r.to_dict() == {"text": "x", "rule": "rule", "layer": "text"}


def test_batch_with_two_workers_keeps_order_and_cleans() -> None:
    arts = list(clean_batch(_docs(6), workers=2))
    assert [a.url for a in arts] == [f"https://ledger.example/{i}" for i in range(6)]
    assert all(SHARED not in a.text for a in arts)


def test_batch_with_two_workers_gives_what_one_gives() -> None:
    """The workers compute the paragraph keys ahead; the articles must not change."""
    docs = _docs(6) + [(b"", "https://ledger.example/empty")]
    one = [a.to_dict() for a in clean_batch(docs)]
    assert [a.to_dict() for a in clean_batch(docs, workers=2)] == one
    assert sum(r["layer"] == "repeat" for a in one for r in a["removed"]) > 0


def test_keys_computed_ahead_are_the_state_keys() -> None:
    paragraphs = [*NEWS, "Short one.", NEWS[0]]
    keys = Keys.of(paragraphs, ["A paragraph that only layer two left behind, long enough."])
    assert keys.doc == fingerprint("\n".join(paragraphs))[:16]
    for p in [*paragraphs, "A paragraph that only layer two left behind, long enough.", "never seen before, long"]:
        assert keys.get(p) == BoilerplateState.key(p)
    assert keys.get("Short one.") is None and BoilerplateState.key(NEWS[0]) == fingerprint(NEWS[0])[:16]


def test_batch_reports_bad_documents_in_place() -> None:
    docs = [_docs(1)[0], (b"", "https://ledger.example/empty"), (b"\x00\x01", "https://ledger.example/bin")]
    arts = list(clean_batch(docs))
    assert [a.error is None for a in arts] == [True, False, False]


def test_readable_text_separates_blocks_not_inline_elements() -> None:
    from lxml import html as lxml_html

    from cleaners.page import readable_text

    el = lxml_html.fragment_fromstring(
        "<div><h3>Give</h3><p>Keep <b>us</b> in<i>dependent</i>, <a href='#'>today</a>.<br>Thanks</p>"
        "<script>var x = 1;</script><button>Donate</button><input type='submit' value='Join'></div>"
    )
    assert readable_text(el) == "Give Keep us independent, today. Thanks Donate Join"
