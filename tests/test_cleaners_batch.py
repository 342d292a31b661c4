"""clean_batch bounded in time: a per-document budget in worker processes, pages of many short blocks cut
down, appeal-only pages rejected; every rejection has its reason and the batch goes on."""

from __future__ import annotations

import time

from cleaners import REASONS, clean_batch, clean_html

NEWS = [
    "The Norvale city council voted seven to two on Tuesday to build a second bridge across the Alder River.",
    "The new crossing is expected to cost about 48 million dollars and to open to traffic in 2027.",
    "Council member Ruth Abara said the vote would relieve traffic on the Main Street bridge.",
    "Opponents argued that the money should go to repairing existing roads first.",
    "Engineers will begin soil surveys in June, and the city expects to choose a construction firm soon.",
]


def page(paragraphs: list[str], title: str = "Norvale news") -> str:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return f"<html><head><title>{title}</title></head><body><article><h1>{title}</h1>{body}</article></body></html>"


def normal_docs(n: int) -> list[tuple[str, str]]:
    return [(page([f"Story {i}. {p}" for p in NEWS], f"Story {i}"), f"https://ledger.example/{i}") for i in range(n)]


# A per-source rule that is instant on a normal page and runs for minutes on a page of thousands of
# paragraphs: XPath, evaluated in C, where only killing the process stops it.
# 15,000 paragraphs: about 10 s of CPU on an idle machine, well over the tests' 3 s budget (9,000 took 3.4 s)
SLOW_RULE = {"prune_xpath": ["//p[count(preceding::p) + count(following::p) > count(//p)]"]}


def test_a_document_over_its_budget_is_too_slow_and_the_batch_goes_on() -> None:
    slow = page([f"Paragraph {i} of a very long page." for i in range(15000)])
    docs = normal_docs(3) + [(slow, "https://ledger.example/slow")] + normal_docs(6)[3:]
    start = time.monotonic()
    arts = list(clean_batch(docs, source=SLOW_RULE, budget=3.0))
    elapsed = time.monotonic() - start
    assert [a.url for a in arts] == [url for _, url in docs]
    bad = arts[3]
    assert bad.reason == "too_slow" and bad.text == "" and "3 s" in bad.error
    assert all(a.error is None and "Story" in a.text for i, a in enumerate(arts) if i != 3)
    assert elapsed < 120  # the slow page alone would take minutes; a generous bound for a loaded machine


def test_a_page_of_many_short_blocks_is_cut_down_and_the_rest_cleaned_in_bounded_time() -> None:
    blocks = "".join(f"<ul><li>Item {i}</li></ul>\n" for i in range(170_000))  # ~5 MB
    huge = f"<html><head><title>Items</title></head><body>{blocks}</body></html>"
    assert 4_500_000 < len(huge) < 5_000_000
    docs = [*normal_docs(2), (huge, "https://ledger.example/huge"), *normal_docs(4)[2:]]
    start = time.monotonic()
    arts = list(clean_batch(docs, budget=60.0))
    elapsed = time.monotonic() - start
    assert [a.url for a in arts] == [url for _, url in docs]
    huge_art = arts[2]
    cut = [r for r in huge_art.removed if r.rule == "structure:cut-down"]
    assert huge_art.reason == "too_slow" or cut, huge_art.error
    assert all(a.error is None and "Story" in a.text for i, a in enumerate(arts) if i != 2)
    assert elapsed < 150  # idle: ~3 s; bare trafilatura on this page does not finish in an hour


def test_budget_applies_with_one_worker_and_with_two() -> None:
    docs = normal_docs(5)
    one = [a.to_dict() for a in clean_batch(docs)]
    assert [a.to_dict() for a in clean_batch(docs, budget=60.0)] == one
    assert [a.to_dict() for a in clean_batch(docs, workers=2, budget=60.0)] == one


# --- appeal-only pages --------------------------------------------------------------------------------------

SUPPORT_PAGE = [
    "Independent local journalism needs readers like you.",
    "Please support us with a donation today. Every contribution helps.",
    "Become a member for just $5 a month and read without ads.",
    "Sign up for our newsletter to get the best stories in your inbox every morning.",
    "Donate now",
]


def test_an_all_appeal_page_is_rejected_as_appeal_only() -> None:
    art = clean_html(page(SUPPORT_PAGE, "Support the Ledger"), url="https://ledger.example/support")
    assert art.reason == "appeal_only" and art.text == "" and "appeal" in REASONS[art.reason]
    assert any(r.layer == "text" for r in art.removed)  # the audit still says what was read


