"""trafilatura's extraction cascade, run on the page tree that cleaning already parsed.

`trafilatura.bare_extraction(tree)` copies the tree it is given and starts by pruning it with two
XPath expressions made of EXSLT regular expressions (`re:test` calls back into Python for every
div/section/list of the page); its escalation check measures the page with `html2txt`, whose
cookie-banner XPath does the same for every element. Here the cascade
(`trafilatura.core.trafilatura_sequence` of the pinned trafilatura 2.3.1, without the
comment-extraction branches, which cleaning never uses) runs on the tree itself, those XPaths
are written with plain XPath 1.0 string functions (or tested on the few candidate elements), and
`main_extractor.extract_content` is carried over so that the first pass can tell whether a
recall-mode retry could change anything (`recall_gives_same`); its main extractor is the one in
`main_extractor.py` (trafilatura's, with cheaper XPath tests). Everything else is trafilatura's
own code; with another trafilatura version the public API is used instead.
`tests/test_cleaners_speed_parts.py` checks each replacement against trafilatura.
"""

from __future__ import annotations

import logging
from copy import copy, deepcopy
from typing import Any

import trafilatura
from lxml import etree
from lxml.html import HtmlElement

from . import main_extractor
from .attrs import any_contains, elements_with
from .structure import first_body

LOG = logging.getLogger(__name__)

# trafilatura settings, chosen on the benchmarks (see bench/README.md); metadata: meta.py
TRAFILATURA_OPTIONS: dict[str, Any] = {
    "include_comments": False,
    "include_tables": True,
}

try:
    from trafilatura import core as _core
    from trafilatura import main_extractor as _main
    from trafilatura.baseline import _spaced_text
    from trafilatura.htmlprocessing import prune_unwanted_nodes
    from trafilatura.settings import Extractor
    from trafilatura.xml import delete_element, xmltotxt

    IN_PLACE = (
        trafilatura.__version__ == "2.3.1"
        and main_extractor.AVAILABLE
        and all(
            hasattr(_core, name)
            for name in (
                "_forum_thread_page",
                "_prepare_tree",
                "compare_extraction",
                "_recall_retry",
                "baseline",
                "html2txt",
                "justext_rescue",
                "ESCALATION_MAX_LENGTH",
                "ESCALATION_PAGE_SHARE",
                "ESCALATION_ACCEPT_RATIO",
                "ESCALATION_JUSTEXT_RATIO",
            )
        )
        and all(
            hasattr(_main, name)
            for name in (
                "_extract",
                "recover_wild_text",
                "_elem_text",
                "MIN_DUPLICATE_LENGTH",
                "delete_element",
                "strip_elements",
                "strip_tags",
                "text_chars_test",
                "SPACING_PROTECTED",
            )
        )
    )
except ImportError:  # pragma: no cover - another trafilatura
    IN_PLACE = False


def _starts(attr: str, prefix: str, unless: str | None = None) -> str:
    test = f"starts-with({attr}, '{prefix}')"
    return f"({test} and not(starts-with({attr}, '{unless}')))" if unless else test


def _comment_start(attr: str) -> str:
    # ^[Cc]omment(?!ary)
    return f"{_starts(attr, 'comment', 'commentary')} or {_starts(attr, 'Comment', 'Commentary')}"


