"""The fast paths of the cleaner give what the slow originals give.

Cleaning avoids some of trafilatura's costs (copies of the page, EXSLT regular expressions in
XPath, a regex scan of the whole page, per-character loops) and scores paragraphs without
running every pattern. Each replacement is checked here against the original on small pages
that exercise its branches.
"""

from __future__ import annotations

from copy import copy
from pathlib import Path

import pytest
import trafilatura
from lxml import etree
from trafilatura.baseline import html2txt
from trafilatura.metadata import examine_meta, extract_meta_json, extract_metadata
from trafilatura.metadata import extract_author as traf_extract_author
from trafilatura.utils import load_html
from trafilatura.xpaths import RAW_TREE_PRUNE_XPATH, REMOVE_COMMENTS_AND_LISTS_XPATH

from cleaners import attrs, cascade, meta
from cleaners.article import normalise
from cleaners.decode import parse_html

DATA = Path(__file__).parent / "data" / "cleaners"
ARTICLE = (DATA / "article.html").read_text(encoding="utf-8")
PARAS = [
    "The Norvale city council voted seven to two on Tuesday to build a second bridge across the Alder River.",
    "Council member Ruth Abara said the vote would relieve traffic on the Main Street bridge.",
    "Engineers will begin soil surveys in June, and the city expects to choose a construction firm soon.",
    "Residents packed the hall for three hours of public comment before the vote was taken.",
]


def _page(body: str, head: str = "") -> str:
    return f"<html lang='en'><head><title>Bridge vote | Ledger</title>{head}</head><body>{body}</body></html>"


ARTICLE_BODY = "<article><h1>Bridge vote</h1>" + "".join(f"<p>{p}</p>" for p in PARAS * 3) + "</article>"
PRUNE_CASES = [
    '<div id="comments">x</div>',
    '<div id="Comments-area">x</div>',
    '<div id="commentary">kept</div>',
    '<section id="comol-1">x</section>',
    '<div id="disqus_thread">x</div>',
    '<div class="comment-list">x</div>',
    '<div class="Commentary">kept</div>',
    '<div class="post-comments wide">x</div>',
    '<ul class="article-comments"><li>x</li></ul>',
    '<ol id="dsq-comments"><li>kept: ol needs the short id list</li></ol>',
    '<ul id="commentlist"><li>x</li></ul>',
    '<details class="comments">x</details>',
    '<div class="mvp-post-add-box"><h1>other story</h1></div>',
    '<aside id="infinite-scroll">more</aside>',
    '<div class="infinitescroll"><h1>kept: holds a headline</h1></div>',
    '<section class="x elementor-share-buttons">share</section>',
]
PAGES = [
    _page(ARTICLE_BODY + "".join(PRUNE_CASES)),
    _page(
        "<div class='cookie-banner'>We use cookies</div><div id='CMPLZ-box'>consent</div><footer>foot</footer>"
        "<div class='site-footer'>links</div><svg><text>icon</text></svg><script>var x = 1;</script>"
        "<div class='notice--cookie'>n</div><div class='consent_manager'>m</div>" + ARTICLE_BODY
    ),
    _page("<div class='wrap'><p>" + " ".join(PARAS) + "</p><ul><li>one item</li><li>two items</li></ul></div>"),
    _page("<div><p>Short.</p></div>"),
    ARTICLE,
]


@pytest.mark.parametrize("html", PAGES)
def test_fast_prunes_select_what_trafilatura_selects(html: str) -> None:
    tree = load_html(html)
    for slow, fast in (
        (RAW_TREE_PRUNE_XPATH, cascade.RAW_TREE_PRUNE),
        (REMOVE_COMMENTS_AND_LISTS_XPATH, cascade.REMOVE_COMMENTS_AND_LISTS),
    ):
        for a, b in zip(slow, fast, strict=True):
            assert a(tree) == b(tree)


@pytest.mark.parametrize("html", PAGES)
def test_cascade_equals_bare_extraction(html: str) -> None:
    assert cascade.IN_PLACE, "trafilatura is not the pinned version: the in-place cascade is off"
    for recall in (False, True):
        tree = load_html(html)
        if recall:  # the retry runs on the tree the first pass left
            cascade.first_pass(tree, None)
            ref = trafilatura.bare_extraction(copy(tree), favor_recall=True, fast=True, **cascade.TRAFILATURA_OPTIONS)
            ours = cascade.recall_pass(tree, None)
        else:
            ref = trafilatura.bare_extraction(copy(tree), **cascade.TRAFILATURA_OPTIONS)
            ours = cascade.first_pass(tree, None)
        assert (ref.text if ref else None) == (ours.text if ours else None)


