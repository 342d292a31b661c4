"""Bytes -> text for HTML, in the WHATWG order, with a text/binary decision.

1. gzip (by magic bytes) is inflated, bounded; a page over `MAX_BYTES` is refused.
2. A sniffed binary format (image, PDF, archive, font, media: `BINARY_SIGNATURES`) is refused.
3. The encoding: a byte order mark; else the HTTP `Content-Type` charset; else a `<meta>` charset: the
   WHATWG prescan of the first 1024 bytes, then the rest of the head, as the HTML parser does when it
   meets a `<meta charset>` while the encoding is still tentative (script and style content skipped,
   so 20+ KiB of inline script before the `<meta>` does not hide it); else detection.
4. A declared label that the bytes contradict is not trusted: non-ASCII bytes that are valid UTF-8 are
   UTF-8 whatever a legacy label says (a lying `iso-8859-1` header over UTF-8), and a legacy label under
   which the text reads as mojibake (charset_normalizer finds no plausible text under it, e.g. cp1251
   bytes under `iso-8859-1`) gives way to detection; when nothing plausible is found the page is refused
   with reason `mojibake`.
5. The decoded text must read as text: a share of control characters (C0 and C1 controls, U+FFFD)
   above `MAX_CONTROL_SHARE` is binary data (random bytes with no NUL), while a stray control character
   (one NUL in a <title>) is only removed.

Labels are resolved with w3lib's WHATWG-aware table (`iso-8859-1` and `ascii` mean windows-1252).
"""

from __future__ import annotations

import codecs
import gzip
import re
import zlib
from dataclasses import dataclass

from w3lib.encoding import html_body_declared_encoding, http_content_type_encoding, read_bom, resolve_encoding

MAX_BYTES = 5_000_000  # documents above this are refused with a clear error
PRESCAN_BYTES = 1024  # the WHATWG prescan window
HEAD_SCAN_BYTES = 512 * 1024  # how far a late <meta charset> is looked for (scripts skipped)
SAMPLE_BYTES = 64 * 1024  # text bytes given to detection
MAX_CONTROL_SHARE = 0.01  # above this share of control characters the "text" is binary data

# (offset, signature, MIME type): formats a page body may turn out to be (WHATWG MIME sniffing's
# image, audio/video, font and archive patterns, plus PDF and a few more)
BINARY_SIGNATURES: tuple[tuple[int, bytes, str], ...] = (
    (0, b"%PDF-", "application/pdf"),
    (0, b"\x89PNG\r\n\x1a\n", "image/png"),
    (0, b"GIF87a", "image/gif"),
    (0, b"GIF89a", "image/gif"),
    (0, b"\xff\xd8\xff", "image/jpeg"),
    (0, b"BM", "image/bmp"),
    (0, b"\x00\x00\x01\x00", "image/x-icon"),
    (0, b"\x00\x00\x02\x00", "image/x-icon"),
    (8, b"WEBP", "image/webp"),
    (4, b"ftyp", "video/mp4"),
    (0, b"\x1a\x45\xdf\xa3", "video/webm"),
    (0, b"OggS\x00", "application/ogg"),
    (0, b"ID3", "audio/mpeg"),
    (0, b"fLaC", "audio/flac"),
    (8, b"WAVE", "audio/wave"),
    (0, b"wOFF", "font/woff"),
    (0, b"wOF2", "font/woff2"),
    (0, b"\x00\x01\x00\x00\x00", "font/ttf"),
    (0, b"OTTO", "font/otf"),
    (0, b"PK\x03\x04", "application/zip"),
    (0, b"Rar!\x1a\x07", "application/x-rar-compressed"),
    (0, b"7z\xbc\xaf\x27\x1c", "application/x-7z-compressed"),
    (0, b"BZh", "application/x-bzip2"),
    (0, b"\xfd7zXZ\x00", "application/x-xz"),
    (0, b"\x28\xb5\x2f\xfd", "application/zstd"),
    (0, b"\x00asm", "application/wasm"),
    (0, b"\x7fELF", "application/x-executable"),
    (0, b"MZ", "application/x-msdownload"),
    (0, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "application/x-ole-storage"),
    (0, b"SQLite format 3\x00", "application/vnd.sqlite3"),
)
# Unicode text never holds these: C0 controls but tab, LF, FF and CR; C1 controls; the replacement
# character that a failed decoding leaves
_CONTROLS = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f\ufffd]")
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")  # libxml2 refuses these
_HIDDEN_START = re.compile(rb"<(script|style|template)\b|<!--", re.IGNORECASE)
_TAGS = re.compile(rb"<[^<>]*>")  # stops at the next "<": linear
_META_TAG = re.compile(rb"<meta\b[^<>]*>", re.IGNORECASE)
_BODY = re.compile(rb"<body\b", re.IGNORECASE)
_SINGLE_BYTE_LEGACY = frozenset(
    codecs.lookup(name).name
    for name in (
        *(f"cp{n}" for n in range(1250, 1259)),
        *(f"iso8859_{n}" for n in (*range(2, 12), *range(13, 17))),
        *("koi8_r", "koi8_u", "cp874", "cp866", "mac_cyrillic", "mac_roman"),
    )
)


