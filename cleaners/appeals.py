"""Layer 2: paragraph-level appeal detector that works on plain text, in every lexicon language.

The rules are data (`cleaners/lexicons/<lang>.yaml`, loaded as `Rule` records); this module
compiles the records of the languages in play into one `Matcher` and scores paragraphs with it.

Each paragraph gets a score from independent signals: an appeal phrase (call to action,
subscription, newsletter, paywall counter, ad-blocker plea, app or podcast promotion), an
imperative appeal verb opening a sentence, money per period, the reader addressed, the publisher
speaking as "we", appeal topic words; minus reported speech (news says what others said). No
single keyword is enough: topic words alone ("donations", "newsletter") add one point, so a
third-person news sentence that mentions them stays, and quoted speech with a reporting verb
never counts as an appeal on its own. Blocks are handled on top of the scores: an opener
("A message from ...:", "Dear readers") takes everything up to its dismiss line ("Remind me
later", "Not now"), and a strong appeal paragraph pulls in adjacent weaker appeal paragraphs.

Keyword gating: every phrase is indexed by the first characters of a word it cannot match
without, and also needs a word of each of its other tokens, so a paragraph only pays for the few
regular expressions whose words it contains.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache, lru_cache

from .article import Removal, clip
from .lexicons import ASK_WEIGHTS, KEY_LEN, Lexicon, Rule, lexicons

THRESHOLD = 4  # score at which a paragraph alone is an appeal
WEAK = 2  # some appeal signal
ADJACENT = 3  # score at which a paragraph joins an adjacent appeal
MAX_BLOCK = 20  # an opener looks this many paragraphs ahead for its dismiss line
OPENER_REACH = 8  # ...and this many for its last appeal paragraph when there is no dismiss line
FALLBACK = ("en",)  # lexicons used beside the article's language (and alone when it is unknown)

_I = re.IGNORECASE
_WORD = re.compile(r"\w+")
_KEY_OF = operator.itemgetter(slice(None, KEY_LEN))  # a word's gating key (see `key`), mapped in C
_DIGIT = re.compile(r"\d")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff\uff66-\uff9f]")
_SEP = r"\W{0,3}"  # between the words of a phrase (word boundaries keep words apart)
_GAP = r"(?:[^.!?。！？\n]{0,40}?\W)?"  # "...": up to 40 characters, inside the sentence
_SEP_CJK = r"\s*"
_GAP_CJK = r"[^。！？\n]{0,30}?"
# Language-independent currency signs and codes; the lexicons add their currency words.
_CURRENCY_SIGNS = ("$", "€", "£", "¥", "₽", "₴", "₺", "₹", "₩", "₪", "R$", "US$", "CHF", "EUR", "USD", "GBP")


def key(word: str) -> str:
    """The gating key of a (lower-case) word: its first KEY_LEN characters."""
    return word[:KEY_LEN]


# --- phrases -> regular expressions and gates --------------------------------------------


def _esc(word: str) -> str:
    return re.escape(word.replace("’", "'")).replace("'", "['’]")


def _alt_rx(alt: str, cjk: bool, lead: bool = True) -> str:
    stem = alt.rstrip("*").lower()
    sep = _SEP_CJK if cjk else _SEP
    body = sep.join(_esc(w) for w in stem.split("_"))
    if cjk:
        return body
    # word boundaries only where the alternative starts or ends with a word character; without
    # `lead` the caller checks the left one (a pattern that starts with a literal searches ~50x faster)
    start = r"(?<!\w)" if lead and _WORD.match(stem) else ""
    if alt.endswith("*"):
        end = r"\w*"
    else:
        end = r"(?!\w)" if _WORD.match(stem[-1]) else ""
    return start + body + end


def _token_rx(tok: str, cjk: bool, clitic: str, lead: bool = True) -> str:
    if tok == "#":
        return r"\d+(?:[.,]\d+)?"
    alts = tok.rstrip("?").split("|")
    if len(alts) == 1 and not clitic:
        return _alt_rx(alts[0], cjk, lead)
    # with a proclitic the boundary goes before it (a lookbehind between it and the word would never match)
    inner = "|".join(_alt_rx(a, cjk, lead and not clitic) for a in alts)
    if cjk or not clitic:
        return f"(?:{inner})"
    return rf"(?<!\w){clitic}(?:{inner})" if lead else rf"{clitic}(?:{inner})"


def expand(phrase: str) -> list[str]:
    """The phrase as variants whose first word is one literal alternative (each is indexed and
    searched on its own: a pattern starting with a literal is found fast)."""
    toks = phrase.split(" ")
    first, rest = toks[0], toks[1:]
    if first == "#":
        return [phrase]
    if first.endswith("?") and rest:
        out = expand(" ".join(rest)) if rest[0] != "..." else []
        return out + [" ".join([alt, *rest]) for alt in first[:-1].split("|")]
    return [" ".join([alt, *rest]) for alt in first.split("|")]


def phrase_rx(phrase: str, cjk: bool = False, proclitics: Sequence[str] = (), lead: bool = True) -> str:
    """The regular expression of a phrase (syntax: lexicons/README.md), for lower-case text.
    `lead=False`: no word-boundary test before the first word (the caller makes it)."""
    clitic = f"(?:{'|'.join(map(re.escape, sorted(proclitics, key=len, reverse=True)))})?" if proclitics else ""
    sep, gap = (_SEP_CJK, _GAP_CJK) if cjk else (_SEP, _GAP)
    toks = phrase.split(" ")
    out: list[str] = []
    for i, tok in enumerate(toks):
        if tok == "...":
            out.append(gap)
            continue
        rx = _token_rx(tok, cjk, clitic, lead or i > 0)
        last = i == len(toks) - 1
        if tok.endswith("?") and tok != "?":
            if not last:
                out.append(f"(?:{rx}{sep})?")
            continue
        out.append(rx if last else rx + sep)
    return "".join(out)


def phrase_gates(phrase: str, cjk: bool = False) -> tuple[frozenset[str], ...]:
    """For each word token the phrase cannot match without: the keys (or, in cjk, the literal
    strings) of its alternatives. A text lacking all keys of one group cannot match."""
    groups = []
    for tok in phrase.split(" "):
        if tok in ("...", "#") or tok.endswith("?"):
            continue
        keys = set()
        for alt in tok.split("|"):
            stem = alt.rstrip("*").lower()
            if cjk:
                keys.add(stem.split("_")[0])
                continue
            # every run of word characters in the alternative is a word (or a word's start) of
            # any text it matches: gate on the longest
            runs = _WORD.findall(stem.replace("_", " "))
            if not runs:  # only signs ("/"): cannot gate on words
                keys = set()
                break
            keys.add(key(max(runs, key=len)))
        if keys:
            groups.append(frozenset(keys))
    return tuple(groups)


def _gate_words(phrase: str) -> list[tuple[tuple[str, bool], ...]]:
    """phrase_gates' groups (not cjk) as (longest word run, is a stem) per alternative."""
    groups = []
    for tok in phrase.split(" "):
        if tok in ("...", "#") or tok.endswith("?"):
            continue
        group = []
        for alt in tok.split("|"):
            runs = _WORD.findall(alt.rstrip("*").lower().replace("_", " "))
            if not runs:
                group = []
                break
            run = max(runs, key=len)
            group.append((run, alt.endswith("*") and run == runs[-1]))
        if group:
            groups.append(tuple(group))
    return groups


