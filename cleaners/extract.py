"""clean_html: decode -> parse -> structure layer -> trafilatura -> text layer -> repeats -> safeguard.

The page is decoded and parsed once (`decode.py`, `page.py`: lxml.html's public parser). The structure
layer removes appeal containers from that tree, then the tree goes to `trafilatura.bare_extraction`
(its public entry point, which accepts a parsed tree and works on a copy of it) for the article text
and, in the same call, the metadata. Nothing of trafilatura's or htmldate's internals is used: an
upgrade of trafilatura is a version bump in requirements.txt that the tests and benchmarks judge.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import trafilatura
from lxml.html import HtmlElement

from newsconfig.sources import CleaningRules, compile_cleaning

from .access import judge
from .appeals import strip_paragraphs
from .article import Article, Removal, clip, fingerprint, normalise
from .decode import MAX_BYTES, DecodeError, check_text, decode, strip_controls
from .fields import Extra, extract_extra
from .language import detect as detect_language
from .meta import extract_meta
from .page import Page, element_count, parse, title_parts
from .repeats import BoilerplateState, Keys, split_repeats
from .structure import prune
from .tidy import tidy

LOG = logging.getLogger(__name__)
FALLBACK_MAX_CHARS = 20000  # results shorter than this...
FALLBACK_PAGE_SHARE = 0.6  # ...covering less than this share of the page's text outside links get a recall retry
FALLBACK_GAIN = 1.3  # the retry is kept when it is this much longer
MIN_TEXT = 40  # fewer extracted characters than this is a menu or a stub, not an article
MAX_REMOVED_SHARE = 0.7  # safeguard: text+repeat layers may remove at most this share of the article
APPEAL_ONLY_KEEP = 300  # ...unless fewer characters than this would be left: then the page is all appeal
# Pages of many short blocks: trafilatura's comparison with justext searches each short paragraph's
# neighbours, quadratic in their number (a 200 KiB page of short lists: 10 s; 5 MB: hours). Above
# FAST_ELEMENTS elements the extraction skips that comparison (trafilatura's `fast` mode), and a page
# is cut after MAX_ELEMENTS elements, so that even its linear work stays bounded. (The 892 benchmark
# pages have 787 elements at the median, 3,235 at the 99th percentile, 4,974 at most.)
FAST_ELEMENTS = 5000
MAX_ELEMENTS = 20000

# trafilatura settings, chosen on the benchmarks (see bench/README.md)
TRAFILATURA_OPTIONS: dict[str, Any] = {"include_comments": False, "include_tables": True}


@dataclass
class Draft:
    """An article after layers 1-2, before the cross-article layer and the safeguard."""

    article: Article
    paragraphs: list[str] = field(default_factory=list)  # extracted, before layer 2
    kept: list[str] = field(default_factory=list)  # after layer 2
    keys: Keys | None = None  # of paragraphs and kept, when computed ahead (clean_batch)
    extra: Extra | None = None  # what the page's metadata declares (the access check reads it)

    @property
    def error(self) -> str | None:
        return self.article.error


@lru_cache(maxsize=256)
def _source_rules(name: str) -> Mapping[str, Any]:
    from newsconfig.sources import load_sources

    for source in load_sources():  # a bad sources file is an error here too, not "no rules"
        if source.name == name:
            return dict(source.cleaning or {})
    LOG.warning("no cleaning rules: no source named %r in the sources file", name)  # must not stop cleaning
    return {}


def resolve_rules(source: str | Mapping | CleaningRules | None) -> CleaningRules:
    """The compiled cleaning rules of `source`: a source name (its `cleaning:` in the sources file), a
    `cleaning:` mapping, a Source, or None. Bad rules raise newsconfig's CleaningRuleError."""
    if source is None:
        return CleaningRules()
    if isinstance(source, CleaningRules):
        return source
    if isinstance(source, str):
        return compile_cleaning(_source_rules(source))
    if isinstance(source, Mapping):
        return compile_cleaning(source)
    return compile_cleaning(getattr(source, "cleaning", None) or {})  # a Source object


def _bare(tree: HtmlElement, url: str | None, *, fast: bool = False, recall: bool = False) -> Any:
    """trafilatura's text of the page (its public `bare_extraction`, which works on a copy of `tree`)."""
    return trafilatura.bare_extraction(tree, url=url, fast=fast, favor_recall=recall, **TRAFILATURA_OPTIONS)


def _text_len(doc: Any) -> int:
    return len((getattr(doc, "text", None) or "").strip())


