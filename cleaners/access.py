"""Free access and truncation (issue #15 item 1): is the stored text the whole article, free to read?

`free_access` is false when the page says it is not (JSON-LD `isAccessibleForFree: false`, on the article or on
one of its `hasPart` elements, as Google's paywalled-content markup puts it), when the structure or text layer
removed a paywall container or a metered-paywall prompt (the rules below, matched on the removals' rule names),
or when the text is truncated. `truncated` is true when the text stops short of what the page declares: fewer
words than TRUNCATED_SHARE of its JSON-LD `wordCount` or of the words of its JSON-LD `articleBody`, or a short
text ending in an ellipsis (a teaser).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from .article import Removal

TRUNCATED_SHARE = 0.6  # a text with fewer words than this share of the declared count stops short
MIN_DECLARED_WORDS = 50  # below this the declared count is too small to compare with
TEASER_WORDS = 150  # a text this short that ends in an ellipsis is a teaser
# rule names of removals that are paywall signals: containers and vendors of paywalls, metered prompts,
# "subscribe to continue reading"; a newsletter or donation box is not one
PAYWALL_RULES = (
    re.compile(r"^structure:token:[\w-]+=(?:paywall|paygate|regwall)$"),
    re.compile(r"^signal:vendor:paywall$"),
    re.compile(r"^appeal:(?:trailing-sentence:)?paywall:"),
    re.compile(r"^appeal:(?:trailing-sentence:)?subscription:\w+:subscribe-to-read$"),
)
_ELLIPSIS = re.compile(r"(?:…|\.\.\.)\W*$")


@dataclass(frozen=True)
class Access:
    free_access: bool
    truncated: bool
    signals: tuple[str, ...]  # why: "ld:not-free", "rule:<name>", "short-of:wordCount", "teaser"


def paywall_rules(removed: Iterable[Removal]) -> list[str]:
    return sorted({r.rule for r in removed if any(p.search(r.rule) for p in PAYWALL_RULES)})


def judge(text: str, removed: Iterable[Removal], declared_free: bool | None, word_count: int | None,
          body_words: int | None) -> Access:  # fmt: skip
    """The access verdict for a cleaned text, its removals and what its JSON-LD declares."""
    words = len(text.split())
    signals = []
    if declared_free is False:
        signals.append("ld:not-free")
    signals += [f"rule:{rule}" for rule in paywall_rules(removed)]
    truncated = False
    for name, declared in (("wordCount", word_count), ("articleBody", body_words)):
        if declared and declared >= MIN_DECLARED_WORDS and words < TRUNCATED_SHARE * declared:
            signals.append(f"short-of:{name}")
            truncated = True
    if words < TEASER_WORDS and _ELLIPSIS.search(text):
        signals.append("teaser")
        truncated = True
    return Access(free_access=not signals, truncated=truncated, signals=tuple(signals))