@pytest.mark.parametrize("html", PAGES)
def test_page_text_len_is_html2txt_length(html: str) -> None:
    tree = load_html(html)
    assert cascade.page_text_len(tree) == len(html2txt(tree))


@pytest.mark.parametrize(
    "html",
    [
        *PAGES,
        "<!DOCTYPE html PUBLIC '-//W3C//DTD XHTML 1.0//EN' 'http://x/y'/>\n<html><body><p>a</p></body></html>",
        "<html lang='en'/>\n<body><p>x</p></body>",
        "<html><body><p>a\x01b\x0bc\ufffe</p></body></html>",
        "<?xml version='1.0' encoding='utf-8'?><html><body><p>x</p></body></html>",
        "<p>a fragment</p>",
        "plain text",
    ],
)
def test_parse_html_is_load_html(html: str) -> None:
    a, b = load_html(html), parse_html(html)
    assert (a is None) == (b is None)
    if a is not None:
        assert etree.tostring(a.getroottree()) == etree.tostring(b.getroottree())


AUTHOR_PAGES = [
    _page("<div class='byline'>By <a rel='author' href='/a'>Jane Ortiz</a></div>" + ARTICLE_BODY),
    _page("<p class='AuthorName'>Max <span class='print'>PRINT</span>Mustermann</p>" + ARTICLE_BODY),
    _page("<div class='sidebar'><span class='author'>Not Her</span></div><span class='post-author'>Ana Ruiz</span>"),
    _page("<div id='authorbox'>Written by <time>May 1</time> Lee Chan</div>"),
    _page("<span class='writer'>Kim Park</span><h3 class='byline'>x</h3>", head="<link rel='author' href='/k'>"),
    _page("<div data-component='Byline'>Sam Stone and Alex Grey</div>"),
    _page(ARTICLE_BODY),
    ARTICLE,
]


@pytest.mark.parametrize("html", AUTHOR_PAGES)
def test_author_search_matches_trafilatura(html: str) -> None:
    tree = load_html(html)
    assert meta.extract_author(tree) == traf_extract_author(tree)


JSON_LD = [
    '{"@type": "NewsArticle", "headline": "Bridge\\u00a0vote", "author": {"name": "Jane &amp; Joe"},\n'
    '  "datePublished": "2024-03-05", "publisher": {"name": "Ledger"}}',
    '{"@graph": [{"@type": "Article", "name": "x\\ud83d\\ude00 y\\n\\t"}]}',
    '{"@type": "Article", "headline": "unterminated',
]


@pytest.mark.parametrize("ld", JSON_LD)
def test_json_ld_reading_matches_trafilatura(ld: str) -> None:
    tree = load_html(_page(ARTICLE_BODY, head=f'<script type="application/ld+json">{ld}</script>'))

    def fields(doc: object) -> dict:
        return {k: v for k, v in doc.as_dict().items() if isinstance(v, str | list | type(None))}

    assert fields(meta._meta_json(tree, examine_meta(tree))) == fields(extract_meta_json(tree, examine_meta(tree)))


@pytest.mark.parametrize("html", [*AUTHOR_PAGES, *PAGES[:2]])
def test_metadata_fields_match_trafilatura(html: str) -> None:
    from cleaners.structure import Pruner

    tree = load_html(html)
    ref = extract_metadata(copy(tree), None, meta.date_params())
    pruner = Pruner(tree)  # its page index answers the page-wide searches
    for ours in (meta.extract_meta(tree, None), meta.extract_meta(tree, None, index=pruner.page_index())):
        assert ours.title == ref.title and ours.published_at == ref.date and ours.site_name == ref.sitename
        assert ours.authors == [a.strip() for a in __import__("re").split(r";|\band\b", ref.author or "") if a.strip()]


# paragraphs in several scripts (the appeal scorer itself is checked against written examples in
# tests/test_lexicons.py and tests/test_appeal_corpus.py)
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


def test_normalise_is_the_documented_form() -> None:
    import re
    import unicodedata

    for text in [*SCORED, "a_b c__d", "x\u00a0y\u2028z", "ǅ ﬁ ½ İstanbul", "a\u200bb", "٣٤ — “quoted”"]:
        ref = " ".join(re.sub(r"[\W_]+", " ", unicodedata.normalize("NFKC", text).casefold()).split())
        assert normalise(text) == ref


