"""The README's fenced code blocks, read from README.md so that the tests run exactly what a user is told to.

A block that a user runs carries a name after its language, e.g. ```` ```sh airflow-local ```` or
```` ```python read-duckdb ````; the renderer ignores everything after the language. `block(name)` returns it,
and `tests/test_readme.py` checks that every runnable block has a name that some test runs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"
RUNNABLE = frozenset({"sh", "bash", "console", "python", "sql"})  # blocks a user runs; yaml, text: reference
_FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})(?P<info>[^`]*)$")


@dataclass(frozen=True)
class Block:
    lang: str
    name: str | None
    text: str
    line: int  # where its opening fence is, 1-based


def blocks(path: Path = README) -> list[Block]:
    """Every fenced block of the file, in order."""
    found: list[Block] = []
    lines = path.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        fence, info = m["fence"], m["info"].split()
        body, j = [], i + 1
        while j < len(lines) and not lines[j].strip().startswith(fence):
            body.append(lines[j])
            j += 1
        lang = info[0].lower() if info else ""
        found.append(Block(lang, info[1] if len(info) > 1 else None, "\n".join(body) + "\n", i + 1))
        i = j + 1
    return found


def block(name: str, path: Path = README) -> Block:
    """The one block called `name`; a missing or repeated name is an error, so a test cannot run a stale copy."""
    matches = [b for b in blocks(path) if b.name == name]
    if len(matches) != 1:
        raise LookupError(f"{path.name} has {len(matches)} blocks named {name!r}, expected exactly one")
    return matches[0]