# trafilatura.xpaths.RAW_TREE_PRUNE_XPATH: re:test(@x, 'mvp-post-add-(?:box|wrap)|infinite-?scroll')
_MVP = " or ".join(f"contains(@{a}, 'mvp-post-add-{k}')" for a in ("id", "class") for k in ("box", "wrap"))
_SCROLL = " or ".join(f"contains(@{a}, '{k}')" for a in ("id", "class") for k in ("infinitescroll", "infinite-scroll"))
RAW_TREE_PRUNE = [
    etree.XPath(
        f".//*[self::div or self::section or self::aside][{_MVP} or {_SCROLL}][not(.//h1) or {_MVP}]",
    ),
    etree.XPath(".//*[self::div or self::section or self::aside][contains(@class, 'elementor-share-buttons')]"),
]
# trafilatura.xpaths.REMOVE_COMMENTS_AND_LISTS_XPATH, with _COMMENTS_ID = "[Cc]omment(?!ary)|comol"
# and _COMMENTS_CLASS = "^[Cc]omment(?!ary)|(?:article|post)-comments"
_ID = f"{_comment_start('@id')} or starts-with(@id, 'comol')"
_ID_ALL = f"{_ID} or starts-with(@id, 'disqus_thread') or starts-with(@id, 'dsq-comments')"
_CLASS = f"{_comment_start('@class')} or contains(@class, 'article-comments') or contains(@class, 'post-comments')"
REMOVE_COMMENTS_AND_LISTS = [
    etree.XPath(
        ".//*[self::div or self::list or self::section or self::details or self::ol or self::ul]"
        f"[{_ID_ALL} or {_CLASS}][not(self::ol or self::ul) or {_ID} or {_CLASS}]"
    )
]


# trafilatura.settings.BASIC_CLEAN_XPATH (what html2txt drops before measuring the page) without
# its cookie-banner test, which is done below on the few elements whose class/id can match it
_BASIC_CLEAN_TAGS = etree.XPath(
    ".//aside|.//div[contains(@class|@id, 'footer')]|.//fencedframe|.//footer|.//script|.//style|.//svg|.//template"
)
# every alternative of trafilatura.settings._COOKIE_CONSENT_RE contains one of these
_COOKIE_ROOTS = ("cookie", "consent", "borlabs", "cmplz", "onetrust", "moove")


def _cookie_rx() -> Any:
    import re

    from trafilatura.settings import _COOKIE_CONSENT_RE

    return re.compile(_COOKIE_CONSENT_RE, re.IGNORECASE)  # the XPath's re:test(..., 'i')


def page_text_len(tree: HtmlElement) -> int:
    """len(trafilatura.baseline.html2txt(tree)), the escalation gate's page measure."""
    global _COOKIE
    if _COOKIE is None:
        _COOKIE = _cookie_rx()
    tree = copy(tree)
    body = first_body(tree)
    if body is None:
        body = tree
    doomed = _BASIC_CLEAN_TAGS(body)
    if any_contains(body, ("class", "id"), _COOKIE_ROOTS, fold=True):
        for el in elements_with(body, ("class", "id"), _COOKIE_ROOTS, fold=True):
            if el is not body and (_COOKIE.search(el.get("class") or "") or _COOKIE.search(el.get("id") or "")):
                doomed.append(el)
    for el in doomed:  # the deletion order does not change the text that is left
        delete_element(el)
    return len(_spaced_text(body))


_COOKIE: Any = None


class Result:
    """What cleaning uses of a trafilatura Document. `own_unrescued`: the text is the main
    extractor's own result in balanced mode, reached without the wild-text recovery, on a page
    whose cleaning kept a paragraph: see `recall_gives_same`."""

    __slots__ = ("own_unrescued", "text")

    def __init__(self, text: str, own_unrescued: bool = False) -> None:
        self.text = text
        self.own_unrescued = own_unrescued


def _extract_content(cleaned_tree: HtmlElement, opts: Any) -> tuple[Any, str, bool]:
    """trafilatura.main_extractor.extract_content, also telling whether the wild-text recovery ran."""
    m = _main
    backup_tree = deepcopy(cleaned_tree)
    order = list(cleaned_tree.iter())
    result_body, temp_text, potential_tags = main_extractor.extract(cleaned_tree, opts)
    wild = len(result_body) == 0 or len(temp_text) < opts.min_extracted_size
    if wild:
        consumed = {twin for elem, twin in zip(order, backup_tree.iter(), strict=True) if elem.tag == "done"}
        result_body = m.recover_wild_text(backup_tree, result_body, opts, potential_tags, consumed)
        temp_text = " ".join(result_body.itertext()).strip()
    previous = None
    for el in list(result_body):
        current = m._elem_text(el)
        if current and current == previous and len(current) > m.MIN_DUPLICATE_LENGTH:
            m.delete_element(el, keep_tail=False)
        else:
            previous = current
    m.strip_elements(result_body, "done")
    m.strip_tags(result_body, "div")
    for linebreak in result_body.iter("lb"):
        if (
            linebreak.tail
            and not m.text_chars_test(linebreak.tail)
            and not any(anc.tag in m.SPACING_PROTECTED for anc in linebreak.iterancestors())
        ):
            linebreak.tail = None
    return result_body, temp_text, wild


