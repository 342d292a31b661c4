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

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

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
_DIGIT = re.compile(r"\d")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff\uff66-\uff9f]")
_SEP = r"\W{0,3}"  # between the words of a phrase (word boundaries keep words apart)
_GAP = r"(?:[^.!?。！？\n]{0,40}?\W)?"  # "...": up to 40 characters, inside the sentence
_SEP_CJK = r"\s*"
_GAP_CJK = r"[^。！？\n]{0,30}?"
_SENTENCE_START = r"(?:^|[.!?:;。！？]\s*)"
# Language-independent currency signs and codes; the lexicons add their currency words.
_CURRENCY_SIGNS = ("$", "€", "£", "¥", "₽", "₴", "₺", "₹", "₩", "₪", "R$", "US$", "CHF", "EUR", "USD", "GBP")


def key(word: str) -> str:
    """The gating key of a (lower-case) word: its first KEY_LEN characters."""
    return word[:KEY_LEN]


# --- phrases -> regular expressions and gates --------------------------------------------


def _esc(word: str) -> str:
    return re.escape(word.replace("’", "'")).replace("'", "['’]")


def _alt_rx(alt: str, cjk: bool) -> str:
    stem = alt.rstrip("*")
    sep = _SEP_CJK if cjk else _SEP
    body = sep.join(_esc(w) for w in stem.split("_"))
    if cjk:
        return body
    # word boundaries only where the alternative starts or ends with a word character
    start = r"(?<!\w)" if _WORD.match(stem) else ""
    if alt.endswith("*"):
        end = r"\w*"
    else:
        end = r"(?!\w)" if _WORD.match(stem[-1]) else ""
    return start + body + end


def _token_rx(tok: str, cjk: bool, clitic: str) -> str:
    if tok == "#":
        return r"\d+(?:[.,]\d+)?"
    inner = "|".join(_alt_rx(a, cjk) for a in tok.rstrip("?").split("|"))
    return f"(?:{inner})" if cjk or not clitic else rf"(?<!\w){clitic}(?:{inner})"


def phrase_rx(phrase: str, cjk: bool = False, proclitics: Sequence[str] = ()) -> str:
    """The regular expression of a phrase (syntax: lexicons/README.md)."""
    clitic = f"(?:{'|'.join(map(re.escape, sorted(proclitics, key=len, reverse=True)))})?" if proclitics else ""
    sep, gap = (_SEP_CJK, _GAP_CJK) if cjk else (_SEP, _GAP)
    toks = phrase.split(" ")
    out: list[str] = []
    for i, tok in enumerate(toks):
        if tok == "...":
            out.append(gap)
            continue
        rx = _token_rx(tok, cjk, clitic)
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


# --- the compiled rules of a set of languages -------------------------------------------


@dataclass(frozen=True)
class Entry:
    """One phrase of one rule, compiled."""

    rule: Rule
    rx: re.Pattern[str]
    gates: tuple[frozenset[str], ...]  # the first is the index group
    cjk: bool


@dataclass
class Words:
    """A word-list rule compiled: exact words, stems (`abo*`), suffixes (`*كم`), case-sensitive
    words (`=Sie`), and for cjk languages substrings."""

    rules: list[Rule] = field(default_factory=list)
    exact: dict[str, str] = field(default_factory=dict)  # word -> rule id
    stems: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # key -> [(stem, rule id)]
    suffixes: list[tuple[str, str]] = field(default_factory=list)
    cased: dict[str, str] = field(default_factory=dict)
    substrings: list[tuple[str, str]] = field(default_factory=list)

    def add(self, rule: Rule, cjk: bool) -> None:
        self.rules.append(rule)
        for w in rule.words:
            if cjk:
                self.substrings.append((w.lower(), rule.id))
            elif w.startswith("="):
                self.cased[w[1:]] = rule.id
            elif w.startswith("*"):
                self.suffixes.append((w[1:].lower(), rule.id))
            elif w.endswith("*"):
                stem = w[:-1].lower()
                self.stems.setdefault(key(stem), []).append((stem, rule.id))
            else:
                self.exact.setdefault(w.lower(), rule.id)

    def find(self, s: str, low: str, words: set[str], keys: set[str], cjk_text: bool) -> str | None:
        """Id of a rule whose word is in the text. Acronyms ("US") are not words here."""
        hits = [w for w in words if w in self.exact]
        for k in keys & self.stems.keys():
            hits += [w for w in words if any(w.startswith(stem) for stem, _ in self.stems[k])]
        if self.suffixes:
            hits += [w for w in words if any(w.endswith(x) and len(w) > len(x) + 1 for x, _ in self.suffixes)]
        if hits:
            cased = set(_WORD.findall(s))
            for w in cased:
                lw = w.lower()
                if lw in hits and not (w.isupper() and len(w) > 1 and not s.isupper()):
                    return self._id(lw)
        if self.cased and not self.cased.keys().isdisjoint(_WORD.findall(s)):
            return next(rid for w, rid in self.cased.items() if w in set(_WORD.findall(s)))
        if cjk_text:
            for sub, rid in self.substrings:
                if sub in low:
                    return rid
        return None

    def _id(self, w: str) -> str:
        if w in self.exact:
            return self.exact[w]
        for pairs in self.stems.values():
            for stem, rid in pairs:
                if w.startswith(stem):
                    return rid
        return next(rid for x, rid in self.suffixes if w.endswith(x))


