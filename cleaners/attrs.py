"""Find the elements whose attributes contain some substrings, fast.

Testing every element of a page with XPath string functions (or EXSLT regular expressions,
which call back into Python per element) costs milliseconds per page. Instead the attribute
values are fetched in one XPath call, joined into one string and searched with `str.find`; only
the few elements that hold a hit are looked at in Python.
"""

from __future__ import annotations

from bisect import bisect_right
from functools import lru_cache
from itertools import accumulate

from lxml import etree
from lxml.html import HtmlElement


@lru_cache(maxsize=16)
def _values_xpath(attrs: tuple[str, ...], smart: bool = True) -> etree.XPath:
    return etree.XPath(" | ".join(f"descendant-or-self::*/@{a}" for a in attrs), smart_strings=smart)


def any_contains(root: HtmlElement, attrs: tuple[str, ...], needles: tuple[str, ...], fold: bool = False) -> bool:
    """Whether one of `attrs` of `root` or its descendants contains one of `needles` (cheaper than
    `elements_with`: no element is looked up)."""
    joined = "\x00".join(_values_xpath(attrs, False)(root))
    if fold:
        joined = joined.lower()
    return any(n in joined for n in needles)


def attr_values(root: HtmlElement, attrs: tuple[str, ...]) -> list:
    """The values of `attrs` on `root` and its descendants, in document order (smart strings:
    `.getparent()` is the element), for `elements_with(..., values=...)`."""
    return _values_xpath(attrs)(root)


def elements_with(
    root: HtmlElement,
    attrs: tuple[str, ...],
    needles: tuple[str, ...],
    fold: bool = False,
    values: list | None = None,
) -> list[HtmlElement]:
    """`root` and its descendants (document order, each once) with one of `attrs` containing one of
    `needles`; `fold`: compare lower-cased values (the needles must be lower case). `values`:
    attr_values(root, attrs) fetched earlier (they may hold more attributes: a superset of
    elements comes back)."""
    if values is None:
        values = _values_xpath(attrs)(root)
    if not values:
        return []
    joined = "\x00".join(values)
    if fold:
        low = joined.lower()
        if len(low) != len(joined):  # a few characters lower-case to two: no shared offsets
            return list(dict.fromkeys(v.getparent() for v in values if any(n in v.lower() for n in needles)))
        joined = low
    starts = [0, *accumulate(len(v) + 1 for v in values)]
    hits: set[int] = set()
    for n in needles:
        i = joined.find(n)
        while i != -1:
            k = bisect_right(starts, i) - 1
            hits.add(k)
            i = joined.find(n, starts[k + 1])  # next value
    return list(dict.fromkeys(values[k].getparent() for k in sorted(hits)))
