"""trafilatura 2.3.1's main extractor (`main_extractor._extract`) with cheaper XPath tests.

Its content-frame and discard expressions (BODY_XPATH, OVERALL_DISCARD_XPATH) are made of EXSLT
`re:test(@attr, 'pattern')` calls, which lxml answers in Python for every element tested, handing
over the attribute as a node-set (a string and an element proxy each); libxml2's own per-element
attribute tests are slow too. Here:
- a content frame is the first element in document order that a BODY_XPATH expression selects
  (`_extract` takes only that one), so the article/div/main/section elements are walked in Python
  until one passes the expression's test, written out below (`_is_frame_*`) with the same
  literals and the same regular expressions, taken from trafilatura's expressions;
- in the discard expressions each call is written `((@attr) and c:test(string(@attr), 'pattern'))`:
  the same search on the same string (re:test reads the first node of a node-set in document
  order, as string() does), made only on elements that have the attribute, on a plain string.
Searches are remembered per value for the page (class names repeat). Everything else is
trafilatura's code, carried over with only those tests changed; cascade.py uses it only with the
pinned trafilatura. `tests/test_cleaners_speed_parts.py` checks both against trafilatura's.

The carried-over functions are trafilatura's (Copyright Adrien Barbaresi and contributors), used under
the Apache License 2.0, as trafilatura itself; the changes are the XPath tests described above.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from lxml import etree

try:
    from trafilatura import main_extractor as _main

    AVAILABLE = all(
        hasattr(_main, name)
        for name in (
            "BODY_XPATH",
            "OVERALL_DISCARD_XPATH",
            "DISCARD_IMAGE_ELEMENTS",
            "TEASER_DISCARD_XPATH",
            "TAG_CATALOG",
            "INLINE_FORMATTABLE",
            "REBUILT_BLOCKS",
            "NOT_AT_THE_END",
            "Element",
            "handle_textelem",
            "process_node",
            "prune_unwanted_nodes",
            "delete_by_link_density",
            "link_density_test_tables",
            "delete_element",
            "strip_tags",
            "text_chars_test",
        )
    )
except ImportError:  # pragma: no cover - another trafilatura
    AVAILABLE = False

_NS = "urn:cleaners:re"
# re:test(@a|@b, 'pattern'[, 'flags']): trafilatura's patterns hold no quote
_RE_TEST = re.compile(r"re:test\((@[\w-]+(?:\|@[\w-]+)*),\s*('[^']*')((?:\s*,\s*'[^']*')?)\)")
_SEEN: dict[tuple[str, str], dict[str, bool]] = {}  # (pattern, flags) -> {value: found}


def new_page() -> None:
    """Forget the remembered tests: they are kept for one page only."""
    _SEEN.clear()


@lru_cache(maxsize=64)
def _compiled(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE if ignore_case else 0)  # as lxml's EXSLT module


def _found(pattern: str, flags: str, value: str) -> bool:
    """lxml's EXSLT re:test(value, pattern, flags) for a string value, remembered per value."""
    seen = _SEEN.get((pattern, flags))
    if seen is None:
        seen = _SEEN[pattern, flags] = {}
    found = seen.get(value)
    if found is None:
        found = seen[value] = _compiled(pattern, "i" in flags).search(value) is not None
    return found


def _test(_context: Any, value: str, pattern: str, flags: str = "") -> bool:
    return _found(pattern, flags, value)


def re_calls(xpath: etree.XPath) -> list[tuple[str, str, str]]:
    """(attribute, pattern, flags) of each re:test call of `xpath`, in order."""
    return [(m[1], m[2][1:-1], m[3].strip(" ,'")) for m in _RE_TEST.finditer(xpath.path)]