def _first_words(alts: Sequence[str]) -> frozenset[str] | None:
    """The whole words a text matching one of `alts` must hold where the alternative starts:
    `log_in` is "log" ("log in") or "login" (no separator); None when an alternative is a stem
    or holds a sign (no such word to name)."""
    out: set[str] = set()
    for alt in alts:
        parts = alt.split("_")
        if alt.endswith("*") or not all(_WORD.fullmatch(x) for x in parts):
            return None
        out.update("".join(parts[:i]) for i in range(1, len(parts) + 1))
    return frozenset(out)


def _gate_alternatives(phrase: str) -> list[tuple[str, ...]]:
    """The alternatives (lower case, as written) of each group `_gate_words` returns."""
    groups = []
    for tok in phrase.split(" "):
        if tok in ("...", "#") or tok.endswith("?"):
            continue
        alts = tuple(a.lower() for a in tok.split("|"))
        if all(_WORD.search(a.rstrip("*").replace("_", " ")) for a in alts):
            groups.append(alts)
    return groups


# --- the compiled rules of a set of languages -------------------------------------------


@dataclass(frozen=True)
class Entry:
    """One phrase of one rule, compiled."""

    rule: Rule
    rx: re.Pattern[str]  # searched in the lower-case text
    gates: tuple[frozenset[str], ...]  # the first is the index group
    cjk: bool
    lead: bool = False  # the match must start at a word boundary (tested after the search)
    please: tuple[str, ...] | None = None  # imperative: must open a sentence, maybe after one of these
    words: tuple[tuple[str, bool], ...] = ()  # the first word's alternatives, whole (is a stem)

    # the words one of which any text this matches holds whole (see `_first_words`), when the
    # index group names them: the entry is then indexed under these words, not under keys
    whole: frozenset[str] | None = None

    @property
    def rest(self) -> tuple[frozenset[str], ...]:
        return self.gates[1:]

    def found(self, low: str) -> bool:
        m = self.rx.search(low)
        while m is not None:
            i = m.start()
            if (not self.lead or i == 0 or _W1.match(low, i - 1) is None) and (
                self.please is None or _opens_sentence(low, i, self.please)
            ):
                return True
            m = self.rx.search(low, i + 1)
        return False


_W1 = re.compile(r"\w")
_ENDS = ".!?:;。！？"


def _opens_sentence(low: str, i: int, please: tuple[str, ...]) -> bool:
    """Whether position i of `low` opens a sentence, possibly after a `please` word."""
    head = low[:i].rstrip(" \t,")
    for p in please:
        if head.endswith(p) and (len(head) == len(p) or not head[-len(p) - 1].isalnum()):
            head = head[: -len(p)].rstrip()
            break
    return not head or head[-1] in _ENDS


