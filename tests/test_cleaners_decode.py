"""Decoding in the WHATWG order (BOM, HTTP charset, <meta>, detection), mojibake checks and the text/binary decision."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest

from cleaners import clean_html
from cleaners.cli import main
from cleaners.decode import DecodeError, decode, meta_charset

RU = [
    "Городской совет во вторник проголосовал за строительство второго моста через реку Ольховку.",
    "Новый переход обойдётся примерно в сорок восемь миллионов рублей и откроется весной будущего года.",
    "Член совета Руфь Абара сказала, что мост разгрузит движение на старом мосту у мельницы.",
    "Противники решения считают, что деньги лучше потратить на ремонт существующих дорог.",
    "Инженеры начнут изучать грунт в июне, а подрядчика город выберет до конца года.",
]
SCRIPT = "<script>var config = {" + ", ".join(f'"key{i}": "value number {i}"' for i in range(900)) + "};</script>"


def russian_page(meta: str = "", script: str = SCRIPT) -> str:
    body = "".join(f"<p>{p}</p>" for p in RU)
    head = f"<head>{script}{meta}<title>Новости Ольховки</title></head>"
    return f"<html>{head}<body><article>{body}</article></body></html>"


@pytest.mark.parametrize("charset", ["windows-1251", "koi8-r"])
def test_charset_only_in_the_http_header_behind_20_kib_of_script(charset: str) -> None:
    html = russian_page()
    assert len(SCRIPT) > 20 * 1024 and "charset" not in html
    art = clean_html(html.encode(charset), content_type=f"text/html; charset={charset}")
    assert art.error is None
    assert all(p in art.text for p in RU)


@pytest.mark.parametrize("charset", ["windows-1251", "koi8-r"])
def test_meta_charset_behind_20_kib_of_script_is_still_honoured(charset: str) -> None:
    """The prescan reads 1024 bytes; the parser honours a later <meta charset> while the encoding is tentative."""
    data = russian_page(meta=f'<meta charset="{charset}">').encode(charset)
    assert data.find(b"charset") > 20 * 1024
    assert meta_charset(data) == {"windows-1251": "cp1251", "koi8-r": "koi8-r"}[charset]
    art = clean_html(data)
    assert art.error is None and all(p in art.text for p in RU)


def test_a_late_meta_inside_a_script_or_comment_is_not_a_declaration() -> None:
    head = f"<html><head>{SCRIPT}<script>document.write('<meta charset=koi8-r>')</script><!-- <meta charset=koi8-r> -->"
    assert meta_charset((head + "</head><body>x</body></html>").encode()) is None


def test_charset_detected_when_nothing_declares_it() -> None:
    data = russian_page().encode("windows-1251")
    art = clean_html(data)
    assert art.error is None and all(p in art.text for p in RU)


def test_a_lying_latin1_header_over_utf8_is_overruled() -> None:
    data = russian_page().encode("utf-8")
    decoded = decode(data, content_type="text/html; charset=iso-8859-1")
    assert decoded.encoding == "utf-8" and decoded.by == "http+checked"
    assert clean_html(data, content_type="text/html; charset=iso-8859-1").text.startswith(RU[0])


def test_a_lying_latin1_header_over_cp1251_is_re_decoded() -> None:
    data = russian_page().encode("cp1251")
    decoded = decode(data, content_type="text/html; charset=ISO-8859-1")
    assert decoded.encoding == "cp1251" and decoded.by == "http+checked"
    art = clean_html(data, content_type="text/html; charset=ISO-8859-1")
    assert all(p in art.text for p in RU)


PL = "Rada miejska zagłosowała we wtorek za budową drugiego mostu na rzece. Przeprawa będzie kosztować sporo."
FR = "Le conseil municipal a voté mardi la construction d'un deuxième pont sur la rivière, après dix ans de débat."


@pytest.mark.parametrize(
    ("text", "charset", "codec"),
    [(FR, "iso-8859-1", "cp1252"), (PL, "iso-8859-2", "iso8859-2"), (RU[0], "koi8-r", "koi8-r"),
     (RU[0], "windows-1251", "cp1251")],
)  # fmt: skip
def test_a_true_legacy_header_is_kept(text: str, charset: str, codec: str) -> None:
    html = f"<html><body><article><p>{text}</p><p>{text}</p></article></body></html>"
    decoded = decode(html.encode(codec), content_type=f"text/html; charset={charset}")
    assert decoded.encoding == codec and decoded.by == "http" and text in decoded.text


def test_byte_order_mark_beats_the_header() -> None:
    html = russian_page()
    decoded = decode(b"\xef\xbb\xbf" + html.encode("utf-8"), content_type="text/html; charset=koi8-r")
    assert decoded.by == "bom" and RU[0] in decoded.text


@pytest.mark.parametrize("label", ["koi8-r", "iso-8859-2", "windows-1252", "iso-8859-5"])
def test_a_wrong_legacy_label_is_re_decoded(label: str) -> None:
    data = russian_page().encode("cp1251")
    decoded = decode(data, content_type=f"text/html; charset={label}")
    assert decoded.encoding == "cp1251" and decoded.by == "http+checked"


def test_mojibake_that_no_encoding_explains_is_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    from cleaners import decode as decoding

    monkeypatch.setattr(decoding, "_detect", lambda data, sample=None: None)  # detection finds nothing plausible
    data = russian_page().encode("cp1251")
    with pytest.raises(DecodeError) as err:
        decode(data, content_type="text/html; charset=koi8-r")
    assert err.value.reason == "mojibake"
    assert clean_html(data, content_type="text/html; charset=koi8-r").reason == "mojibake"


# --- text or binary ------------------------------------------------------------------------------------------


def test_random_bytes_without_nul_are_binary() -> None:
    data = os.urandom(300_000).replace(b"\x00", b"\x01")
    for content_type in (None, "text/html", "text/html; charset=utf-8", "text/html; charset=windows-1252"):
        art = clean_html(data, content_type=content_type)
        assert art.reason == "binary" and art.text == "", content_type


def test_one_nul_in_the_title_does_not_reject_an_article() -> None:
    body = "".join(f"<p>{p}</p>" for p in RU)
    data = f"<html><head><title>Новости\x00 Ольховки</title></head><body><article>{body}</article></body></html>"
    art = clean_html(data.encode("utf-8"))
    assert art.error is None and art.title == "Новости Ольховки" and RU[0] in art.text
    assert clean_html(data).error is None  # the same as str


@pytest.mark.parametrize(
    ("data", "mime"),
    [
        (b"%PDF-1.7\n" + b"<html>" * 100, "application/pdf"),
        (b"\x89PNG\r\n\x1a\n" + b"<p>" * 100, "image/png"),
        (b"GIF89a" + b"<p>" * 100, "image/gif"),
        (b"PK\x03\x04" + b"<p>" * 100, "application/zip"),
    ],
)
def test_sniffed_binary_formats_are_rejected_by_type(data: bytes, mime: str) -> None:
    art = clean_html(data)
    assert art.reason == "binary" and mime in art.error


def test_cli_warc_uses_the_same_decoding(tmp_path: Path) -> None:
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    path = tmp_path / "crawl.warc.gz"
    records = [
        ("https://news.example/1", russian_page().encode("cp1251"), "text/html; charset=windows-1251"),
        ("https://news.example/2", russian_page().encode("koi8-r"), "text/html; charset=koi8-r"),
        ("https://news.example/3", russian_page().encode("utf-8"), "text/html; charset=iso-8859-1"),  # lies
        ("https://news.example/4", russian_page().encode("cp1251"), "text/html; charset=iso-8859-1"),  # lies
        ("https://news.example/5", os.urandom(50_000).replace(b"\x00", b"\x02"), "text/html"),
    ]
    with open(path, "wb") as fh:
        writer = WARCWriter(fh, gzip=True)
        for url, body, ctype in records:
            headers = StatusAndHeaders("200 OK", [("Content-Type", ctype)], protocol="HTTP/1.1")
            writer.write_record(
                writer.create_warc_record(url, "response", payload=io.BytesIO(body), http_headers=headers)
            )
    out = io.StringIO()
    assert main(["warc", str(path)], out=out) == 0
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    for row in rows[:4]:
        assert row["error"] is None and all(p in row["text"] for p in RU), row["url"]
    assert rows[4]["reason"] == "binary" and rows[4]["text"] == ""