def plain_calls(xpath: etree.XPath) -> etree.XPath:
    """`xpath` with its re:test calls made as described above (without any: `xpath` itself)."""
    if "re:test" not in xpath.path:
        return xpath
    src = _RE_TEST.sub(lambda m: f"(({m[1]}) and c:test(string({m[1]}), {m[2]}{m[3]}))", xpath.path)
    if "re:test" in src:
        raise ValueError(f"unsupported re:test call in {xpath.path}")
    return etree.XPath(src, namespaces={"c": _NS}, extensions={(_NS, "test"): _test})


# the re:test calls of BODY_XPATH[0], [2] and [3] the _is_frame_* tests below are written for
_FRAME_CALLS = [
    [("@id", ""), ("@class", "")],
    [],
    [("@id", ""), ("@class", "i"), ("@class", "")],
    [("@id", ""), ("@class", "")],
    [],
]
if AVAILABLE:
    _CALLS = [re_calls(x) for x in _main.BODY_XPATH]
    AVAILABLE = [[(a, f) for a, _, f in c] for c in _CALLS] == _FRAME_CALLS
if AVAILABLE:
    (_, _P0_ID, _), (_, _P0_CLASS, _) = _CALLS[0]
    (_, _P2_ID, _), (_, _P2_FULLTEXT, _), (_, _P2_CLASS, _) = _CALLS[2]
    (_, _P3_ID, _), (_, _P3_CLASS, _) = _CALLS[3]
    OVERALL_DISCARD_XPATH = [plain_calls(x) for x in _main.OVERALL_DISCARD_XPATH]
_FRAME_TAGS = ("article", "div", "main", "section")


def _is_frame_0(el: Any) -> bool:
    """BODY_XPATH[0]'s test of an article/div/main/section element."""
    get = el.get
    c, i = get("class"), get("id")
    return (
        c in ("post", "entry")
        or get("itemprop") == "articleBody"
        or i == "articleContent"
        or (i is not None and _found(_P0_ID, "", i))
        or (c is not None and _found(_P0_CLASS, "", c))
    )


def _is_frame_2(el: Any) -> bool:
    """BODY_XPATH[2]'s test."""
    get = el.get
    c, i = get("class"), get("id")
    return (
        get("role") == "article"
        or i in ("article", "story")
        or c in ("postarea", "art-postcontent", "text", "cell", "story")
        or (i is not None and _found(_P2_ID, "", i))
        or (c is not None and (_found(_P2_FULLTEXT, "i", c) or _found(_P2_CLASS, "", c)))
    )


def _is_frame_3(el: Any) -> bool:
    """BODY_XPATH[3]'s test (translate(@x, 'CM', 'cm') is a replacement of those two letters)."""
    get = el.get
    c, i = get("class"), get("id")
    if i == "content" or c == "content":
        return True
    if i is not None and (_found(_P3_ID, "", i) or "main-content" in i.replace("C", "c").replace("M", "m")):
        return True
    return c is not None and (
        _found(_P3_CLASS, "", c)
        or "main-content" in c.replace("C", "c").replace("M", "m")
        or "page-content" in c.replace("C", "c").replace("P", "p")
    )


_FRAME_TESTS = (_is_frame_0, None, _is_frame_2, _is_frame_3, None)


def first_frame(k: int, tree: Any) -> Any:
    """next((s for s in BODY_XPATH[k](tree) if s is not None), None), as _extract reads it."""
    test = _FRAME_TESTS[k]
    if test is None:  # plain XPath, cheap
        return next((s for s in _main.BODY_XPATH[k](tree) if s is not None), None)
    return next((el for el in tree.iterdescendants(*_FRAME_TAGS) if test(el)), None)


