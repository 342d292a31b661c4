"""Non-appeal leftovers of extraction: page-interface lines.

Generic interface strings ("Read more: …", "Share this article", "Tags", "You may also like",
"Lesen Sie auch: …") that the extractor kept as paragraphs, in every lexicon language (the
words are data: `ui_lines` and `teasers` in cleaners/lexicons/). Recorded as structure-layer
removals. (In-page duplicate removal
was measured too and cost recall on WCXB, so it is not done.)
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from .appeals import phrase_rx
from .article import Removal, clip
from .lexicons import lexicons


def _alternation(phrases: Iterable[str]) -> str:
    """Lexicon phrases (lexicons/README.md syntax; a final "..." is a name of up to 30
    characters: "more from ...") as one regex alternation."""
    out = set()
    for p in phrases:
        tail = p.endswith(" ...")
        rx = phrase_rx(p[:-4] if tail else p)
        out.add(rx + (r"\s+[\w.'’ ]{1,30}?" if tail else ""))
    return "|".join(sorted(out, key=len, reverse=True))


# whole line is an interface element, or starts with a teaser prefix; the words come from the
# lexicons (cleaners/lexicons/*.yaml: ui_lines, teasers), every language at once
_LEXICONS = lexicons().values()
UI_LINE = re.compile(
    rf"^(?:{_alternation(p for lex in _LEXICONS for p in lex.ui_lines)})[\s:.!…]*$",
    re.IGNORECASE,
)
TEASER = re.compile(
    rf"^(?:{_alternation(p for lex in _LEXICONS for p in lex.teasers)})\s*[:|»>–-]\s*\S",
    re.IGNORECASE,
)
SHARE_ASK = re.compile(r"^(?:like this (?:story|article)\?|share (?:this|it) with)", re.IGNORECASE)
_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
# short lines that repeat metadata (date, byline, reading time, credits) or page furniture
META_LINE = re.compile(
    r"^(?:(?:last )?(?:updated|published|posted|modified)(?: on)?:?\s*(?:on\s+)?[\w ,.:/-]{0,40}"
    rf"|(?:\w+,? )?(?:{_MONTH} \d{{1,2}},? \d{{4}}|\d{{1,2}}\.? {_MONTH},? \d{{4}})(?:[ ,|-]+[\d:apm. ]+)?"
    r"|\d+ ?(?:min|minute)s?(?: read)?|reading time:?[\w ]{0,15}|[\d,.]+ (?:views|shares|comments)"
    r"|(?:(?:written|reviewed|edited|fact[- ]checked|medically reviewed) )?by(?: [\w.'’ -]{2,40})?(?:\W+\d+ min read)?"
    r"|table of contents|back to (?:blog|news|top|home|articles?|overview)|you are here:?|(?:- )?home"
    r"|(?:image|photo|picture|video|foto|bild)? ?(?:credit|credits|courtesy)"
    r"s?:.{0,100}|(?:photo|image|foto|bild) ?: ?.{0,80})$",
    re.IGNORECASE,
)
# the publisher's own affiliate disclosure (not text *about* affiliate links)
DISCLOSURE = re.compile(
    r"^disclosure:|\b(?:this|our) (?:article|post|page|site|story|content|review|guide)s? (?:contains?|includes?"
    r"|may contain) affiliate links?|\b(?:we|i) (?:may |might |could )?(?:earn|receive|get) (?:a |an )?(?:small )?"
    r"(?:affiliate )?commission|\bmay earn (?:us )?(?:a |an )?(?:small )?(?:affiliate )?commission",
    re.IGNORECASE,
)


def _maybe_disclosure(p: str) -> bool:
    """Every DISCLOSURE alternative contains one of these words (cheap test first)."""
    low = p.lower()
    return "disclosure" in low or "affiliate" in low or "commission" in low


def tidy(paragraphs: list[str]) -> tuple[list[str], list[Removal]]:
    kept: list[str] = []
    removed: list[Removal] = []
    for p in paragraphs:
        if UI_LINE.match(p) or TEASER.match(p) or SHARE_ASK.match(p):
            removed.append(Removal(clip(p), "structure:ui-line", "structure"))
            continue
        if len(p) <= 120 and META_LINE.match(p):
            removed.append(Removal(clip(p), "structure:meta-line", "structure"))
            continue
        if len(p) <= 400 and _maybe_disclosure(p) and DISCLOSURE.search(p):
            removed.append(Removal(clip(p), "structure:disclosure", "structure"))
            continue
        kept.append(p)
    return kept, removed
