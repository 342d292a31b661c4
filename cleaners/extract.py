"""clean_html: decode -> parse -> structure layer -> metadata -> trafilatura -> text layer -> repeats -> safeguard.

The page is parsed once. trafilatura works on that tree in place (its public entry points copy
the tree they are given, and again for a retry), and metadata comes from `meta.py`, which looks
only for the fields an `Article` has.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from lxml import etree
from lxml.html import HtmlElement
from trafilatura.utils import load_html

from .appeals import strip_paragraphs
from .article import Article, Removal, clip, fingerprint, normalise
from .cascade import first_pass, recall_gives_same, recall_pass
from .decode import MAX_BYTES, DecodeError, decode_html, parse_html
from .meta import extract_meta
from .repeats import BoilerplateState, Keys, split_repeats
from .structure import PageIndex, prune
from .tidy import tidy

LOG = logging.getLogger(__name__)
FALLBACK_MAX_CHARS = 20000  # results shorter than this...
FALLBACK_PAGE_SHARE = 0.5  # ...covering less than this share of the page text get a recall-mode retry
FALLBACK_GAIN = 1.3  # the retry is kept when it is this much longer
MIN_TEXT = 40  # fewer extracted characters than this is a menu or a stub, not an article
MAX_REMOVED_SHARE = 0.7  # safeguard: text+repeat layers may remove at most this share of the article


@dataclass
class Draft:
    """An article after layers 1-2, before the cross-article layer and the safeguard."""

    article: Article
    paragraphs: list[str] = field(default_factory=list)  # extracted, before layer 2
    kept: list[str] = field(default_factory=list)  # after layer 2
    keys: Keys | None = None  # of paragraphs and kept, when computed ahead (clean_batch)

    @property
    def error(self) -> str | None:
        return self.article.error


@lru_cache(maxsize=256)
def _source_rules(name: str) -> Mapping[str, Any]:
    from newsconfig.sources import get_source

    try:
        return dict(getattr(get_source(name), "cleaning", None) or {})
    except Exception as err:  # noqa: BLE001 - an unknown source must not stop cleaning
        LOG.warning("no cleaning rules for source %r: %s", name, err)
        return {}


def resolve_rules(source: str | Mapping | None) -> Mapping[str, Any]:
    if source is None:
        return {}
    if isinstance(source, Mapping):
        return source
    if isinstance(source, str):
        return _source_rules(source)
    return dict(getattr(source, "cleaning", None) or {})  # a Source object


_TAG = re.compile(r"<(?:p|div|article|section|main|span|h[1-6]|ul|ol|table|blockquote)\b", re.IGNORECASE)


_HEAD_TITLES = etree.XPath("//head/title/text() | //head/meta[@property='og:title']/@content")
_H1 = etree.XPath("//h1")
_TEXT = etree.XPath("text()")
_TITLE_SEP = re.compile(r"\s+[|–—:·•-]\s+|\s+::\s+")


def _head_titles(index: PageIndex) -> list[str]:
    """_HEAD_TITLES(tree), from the page index."""
    out = []
    for el in index.head_children():
        if el.tag == "title":
            out += _TEXT(el)
        elif el.tag == "meta" and el.get("property") == "og:title" and el.get("content") is not None:
            out.append(el.get("content"))
    return out


def _headlines(tree: HtmlElement, title: str | None, index: PageIndex | None = None) -> set[str]:
    """Normalised forms the page's headline takes: metadata title, <title> parts, og:title, <h1>."""
    if index is None:
        cands, h1s = [title or "", *_HEAD_TITLES(tree)], _H1(tree)[:3]
    else:
        cands, h1s = [title or "", *_head_titles(index)], index.live("h1")[:3]
    cands += [" ".join(h.text_content().split()) for h in h1s]
    out = set()
    for c in cands:
        out.add(normalise(c))
        out.update(normalise(part) for part in _TITLE_SEP.split(c) if len(part) >= 15)
    out.discard("")
    return out


def _text_len(doc: Any) -> int:
    return len((getattr(doc, "text", None) or "").strip())


def _recall_fallback(doc: Any, tree: HtmlElement, url: str | None, page_len: int, values: list | None = None) -> Any:
    """Under-extraction guard: when the result covers little of the page, retry in recall mode.

    `page_len` is the visible text length of the page (computed by the structure layer anyway).
    Most of these retries would return the very same text; `recall_gives_same` tells so from how
    the first pass went, and then the retry is not run (three retries in four on the benchmark pages).
    """
    n = _text_len(doc)
    if n >= FALLBACK_MAX_CHARS or (n >= MIN_TEXT and n >= FALLBACK_PAGE_SHARE * page_len):
        return doc
    if recall_gives_same(doc, tree, values):
        return doc
    retry = recall_pass(tree, url)
    if _text_len(retry) <= FALLBACK_GAIN * max(n, 1):
        return doc
    return retry