class DecodeError(ValueError):
    """The input is not decodable HTML. `reason` is the counted code, str(err) the per-document message."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class Decoded:
    text: str
    encoding: str  # Python codec name
    by: str  # "bom" | "http" | "meta" | "detected" | "ascii"; "+checked" when a label was overruled


def gunzip(data: bytes, limit: int = MAX_BYTES) -> bytes:
    """Decompress gzip data, refusing to inflate beyond `limit` (zip bombs)."""
    d = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = d.decompress(data, limit + 1)
    except zlib.error as err:
        raise DecodeError("bad_gzip", f"bad gzip data: {err}") from err
    if len(out) > limit:
        raise DecodeError("too_large", f"too large: more than {limit} bytes after decompression")
    return out


def sniff_binary(data: bytes) -> str | None:
    """The MIME type of a binary format `data` starts with, if any."""
    for offset, sig, mime in BINARY_SIGNATURES:
        if data.startswith(sig, offset):
            return mime
    return None


def _label(label: str | None) -> str | None:
    if not label:
        return None
    name = resolve_encoding(label.strip().strip("\"'"))
    if name is None:
        return None
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def http_charset(content_type: str | None) -> str | None:
    """The codec named by a `Content-Type` header's charset parameter (None when absent or unknown)."""
    if not content_type:
        return None
    return _label(http_content_type_encoding(content_type))


def meta_charset(data: bytes) -> str | None:
    """The <meta> charset: the WHATWG prescan of the first 1024 bytes, else the first one in the rest of
    the head (script, style and comments skipped), as the parser would honour it."""
    found = html_body_declared_encoding(data[:PRESCAN_BYTES])
    if found:
        return _meta_codec(found)
    head = without_hidden(data[:HEAD_SCAN_BYTES])
    body = _BODY.search(head)
    if body is not None:
        head = head[: body.start()]
    for m in _META_TAG.finditer(head):
        found = html_body_declared_encoding(m.group(0))
        if found:
            return _meta_codec(found)
    return None


def without_hidden(data: bytes) -> bytes:
    """`data` without the content of script, style and template elements and comments (in one linear pass:
    an element left open hides the rest, as it would in the parser)."""
    low = data.lower()
    out, pos = [], 0
    while (m := _HIDDEN_START.search(data, pos)) is not None:
        out.append(data[pos : m.start()])
        closing = b"-->" if m.group(1) is None else b"</" + m.group(1).lower()
        end = low.find(closing, m.end())
        if end == -1:
            return b" ".join(out)
        pos = end + len(closing)
        out.append(b" ")
    out.append(data[pos:])
    return b"".join(out)


def _meta_codec(label: str) -> str | None:
    name = _label(label)
    if name in ("utf-16-le", "utf-16-be", "utf-16"):  # WHATWG: a <meta> cannot declare UTF-16
        return "utf-8"
    return name


def _text_sample(data: bytes) -> bytes:
    """Bytes of the page's text for detection: scripts, styles, comments and tags taken out."""
    sample = _TAGS.sub(b" ", without_hidden(data[: 8 * SAMPLE_BYTES]))
    return sample[:SAMPLE_BYTES]


def _detect(data: bytes, sample: bytes | None = None) -> str | None:
    from charset_normalizer import from_bytes

    sample = _text_sample(data) if sample is None else sample
    best = from_bytes(sample).best()
    return codecs.lookup(best.encoding).name if best is not None and best.encoding else None


def _plausible(sample: bytes, codec: str) -> bool:
    """Whether the text reads as text under `codec` (charset_normalizer finds no mess in it)."""
    from charset_normalizer import from_bytes

    return from_bytes(sample, cp_isolation=[codec]).best() is not None


