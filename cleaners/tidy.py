"""Non-appeal leftovers of extraction: page-interface lines.

Generic interface strings ("Read more: …", "Share this article", "Tags", "You may also like",
"Lesen Sie auch: …") that the extractor kept as paragraphs, in every lexicon language (the
words are data: `ui_lines` and `teasers` in cleaners/lexicons/), and metadata lines, affiliate
disclosures and share pleas (records in cleaners/tidy_rules.yaml). Recorded as structure-layer
removals. (In-page duplicate removal
was measured too and cost recall on WCXB, so it is not done.)
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import yaml

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
RULES_FILE = Path(__file__).with_name("tidy_rules.yaml")
KINDS = {"meta-line": "structure:meta-line", "disclosure": "structure:disclosure", "share-ask": "structure:ui-line"}
_RULE_KEYS = frozenset({"id", "kind", "line", "search", "max_len", "needs", "example"})
_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")


class TidyRulesError(ValueError):
    """tidy_rules.yaml does not follow its format (see the file's header)."""


@dataclass(frozen=True)
class LineRule:
    """One page-furniture rule (a record of tidy_rules.yaml)."""

    id: str
    kind: str
    rx: re.Pattern[str]  # matched against the whole line (`line`) or searched in it (`search`)
    whole: bool
    max_len: int | None
    needs: tuple[str, ...]
    example: str

    def removes(self, p: str) -> bool:
        if self.max_len is not None and len(p) > self.max_len:
            return False
        if self.needs:
            low = p.lower()
            if not any(w in low for w in self.needs):
                return False
        return (self.rx.fullmatch(p) if self.whole else self.rx.search(p)) is not None


def load_rules(path: Path = RULES_FILE) -> tuple[tuple[LineRule, ...], tuple[str, ...]]:
    """(the rules, the content lines they must keep) of a tidy-rules file, validated."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or set(data) - {"vars", "rules", "keep"}:
        raise TidyRulesError(f"{path.name}: a mapping of vars, rules and keep")
    names = data.get("vars") or {}
    rules: list[LineRule] = []
    for rec in data.get("rules") or []:
        if not isinstance(rec, dict) or set(rec) - _RULE_KEYS or not {"id", "kind", "example"} <= set(rec):
            raise TidyRulesError(f"{path.name}: a rule needs id, kind, example and one of line/search: {rec!r}")
        rid = str(rec["id"])
        if not _ID.match(rid) or rid in {r.id for r in rules}:
            raise TidyRulesError(f"{path.name}: rule id {rid!r}: unique, lower-case letters, digits and '-'")
        if rec["kind"] not in KINDS:
            raise TidyRulesError(f"{path.name}: {rid}: kind {rec['kind']!r} not one of {sorted(KINDS)}")
        if ("line" in rec) == ("search" in rec):
            raise TidyRulesError(f"{path.name}: {rid}: exactly one of line and search")
        pattern = str(rec.get("line", rec.get("search")))
        for name, value in names.items():
            pattern = pattern.replace("{" + name + "}", value)
        try:
            rx = re.compile(pattern, re.IGNORECASE)
        except re.error as err:
            raise TidyRulesError(f"{path.name}: {rid}: bad expression: {err}") from None
        needs = rec.get("needs") or []
        if not isinstance(needs, list) or not all(isinstance(w, str) and w for w in needs):
            raise TidyRulesError(f"{path.name}: {rid}: needs is a list of words")
        max_len = rec.get("max_len")
        if max_len is not None and not (isinstance(max_len, int) and max_len > 0):
            raise TidyRulesError(f"{path.name}: {rid}: max_len is a positive integer")
        rules.append(
            LineRule(rid, rec["kind"], rx, "line" in rec, max_len, tuple(w.lower() for w in needs), rec["example"])
        )
    keep = data.get("keep") or []
    if not all(isinstance(k, str) for k in keep):
        raise TidyRulesError(f"{path.name}: keep is a list of lines")
    return tuple(rules), tuple(keep)


RULES, KEEP = load_rules()


def tidy(paragraphs: list[str]) -> tuple[list[str], list[Removal]]:
    kept: list[str] = []
    removed: list[Removal] = []
    for p in paragraphs:
        if UI_LINE.match(p) or TEASER.match(p):
            removed.append(Removal(clip(p), "structure:ui-line", "structure"))
            continue
        rule = next((r for r in RULES if r.removes(p)), None)
        if rule is not None:
            removed.append(Removal(clip(p), KINDS[rule.kind], "structure"))
            continue
        kept.append(p)
    return kept, removed