def prune_sections(tree: Any, potential_tags: set[str], options: Any) -> Any:
    """main_extractor.prune_unwanted_sections(tree, potential_tags, options), for the balanced and
    recall modes cleaning uses (no precision branches)."""
    m = _main
    assert options.focus != "precision"  # noqa: S101 - the precision branches are not carried over
    tree = m.prune_unwanted_nodes(tree, OVERALL_DISCARD_XPATH, with_backup=True)
    if "graphic" not in potential_tags:
        tree = m.prune_unwanted_nodes(tree, m.DISCARD_IMAGE_ELEMENTS)
    if options.focus != "recall":
        tree = m.prune_unwanted_nodes(tree, m.TEASER_DISCARD_XPATH)
    for _ in range(2):
        tree = m.delete_by_link_density(tree, "div", backtracking=True, favor_precision=False)
        tree = m.delete_by_link_density(tree, "list", backtracking=False, favor_precision=False)
        tree = m.delete_by_link_density(tree, "p", backtracking=False, favor_precision=False)
    if "table" in potential_tags:
        # collect before deleting (as trafilatura: a deletion can make iter() skip a table)
        boilerplate_tables = [elem for elem in tree.iter("table") if m.link_density_test_tables(elem) is True]
        for elem in boilerplate_tables:
            m.delete_element(elem, keep_tail=False)
    m.strip_tags(tree, "span", *(() if "ref" in potential_tags else ("ref",)))
    return tree


def extract(tree: Any, options: Any) -> tuple[Any, str, set[str]]:
    """main_extractor._extract(tree, options): the first content frame that gives text."""
    m = _main
    potential_tags = set(m.TAG_CATALOG)
    if options.tables is True:
        potential_tags.update(["table", "td", "th", "tr"])
    if options.images is True:
        potential_tags.add("graphic")
    if options.links is True:
        potential_tags.add("ref")
    result_body = m.Element("body")
    for k in range(len(_FRAME_TESTS)):
        subtree = first_frame(k, tree)
        if subtree is None:
            continue
        subtree = prune_sections(subtree, potential_tags, options)
        if len(subtree) == 0:
            continue
        lead, start = _take_frame(subtree, potential_tags, options, result_body)
        while len(result_body) > 0 and (result_body[-1].tag in m.NOT_AT_THE_END):
            m.delete_element(result_body[-1], keep_tail=False)
        if sum(e.tag != "graphic" for e in result_body) > 1:  # real content, not a lone image
            if lead is not None:
                result_body.insert(start, lead)
            break
    temp_text = " ".join(result_body.itertext()).strip()
    return result_body, temp_text, potential_tags


def _take_frame(subtree: Any, potential_tags: set[str], options: Any, result_body: Any) -> tuple[Any, int]:
    """The loop body of main_extractor._extract for one frame: its elements go to `result_body`;
    returns the frame's lead paragraph (inserted only if the frame is accepted) and its place."""
    m = _main
    ptest = subtree.xpath("//p//text()")
    factor = 1 if options.focus == "precision" else 3
    if not ptest or len("".join(ptest)) < options.min_extracted_size * factor:
        potential_tags.add("div")
    subelems = subtree.xpath(".//*")
    tags = {e.tag for e in subelems}
    if tags == {"lb"} or (subtree.tag == "div" and "div" in potential_tags and tags <= m.INLINE_FORMATTABLE | {"lb"}):
        subelems = [subtree]
    lead, start = None, len(result_body)
    if subelems != [subtree] and m.text_chars_test(subtree.text):
        lead = m.Element("p")
        lead.text = subtree.text
        lead = m.process_node(lead, options)
    for elem in subelems:
        if elem.getroottree().getroot() is result_body:  # moved there with an emitted ancestor
            continue
        tag, tail = elem.tag, elem.tail  # handlers may rename the element to "done"
        processed_elem = m.handle_textelem(elem, potential_tags, options)
        if processed_elem is not None:
            result_body.append(processed_elem)
            if elem.getroottree().getroot() is not result_body:  # a copy leaves its source behind
                elem.tag = "done"
        carried = processed_elem is not None and processed_elem.tail is not None  # the handler kept the tail
        if tag in m.REBUILT_BLOCKS and m.text_chars_test(tail) and not carried:
            tail_elem = m.Element("p")
            tail_elem.text = tail
            if m.process_node(tail_elem, options) is not None:
                result_body.append(tail_elem)
    return lead, start