def _recall_fallback(doc: Any, tree: HtmlElement, url: str | None, page_len: int) -> Any:
    """Under-extraction guard: when the result covers little of the page, retry in recall mode and
    keep the retry if it is clearly longer. `page_len`: the page's text outside links (menus and link
    lists are not what an extraction misses). Measured on the benchmark pages: against half of all the
    page's text, 40 % fewer retries (15 % of pages instead of 24 %) and every retry that was kept still made."""
    n = _text_len(doc)
    if n >= FALLBACK_MAX_CHARS or (n >= MIN_TEXT and n >= FALLBACK_PAGE_SHARE * page_len):
        return doc
    retry = _bare(tree, url, fast=True, recall=True)
    if _text_len(retry) <= FALLBACK_GAIN * max(n, 1):
        return doc
    return retry


def cut_down(tree: HtmlElement, count: int, max_elements: int = MAX_ELEMENTS) -> Removal | None:
    """Cut a page of `count` > `max_elements` elements after its `max_elements`-th: everything after it
    in document order goes. Returns the removal to record, or None."""
    if count <= max_elements:
        return None
    cut = None
    for seen, el in enumerate(tree.iter(), 1):
        if seen > max_elements:
            cut = el
            break
    if cut is None or cut.getparent() is None:
        return None
    node = cut
    while (parent := node.getparent()) is not None:
        for sibling in list(node.itersiblings()):
            parent.remove(sibling)
        node = parent
    cut.getparent().remove(cut)
    note = f"page cut after {max_elements} of {count} elements (a page of many short blocks)"
    return Removal(note, "structure:cut-down", "structure")


def extract_paragraphs(
    html: str | bytes,
    url: str | None = None,
    source: str | Mapping | CleaningRules | None = None,
    encoding: str | None = None,
    content_type: str | None = None,
) -> Draft:
    """Layers 1 and 2 on one document; never raises for a bad document: it is rejected with a reason."""
    art = Article(url=url)
    rules = resolve_rules(source)  # configuration: a bad rule is an error for the caller, not a document
    try:
        return _extract(html, url, rules, encoding, content_type, art)
    except DecodeError as err:
        art.reject(err.reason, str(err))
    except RecursionError:
        art.reject("too_deep", "too deeply nested")
    except MemoryError:
        art.reject("too_large", "too large to clean in memory")
    except Exception as err:  # noqa: BLE001 - one bad page must not stop a batch
        LOG.exception("cleaning failed for %s", url)
        art.reject("failed", f"extraction failed: {type(err).__name__}: {err}"[:200])
    return Draft(art)


def _extract(
    html: str | bytes, url: str | None, rules: CleaningRules, encoding: str | None, ctype: str | None, art: Article
) -> Draft:
    if html is None or (isinstance(html, (bytes, str)) and (not html or html.isspace())):
        art.reject("empty", "empty document")
        return Draft(art)
    if isinstance(html, bytes):
        text = decode(html, content_type=ctype, charset=encoding).text
    elif isinstance(html, str):
        check_text(html)
        text = strip_controls(html)
    else:
        art.reject("not_html", f"not html: unsupported input type {type(html).__name__}")
        return Draft(art)
    if len(text) > MAX_BYTES:
        art.reject("too_large", f"too large: {len(text)} characters > {MAX_BYTES}")
        return Draft(art)
    if not text or text.isspace():
        art.reject("empty", "empty document")
        return Draft(art)
    if "<" not in text[:10000]:
        art.reject("not_html", "not html: no markup")
        return Draft(art)
    tree = parse(text)
    if tree is None:
        art.reject("not_html", "not html: nothing to parse")
        return Draft(art)
    count = element_count(tree)
    cut = cut_down(tree, count)
    removed = [cut] if cut is not None else []
    page = Page(tree)
    extra = extract_extra(page, url)  # before the structure layer: JSON-LD in a removed box still counts
    pruned = prune(page, rules)
    removed += pruned.removed
    meta = extract_meta(page, url)
    art.title, art.authors, art.published_at, art.site_name = meta.title, meta.authors, meta.published, meta.site_name
    art.language, art.canonical_url = page.language, page.canonical
    art.image_url, art.section, art.keywords, art.modified_at = (
        extra.image_url, extra.section, extra.keywords, extra.modified
    )
    art.page_rights = extra.rights
    art.removed = removed
    page.slim()
    doc = _bare(page.tree, url, fast=count > FAST_ELEMENTS)
    doc = _recall_fallback(doc, page.tree, url, max(1, pruned.page_len - page.link_len))
    if doc is None or _text_len(doc) < MIN_TEXT:
        art.reject("no_article", "no article found")
        return Draft(art)
    heads = page.headlines(art.title)
    paragraphs = [" ".join(line.split()) for line in doc.text.split("\n")]
    paragraphs = [p for p in paragraphs if p]
    paragraphs, tidied = tidy(paragraphs)
    art.removed.extend(tidied)
    for i in range(min(2, len(paragraphs) - 1)):
        p = paragraphs[i]
        if normalise(p) in heads or (len(p) < 200 and normalise(title_parts(p)[0]) in heads):
            # the headline is metadata (Article.title), not body text
            art.removed.append(Removal(clip(paragraphs.pop(i)), "structure:headline", "structure"))
            break
    kept, text_removed = strip_paragraphs(paragraphs, declared=art.language)  # the lexicons of its language
    art.removed.extend(text_removed)
    return Draft(art, paragraphs, kept, extra=extra)