def extract_paragraphs(
    html: str | bytes, url: str | None = None, source: str | Mapping | None = None, encoding: str | None = None
) -> Draft:
    """Layers 1 and 2 on one document; never raises, errors go to `article.error`."""
    art = Article(url=url)
    try:
        return _extract(html, url, source, encoding, art)
    except DecodeError as err:
        art.error = str(err)
    except RecursionError:
        art.error = "too deeply nested"
    except MemoryError:
        art.error = "too large"
    except Exception as err:  # noqa: BLE001 - one bad page must not stop a batch
        LOG.exception("cleaning failed for %s", url)
        art.error = f"extraction failed: {type(err).__name__}: {err}"[:200]
    return Draft(art)


def _extract(html: str | bytes, url: str | None, source: Any, encoding: str | None, art: Article) -> Draft:
    if html is None or (isinstance(html, (bytes, str)) and (not html or html.isspace())):  # no copy of the page
        art.error = "empty document"
        return Draft(art)
    if isinstance(html, bytes):
        html = decode_html(html, encoding)
    elif not isinstance(html, str):
        art.error = f"not html: unsupported input type {type(html).__name__}"
        return Draft(art)
    if len(html) > MAX_BYTES:
        art.error = f"too large: {len(html)} characters > {MAX_BYTES}"
        return Draft(art)
    if not html or html.isspace():
        art.error = "empty document"
        return Draft(art)
    if "<" not in html[:10000] or "\x00" in html[:4096]:
        art.error = "not html"
        return Draft(art)
    tree = parse_html(html)
    if tree is None and _TAG.search(html):
        # a bare fragment ("<div>…</div>"): trafilatura wants a whole document
        tree = load_html(f"<html><body>{html}</body></html>")
    if tree is None:
        art.error = "not html"
        return Draft(art)
    pruned = prune(tree, resolve_rules(source))
    removed = pruned.removed
    # read before trafilatura prunes the tree in place
    index = pruned.page_index()
    meta = extract_meta(tree, url, pruned.values, pruned._gone, index)
    heads = _headlines(tree, meta.title, index)
    doc = first_pass(tree, url)
    doc = _recall_fallback(doc, tree, url, pruned.page_len, pruned.values)
    if doc is None or _text_len(doc) < MIN_TEXT:
        return Draft(Article(url=url, **meta.fields(), removed=removed, error="no article found"))
    art = Article(url=url, **meta.fields(), removed=removed)
    paragraphs = [" ".join(line.split()) for line in doc.text.split("\n")]
    paragraphs = [p for p in paragraphs if p]
    paragraphs, tidied = tidy(paragraphs)
    art.removed.extend(tidied)
    for i in range(min(2, len(paragraphs) - 1)):
        p = paragraphs[i]
        if normalise(p) in heads or (len(p) < 200 and normalise(_TITLE_SEP.split(p)[0]) in heads):
            # the headline is metadata (Article.title), not body text
            art.removed.append(Removal(clip(paragraphs.pop(i)), "structure:headline", "structure"))
            break
    kept, text_removed = strip_paragraphs(paragraphs, declared=art.language)  # the lexicons of its language
    art.removed.extend(text_removed)
    return Draft(art, paragraphs, kept)


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
    kept, removals = safeguard(draft.paragraphs, kept, removals)
    art.removed = removals
    art.text = "\n\n".join(kept)
    art.fingerprint = fingerprint(art.text)
    if not art.text:
        art.error = "no article found"
    return art


def clean_html(
    html: str | bytes,
    url: str | None = None,
    source: str | Mapping | None = None,
    *,
    state: BoilerplateState | None = None,
    encoding: str | None = None,
) -> Article:
    """Extract and clean one article. Never raises: problems are reported in `Article.error`.

    `source`: a source name (rules from the sources YAML), a mapping of cleaning rules
    (`prune_xpath`, `prune_css`) or None. `state`: cross-article boilerplate learned earlier
    (applied, not updated). `encoding`: charset from HTTP headers for bytes input.
    """
    return finish(extract_paragraphs(html, url=url, source=source, encoding=encoding), state)