# elements the recall mode treats differently from the balanced one, looked for in the raw page
_TEASERS = etree.XPath(
    "boolean(.//*[contains(translate(@id, 'T', 't'), 'teaser') or contains(translate(@class, 'T', 't'), 'teaser')])"
)
_LISTS_IN_TABLES = etree.XPath("boolean(.//table//*[self::ul or self::ol or self::dl])")


def recall_gives_same(doc: Any, tree: HtmlElement, values: list | None = None) -> bool:
    """Whether recall_pass(tree) would give exactly `doc`'s text, known without running it.

    The fast recall pass is the main extractor alone in recall mode. It differs from the balanced
    one only in: undoing a cleaning that removed every paragraph, keeping teaser-class blocks,
    keeping lists in table cells, and searching more elements in the wild-text recovery. When the
    first pass's text is the balanced main extractor's own (no external extractor, baseline or
    escalation took over), the recovery did not run, a paragraph survived cleaning and the page
    has no teaser-class element and no list in a table, both passes build the same body.
    `values`: class and id values (and maybe others) of the page, if already fetched."""
    if not getattr(doc, "own_unrescued", False):
        return False
    if values is not None:  # contains(translate(@id|@class, 'T', 't'), 'teaser'), on more attributes
        teasers = "teaser" in "\x00".join(values).replace("T", "t")
    else:
        teasers = _TEASERS(tree)
    return not teasers and not _LISTS_IN_TABLES(tree)


_OPTIONS: Any = None


def options(url: str | None, recall: bool = False) -> Any:
    """trafilatura Extractor for TRAFILATURA_OPTIONS (built once: reading its config is not free)."""
    global _OPTIONS
    if _OPTIONS is None:
        _OPTIONS = Extractor(
            output_format="python",
            comments=TRAFILATURA_OPTIONS["include_comments"],
            tables=TRAFILATURA_OPTIONS["include_tables"],
        )
    opts = copy(_OPTIONS)
    opts.url = opts.source = url
    if recall:  # fast: no external-extractor comparison (measured: same quality, half the cost)
        opts.focus, opts.fast = "recall", True
    return opts


