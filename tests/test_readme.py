"""The README is a contract: every block a user is told to run has a name, and a test runs it by that name.

A runnable block is one in a language a user runs (`tests/readme.RUNNABLE`: sh, bash, console, python, sql);
examples that cannot run offline (real AWS, real sites) are `text` blocks. The check here is static: the
block's name appears, quoted, in a test file (tests call `readme.block("name")`); the `test` block is run by
CI, and checked here to be what `.ci/run` runs.
"""

from __future__ import annotations

import re
import shlex
from collections import Counter
from pathlib import Path

from tests.readme import README, RUNNABLE, block, blocks

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent


def _test_sources() -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in TESTS.rglob("*.py"))


def test_every_runnable_block_has_a_unique_name():
    runnable = [b for b in blocks() if b.lang in RUNNABLE]
    assert runnable, "no runnable block found: has tests/readme.py stopped parsing README.md?"
    unnamed = [f"README.md:{b.line} ({b.lang})" for b in runnable if not b.name]
    assert unnamed == [], f"runnable blocks without a name: {unnamed}"
    repeated = [n for n, count in Counter(b.name for b in blocks() if b.name).items() if count > 1]
    assert repeated == [], f"block names used twice: {repeated}"


def test_every_runnable_block_is_run_by_a_test():
    sources = _test_sources()
    names = [b.name for b in blocks() if b.lang in RUNNABLE and b.name]
    unrun = [n for n in names if not re.search(rf"""["']{re.escape(n)}["']""", sources)]
    assert unrun == [], f"README blocks no test runs: {unrun}"


def test_ci_runs_the_readme_test_command():
    """The `test` block is what CI runs: `.ci/run` ends with exactly its command."""
    command = [line.split("#")[0].strip() for line in block("test").text.splitlines() if line.split("#")[0].strip()]
    ci = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines() if line.strip()]
    assert command == ["make test"] and ci[-1] == "make test", (command, ci[-1])


def test_shell_blocks_parse_and_name_only_targets_that_exist():
    """Every shell block is valid shell, and each `make X` it runs is a target of the Makefile."""
    makefile = (ROOT / "Makefile").read_text()
    targets = set(re.findall(r"^([a-z][a-z-]*):", makefile, flags=re.M))
    for b in blocks():
        if b.lang not in ("sh", "bash"):
            continue
        joined = b.text.replace("\\\n", " ")
        for line in joined.splitlines():
            words = shlex.split(line, comments=True)
            if words[:1] == ["make"]:
                assert words[1] in targets, f"README.md:{b.line}: make {words[1]} is not a Makefile target"


def test_the_readme_parser_sees_indented_blocks(tmp_path):
    doc = tmp_path / "doc.md"
    doc.write_text("- item\n\n  ```sh named-one\n  echo hi\n  ```\n\n```text\nnot run\n```\n")
    found = blocks(doc)
    assert [(b.lang, b.name) for b in found] == [("sh", "named-one"), ("text", None)]
    assert README.exists()
