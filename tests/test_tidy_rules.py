"""The page-furniture records of cleaners/tidy_rules.yaml: every record removes its own example
(with its audit rule), the content lines the file names are kept, and bad files are rejected
when loaded."""

from __future__ import annotations

from pathlib import Path

import pytest

from cleaners.tidy import KEEP, KINDS, RULES, TidyRulesError, load_rules, tidy


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
def test_every_record_removes_its_example(rule) -> None:
    assert rule.removes(rule.example)
    kept, removed = tidy([rule.example])
    assert kept == [] and [r.rule for r in removed] == [KINDS[rule.kind]]


def test_content_lines_that_look_like_furniture_are_kept() -> None:
    assert len(KEEP) >= 3
    kept, removed = tidy(list(KEEP))
    assert kept == list(KEEP), [r.rule for r in removed]


def test_max_len_and_needs_bound_a_record() -> None:
    links = next(r for r in RULES if r.id == "contains-affiliate-links")
    assert links.removes("This post contains affiliate links.")
    assert not links.removes("This post contains affiliate links. " + "The review goes on. " * 20)  # > max_len
    commission = next(r for r in RULES if r.id == "we-earn-commission")
    assert commission.needs == ("commission",)
    assert not commission.removes("We may earn a small fee if you buy something.")


BAD = [
    ("rules:\n  - {id: a, kind: meta-line, line: x, example: x, colour: red}\n", "needs id"),
    ("rules:\n  - {id: a, kind: nope, line: x, example: x}\n", "kind"),
    ("rules:\n  - {id: a, kind: meta-line, line: x, search: x, example: x}\n", "exactly one"),
    ("rules:\n  - {id: a, kind: meta-line, example: x}\n", "exactly one"),
    ("rules:\n  - {id: a, kind: meta-line, line: '(', example: x}\n", "bad expression"),
    ("rules:\n" + "  - {id: a, kind: meta-line, line: x, example: x}\n" * 2, "unique"),
    ("rules:\n  - {id: a, kind: meta-line, line: x, example: x, max_len: -1}\n", "max_len"),
    ("rulez: []\n", "mapping"),
]


@pytest.mark.parametrize("text,message", BAD)
def test_bad_rule_files_are_rejected(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "tidy_rules.yaml"
    path.write_text(text)
    with pytest.raises(TidyRulesError, match=message):
        load_rules(path)