class Words:
    """The word-list rules (reader, we, topic) of some languages in one index: exact words,
    stems (`abo*`), suffixes (`*كم`), case-sensitive words (`=Sie`), and for cjk languages
    substrings. One pass over a paragraph's words answers all three families."""

    FAMILIES = ("reader", "we", "topic")

    def __init__(self) -> None:
        self.exact: dict[str, list[tuple[str, str]]] = {}  # word -> [(family, rule id)]
        self.stems: dict[str, list[tuple[str, str, str]]] = {}  # key -> [(stem, family, rule id)]
        self.suffixes: list[tuple[str, str, str]] = []
        self.cased: dict[str, list[tuple[str, str]]] = {}
        self.substrings: list[tuple[str, str, str]] = []

    def add(self, rule: Rule, cjk: bool) -> None:
        for w in rule.words:
            hit = (rule.family, rule.id)
            if cjk:
                self.substrings.append((w.lower(), *hit))
            elif w.startswith("="):
                self.cased.setdefault(w[1:], []).append(hit)
            elif w.startswith("*"):
                self.suffixes.append((w[1:].lower(), *hit))
            elif w.endswith("*"):
                stem = w[:-1].lower()
                self.stems.setdefault(stem[:KEY_LEN], []).append((stem, *hit))
            else:
                self.exact.setdefault(w.lower(), []).append(hit)
        self.ends = tuple(x for x, _, _ in self.suffixes)

    def find(self, s: str, low: str, words: set[str], keys: set[str], cjk_text: bool) -> dict[str, str]:
        """{family: rule id} of the families with a word in the text (`keys`: the words' keys).
        Words written in capitals in a mixed-case text ("US") are acronyms, not pronouns."""
        found: dict[str, list[tuple[str, str]]] = {}  # family -> [(word, rule id)]
        for w in words & self.exact.keys():
            for fam, rid in self.exact[w]:
                found.setdefault(fam, []).append((w, rid))
        for k in keys & self.stems.keys():
            pairs = self.stems[k]
            for w in words:
                if w.startswith(k):
                    for stem, fam, rid in pairs:
                        if w.startswith(stem):
                            found.setdefault(fam, []).append((w, rid))
        if self.ends:
            for w in words:
                if w.endswith(self.ends):
                    for x, fam, rid in self.suffixes:
                        if w.endswith(x) and len(w) > len(x) + 1:
                            found.setdefault(fam, []).append((w, rid))
        out: dict[str, str] = {}
        if found:
            # a family counts when one of its words is not an acronym ("The US and our allies": "our"); the
            # first word in alphabetical order names the rule, the same in every process (sets are hash-ordered)
            maybe = any(len(w) > 1 and w.upper() in s for hits in found.values() for w, _ in hits)
            acronyms = {w.lower() for w in _WORD.findall(s) if w.isupper() and len(w) > 1} if maybe else ()
            mixed = (
                {w.lower() for w in _WORD.findall(s) if not (w.isupper() and len(w) > 1)}
                if acronyms and not s.isupper()
                else None
            )
            for fam, hits in found.items():
                ok = [h for h in hits if mixed is None or h[0] not in acronyms or h[0] in mixed]
                if ok:
                    out[fam] = min(ok)[1]
        if self.cased:
            for w in set(_WORD.findall(s)) & self.cased.keys():
                for fam, rid in self.cased[w]:
                    out.setdefault(fam, rid)
        if cjk_text:
            for sub, fam, rid in self.substrings:
                if fam not in out and sub in low:
                    out[fam] = rid
        return out


class _Compiled:
    """One language's rules compiled (once per process, see `_compiled`)."""

    def __init__(self, lex: Lexicon) -> None:
        self.lex = lex
        self.entries: list[Entry] = []
        self.money = [_money(r, lex) for r in lex.rules if r.family == "money"]
        self.word_rules = [r for r in lex.rules if r.family in Words.FAMILIES]
        please = tuple(p.lower().replace("_", " ") for p in lex.please)
        pronouns = (w.strip("=*").lower() for r in lex.rules if r.family in ("reader", "we") for w in r.words)
        self.common = frozenset(w[:KEY_LEN] for w in pronouns if w)  # poor index keys: in most sentences
        for rule in lex.rules:
            if rule.family in (*Words.FAMILIES, "money", "opener", "dismiss", "close"):
                continue
            for phrase in rule.match:
                for variant in expand(phrase):
                    gates = phrase_gates(variant, lex.cjk)
                    if not gates and not lex.cjk:
                        raise ValueError(f"{rule.id}: phrase {variant!r} has no word to gate on")
                    lead = not lex.cjk and _WORD.match(variant) is not None
                    rx = re.compile(phrase_rx(variant, lex.cjk, lex.proclitics, lead=False))
                    imperative = please if rule.family == "imperative" else None
                    groups = [] if lex.cjk else _gate_words(variant)
                    words = groups[0] if groups else ()
                    whole = None
                    if not lex.cjk:  # index under the most selective word: long, not a pronoun
                        common = self.common
                        best = min(gates, key=lambda g: (not g.isdisjoint(common), -min(map(len, g)), len(g)))
                        i = gates.index(best)
                        if not lex.proclitics:
                            whole = _first_words(_gate_alternatives(variant)[i])
                        gates = (best, *(g for g in gates if g is not best))
                    self.entries.append(Entry(rule, rx, gates, lex.cjk, lead, imperative, words, whole))


