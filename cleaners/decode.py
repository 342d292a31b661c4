"""Bytes -> str for HTML: BOM, then HTTP charset, then <meta>, then UTF-8, then detection."""

from __future__ import annotations

import codecs
import gzip
import re
import zlib

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