class Matcher:
    """The rules of some languages, compiled once (see `matcher`)."""

    def __init__(self, langs: tuple[str, ...]) -> None:
        lexes = [lexicons()[lang] for lang in langs]
        self.langs = langs
        self.index: dict[str, list[Entry]] = {}
        self.cjk_entries: list[Entry] = []
        self.words = {f: Words() for f in ("reader", "we", "topic")}
        self.proclitics = tuple(sorted({c for lex in lexes for c in lex.proclitics}, key=len, reverse=True))
        self.has_cjk = any(lex.cjk for lex in lexes)
        self.money: list[tuple[str, re.Pattern[str], tuple[str, ...]]] = []  # (rule id, regex, roots)
        openers: list[str] = []
        self.opener_ids: list[str] = []
        self.dismiss: dict[str, str] = {}
        self.close: set[str] = set()
        for lex in lexes:
            for rule in lex.rules:
                if rule.family in self.words:
                    self.words[rule.family].add(rule, lex.cjk)
                elif rule.family == "money":
                    self.money.append(_money(rule, lex))
                elif rule.family not in ("opener", "dismiss", "close"):
                    self._add(rule, lex)
        # Block edges come from every lexicon: they are whole short lines in fixed words, and an
        # appeal box is often in another language than the article (a German box on an English page)
        for lex in lexicons().values():
            for rule in lex.rules:
                if rule.family == "opener":
                    for p in rule.match:
                        openers.append(phrase_rx(p, lex.cjk, lex.proclitics))
                        self.opener_ids.append(rule.id)
                elif rule.family in ("dismiss", "close"):
                    for w in rule.words:
                        self.dismiss.setdefault(dismiss_key(w), rule.id)
                        if rule.family == "close":
                            self.close.add(dismiss_key(w))
        self.opener = re.compile(r"\W*(?:" + "|".join(f"({o})" for o in openers) + ")", _I) if openers else None

    def _add(self, rule: Rule, lex: Lexicon) -> None:
        please = ""
        if rule.family == "imperative" and lex.please:
            please = rf"(?:(?:{phrase_rx('|'.join(p.replace(' ', '_') for p in lex.please), lex.cjk)}){_SEP})?"
        for phrase in rule.match:
            rx = phrase_rx(phrase, lex.cjk, lex.proclitics)
            if rule.family == "imperative":
                rx = _SENTENCE_START + please + rx
            entry = Entry(rule, re.compile(rx, _I), phrase_gates(phrase, lex.cjk), lex.cjk)
            if lex.cjk:
                self.cjk_entries.append(entry)
                continue
            if not entry.gates:
                raise ValueError(f"{rule.id}: phrase {phrase!r} has no word to gate on")
            for k in entry.gates[0]:
                self.index.setdefault(k, []).append(entry)

    def keys(self, words: set[str]) -> set[str]:
        keys = {key(w) for w in words}
        for w in words:
            for c in self.proclitics:
                if w.startswith(c) and len(w) > len(c) + 1:
                    keys.add(key(w[len(c) :]))
        return keys

    def fired(self, s: str, low: str, keys: set[str], cjk_text: bool) -> list[Rule]:
        """The phrase rules (every family but words and money) that match `s`."""
        seen: set[int] = set()
        out: list[Rule] = []
        candidates: list[Entry] = []
        for k in keys:
            candidates += self.index.get(k, ())
        if cjk_text:
            candidates += self.cjk_entries
        for e in candidates:
            if id(e) in seen or e.rule in out:
                continue
            seen.add(id(e))
            if e.cjk:
                if not all(any(g in low for g in group) for group in e.gates):
                    continue
            elif not all(not keys.isdisjoint(group) for group in e.gates[1:]):
                continue
            if e.rx.search(s) is not None:
                out.append(e.rule)
        return out

    def money_rule(self, s: str, low: str) -> str | None:
        """Id of the money rule whose amount-per-period pattern is in `s`."""
        if _DIGIT.search(s) is None:
            return None
        for rid, rx, roots in self.money:
            if any(r in low for r in roots) and rx.search(s) is not None:
                return rid
        return None