def safeguard(
    original: list[str], kept: list[str], removals: list[Removal], max_share: float = MAX_REMOVED_SHARE
) -> tuple[list[str], list[Removal]]:
    """Undo text/repeat removals that would take more than `max_share` of the characters."""
    total = sum(len(p) for p in original)
    lost = total - sum(len(p) for p in kept)
    if total == 0 or lost <= max_share * total:
        return kept, removals
    layers = [r.layer for r in removals if r.layer in ("text", "repeat")]
    layer = max(set(layers), key=layers.count) if layers else "text"
    rules = sorted({r.rule for r in removals if r.layer in ("text", "repeat")})
    note = (
        f"kept: would have removed {lost}/{total} characters ({lost / total:.0%} > {max_share:.0%}) "
        f"by {', '.join(rules)}: " + " | ".join(r.text for r in removals if r.layer in ("text", "repeat"))
    )
    others = [r for r in removals if r.layer not in ("text", "repeat")]
    return list(original), [*others, Removal(clip(note), "safeguard", layer)]


def appeal_only(original: list[str], kept: list[str]) -> bool:
    """A page that is all appeal text: the text layer would remove more than the safeguard allows and
    leave fewer than APPEAL_ONLY_KEEP characters, too little to be an article."""
    total = sum(len(p) for p in original)
    left = sum(len(p) for p in kept)
    return total > 0 and total - left > MAX_REMOVED_SHARE * total and left < APPEAL_ONLY_KEEP


def finish(draft: Draft, state: BoilerplateState | None = None) -> Article:
    """Layer 3 (if a state is given), the safeguard, then text and fingerprint."""
    art = draft.article
    if art.error is not None:
        return art
    kept = draft.kept
    removals = list(art.removed)
    if state is not None:
        kept, rep = split_repeats(kept, state, draft.keys)
        removals.extend(rep)
    if appeal_only(draft.paragraphs, draft.kept):  # the text layer's verdict alone, not the repeats'
        art.removed = removals
        left = sum(len(p) for p in draft.kept)
        return art.reject("appeal_only", f"appeal only: {left} characters of {len(draft.paragraphs)} paragraphs left")
    kept, removals = safeguard(draft.paragraphs, kept, removals)
    art.removed = removals
    art.text = "\n\n".join(kept)
    art.fingerprint = fingerprint(art.text)
    art.language_detected = detect_language(art.text)
    extra = draft.extra or Extra()
    access = judge(art.text, removals, extra.free, extra.word_count, extra.body_words)
    art.free_access, art.truncated, art.access_signals = access.free_access, access.truncated, list(access.signals)
    if not art.text:
        art.reject("no_article", "no article found")
    return art


def clean_html(
    html: str | bytes,
    url: str | None = None,
    source: str | Mapping | CleaningRules | None = None,
    *,
    state: BoilerplateState | None = None,
    encoding: str | None = None,
    content_type: str | None = None,
) -> Article:
    """Extract and clean one article. Never raises for a bad document: it comes back with `Article.reason`.

    `source`: a source name (rules from the sources file), a `cleaning:` mapping (`prune_xpath`,
    `prune_css`) or None. `state`: cross-article boilerplate learned earlier (applied, not updated).
    For bytes: `content_type`, the HTTP Content-Type header (its charset), or `encoding`, a charset label.
    """
    return finish(extract_paragraphs(html, url, source, encoding, content_type), state)