@cache
def _compiled(lang: str) -> _Compiled:
    return _Compiled(lexicons()[lang])


class _Edges:
    """Block edges from every lexicon: openers and dismiss lines are whole short lines in fixed
    words, and an appeal box is often in another language than the article."""

    def __init__(self) -> None:
        openers: list[str] = []
        self.opener_ids: list[str] = []
        # the opener variants by the key of their first word (an opener opens its line: only the
        # line's first word's few variants are tried, not one alternation of all ~100);
        # `opener_any`: those without a first word to key on (particles, cjk), tried on every line
        by_key: dict[str, list[tuple[int, re.Pattern[str]]]] = {}
        self.opener_any: list[tuple[int, re.Pattern[str]]] = []
        self.opener_keys: set[str] = set()  # an opener line holds one of these (its first required word)
        self.opener_cjk = False
        self.dismiss: dict[str, str] = {}
        self.close: set[str] = set()
        for lex in lexicons().values():
            for rule in lex.rules:
                if rule.family == "opener":
                    for p in rule.match:
                        openers.append(phrase_rx(p, lex.cjk, lex.proclitics))
                        self.opener_ids.append(rule.id)
                        for v in expand(p):
                            rx = (len(openers) - 1, re.compile(r"\W*(?:" + phrase_rx(v, lex.cjk, lex.proclitics) + ")"))
                            first = _WORD.search(v.split(" ")[0].replace("_", " ").lower())
                            if lex.cjk or lex.proclitics or first is None or v.startswith("#"):
                                self.opener_any.append(rx)
                            else:
                                by_key.setdefault(key(first.group()), []).append(rx)
                        gates = phrase_gates(p, lex.cjk)
                        if lex.cjk:
                            self.opener_cjk = True
                        elif gates:
                            self.opener_keys |= gates[0]
                elif rule.family in ("dismiss", "close"):
                    for w in rule.words:
                        self.dismiss.setdefault(dismiss_key(w), rule.id)
                        if rule.family == "close":
                            self.close.add(dismiss_key(w))
        self.opener = re.compile(r"\W*(?:" + "|".join(f"({o})" for o in openers) + ")") if openers else None
        self.opener_by_key = {k: sorted([*v, *self.opener_any], key=lambda x: x[0]) for k, v in by_key.items()}

    def match_opener(self, low: str) -> str | None:
        """Id of the first opener (in lexicon order) that opens the lower-case line `low`."""
        first = _WORD.search(low)
        tries = self.opener_by_key.get(key(first.group()), self.opener_any) if first is not None else self.opener_any
        for i, rx in tries:
            if rx.match(low) is not None:
                return self.opener_ids[i]
        return None


@lru_cache(maxsize=1)
def _edges() -> _Edges:
    return _Edges()


