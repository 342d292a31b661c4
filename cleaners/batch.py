"""clean_batch: a stream of documents through all three layers, in input order, bounded in time and memory.

Extraction (layers 1-2) runs in worker processes when there is more than one worker or a time budget
(workers.py; plain child processes, so this holds in a Celery prefork worker's daemonic process too): a
document that uses more CPU time than its budget (or stalls) has its worker ended and replaced, comes back
rejected with reason `too_slow`, and the batch goes on. A worker that dies (a crash in C code,
the kernel's OOM killer) costs only its document (reason `failed`). Only a bounded number of documents
is in flight, so memory does not grow with the batch.

The cross-article layer (repeats.py) and the safeguard run here: `BoilerplateState` counts every
article before any is emitted, with a look-ahead window, so the early articles of a batch are also
cleaned of paragraphs that only turn out to repeat a little later. Memory is O(window + the state's
bound), independent of the number of documents.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from newsconfig.sources import CleaningRules

from .article import Article
from .extract import Draft, extract_paragraphs, finish, resolve_rules
from .repeats import BoilerplateState, Keys
from .workers import WorkerDied, WorkerPool, WorkerTimeout

LOG = logging.getLogger(__name__)
IN_FLIGHT_PER_WORKER = 2  # documents handed to the pool ahead of the one being waited for, per worker

# (html, url) or (html, url, content_type): the HTTP Content-Type header gives the charset of bytes
Doc = tuple[Any, ...]


def _job(html: str | bytes, url: str | None, source: Any, content_type: str | None) -> Draft:
    draft = extract_paragraphs(html, url=url, source=source, content_type=content_type)
    if draft.error is None:
        draft.keys = Keys.of(draft.paragraphs, draft.kept)
    return draft


def _unpack(doc: Doc) -> tuple[Any, str | None, str | None]:
    html, url, *rest = doc
    return html, url, (rest[0] if rest else None)


def _in_process(docs: Iterable[Doc], source: Any) -> Iterator[Draft]:
    for doc in docs:
        yield _job(*_unpack(doc), source)


def _pooled(docs: Iterable[Doc], source: Any, workers: int, budget: float | None) -> Iterator[Draft]:
    jobs = ((url, (html, url, source, ctype)) for html, url, ctype in map(_unpack, docs))
    with WorkerPool("cleaners.batch:_job", size=workers, budget=budget, ahead=IN_FLIGHT_PER_WORKER * workers) as pool:
        for url, result in pool.map(jobs):
            yield _result(url, result)


def _result(url: str | None, result: Draft | BaseException) -> Draft:
    if isinstance(result, Draft):
        return result
    if isinstance(result, WorkerTimeout):
        return Draft(Article(url=url).reject("too_slow", f"too slow: cleaning {result}"))
    if isinstance(result, WorkerDied):
        LOG.error("the worker cleaning %s died: %s", url, result)
        return Draft(Article(url=url).reject("failed", f"extraction failed: the worker died ({result})"))
    LOG.error("cleaning %s failed in its worker: %r", url, result)  # one document, not the batch
    return Draft(Article(url=url).reject("failed", f"extraction failed: {type(result).__name__}: {result}"[:200]))


def _portable(source: Any) -> Any:
    """`source` as workers can receive it (compiled XPath objects do not pickle)."""
    if isinstance(source, CleaningRules):
        return source.as_mapping()
    if source is None or isinstance(source, (str, Mapping)):
        return source
    return dict(getattr(source, "cleaning", None) or {})  # a Source


def clean_batch(
    docs: Iterable[Doc],
    source: str | Mapping | CleaningRules | None = None,
    state: BoilerplateState | None = None,
    window: int = 32,
    workers: int = 1,
    budget: float | None = None,
) -> Iterator[Article]:
    """Clean a stream of (html, url[, content_type]) tuples, learning and applying cross-article repeats.

    `state` (e.g. loaded from S3) is updated in place, so the caller can persist it afterwards.
    `workers` > 1 runs extraction (layers 1-2) in that many processes. `budget`: seconds of CPU time a document
    may use (extraction runs in worker processes then, even with one worker); over it, it is `too_slow`.
    Bad cleaning rules raise before any document is read.
    """
    resolve_rules(source)  # configuration errors now, once, not per document
    if state is None:
        state = BoilerplateState(source=source if isinstance(source, str) else None)
    if workers <= 1 and budget is None:
        drafts = _in_process(docs, source)
    else:
        drafts = _pooled(docs, _portable(source), max(1, workers), budget)
    pending: deque = deque()
    for draft in drafts:
        if draft.error is None:
            state.update(draft.paragraphs, draft.keys)
        pending.append(draft)
        if len(pending) > window:
            yield finish(pending.popleft(), state)
    while pending:
        yield finish(pending.popleft(), state)