def test_elements_with_finds_what_a_full_scan_finds() -> None:
    tree = load_html(
        _page(
            "<div class='NewsletterBox'>a</div><p id='x' class='about'>b</p><span data-testid='SignUp'>c</span>"
            "<div class='İx cta'>d</div><section aria-label='Support us'>e</section>"
        )
    )
    names = ("class", "id", "data-testid", "aria-label")
    needles = ("newsletter", "sign", "cta", "support")
    scan = [
        el
        for el in tree.iter()
        if isinstance(el.tag, str) and any(n in (el.get(a) or "").lower() for a in names for n in needles)
    ]
    assert attrs.elements_with(tree, names, needles, fold=True) == scan
    assert attrs.any_contains(tree, names, needles, fold=True)
    assert not attrs.any_contains(tree, names, ("paywall",), fold=True)


FORM_PAGE = "<html><body><form><label>l</label><input value='x'><select></select><textarea></textarea></form></body>"


@pytest.mark.parametrize("html", [*PAGES, "<p>a fragment</p>", FORM_PAGE])
def test_parse_html_gives_lxml_html_element_classes(html: str) -> None:
    """The parser picks element classes in C: the same class for every node as lxml.html's lookup."""
    a, b = load_html(html), parse_html(html)
    assert (a is None) == (b is None)
    if a is not None:
        assert [type(e) for e in a.getroottree().iter()] == [type(e) for e in b.getroottree().iter()]


BODY_CASES = [
    "<div><span class='post'>no frame tag</span></div>",
    "<section class='entry'>x</section>",
    "<div itemprop='articleBody'>x</div>",
    "<div id='articleContent'>x</div>",
    "<div id='main-art-content'>x</div>",
    "<main id='xarticle__bodyx'>x</main>",
    "<div class='wrap post_text'>x</div>",
    "<article class='ArticleContent'>x</article>",
    "<div role='article'>x</div>",
    "<div id='story'>x</div>",
    "<div class='cell'>x</div>",
    "<div id='primary-col'>x</div>",
    "<div id='col-primary'>x</div>",
    "<div class='FullText'>x</div>",
    "<div class='article main'>x</div>",
    "<div class='story-content'>x</div>",
    "<div id='content'>x</div>",
    "<div class='content-main'>x</div>",
    "<div id='Main-Content'>x</div>",
    "<div class='Page-Content'>x</div>",
    "<div class='x contentBody'>x</div>",
    "<section class='content__body'>x</section>",
    "<div class='main-wrap'>x</div><main>m</main>",
    "<div class='a'><div class='post'>inner</div></div><div class='story'>later</div>",
]


@pytest.mark.parametrize("snippet", BODY_CASES)
def test_content_frames_are_trafilatura_s(snippet: str) -> None:
    from trafilatura.xpaths import BODY_XPATH

    from cleaners import main_extractor as mx

    tree = load_html(_page("<div class='wrap'><p>lead</p>" + snippet + "</div>" + snippet))
    for k, xpath in enumerate(BODY_XPATH):
        assert mx.first_frame(k, tree) is next((s for s in xpath(tree) if s is not None), None), k


DISCARD_CASES = (
    "<div class='cookie-x' id='a'>1</div><div id='a' class='cookie-x'>2</div><div id='cookie' class='y'>3</div>"
    "<p class='share-buttons'>4</p><span id='shareX'>5</span><div class='x ad-slot'>6</div><div class='ad-top'>7</div>"
    "<div class='a ad b'>8</div><div class='dfpAd'>9</div><div class='bread-crumb'>10</div>"
    "<div role='Navigation'>11</div>"
    "<div data-component='MostPopularStories'>12</div><div data-lp-replacement-content='1'>13</div>"
    "<div style='color:red' id='hidden1'>14</div><div id='x' style='hidden'>15</div><div style='display: none'>16</div>"
    "<div class='a hidden'>17</div><div aria-hidden='true'>18</div><div class='reply-x'>19</div>"
    "<div id='akismet-1'>20</div>"
    "<list class='menu'>21</list><item id='nav1'>22</item><div class='Footer'>23</div><div id='Nav'>24</div>"
    "<div class='ZendeskForm x'>25</div><section class='post-nav'>26</section><div class='navigation'>27</div>"
)