class Matcher:
    """The rules of some languages, merged from their compiled forms (see `matcher`)."""

    def __init__(self, langs: tuple[str, ...]) -> None:
        parts = [_compiled(lang) for lang in langs]
        self.langs = langs
        self.index: dict[str, list[Entry]] = {}  # key -> entries (stems, signs, particles)
        self.windex: dict[str, list[Entry]] = {}  # whole word -> entries (most entries)
        self.cjk_entries: list[Entry] = []
        # the words appeal phrases are indexed under, whole (stems apart), with their languages
        self.ask_words: dict[str, frozenset[str]] = {}
        self.ask_stems: dict[str, list[tuple[str, str]]] = {}
        self.words = Words()
        self.proclitics = tuple(sorted({c for p in parts for c in p.lex.proclitics}, key=len, reverse=True))
        self.clitic_firsts = frozenset(c[0] for c in self.proclitics)
        self.has_cjk = any(p.lex.cjk for p in parts)
        self.money = [m for p in parts for m in p.money]
        edges = _edges()
        self.opener, self.opener_ids, self.opener_keys = edges.opener, edges.opener_ids, edges.opener_keys
        self.opener_cjk, self.dismiss, self.close = edges.opener_cjk, edges.dismiss, edges.close
        for part in parts:
            for rule in part.word_rules:
                self.words.add(rule, part.lex.cjk)
            for e in part.entries:
                if e.cjk:
                    self.cjk_entries.append(e)
                    continue
                if e.whole is not None:
                    for w in e.whole:
                        self.windex.setdefault(w, []).append(e)
                else:
                    for k in e.gates[0]:
                        self.index.setdefault(k, []).append(e)
                if e.rule.family in ASK_WEIGHTS or e.rule.family == "imperative":  # the first word, whole
                    for word, stem in e.words:
                        if stem:
                            self.ask_stems.setdefault(word[:KEY_LEN], []).append((word, e.rule.lang))
                        else:
                            self.ask_words[word] = self.ask_words.get(word, frozenset()) | {e.rule.lang}

    def keys(self, words: frozenset[str], keys: frozenset[str] | None = None) -> frozenset[str]:
        """The gating keys of a paragraph's words (and of its words without a proclitic)."""
        keys = frozenset({w[:KEY_LEN] for w in words}) if keys is None else keys
        if self.proclitics:
            keys = set(keys)
            firsts = self.clitic_firsts
            for w in words:
                if w[0] in firsts:
                    for c in self.proclitics:
                        if w.startswith(c) and len(w) > len(c) + 1:
                            keys.add(w[len(c) : len(c) + KEY_LEN])
            keys = frozenset(keys)
        return keys

    def ask_languages(self, words: frozenset[str], keys: frozenset[str] | None = None) -> set[str]:
        """Languages with an appeal phrase indexed under one of `words` (the words themselves,
        not their keys: a cheap and selective test)."""
        out: set[str] = set()
        for w in words & self.ask_words.keys():
            out |= self.ask_words[w]
        if keys is None or not keys.isdisjoint(self.ask_stems.keys()):
            for w in words:
                pairs = self.ask_stems.get(w[:KEY_LEN])
                if pairs is not None:
                    out.update(lang for stem, lang in pairs if w.startswith(stem))
        return out

    def fired(
        self, s: str, low: str, keys: set[str], cjk_text: bool, words: frozenset[str] | None = None
    ) -> list[Rule]:
        """The phrase rules (every family but words and money) that match `s` (`words`: its
        words, when known, spare the searches of phrases whose index word is not among them)."""
        if words is None:
            words = frozenset(_WORD.findall(low))
        seen: set[int] = set()
        done: set[str] = set()  # ids of the rules found (a rule's other phrases need no search)
        out: list[Rule] = []
        by_word, by_key = words & self.windex.keys(), keys & self.index.keys()
        if not (by_word or by_key or cjk_text):
            return []
        candidates: list[Entry] = []
        for w in by_word:
            candidates += self.windex[w]
        for k in by_key:
            candidates += self.index[k]
        if cjk_text:
            candidates += self.cjk_entries
        for e in candidates:
            rid = e.rule.id
            if rid in done or id(e) in seen:
                continue
            seen.add(id(e))
            if e.cjk:
                if not all(any(g in low for g in group) for group in e.gates):
                    continue
            elif any(keys.isdisjoint(group) for group in e.rest):
                continue
            if e.found(low):
                done.add(rid)
                out.append(e.rule)
        out.sort(key=lambda r: r.id)  # the same order in every process (sets iterate in hash order)
        return out

    def money_rule(self, s: str, low: str, keys: set[str]) -> str | None:
        """Id of the money rule whose amount-per-period pattern is in `s` (`keys`: its words' keys)."""
        if _DIGIT.search(s) is None:
            return None
        for rid, rx, signs, word_keys, period_keys in self.money:
            if (
                (period_keys is None or not keys.isdisjoint(period_keys))
                and (not keys.isdisjoint(word_keys) or signs.search(low) is not None)
                and rx.search(low) is not None
            ):
                return rid
        return None


def _money(
    rule: Rule, lex: Lexicon
) -> tuple[str, re.Pattern[str], re.Pattern[str], frozenset[str], frozenset[str] | None]:
    """An amount (currency sign, code or one of the language's currency words) close to one of
    its periods, in either order."""
    signs = sorted({c.lower() for c in _CURRENCY_SIGNS}, key=len, reverse=True)
    words = sorted({w.rstrip("*").lower() for w in rule.words}, key=len, reverse=True)
    bound = "" if lex.cjk else r"(?<!\w)"
    cur = "|".join([*map(re.escape, signs), *(rf"{bound}{re.escape(w)}" for w in words)])
    amount = rf"(?:(?:{cur})\s?\d[\d.,]*|\d[\d.,]*\s?(?:{cur}))"
    period = "|".join(phrase_rx(p, lex.cjk, lex.proclitics) for p in rule.match)
    rx = re.compile(rf"{amount}[^\n]{{0,25}}?(?:{period})|(?:{period})[^\n]{{0,15}}?{amount}")
    # gates: a currency sign (or a currency word of a cjk language) in the text, or a currency word's key
    literal = {*signs, *(words if lex.cjk else (w for w in words if not _WORD.fullmatch(w)))}
    keyed = frozenset() if lex.cjk else frozenset(w[:KEY_LEN] for w in words if _WORD.fullmatch(w))
    signs_rx = re.compile("|".join(map(re.escape, sorted(literal, key=len, reverse=True))))
    # and a period: the keys of a word each period phrase needs (None: a phrase with none to key on)
    firsts = [phrase_gates(p, lex.cjk) for p in rule.match]
    period_keys = None if lex.cjk or not all(firsts) else frozenset().union(*(g[0] for g in firsts))
    return rule.id, rx, signs_rx, keyed, period_keys


@lru_cache(maxsize=64)
def matcher(langs: tuple[str, ...] | None = None) -> Matcher:
    """The compiled rules of `langs` (None: every lexicon)."""
    known = lexicons()
    if langs is None:
        return Matcher(tuple(known))
    return Matcher(tuple(sorted({lang for lang in langs if lang in known})))


