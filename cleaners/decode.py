"""Bytes -> str for HTML: BOM, then HTTP charset, then <meta>, then UTF-8, then detection."""

from __future__ import annotations

import codecs
import gzip
import re
import zlib
from typing import Any

MAX_BYTES = 5_000_000  # documents above this are refused with a clear error

_META = re.compile(rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]{1,40})""", re.I)
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# WHATWG: these labels mean windows-1252 in practice
_ALIASES = {"iso-8859-1": "cp1252", "latin1": "cp1252", "latin-1": "cp1252", "ascii": "cp1252", "us-ascii": "cp1252"}


class DecodeError(ValueError):
    """The input is not decodable HTML; str(err) is the per-document reason."""


def _lookup(label: str | None) -> str | None:
    if not label:
        return None
    label = label.strip().strip("\"'").lower()
    label = _ALIASES.get(label, label)
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def gunzip(data: bytes, limit: int = MAX_BYTES) -> bytes:
    """Decompress gzip data, refusing to inflate beyond `limit` (zip bombs)."""
    d = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = d.decompress(data, limit + 1)
    except zlib.error as err:
        raise DecodeError(f"bad gzip data: {err}") from err
    if len(out) > limit:
        raise DecodeError(f"too large: more than {limit} bytes after decompression")
    return out


def decode_html(data: bytes, encoding: str | None = None) -> str:
    """Decode an HTML byte string; `encoding` is the charset from HTTP headers, if any."""
    if data[:2] == b"\x1f\x8b":
        data = gunzip(data)
    if len(data) > MAX_BYTES:
        raise DecodeError(f"too large: {len(data)} bytes > {MAX_BYTES}")
    for bom, name in _BOMS:
        if data.startswith(bom):
            return data[len(bom) :].decode(name, errors="replace")
    if b"\x00" in data[:4096]:
        raise DecodeError("not html: binary data")
    declared = _lookup(encoding)
    m = _META.search(data[:4096])
    meta = _lookup(m.group(1).decode("ascii", "ignore")) if m else None
    # strictly valid UTF-8 with non-ASCII bytes is almost never an accident: trust it over a
    # (frequently wrong) latin-1 declaration
    try:
        text = data.decode("utf-8")
        if declared in (None, "utf-8") or not data.isascii():
            return text
    except UnicodeDecodeError:
        pass
    for name in (declared, meta):
        if name and name != "utf-8":
            try:
                return data.decode(name)
            except (UnicodeDecodeError, LookupError):
                continue
    try:
        from charset_normalizer import from_bytes

        best = from_bytes(data[:20000]).best()
        if best is not None and best.encoding:
            return data.decode(best.encoding, errors="replace")
    except Exception:  # noqa: BLE001 - detection is best effort
        pass
    return data.decode("cp1252", errors="replace")


def read_file(path: str) -> bytes:
    """Read .html or .html.gz (by magic bytes, whatever the name), capped."""
    with open(path, "rb") as fh:
        head = fh.read(2)
        fh.seek(0)
        if head == b"\x1f\x8b":
            try:
                with gzip.GzipFile(fileobj=fh) as gz:
                    data = gz.read(MAX_BYTES + 1)
            except (OSError, EOFError, zlib.error) as err:
                raise DecodeError(f"bad gzip data: {err}") from err
        else:
            data = fh.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise DecodeError(f"too large: more than {MAX_BYTES} bytes")
    return data


def _fast_parser() -> Any:
    """trafilatura.utils.HTML_PARSER's settings and element classes, with the class chosen in C.

    lxml.html's HtmlElementClassLookup is a Python method called for every element proxy lxml
    creates (thousands per page, in cleaning and in trafilatura alike); a namespace lookup with a
    default fallback picks the very same classes without calling into Python.
    """
    import trafilatura
    from lxml import etree
    from lxml import html as lh

    if trafilatura.__version__ != "2.3.1":  # the settings below are 2.3.1's HTML_PARSER
        return None
    parser = etree.HTMLParser(
        collect_ids=False, default_doctype=False, encoding="utf-8", remove_comments=True, remove_pis=True
    )
    default = etree.ElementDefaultClassLookup(
        element=lh.HtmlElement, comment=lh.HtmlComment, pi=lh.HtmlProcessingInstruction, entity=lh.HtmlEntity
    )
    lookup = etree.ElementNamespaceClassLookup(default)
    lookup.get_namespace(None).update(lh.HtmlElementClassLookup._default_element_classes)  # form, input, ...
    parser.set_element_class_lookup(lookup)
    return parser


_PARSER: Any = None


# XML-invalid characters trafilatura.utils.load_html removes with a regex over the whole page
# (INVALID_XML_CHARS); pages almost never hold one, and 29 substring searches are faster
_INVALID_XML = tuple(chr(c) for c in (*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0xFFFE, 0xFFFF))


def parse_html(text: str) -> Any:
    """trafilatura.utils.load_html(text) for a str: the same tree, without scanning the page
    with a regular expression when there is nothing to remove."""
    from trafilatura import utils as tu

    global _PARSER
    if _PARSER is None:
        _PARSER = _fast_parser() or tu.HTML_PARSER
    if any(c in text for c in _INVALID_XML):
        return tu.load_html(text)
    beginning = text[:50].lower()
    check_flag = tu.is_dubious_html(beginning)
    # tu.repair_faulty_html, minus the (here empty) INVALID_XML_CHARS removal
    if "doctype" in beginning:
        firstline, _, rest = text.partition("\n")
        text = tu.DOCTYPE_TAG.sub("", firstline, count=1) + "\n" + rest
    for line in text[:4096].splitlines()[:4]:
        if "<html" in line and line.endswith("/>"):
            text = tu.FAULTY_HTML.sub(r"\1>", text, count=1)
            break
    tree = None
    fallback_parse = False
    try:
        tree = tu.fromstring(text, parser=_PARSER)
    except ValueError:  # "Unicode strings with encoding declaration are not supported."
        tree = tu.fromstring_bytes(text)
        fallback_parse = True
    except Exception as err:  # noqa: BLE001 - as trafilatura
        tu.LOGGER.error("lxml parsing failed: %s", err)
    if (tree is None or len(tree) < 1) and not fallback_parse:
        tree = tu.fromstring_bytes(text)
    if tree is not None and check_flag is True and len(tree) < 2:
        tu.LOGGER.error("parsed tree length: %s, wrong data type or not valid HTML", len(tree))
        tree = None
    return tree