@pytest.mark.parametrize("html", [*PAGES, _page(DISCARD_CASES + ARTICLE_BODY)])
def test_discard_xpaths_select_what_trafilatura_selects(html: str) -> None:
    from trafilatura.xpaths import OVERALL_DISCARD_XPATH

    from cleaners import main_extractor as mx

    tree = load_html(html)
    for slow, fast in zip(OVERALL_DISCARD_XPATH, mx.OVERALL_DISCARD_XPATH, strict=True):
        assert slow(tree) == fast(tree)


@pytest.mark.parametrize("html", [*PAGES, _page(DISCARD_CASES + ARTICLE_BODY)])
def test_main_extractor_equals_trafilatura_s(html: str) -> None:
    from copy import deepcopy

    from trafilatura import core
    from trafilatura import main_extractor as tm

    from cleaners import main_extractor as mx

    for recall in (False, True):
        opts = cascade.options(None, recall=recall)
        cleaned, _ = core._prepare_tree(load_html(html), opts, None)
        ref, ours = tm._extract(deepcopy(cleaned), opts), mx.extract(cleaned, opts)
        assert etree.tostring(ref[0]) == etree.tostring(ours[0]) and ref[1:] == ours[1:]


BUTTON_LABELS = [
    "Subscribe", "SIGN UP", "Donate now", "don", "Dona", "Support us", "Become a member", "Join",
    "Give today", "Chip in", "Jetzt spenden", "Abonnieren", "Unterstützen", "Soutenez-nous", "Inscrivez-vous",
    "Suscríbete", "Apóyanos", "Hazte socio", "Únete", "Подписаться", "Поддержите нас", "Станьте членом",
    "ſubscribe", "SİGN UP", "Read more", "Home", "Menu", "Design", "Donald", "",
]  # fmt: skip


def test_button_label_prefilter_keeps_every_match() -> None:
    """The word prefilter of appeals.is_button rejects no label the scorer calls a button."""
    from cleaners import structure
    from cleaners.appeals import score

    for label in BUTTON_LABELS:
        for text in (label, label.upper(), label.lower(), f"Please {label} today"):
            slow = 0 < len(" ".join(text.split())) <= 40 and score(" ".join(text.split())).button
            assert structure._button_label(text) == bool(slow), text


@pytest.mark.parametrize(
    "html",
    [
        *PAGES,
        "<p>a fragment</p>",
        "<html><head><title>t</title></head><div><body>x</body></div></html>",
        "<div><p>no body</p></div>",
    ],
)
def test_first_body_is_find_body(html: str) -> None:
    from lxml import html as lxml_html

    from cleaners.structure import first_body

    tree = lxml_html.fromstring(html)  # fragments too
    assert first_body(tree) is tree.find(".//body")


INDEX_PAGE = _page(
    "<h1>Bridge vote</h1><link rel='canonical' href='/in-body'><script type='application/ld+json'>{}</script>"
    "<div class='promo'><h1>teaser headline</h1><link rel='canonical' href='/gone'></div><author>A</author>"
    + ARTICLE_BODY,
    head="<meta property='og:title' content='OG title'><link rel='canonical' href='/c'><script>var a;</script>"
    "<script type='application/settings+json'>{}</script><link rel='stylesheet' href='/s.css'>",
)


@pytest.mark.parametrize("rules", [{}, {"prune_xpath": "//div[@class='promo']"}, {"prune_xpath": ["//head/title"]}])
def test_page_index_answers_the_searches_it_replaces(rules: dict) -> None:
    from cleaners import extract, structure

    tree = load_html(INDEX_PAGE)
    pruned = structure.prune(tree, rules)
    index = pruned.page_index()
    assert index is not None
    assert index.live("h1") == extract._H1(tree)
    assert extract._head_titles(index) == extract._HEAD_TITLES(tree)
    assert [el for el in index.live("script") if el.get("type") in meta._JSON_TYPES] == meta._JSON_SCRIPTS(tree)
    assert bool(index.live("author") or index.live("rel")) == (tree.find(".//author") is not None)
    canonical = [el for el in index.live("link") if el.get("rel") == "canonical"]
    assert canonical[:1] == [tree.find('.//link[@rel="canonical"]')]
    assert meta.extract_meta(tree, None, pruned.values, pruned._gone, index) == meta.extract_meta(tree, None)


def test_json_minify_by_split_is_the_substitution() -> None:
    for text in ['{"a": "b c",\n "d" : [1, 2]}', '{"a": "x \\" y"}', '"unterminated  x y', '\\"  "a b" c', ""]:
        assert "".join(filter(None, meta._JSON_MINIFY.split(text))) == meta._JSON_MINIFY.sub(r"\1", text)
