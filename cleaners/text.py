"""strip_text: the text layer on plain text (one paragraph per line, blank lines kept)."""

from __future__ import annotations

from .appeals import strip_paragraphs
from .article import Removal
from .extract import MAX_REMOVED_SHARE, safeguard


def strip_text(text: str, max_share: float = MAX_REMOVED_SHARE) -> tuple[str, list[Removal]]:
    """Remove appeal paragraphs from plain text; returns (text, removals).

    Every non-blank line is a paragraph (extracted text puts one paragraph per line); blank
    lines are kept as separators, and runs of blank lines left by a removal are collapsed.
    """
    lines = text.splitlines()
    idx = [i for i, line in enumerate(lines) if line.strip()]
    paras = [lines[i].strip() for i in idx]
    kept, removed = strip_paragraphs(paras)
    kept, removed = safeguard(paras, kept, removed, max_share)
    if len(kept) == len(paras) and kept == paras:
        return text, removed
    # map back onto lines: whole-paragraph drops and truncations
    by_line: dict[int, str | None] = {}
    k = 0
    for i, p in zip(idx, paras, strict=True):
        if k < len(kept) and (kept[k] == p or p.startswith(kept[k])):
            by_line[i] = kept[k]
            k += 1
        else:
            by_line[i] = None
    out: list[str] = []
    for i in range(len(lines)):
        if i in by_line:
            if by_line[i] is not None:
                out.append(by_line[i])
        elif not out or out[-1] != "":
            out.append("")
    while out and out[-1] == "":
        out.pop()
    while out and out[0] == "":
        out.pop(0)
    result = "\n".join(out)
    return (result + "\n" if text.endswith("\n") and result else result), removed