def languages_for(langs: Iterable[str] | None) -> tuple[str, ...] | None:
    """The lexicons used for an article in `langs`: those languages plus FALLBACK."""
    if langs is None:
        return None
    known = lexicons()
    return tuple(sorted({*(lang for lang in langs if lang in known), *FALLBACK}))


# --- scoring ----------------------------------------------------------------------------


def dismiss_key(p: str) -> str:
    """Case, punctuation and spacing removed; a line of signs only ("×") stays itself."""
    key = " ".join(re.sub(r"[^\w\s-]", " ", p.casefold()).replace("-", " ").split())
    return key or p.strip()


@dataclass(frozen=True)
class Score:
    score: int
    rule: str | None
    opener: bool
    dismiss: bool
    # an appeal phrase, imperative verb or price somewhere in the paragraph: without one, none of
    # its sentences longer than a dismiss line can be an appeal (the patterns are not anchored)
    signal: bool = field(default=True, compare=False, repr=False)
    reported: bool = field(default=False, compare=False, repr=False)  # reported speech in it
    fired: tuple[str, ...] = field(default=(), compare=False, repr=False)  # ids of the rules that matched

    @property
    def button(self) -> bool:
        return bool(self.rule and self.rule.startswith("appeal:button"))


_QUOTES = re.compile('["“”«»„「」『』]')


@lru_cache(maxsize=4096)
def _tokens(s: str) -> tuple[str, frozenset[str], frozenset[str], bool]:
    """(lower-case text, its words, their keys, whether it holds CJK characters)."""
    low = s.lower()
    words = frozenset(_WORD.findall(low))
    return low, words, frozenset(map(_KEY_OF, words)), _CJK.search(s) is not None


# the score of a paragraph in which no rule fired: 0, and less for long ones (see _score)
_NOTHING = tuple(Score(-n, None, False, False, False) for n in range(3))


