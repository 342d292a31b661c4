"""The multilingual appeal corpus in tests/data/appeals (see its README): loading and scoring.

Used by tests/test_appeal_corpus.py and bench/appeal_langs.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).parent / "data" / "appeals"
SPLITS = ("dev", "heldout", "heldout2")


@dataclass
class Case:
    lang: str
    lines: list[tuple[str, str]]  # (label, text): label "A" appeal, "N" news, "X" negative (news)

    @property
    def text(self) -> str:
        return "\n".join(t for _, t in self.lines)


@dataclass
class Tally:
    appeals: int = 0
    appeals_kept: list[str] = field(default_factory=list)
    news: int = 0  # N and X lines
    news_lost: list[str] = field(default_factory=list)
    negatives: int = 0  # X lines
    negatives_lost: list[str] = field(default_factory=list)

    def add(self, other: Tally) -> None:
        self.appeals += other.appeals
        self.appeals_kept += other.appeals_kept
        self.news += other.news
        self.news_lost += other.news_lost
        self.negatives += other.negatives
        self.negatives_lost += other.negatives_lost

    @property
    def clean(self) -> bool:
        return not self.appeals_kept and not self.news_lost


def load(split: str) -> dict[str, list[Case]]:
    out: dict[str, list[Case]] = {}
    for path in sorted((ROOT / split).glob("*.txt")):
        for block in path.read_text(encoding="utf-8").split("\n===\n"):
            lines = []
            for raw in block.splitlines():
                if not raw.strip() or raw.startswith("#"):
                    continue
                label, _, text = raw.partition(" ")
                if label not in ("A", "N", "X") or not text.strip():
                    raise ValueError(f"{path}: bad line {raw!r}")
                lines.append((label, text.strip()))
            out.setdefault(path.stem, []).append(Case(path.stem, lines))
    return out


def score_case(case: Case, strip: Callable[[str], str]) -> Tally:
    """Run `strip` (plain text in, plain text out) on the case and count what went wrong.

    A news line is lost unless it comes out whole; an appeal line is kept if any of it is left
    (the whole line or the start of it)."""
    out = [ln.strip() for ln in strip(case.text).splitlines() if ln.strip()]
    t = Tally()
    for label, text in case.lines:
        if label == "A":
            t.appeals += 1
            if any(o == text or (text.startswith(o) and len(o) >= 10) for o in out):
                t.appeals_kept.append(text)
        else:
            t.news += 1
            lost = text not in out
            if lost:
                t.news_lost.append(text)
            if label == "X":
                t.negatives += 1
                if lost:
                    t.negatives_lost.append(text)
    return t


def score_split(split: str, strip: Callable[[str], str]) -> dict[str, Tally]:
    out: dict[str, Tally] = {}
    for lang, cases in load(split).items():
        total = Tally()
        for case in cases:
            total.add(score_case(case, strip))
        out[lang] = total
    return out


def table(results: dict[str, Tally]) -> str:
    rows = [f"{'lang':5} {'appeal lines kept':>18} {'news lines lost':>16} {'of them negatives':>18}"]
    total = Tally()
    for lang, t in results.items():
        total.add(t)
        rows.append(
            f"{lang:5} {len(t.appeals_kept):>9} / {t.appeals:<6} {len(t.news_lost):>7} / {t.news:<6} "
            f"{len(t.negatives_lost):>9} / {t.negatives:<6}"
        )
    rows.append(
        f"{'all':5} {len(total.appeals_kept):>9} / {total.appeals:<6} {len(total.news_lost):>7} / {total.news:<6} "
        f"{len(total.negatives_lost):>9} / {total.negatives:<6}"
    )
    clean = sum(t.clean for t in results.values())
    rows.append(f"languages with no appeal line kept and no news line lost: {clean} of {len(results)}")
    return "\n".join(rows)


def phrase_example(variant: str, cjk: bool = False) -> str:
    """A text built from one expanded lexicon phrase: the first alternative of each word, optional words left
    out, a filler word for a gap ("...") and a digit for a number ("#")."""
    words = []
    for tok in variant.split(" "):
        if tok == "...":
            words.append("xq")
        elif tok == "#":
            words.append("3")
        elif not tok.endswith("?"):
            words.append(tok.split("|")[0].rstrip("*").replace("_", " "))
    return ("" if cjk else " ").join(words)