def test_an_article_with_appeals_is_not_appeal_only() -> None:
    art = clean_html(page([*NEWS, *SUPPORT_PAGE[1:3]]))
    assert art.error is None and all(p in art.text for p in NEWS) and SUPPORT_PAGE[1] not in art.text


def test_news_about_donations_is_not_appeal_only() -> None:
    story = [
        "The Alder Valley food bank said donations fell by a third this winter, its director told the council.",
        "Subscribers to the regional newspaper were asked in a letter to give monthly, the paper's editor said.",
        "The director said the food bank would need about 40,000 dollars a month to keep its shelves stocked.",
    ]
    art = clean_html(page(story))
    assert art.error is None and all(p in art.text for p in story)


def test_batch_counts_appeal_only_in_place() -> None:
    docs = [*normal_docs(2), (page(SUPPORT_PAGE, "Support us"), "https://ledger.example/support"), *normal_docs(3)[2:]]
    arts = list(clean_batch(docs))
    assert [a.reason for a in arts] == [None, None, "appeal_only", None]


def test_in_a_daemonic_process_the_budget_still_holds() -> None:
    """Celery's prefork workers are daemonic, and multiprocessing refuses them children: the worker processes
    are plain child processes, so a slow page is still stopped at its budget there."""
    import multiprocessing

    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    proc = ctx.Process(target=_clean_in_child, args=(queue,), daemon=True)
    proc.start()
    result = queue.get(timeout=300)
    proc.join(30)
    assert result == [None, "too_slow", None, None], result


def _clean_in_child(queue) -> None:
    slow = page([f"Paragraph {i} of a very long page." for i in range(15000)])
    docs = [normal_docs(1)[0], (slow, "https://ledger.example/slow"), *normal_docs(3)[1:]]
    try:
        queue.put([a.reason for a in clean_batch(docs, source=SLOW_RULE, budget=3.0)])
    except Exception as err:  # noqa: BLE001 - the test shows it
        queue.put(repr(err))


def echo_crash_or_raise(x: str) -> str:
    """Run in a worker process by the next test."""
    import os

    if x == "die":
        os._exit(3)
    if x == "raise":
        raise ValueError("bad input")
    if x == "hang":
        time.sleep(600)
    if x == "spin":
        while True:
            pass
    if x == "nap":
        time.sleep(4)  # longer than the CPU budget in wall time, but no CPU
    return x.upper()


def test_a_worker_that_dies_hangs_or_raises_costs_only_its_document() -> None:
    from cleaners.workers import WorkerDied, WorkerPool, WorkerTimeout

    inputs = ["a", "die", "b", "raise", "hang", "c", "d", "e"]
    start = time.monotonic()
    pool = WorkerPool("tests.test_cleaners_batch:echo_crash_or_raise", size=2, budget=5.0, ahead=1, wall=10.0)
    with pool:
        results = list(pool.map((x, (x,)) for x in inputs))
    assert [label for label, _ in results] == inputs
    got = {label: r for label, r in results}
    assert [got[x] for x in "abcde"] == list("ABCDE")
    assert isinstance(got["die"], WorkerDied) and "exit code 3" in str(got["die"])
    assert isinstance(got["raise"], ValueError) and str(got["raise"]) == "bad input"
    assert isinstance(got["hang"], WorkerTimeout) and "stalled over 10 s" in str(got["hang"])
    assert time.monotonic() - start < 300  # the hanging job is stopped by the wall backstop, not after 600 s


def test_the_budget_is_cpu_time_not_wall_time() -> None:
    """A job spinning on the CPU is ended by the kernel at its CPU budget, long before the wall backstop; a job
    that waits longer than the budget without using CPU is not too slow: a busy machine makes no page too slow."""
    from cleaners.workers import WorkerPool, WorkerTimeout

    with WorkerPool("tests.test_cleaners_batch:echo_crash_or_raise", budget=1.0, wall=600.0) as pool:
        got = dict(pool.map((x, (x,)) for x in ["a", "spin", "nap", "b"]))
    assert got["a"] == "A" and got["nap"] == "NAP" and got["b"] == "B"
    assert isinstance(got["spin"], WorkerTimeout) and "over 1 s of CPU time" in str(got["spin"])
