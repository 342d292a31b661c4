"""pytest plugin for bench/mutation.py (`-p tests.mutation_caches`): cleaners.appeals' caches cleared
before each test while mutmut records which tests reach which functions (its "stats" run).

The compiled lexicons (`_compiled`, `matcher`, `_edges`) and the scores (`_score`, `_tokens`) are cached per
process, so without this only the first test to compile a language or score a paragraph would be recorded
as reaching the compiling and matching code, and mutants there would be run against that one test only (or
none). Mutant runs are not touched: each is a fresh process whose caches fill under its own mutant.
"""

from __future__ import annotations

import os


def pytest_runtest_setup(item) -> None:
    if os.environ.get("MUTANT_UNDER_TEST") != "stats":
        return
    from cleaners import appeals

    for cached in (appeals._compiled, appeals.matcher, appeals._edges, appeals._tokens, appeals._score,
                   appeals._guess_languages):  # fmt: skip
        cached.cache_clear()