def _money(rule: Rule, lex: Lexicon) -> tuple[str, re.Pattern[str], tuple[str, ...]]:
    """An amount (currency sign, code or one of the language's currency words) close to one of
    its periods, in either order."""
    signs = sorted(_CURRENCY_SIGNS, key=len, reverse=True)
    words = sorted({w.rstrip("*") for w in rule.words}, key=len, reverse=True)
    bound = "" if lex.cjk else r"(?<!\w)"
    cur = "|".join([*map(re.escape, signs), *(rf"{bound}{re.escape(w)}" for w in words)])
    amount = rf"(?:(?:{cur})\s?\d[\d.,]*|\d[\d.,]*\s?(?:{cur}))"
    period = "|".join(phrase_rx(p, lex.cjk, lex.proclitics) for p in rule.match)
    rx = re.compile(rf"{amount}[^\n]{{0,25}}?(?:{period})|(?:{period})[^\n]{{0,15}}?{amount}", _I)
    return rule.id, rx, tuple({s.lower() for s in signs} | {w.lower() for w in words})


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
    return " ".join(re.sub(r"[^\w\s-]", " ", p.casefold()).replace("-", " ").split())


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


@lru_cache(maxsize=16384)
def _score(s: str, m: Matcher) -> Score:
    if len(s) <= 40:
        rid = m.dismiss.get(dismiss_key(s))
        if rid is not None:
            return Score(THRESHOLD, rid, False, True, True, False, (rid,))
    opener_id = None
    if len(s) <= 100 and m.opener is not None:
        hit = m.opener.match(s)
        if hit is not None:
            opener_id = m.opener_ids[hit.lastindex - 1] if hit.lastindex else m.opener_ids[0]
    low = s.lower()
    words = set(_WORD.findall(low))
    keys = m.keys(words)
    cjk_text = m.has_cjk and _CJK.search(s) is not None
    rules = m.fired(s, low, keys, cjk_text)
    asks = [r for r in rules if r.family in ASK_WEIGHTS]
    ask = max(asks, key=lambda r: r.weight) if asks else None
    imp = next((r for r in rules if r.family == "imperative"), None)
    reported = any(r.family == "reported" for r in rules)
    money_id = m.money_rule(s, low)
    money = money_id is not None
    reader = m.words["reader"].find(s, low, words, keys, cjk_text)
    we = m.words["we"].find(s, low, words, keys, cjk_text)
    topic = m.words["topic"].find(s, low, words, keys, cjk_text)
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
    n_words = max(len(s.split()), len(_CJK.findall(s)) // 2)
    strong = ask or imp
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
    """Score one paragraph with the lexicons of `langs` (None: all). `rule` names the rule that
    decided when the score reaches THRESHOLD (its id says family and language)."""
    s = p.strip()
    if not s:
        return Score(0, None, False, False)
    return _score(s, matcher(langs))


def is_button(label: str) -> bool:
    """A short label that is an appeal by itself ("Donate", "Jetzt abonnieren", "Wesprzyj"),
    in any lexicon language. Labels without a word any phrase is indexed under are rejected
    before any pattern runs (menus hold hundreds of links)."""
    label = " ".join(label.split())
    if not (0 < len(label) <= 40):
        return False
    m = matcher(None)
    if m.index.keys().isdisjoint(m.keys(set(_WORD.findall(label.lower())))) and not (
        m.has_cjk and _CJK.search(label)
    ):
        return False
    return score(label).button


FOREIGN = True  # also score a paragraph in its own language (see _paragraph_score); False for the ablation


def _paragraph_score(p: str, langs: tuple[str, ...] | None) -> Score:
    """score(p, langs); when an appeal phrase of another lexicon language is in the paragraph and
    the detector says the paragraph is in that language, the paragraph is scored in it instead
    (an English page with a German appeal box). Only such paragraphs pay for the detector."""
    sc = score(p, langs)
    if langs is None or not FOREIGN or sc.score >= THRESHOLD:
        return sc
    s = p.strip()
    if not s:
        return sc
    m = matcher(None)
    low = s.lower()
    words = set(_WORD.findall(low))
    cjk_text = m.has_cjk and _CJK.search(s) is not None
    foreign = {r.lang for r in m.fired(s, low, m.keys(words), cjk_text) if r.lang not in langs and r.weight > 0}
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


def _trailing_appeal(p: str, langs: tuple[str, ...] | None) -> tuple[int, str] | None:
    """(index, rule) where a trailing appeal sentence starts inside an otherwise news paragraph."""
    sc = score(p, langs)
    if _QUOTES.search(p) or sc.reported:  # quoted speech: "help us win" is news
        return None
    cuts = [m.end() for m in _SENT_END.finditer(p)]
    for cut in cuts[-2:]:
        head, tail = p[:cut], p[cut:]
        if not sc.signal and len(tail.strip()) > 40:
            continue
        rule = is_appeal(tail, langs)
        if len(head.strip()) >= 40 and rule and not is_appeal(head, langs):
            return cut, rule
    return None


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
            cut = _trailing_appeal(paras[i], langs)
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