@lru_cache(maxsize=16384)
def _score(s: str, m: Matcher) -> Score:
    if len(s) <= 40:
        rid = m.dismiss.get(dismiss_key(s))
        if rid is not None:
            return Score(THRESHOLD, rid, False, True, True, False, (rid,))
    low, words, base_keys, has_cjk = _tokens(s)
    keys = m.keys(words, base_keys)
    cjk_text = m.has_cjk and has_cjk
    opener_id = None
    if (
        len(s) <= 100
        and m.opener is not None
        and (not keys.isdisjoint(m.opener_keys) or (m.opener_cjk and has_cjk))
    ):
        opener_id = _edges().match_opener(low)
    rules = m.fired(s, low, keys, cjk_text, words)
    money_id = m.money_rule(s, low, keys)
    found = m.words.find(s, low, words, keys, cjk_text)
    if not rules and money_id is None and not found and opener_id is None:  # most paragraphs
        return _NOTHING[0 if len(s) <= 600 else 1 if len(s) <= 1000 else 2]
    asks = [r for r in rules if r.family in ASK_WEIGHTS]
    ask = min(asks, key=lambda r: (-r.weight, r.id)) if asks else None  # the strongest; ties by id
    imp = next((r for r in rules if r.family == "imperative"), None)
    reported = any(r.family == "reported" for r in rules)
    money = money_id is not None
    reader, we, topic = found.get("reader"), found.get("we"), found.get("topic")
    total = (ask.weight if ask else 0) + (2 if we else 1) * (imp is not None) + (2 if we else 0) * money
    total += (reader is not None) + (we is not None) + (topic is not None)
    if reported:
        total -= 2
        if _QUOTES.search(s):  # quoted speech with a reporting verb: someone else's appeal, reported
            total = min(total, ADJACENT - 1)
    if len(s) > 600:  # appeals are short; long paragraphs that mention "subscribe" are content
        total -= 1 if len(s) <= 1000 else 2
    if opener_id and total < WEAK:
        total = WEAK  # "Dear readers," alone only joins an adjacent appeal
    fired = tuple(
        r.id for r in rules if r.family != "reported"
    ) + tuple(x for x in (reader, we, topic) if x)  # fmt: skip
    if money_id:
        fired += (money_id,)
    signal = ask is not None or imp is not None or money
    strong = ask or imp
    n_words = 0 if strong is None else max(len(s.split()), len(_CJK.findall(s)) // 2 if has_cjk else 0)
    if strong is not None and (
        (n_words <= 4 and not reported) or (n_words <= 6 and ask is not None and total >= THRESHOLD - 1)
    ):
        rule = f"appeal:button:{strong.id.removeprefix('appeal:')}"
        return Score(max(total, THRESHOLD), rule, bool(opener_id), False, True, reported, fired)
    rule = None
    if total >= THRESHOLD:
        if ask is not None:
            rule = ask.id
        elif money_id:
            rule = money_id
        elif imp is not None:
            rule = imp.id
        else:
            rule = reader or we or topic or "appeal:score"
    elif opener_id:
        rule = opener_id
    return Score(total, rule, bool(opener_id), False, signal, reported, fired)


def score(p: str, langs: tuple[str, ...] | None = None) -> Score:
    """Score one paragraph with the lexicons of `langs`; None: FALLBACK plus the languages whose
    appeal phrases start with one of its words (a text of unknown language: a button label, a
    box in the structure layer). `rule` names the rule that decided when the score reaches
    THRESHOLD (its id says family and language)."""
    s = p.strip()
    if not s:
        return Score(0, None, False, False)
    if langs is None:
        langs = _guess_languages(s)
    return _score(s, matcher(langs))


@lru_cache(maxsize=4096)
def _guess_languages(s: str) -> tuple[str, ...]:
    _, words, keys, cjk_text = _tokens(s)
    found = matcher(None).ask_languages(words, keys)
    if cjk_text:
        found |= {lang for lang, lex in lexicons().items() if lex.cjk}
    return languages_for(found) or FALLBACK


def is_button(label: str) -> bool:
    """A short label that is an appeal by itself ("Donate", "Jetzt abonnieren", "Wesprzyj"),
    in any lexicon language. Labels without a word any phrase is indexed under are rejected
    before any pattern runs (menus hold hundreds of links)."""
    label = " ".join(label.split())
    if not (0 < len(label) <= 40):
        return False
    m = matcher(None)
    _, words, keys, cjk_text = _tokens(label)
    if not m.ask_languages(words, keys) and not cjk_text:
        return False
    return score(label).button


FOREIGN_MAX = 300  # characters: appeal boxes are short paragraphs
FOREIGN = True  # also score a paragraph in its own language (see _paragraph_score); False for the ablation


def _paragraph_score(p: str, langs: tuple[str, ...] | None) -> Score:
    """score(p, langs); when an appeal phrase of another lexicon language is in the paragraph and
    the detector says the paragraph is in that language, the paragraph is scored in it instead
    (an English page with a German appeal box). Only such paragraphs pay for the detector."""
    sc = score(p, langs)
    s = p.strip()
    if langs is None or not FOREIGN or sc.score >= THRESHOLD or not s or len(s) > FOREIGN_MAX:
        return sc
    m = matcher(None)
    low, words, keys, cjk_text = _tokens(s)
    # cheap test first: which other languages have an appeal phrase starting with one of its words?
    others = m.ask_languages(words, keys) - set(langs)
    if cjk_text:
        others |= {lang for lang, lex in lexicons().items() if lex.cjk and lang not in langs}
    if not others:
        return sc
    foreign = set()
    for lang in sorted(others):  # one cached matcher per language (not one per set of languages)
        fm = matcher((lang,))
        if any(r.weight > 0 for r in fm.fired(s, low, fm.keys(words, keys), cjk_text, words)):
            foreign.add(lang)
    if not foreign:
        return sc
    from .language import detect_languages

    own = [lang for lang in detect_languages(s) if lang in foreign]
    if not own:
        return sc
    other = score(p, languages_for(own))
    return other if other.score > sc.score else sc


def is_appeal(paragraph: str, langs: tuple[str, ...] | None = None) -> str | None:
    """Rule id if this paragraph on its own looks like an appeal, else None."""
    sc = score(paragraph, langs)
    if sc.score >= THRESHOLD:
        return sc.rule or "appeal:score"
    return None


# sentence ends: Latin/Cyrillic before a capital or quote, Arabic before a letter, CJK at once
_SENT_END = re.compile(
    r"(?<=[.!?…])\s+(?=[\"“«„A-ZÀ-ÖØ-ÞĀ-ſА-ЯЁЄІЇҐ¿¡\u0600-\u06ff])|(?<=[。！？])(?=\S)|(?<=[؟])\s+"
)


def _trailing_appeal(p: str, langs: tuple[str, ...] | None, strong: bool = False) -> tuple[int, str] | None:
    """(index, rule) where a trailing appeal sentence starts inside an otherwise news paragraph.

    `strong`: the paragraph would otherwise be dropped whole. Then reported speech in the news before the
    appeal ("officials said ...") does not stop the cut: a reported or quoted tail is no appeal by itself."""
    sc = score(p, langs)
    if _QUOTES.search(p) or (sc.reported and not strong):  # quoted speech: "help us win" is news
        return None
    cuts = [m.end() for m in _SENT_END.finditer(p)]
    found = None
    for n, cut in enumerate(reversed(cuts)):
        head, tail = p[:cut], p[cut:]
        if (not sc.signal and len(tail.strip()) > 40) or len(head.strip()) < 40:
            break  # earlier cuts have longer tails and shorter heads
        if found is None:  # the appeal: the last sentence, else the last two
            rule = is_appeal(tail, langs)
            if rule is not None:
                found = (cut, rule)
            elif n >= 1:
                break
        elif is_appeal(p[cut : found[0]], langs):  # then one more sentence while each is an appeal
            found = (cut, found[1])
        else:
            break
    if found is None or is_appeal(p[: found[0]], langs):
        return None  # what is left before the appeal sentences reads as an appeal too
    return found


def find_appeals(
    paras: list[str], langs: tuple[str, ...] | None = None
) -> tuple[dict[int, str], dict[int, tuple[int, str]]]:
    """Decide which paragraphs are appeals.

    Returns ({index: rule} of whole paragraphs to drop, {index: (cut, rule)} of paragraphs to truncate).
    """
    scores = [_paragraph_score(p, langs) for p in paras]
    drop: dict[int, str] = {}
    n = len(paras)

    def strong(i: int) -> bool:
        return scores[i].score >= THRESHOLD

    def block_rule(k: int, why: str | None) -> str:
        return scores[k].rule if strong(k) and scores[k].rule else f"appeal:block:{why}"

    # 1. opener ... dismiss blocks; or opener followed by a run of appeal-ish paragraphs
    for i, sc in enumerate(scores):
        if not sc.opener or i in drop:
            continue
        why = (sc.rule or "opener")[7:]
        end = next((j for j in range(i + 1, min(n, i + MAX_BLOCK)) if scores[j].dismiss), None)
        if end is not None and any(strong(k) for k in range(i, end)):
            for k in range(i, end + 1):
                drop.setdefault(k, block_rule(k, why))
            continue
        # no dismiss line (it was a button the extractor dropped): the block runs to its last
        # strong appeal paragraph nearby, then over the appeal-ish paragraphs right after it
        last = None
        for j in range(i + 1, min(n, i + 1 + OPENER_REACH)):
            if len(paras[j]) > 800 or scores[j].reported:
                break
            if strong(j):
                last = j
        if last is None:
            continue
        while last + 1 < n and scores[last + 1].score >= 1 and not scores[last + 1].opener:
            last += 1
        for k in range(i, last + 1):
            drop.setdefault(k, block_rule(k, why))
    # 2. dismiss lines take the appeal-ish run right before them
    for i, sc in enumerate(scores):
        if not sc.dismiss or i in drop:
            continue
        j = i
        while (
            dismiss_key(paras[i]) not in matcher(langs).close
            and j > 0
            and scores[j - 1].score >= 1
            and not scores[j - 1].reported
            and len(paras[j - 1]) <= 800
            and (i - j) < MAX_BLOCK
        ):
            j -= 1
        if any(strong(k) for k in range(j, i)):
            for k in range(j, i):
                drop.setdefault(k, block_rule(k, (sc.rule or "dismiss")[7:]))
        drop[i] = sc.rule or "appeal:dismiss"
    # 3. strong paragraphs, spreading to adjacent weak ones; a news paragraph that merely ends
    # in an appeal sentence only loses that sentence
    cuts: dict[int, tuple[int, str]] = {}
    for i, sc in enumerate(scores):
        if strong(i) and i not in drop:
            cut = _trailing_appeal(paras[i], langs, strong=True)
            if cut is not None and score(paras[i][: cut[0]], langs).score <= 0:
                cuts[i] = cut
            else:
                drop[i] = sc.rule or "appeal:score"
    changed = True
    while changed:
        changed = False
        for i in list(drop):
            for k in (i - 1, i + 1):
                if (
                    0 <= k < n
                    and k not in drop
                    and k not in cuts
                    and scores[k].score >= ADJACENT
                    and not scores[k].reported
                ):
                    drop[k] = f"appeal:adjacent:{(scores[k].fired or ('score',))[0].removeprefix('appeal:')}"
                    changed = True
    for i, p in enumerate(paras):
        if i not in drop and i not in cuts and scores[i].score >= 1:
            cut = _trailing_appeal(p, langs)
            if cut is not None:
                cuts[i] = cut
    return drop, cuts


def article_languages(paras: Sequence[str], declared: str | None = None) -> tuple[str, ...]:
    """The lexicons for an article: its declared language (`<html lang>`, primary subtag) if it
    has a lexicon, else the language detected from the text; plus FALLBACK."""
    from .language import detect_languages

    primary = (declared or "").strip().lower().replace("_", "-").split("-")[0]
    if primary == "nb" or primary == "nn":
        primary = "no"
    if primary in lexicons():
        return languages_for([primary]) or FALLBACK
    return languages_for(detect_languages("\n".join(paras))) or FALLBACK


def strip_paragraphs(
    paras: list[str], languages: Sequence[str] | None = None, declared: str | None = None
) -> tuple[list[str], list[Removal]]:
    """Apply the text layer to a list of paragraphs.

    `languages`: the lexicons to use (plus FALLBACK); by default the article's language
    (`declared`, else detected from the paragraphs)."""
    langs = languages_for(languages) if languages is not None else article_languages(paras, declared)
    drop, cuts = find_appeals(paras, langs)
    kept: list[str] = []
    removed: list[Removal] = []
    for i, p in enumerate(paras):
        if i in drop:
            removed.append(Removal(clip(p), drop[i], "text"))
        elif i in cuts:
            cut, rule = cuts[i]
            kept.append(p[:cut].rstrip())
            removed.append(Removal(clip(p[cut:]), f"appeal:trailing-sentence:{rule.removeprefix('appeal:')}", "text"))
        else:
            kept.append(p)
    return kept, removed