def sequence(tree: HtmlElement, opts: Any, url: str | None) -> tuple[Any, str, bool]:
    """trafilatura.core.trafilatura_sequence(tree, opts, url) for opts.comments == False: the
    body element, its text and Result.own_unrescued. Prunes `tree` in place, as the original does."""
    assert not opts.comments  # noqa: S101 - the comment branches are not carried over
    is_forum = _core._forum_thread_page(tree)
    tree = prune_unwanted_nodes(tree, RAW_TREE_PRUNE)
    if opts.focus == "precision" or not is_forum:
        tree = prune_unwanted_nodes(tree, REMOVE_COMMENTS_AND_LISTS)
    cleaned_tree, cleaned_tree_backup = _core._prepare_tree(tree, opts, url)
    kept_p = cleaned_tree_backup.find(".//p") is not None  # before justext may prune the backup
    if opts.focus == "precision" and not is_forum:  # pragma: no cover - cleaning is not in precision mode
        from trafilatura.xpaths import REMOVE_COMMENTS_XPATH

        cleaned_tree = prune_unwanted_nodes(cleaned_tree, REMOVE_COMMENTS_XPATH)
    # cascade stages 1-2 (core._extract_and_compare): main extractor, then the external comparison
    own_body, temp_text, wild = _extract_content(cleaned_tree, opts)
    postbody = own_body
    if not opts.fast:
        postbody, temp_text = _core.compare_extraction(cleaned_tree_backup, copy(tree), postbody, temp_text, opts)
    # 3. rescue: baseline on the original tree, accepted only if it adds text
    if len(temp_text) < opts.min_extracted_size and opts.focus != "precision":
        b_body, b_text, b_len = _core.baseline(tree)
        if b_len > len(temp_text):
            postbody, temp_text = b_body, b_text
    # 4. recall escalation of a short result that covers little of the page
    if (
        opts.focus == "balanced"
        and 0 < len(temp_text) < _core.ESCALATION_MAX_LENGTH
        and len(temp_text) < _core.ESCALATION_PAGE_SHARE * page_text_len(tree)
    ):
        r_options = copy(opts)
        r_options.focus = "recall"
        r_text = j_text = ""
        try:
            r_body, r_text = _recall_retry(tree, r_options, url)
        except Exception as err:  # noqa: BLE001 - as trafilatura
            LOG.warning("recall retry failed: %s %s", err, url)
        if not opts.fast:
            try:
                j_body, j_text = _core.justext_rescue(copy(tree), opts)
            except Exception as err:  # noqa: BLE001 - as trafilatura
                LOG.warning("justext candidate failed: %s %s", err, url)
        len_text, r_len, j_len = len(temp_text), len(r_text), len(j_text)
        if j_len > r_len and j_len > _core.ESCALATION_JUSTEXT_RATIO * len_text:
            postbody, temp_text = j_body, j_text
        elif r_len >= opts.min_extracted_size and r_len > _core.ESCALATION_ACCEPT_RATIO * len_text:
            postbody, temp_text = r_body, r_text
    own_unrescued = postbody is own_body and not wild and kept_p and opts.focus == "balanced"
    return postbody, temp_text, own_unrescued


def _recall_retry(tree: HtmlElement, opts: Any, url: str | None) -> tuple[Any, str]:
    """core._recall_retry: cascade stages 1-2 in recall mode (with the extraction above)."""
    cleaned_tree, cleaned_tree_backup = _core._prepare_tree(tree, opts, url)
    body, text, _ = _extract_content(cleaned_tree, opts)
    if not opts.fast:
        body, text = _core.compare_extraction(cleaned_tree_backup, copy(tree), body, text, opts)
    return body, text


def _finish(body: Any, text: str, opts: Any, own_unrescued: bool = False) -> Result | None:
    """The checks and the text output of trafilatura.bare_extraction."""
    if opts.max_tree_size and len(body) > opts.max_tree_size:  # pragma: no cover - not set by default
        return None
    if len(text) < opts.min_output_size:  # comments are off: no comment text to count
        return None
    return Result(xmltotxt(body, opts.formatting), own_unrescued)


def first_pass(tree: HtmlElement, url: str | None) -> Any:
    """trafilatura.bare_extraction(tree, **TRAFILATURA_OPTIONS) without metadata; prunes `tree`."""
    if not IN_PLACE:
        return trafilatura.bare_extraction(tree, url=url, **TRAFILATURA_OPTIONS)
    opts = options(url)
    main_extractor.new_page()
    try:
        body, text, own_unrescued = sequence(tree, opts, url)
    except (TypeError, ValueError):
        return None
    return _finish(body, text, opts, own_unrescued)


def recall_pass(tree: HtmlElement, url: str | None) -> Any:
    """bare_extraction(tree, favor_recall=True, fast=True) on the tree the first pass left: its
    raw-tree prunes (the only changes the cascade makes to its input) are already done."""
    if not IN_PLACE:
        return trafilatura.bare_extraction(tree, url=url, favor_recall=True, fast=True, **TRAFILATURA_OPTIONS)
    opts = options(url, recall=True)
    try:
        body, text = _recall_retry(tree, opts, url)
        if len(text) < opts.min_extracted_size:  # the cascade's baseline rescue
            b_body, b_text, b_len = _core.baseline(tree)
            if b_len > len(text):
                body, text = b_body, b_text
    except (TypeError, ValueError):
        return None
    return _finish(body, text, opts)
