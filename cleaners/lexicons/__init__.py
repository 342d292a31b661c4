"""The text layer's lexicons: one data file per language (`<lang>.yaml`), loaded into records.

Every appeal rule is one `Rule` record (id, family, language, phrases or words, weight); the
matching code in `cleaners.appeals` is generic and derived from these records, so adding a
language means adding one file (see README.md in this folder for the format and the phrase
syntax). Files are validated when loaded: unknown keys, unknown families, bad phrases and
duplicate rule ids are errors, not silent gaps.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import yaml

HERE = Path(__file__).parent

# Phrase families: what a matching phrase says about the paragraph, and its default weight.
ASK_WEIGHTS = {
    "cta": 3,  # a call to support, donate, join, become a member
    "subscription": 3,  # subscribe to read, for subscribers only, already a subscriber
    "newsletter": 3,  # newsletter and e-mail sign-up
    "app": 3,  # app-download prompts
    "podcast": 3,  # podcast promotion
    "social": 3,  # follow us on ...
    "paywall": 4,  # metered-paywall counters ("3 of 5 free articles")
    "adblock": 4,  # ad-blocker pleas
}
PHRASE_WEIGHTS = {
    **ASK_WEIGHTS,
    "imperative": 1,  # an appeal verb opening a sentence; 2 next to first person plural
    "reported": -2,  # reported speech: news reports what others say
    "opener": 0,  # "A message from ...", "Dear readers": starts a block
}
WORD_WEIGHTS = {"reader": 1, "we": 1, "topic": 1}
INFLECTED = tuple(ASK_WEIGHTS)  # families whose phrases `inflect` turns into stems (not the verb lists)
FAMILIES = (*PHRASE_WEIGHTS, *WORD_WEIGHTS, "money", "dismiss", "close")
SCRIPTS = ("latin", "cyrillic", "greek", "arabic", "hebrew", "cjk")  # cjk: no spaces between words

_LIST_KEYS = (
    "reader", "we", "topic", "please", "currency", "period", "reported", "openers", "dismiss", "close",
    "ui_lines", "teasers", "imperative", "proclitics",
)  # fmt: skip
_KEYS = frozenset({"language", "script", "rules", "tokens", "inflect", *_LIST_KEYS})
_INFLECT_KEYS = frozenset({"min", "cut"})
_LETTERS = re.compile(r"^[^\W\d_]+$")


def inflect_phrase(phrase: str, min_len: int, cut: int) -> str:
    """`phrase` with every plain word of at least `min_len` letters after the first turned into a
    stem that drops its last `cut` letters (`рассылку` -> `рассылк*`): one written form of an
    object then matches its other cases in an inflected language. The first word (the verb of a
    call to action, written in the forms meant: `поддержать` must not take `поддержание`), words
    in multi-word alternatives, stems and signs stay as written."""
    out = []
    for i, tok in enumerate(phrase.split(" ")):
        if tok in ("...", "#") or i == 0:
            out.append(tok)
            continue
        opt = "?" if tok.endswith("?") else ""
        alts = tok.removesuffix("?").split("|")
        alts = [a[:-cut] + "*" if _LETTERS.match(a) and len(a) >= min_len else a for a in alts]
        out.append("|".join(dict.fromkeys(alts)) + opt)
    return " ".join(out)


_RULE_KEYS = frozenset({"id", "family", "match", "weight"})
_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")
KEY_LEN = 3  # keyword gating indexes words by their first KEY_LEN characters


class LexiconError(ValueError):
    """A lexicon file that does not follow the format."""


@dataclass(frozen=True)
class Rule:
    """One appeal rule. `match`: phrases (see README.md); `words`: a word list (`*` = stem)."""

    id: str  # appeal:<family>:<language>[:<name>]
    family: str
    lang: str
    match: tuple[str, ...] = ()
    words: tuple[str, ...] = ()
    weight: int = 0


@dataclass(frozen=True)
class Lexicon:
    lang: str
    script: str
    rules: tuple[Rule, ...]
    please: tuple[str, ...] = ()
    proclitics: tuple[str, ...] = ()  # attached particles stripped before matching words (Arabic)
    ui_lines: tuple[str, ...] = ()  # tidy: whole lines that are page interface
    teasers: tuple[str, ...] = ()  # tidy: "Read more: ..." prefixes
    tokens: dict[str, tuple[str, ...]] = field(default_factory=dict)  # structure: class/id tokens

    @property
    def cjk(self) -> bool:
        return self.script == "cjk"


def _strs(path: Path, key: str, value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise LexiconError(f"{path.name}: {key} must be a list of non-empty strings")
    return tuple(v.strip() for v in value)


def check_phrase(phrase: str, cjk: bool) -> None:
    """Raise LexiconError if `phrase` is not valid phrase syntax."""
    toks = phrase.split(" ")
    if not phrase or any(not t for t in toks):
        raise LexiconError(f"bad phrase {phrase!r}: empty token (double space?)")
    if toks[0] == "..." or toks[-1] == "...":
        raise LexiconError(f"bad phrase {phrase!r}: a gap needs words on both sides")
    for t in toks:
        if t in ("...", "#"):
            continue
        for alt in t.rstrip("?").split("|"):
            stem = alt.rstrip("*")
            if not stem:
                raise LexiconError(f"bad phrase {phrase!r}: empty alternative")
            if "?" in alt:  # not a regular expression: "favou?r" would only match itself
                raise LexiconError(f"bad phrase {phrase!r}: '?' only ends a word (optional word), in {alt!r}")
            if alt.endswith("*") and not cjk and len(stem) < KEY_LEN:
                raise LexiconError(f"bad phrase {phrase!r}: stem {alt!r} shorter than {KEY_LEN} characters")


def _load(path: Path) -> Lexicon:
    data = yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    if not isinstance(data, dict):
        raise LexiconError(f"{path.name}: not a mapping")
    unknown = set(data) - _KEYS
    if unknown:
        raise LexiconError(f"{path.name}: unknown keys {sorted(unknown)}")
    lang = data.get("language")
    if lang != path.stem:
        raise LexiconError(f"{path.name}: language {lang!r} does not match the file name")
    script = data.get("script", "latin")
    if script not in SCRIPTS:
        raise LexiconError(f"{path.name}: script {script!r} not one of {SCRIPTS}")
    cjk = script == "cjk"
    lists = {k: _strs(path, k, data[k]) for k in _LIST_KEYS if k in data}
    rules: list[Rule] = []
    inflect = data.get("inflect")
    if inflect is not None:
        if (
            not isinstance(inflect, dict)
            or set(inflect) != _INFLECT_KEYS
            or not all(isinstance(v, int) and v > 0 for v in inflect.values())
            or inflect["min"] - inflect["cut"] < KEY_LEN + 1
        ):
            raise LexiconError(f"{path.name}: inflect needs min and cut (positive integers, min - cut > {KEY_LEN})")

    def add(family: str, name: str | None, match: tuple[str, ...] = (), words: tuple[str, ...] = (), weight=None):
        for phrase in match:
            try:
                check_phrase(phrase, cjk)
            except LexiconError as err:
                raise LexiconError(f"{path.name}: {family}:{name}: {err}") from None
        if inflect and family in INFLECTED and not cjk:
            match = tuple(inflect_phrase(p, inflect["min"], inflect["cut"]) for p in match)
        if weight is None:
            weight = PHRASE_WEIGHTS.get(family, WORD_WEIGHTS.get(family, 0))
        rid = f"appeal:{family}:{lang}" + (f":{name}" if name else "")
        rules.append(Rule(rid, family, lang, match, words, int(weight)))

    for family in WORD_WEIGHTS:
        if family in lists:
            add(family, None, words=lists[family])
    if "currency" in lists or "period" in lists:
        if not ("currency" in lists and "period" in lists):
            raise LexiconError(f"{path.name}: currency and period go together")
        add("money", None, match=lists["period"], words=lists["currency"], weight=2)
    for family, key in (("reported", "reported"), ("opener", "openers"), ("imperative", "imperative")):
        if key in lists:
            add(family, None, match=lists[key])
    for family in ("dismiss", "close"):
        if family in lists:
            add(family, None, words=lists[family])
    for rec in data.get("rules") or []:
        if not isinstance(rec, dict) or set(rec) - _RULE_KEYS or not {"id", "family", "match"} <= set(rec):
            raise LexiconError(f"{path.name}: a rule needs id, family, match (and may have weight): {rec!r}")
        if rec["family"] not in ASK_WEIGHTS:
            raise LexiconError(f"{path.name}: rule {rec['id']}: family {rec['family']!r} not in {list(ASK_WEIGHTS)}")
        if not _ID.match(str(rec["id"])):
            raise LexiconError(f"{path.name}: rule id {rec['id']!r}: lower-case letters, digits and '-'")
        add(rec["family"], str(rec["id"]), match=_strs(path, rec["id"], rec["match"]), weight=rec.get("weight"))
    ids = [r.id for r in rules]
    if len(ids) != len(set(ids)):
        raise LexiconError(f"{path.name}: duplicate rule ids {sorted({i for i in ids if ids.count(i) > 1})}")
    tokens = data.get("tokens") or {}
    if set(tokens) - {"strong", "weak"}:
        raise LexiconError(f"{path.name}: tokens has only 'strong' and 'weak'")
    return Lexicon(
        lang=lang,
        script=script,
        rules=tuple(rules),
        please=lists.get("please", ()),
        proclitics=lists.get("proclitics", ()),
        ui_lines=lists.get("ui_lines", ()),
        teasers=lists.get("teasers", ()),
        tokens={k: tuple(t.lower() for t in _strs(path, f"tokens.{k}", v)) for k, v in tokens.items()},
    )


@cache
def lexicons() -> dict[str, Lexicon]:
    """Every lexicon in this folder, by language code (loaded once)."""
    return {p.stem: _load(p) for p in sorted(HERE.glob("*.yaml"))}


def languages() -> tuple[str, ...]:
    return tuple(lexicons())


def all_rules() -> tuple[Rule, ...]:
    return tuple(r for lex in lexicons().values() for r in lex.rules)


def attribute_tokens() -> tuple[frozenset[str], frozenset[str]]:
    """(strong, weak) class/id tokens of appeal containers, over all languages (structure layer)."""
    strong = {t for lex in lexicons().values() for t in lex.tokens.get("strong", ())}
    weak = {t for lex in lexicons().values() for t in lex.tokens.get("weak", ())} - strong
    return frozenset(strong), frozenset(weak)