def _utf8(data: bytes) -> str | None:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _choose(data: bytes, content_type: str | None, charset: str | None) -> Decoded:
    bom, mark = read_bom(data)
    if bom and mark:
        name = codecs.lookup(bom).name
        return Decoded(data[len(mark) :].decode(name, errors="replace"), name, "bom")
    label, by = _label(charset) or http_charset(content_type), "http"
    if label is not None and label.startswith(("utf-16", "utf-32")):
        return Decoded(data.decode(label, errors="replace"), label, by)
    if data.isascii():  # every ASCII-compatible label gives the same text
        return Decoded(data.decode("ascii"), "ascii", "ascii")
    utf8 = _utf8(data)
    if utf8 is not None:
        # non-ASCII bytes that are valid UTF-8 are UTF-8 whatever a label says: legacy text almost never is
        # valid UTF-8 by accident, while a legacy label over UTF-8 is a common lie (and a <meta> cannot name
        # UTF-16, the one other label that could hold these bytes)
        return Decoded(utf8, "utf-8", by if label == "utf-8" else "detected" if label is None else f"{by}+checked")
    if label is None:
        label, by = meta_charset(data), "meta"
    if label is None:
        detected = _detect(data)
        # all the non-ASCII bytes outside the text (in scripts, say): any single-byte reading will do
        label = detected if detected not in (None, "ascii") else "cp1252"
        return Decoded(data.decode(label, errors="replace"), label, "detected")
    if label == "utf-8":
        text = data.decode("utf-8", errors="replace")
        if text.count("\ufffd") <= max(2, len(text) // 1000):  # a few broken bytes, not another encoding
            return Decoded(text, "utf-8", by)
        detected = _detect(data)
        if detected and detected != "utf-8":
            return Decoded(data.decode(detected, errors="replace"), detected, f"{by}+checked")
        return Decoded(text, "utf-8", by)
    if label in _SINGLE_BYTE_LEGACY:
        sample = _text_sample(data)
        if not sample.isascii() and not _plausible(sample, label):
            detected = _detect(data, sample)
            if detected is None or detected == label:
                raise DecodeError("mojibake", f"mojibake: the text does not read as {label} ({by}) nor as any other")
            return Decoded(data.decode(detected, errors="replace"), detected, f"{by}+checked")
    try:
        return Decoded(data.decode(label), label, by)
    except UnicodeDecodeError:
        detected = _detect(data) or label
        return Decoded(data.decode(detected, errors="replace"), detected, f"{by}+checked")


def decode(data: bytes, content_type: str | None = None, charset: str | None = None) -> Decoded:
    """Decode a page body. `content_type`: the HTTP header (its charset is used); `charset`: a bare label
    that overrides it. Raises DecodeError with a reason: too_large, bad_gzip, binary, mojibake."""
    if data[:2] == b"\x1f\x8b":
        data = gunzip(data)
    if len(data) > MAX_BYTES:
        raise DecodeError("too_large", f"too large: {len(data)} bytes > {MAX_BYTES}")
    mime = sniff_binary(data)
    if mime is not None:
        raise DecodeError("binary", f"not html: the content is {mime}")
    # C0 controls are the same bytes in every ASCII-compatible encoding: counted in C on the bytes, before
    # any encoding is weighed (random bytes are binary, not mojibake)
    c0 = len(data.translate(None, _NOT_C0_CONTROL))
    wide = data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or (
        (http_charset(content_type) or _label(charset) or "").startswith(("utf-16", "utf-32"))
    )
    if not wide:
        _refuse_binary(c0, len(data))
    decoded = _choose(data, content_type, charset)
    text = decoded.text
    if decoded.encoding.startswith(("utf-16", "utf-32")):  # not ASCII-compatible: count on the text
        check_text(text)
    else:  # what the decoding could not read became U+FFFD; C1 controls come only from single-byte codecs
        bad = c0 + text.count("\ufffd")
        if decoded.encoding not in ("utf-8", "ascii"):
            bad += len(_C1.findall(text))
        _refuse_binary(bad, len(text))
    return Decoded(strip_controls(text), decoded.encoding, decoded.by)


_NOT_C0_CONTROL = bytes(b for b in range(256) if not (b < 0x20 and b not in b"\t\n\x0c\r") and b != 0x7F)
_C1 = re.compile("[\x80-\x9f]")


def _refuse_binary(bad: int, n: int) -> None:
    if bad > 8 and bad > MAX_CONTROL_SHARE * n:
        raise DecodeError("binary", f"not html: binary data ({bad / n:.0%} control characters)")


def check_text(text: str) -> None:
    """Raise DecodeError("binary") when `text` holds more control characters than text ever does."""
    if text:
        _refuse_binary(len(_CONTROLS.findall(text, 0, 200_000)), min(len(text), 200_000))


def strip_controls(text: str) -> str:
    """`text` without the characters libxml2 cannot hold (a stray NUL, form feeds, …)."""
    return _XML_INVALID.sub("", text) if _XML_INVALID.search(text) else text


def decode_html(data: bytes, encoding: str | None = None, content_type: str | None = None) -> str:
    """The text of an HTML byte string; `encoding`: a charset label (e.g. from HTTP headers)."""
    return decode(data, content_type=content_type, charset=encoding).text


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
                raise DecodeError("bad_gzip", f"bad gzip data: {err}") from err
        else:
            data = fh.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise DecodeError("too_large", f"too large: more than {MAX_BYTES} bytes")
    return data
