"""The lexicons (cleaners/lexicons/*.yaml) and the generic matching derived from them.

Every rule is a record and every rule can fire: for each phrase variant an input is built from
the phrase itself and must fire that rule and no other rule of its family. The scorer is checked
against written examples (not against its own regular expressions), in the scripts that need
care: Japanese (no spaces), Arabic (attached particles), Cyrillic.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from cleaners import appeals, clean_html, strip_text
from cleaners.appeals import expand, matcher, score
from cleaners.lexicons import ASK_WEIGHTS, HERE, LexiconError, _load, all_rules, languages, lexicons
from tests.appeal_corpus import phrase_example

REQUIRED = "en de fr es it pt nl pl ru uk sv da no fi cs ro tr ar ja id".split()


def test_the_twenty_languages_have_a_lexicon_with_every_part() -> None:
    assert set(REQUIRED) <= set(languages())
    for lang in REQUIRED:
        families = {r.family for r in lexicons()[lang].rules}
        # reader address, first person plural, money per period, openers, dismiss lines, calls to
        # action, paywall counters, ad-blocker pleas, app and podcast/newsletter promotion, news markers
        need = {"reader", "we", "topic", "money", "opener", "dismiss", "imperative", "reported", *ASK_WEIGHTS}
        assert need <= families, (lang, need - families)
        lex = lexicons()[lang]
        assert lex.ui_lines and lex.teasers, lang


def test_rule_ids_are_unique_and_say_family_and_language() -> None:
    ids = [r.id for r in all_rules()]
    assert len(ids) == len(set(ids))
    for r in all_rules():
        assert r.id.startswith(f"appeal:{r.family}:{r.lang}"), r.id


def _phrase_rules():
    for r in all_rules():
        if r.family in (*ASK_WEIGHTS, "imperative", "reported"):
            for phrase in r.match:
                for variant in expand(phrase):
                    yield pytest.param(r, variant, id=f"{r.id}|{variant}")


@pytest.mark.parametrize(("rule", "variant"), list(_phrase_rules()))
def test_every_phrase_rule_fires_alone_in_its_family(rule, variant: str) -> None:
    text = phrase_example(variant)
    sep = "" if lexicons()[rule.lang].cjk else " "
    if rule.family == "imperative":
        text = f"Xq.{sep}{text}"
    m = matcher((rule.lang,))
    low, words, keys, cjk = appeals._tokens(text)
    fired = m.fired(text, low, m.keys(words, keys), cjk)
    assert rule in fired, (text, [r.id for r in fired])
    same_family = [r.id for r in fired if r.family == rule.family]
    assert same_family == [rule.id], text


@pytest.mark.parametrize("lang", REQUIRED)
def test_every_word_money_opener_and_dismiss_rule_fires(lang: str) -> None:
    lex = lexicons()[lang]
    m = matcher((lang,))
    for r in lex.rules:
        if r.family in ("reader", "we", "topic"):
            for w in r.words:
                word = w.strip("=*")
                text = f"xq {word} xq" if not w.startswith("*") else f"xq qqq{word} xq"
                low, words, keys, cjk = appeals._tokens(text)
                found = m.words.find(text, low, words, m.keys(words, keys), cjk)
                assert found.get(r.family) == r.id, (text, found)
        elif r.family == "money":
            period = phrase_example(expand(r.match[0])[0])
            cur = r.words[0].rstrip("*")
            assert score(f"xq 5 {cur} {period} xq", (lang,)).fired[-1] == r.id
        elif r.family == "opener":
            for p in r.match:
                for v in expand(p):
                    assert score(phrase_example(v), (lang,)).opener, v
        elif r.family in ("dismiss", "close"):
            for w in r.words:
                sc = score(w, (lang,))
                assert sc.dismiss and sc.rule.startswith("appeal:"), w


# --- the scorer against written examples -------------------------------------------------

WRITTEN = [
    # (language, paragraph, expected rule id, or None for news)
    ("en", "Support our journalism with a gift of $5 a month.", "appeal:cta:en:support-us"),
    ("en", "You have 2 free articles left this month.", "appeal:paywall:en:free-counter"),
    ("en", "Our newsroom said the donations fell by half, according to the annual report.", None),
    ("en", "US officials told reporters the plan was final and our sources agreed.", None),
    ("de", "Unterstützen Sie uns schon mit 3 Euro im Monat.", "appeal:cta:de:support-us"),
    ("de", "Die Stiftung teilte mit, die Spenden seien gestiegen.", None),
    ("fr", "Faites un don pour notre rédaction, elle vit de vos dons.", "appeal:cta:fr:donate"),
    ("es", "Hazte socio desde 4 € al mes.", "appeal:cta:es:donate"),
    ("it", "Sostieni il nostro giornalismo con 2 euro al mese.", "appeal:cta:it:support-us"),
    ("pl", "Wesprzyj nas, abyśmy mogli dalej pisać o naszym mieście.", "appeal:cta:pl:support-us"),
    ("ru", "Поддержите нас — подпишитесь на рассылку.", "appeal:button:cta:ru:support-us"),  # short: a button
    ("uk", "Підтримайте нас: кожна гривня важлива для нашої редакції.", "appeal:cta:uk:support-us"),
    ("sv", "Stöd oss med 50 kr i månaden.", "appeal:cta:sv:support-us"),
    ("tr", "Bağımsız gazeteciliği destekleyin ve bize destek olun.", "appeal:cta:tr:support-us"),
    ("id", "Dukung kami dengan berdonasi mulai Rp 10.000 per bulan.", "appeal:cta:id:donate"),
    # Japanese: no spaces; the phrase is found inside a longer run of characters
    ("ja", "私たちの活動を応援してください。月額300円から。", "appeal:cta:ja:support"),
    ("ja", "記事の続きを読むには会員としてログインしてください。", "appeal:subscription:ja:subscribe-to-read"),
    ("ja", "市は来年度から寄付の受け付けを始めると発表した。", None),
    # Arabic: particles attached to words (و "and" + ادعم "support"), pronoun suffixes (ـنا "us")
    ("ar", "وادعمنا اليوم بمبلغ 5 دولارات شهريًا.", "appeal:button:cta:ar:support-us"),  # 6 words
    ("ar", "ولمواصلة القراءة اشترك الآن في نشرتنا البريدية.", "appeal:newsletter:ar:newsletter-signup"),
    ("ar", "وقال المدير إن التبرعات تراجعت هذا العام.", None),
]


@pytest.mark.parametrize(("lang", "text", "rule"), WRITTEN, ids=[f"{w[0]}-{i}" for i, w in enumerate(WRITTEN)])
def test_scorer_on_written_examples(lang: str, text: str, rule: str | None) -> None:
    got = appeals.is_appeal(text, appeals.languages_for([lang]))
    assert got == rule, (text, score(text, appeals.languages_for([lang])))


def test_lexicons_are_chosen_by_the_declared_or_detected_language() -> None:
    german = [
        "Der Stadtrat hat am Dienstag den Bau einer neuen Brücke über den Fluss beschlossen.",
        "Die Kosten liegen nach Angaben der Verwaltung bei rund vierzig Millionen Euro.",
    ]
    assert appeals.article_languages(german) == ("de", "en")
    assert appeals.article_languages(german, declared="pt-BR") == ("en", "pt")
    assert appeals.article_languages(german, declared="nb") == ("en", "no")
    assert appeals.article_languages(["ok"]) == ("en",)  # too short to tell: English only


def test_an_appeal_in_another_language_than_the_article_is_found() -> None:
    news = [f"The Norvale council met on Tuesday for the {n} time this year to discuss the bridge." for n in "abcd"]
    text = "\n".join([*news, "Unterstützen Sie unabhängigen Journalismus: schon mit 5 Euro im Monat."])
    out, removed = strip_text(text)
    assert out.splitlines() == news and removed[0].rule.startswith("appeal:cta:de:")


def test_removals_name_the_rule_and_its_language() -> None:
    text = "\n".join(
        [
            "Le conseil municipal a voté mardi la construction d'un nouveau pont sur la rivière.",
            "Les travaux devraient durer trois ans, selon la mairie, et coûter quarante millions d'euros.",
            "Soutenez une rédaction indépendante : faites un don dès 5 € par mois.",
        ]
    )
    _, removed = strip_text(text)
    assert [r.rule for r in removed] == ["appeal:cta:fr:donate"]  # two fr rules match: ties go by id


def test_html_page_without_declared_language_uses_the_detected_one() -> None:
    paras = [
        "Il consiglio comunale ha approvato martedì il nuovo piano per il traffico del centro storico.",
        "Il progetto costerà circa quaranta milioni di euro e sarà completato entro tre anni.",
        "I commercianti temono un calo delle vendite durante i lavori nelle strade del centro.",
        "Sostieni il giornalismo indipendente: con soli 5 € al mese ci aiuti a continuare.",
    ]
    body = "".join(f"<p>{p}</p>" for p in paras)
    art = clean_html(f"<html><head><title>Bologna</title></head><body><article>{body}</article></body></html>")
    assert paras[0] in art.text and paras[3] not in art.text
    assert any(r.rule.startswith("appeal:cta:it:") for r in art.removed)


# --- loading and validation ----------------------------------------------------------------


def _write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("language: xx\nreaders: [you]\n", "unknown keys"),
        ("language: yy\n", "does not match the file name"),
        ("language: xx\nrules:\n  - {id: a, family: nope, match: [x]}\n", "family"),
        ("language: xx\nrules:\n  - {id: a, family: cta, match: ['a  b']}\n", "empty token"),
        ("language: xx\nrules:\n  - {id: a, family: cta, match: ['... b']}\n", "gap"),
        ("language: xx\nrules:\n  - {id: a, family: cta, match: ['ab* c']}\n", "stem"),
        ("language: xx\nrules:\n  - {id: a, family: cta, match: [x]}\n  - {id: a, family: cta, match: [y]}\n", "dupl"),
        ("language: xx\nreader: [yes, no]\n", "non-empty strings"),  # YAML reads bare yes/no as booleans
        ("language: xx\ncurrency: [eur]\n", "together"),
    ],
)
def test_bad_lexicon_files_are_rejected(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(LexiconError, match=message):
        _load(_write(tmp_path, "xx.yaml", text))


def test_every_file_in_the_folder_is_a_lexicon() -> None:
    files = sorted(p.stem for p in HERE.glob("*.yaml"))
    assert files == sorted(languages())


# --- inflected languages: a phrase word written in one form matches its other forms ------------


def test_inflect_turns_long_phrase_words_into_stems() -> None:
    from cleaners.lexicons import inflect_phrase

    assert inflect_phrase("получайте ... почту|рассылку", 7, 2) == "получайте ... почту|рассыл*"
    assert inflect_phrase("zapisz się? ... newslettera|newsletter #", 7, 2) == "zapisz się? ... newslette*|newslett* #"
    assert inflect_phrase("wyłącz_ją blok*", 6, 2) == "wyłącz_ją blok*"  # multi-word and stems stay
    assert inflect_phrase("поддержать", 7, 2) == "поддержать"  # the verb: written in the forms meant


def test_an_inflected_lexicon_matches_a_case_its_phrase_did_not_write() -> None:
    import re

    import yaml

    text = "получайте главное из нашей рассылки каждое утро."  # genitive; the phrase says рассылку
    rule = next(r for r in lexicons()["ru"].rules if r.id == "appeal:newsletter:ru:newsletter-signup")
    raw = next(r for r in yaml.safe_load((HERE / "ru.yaml").read_text())["rules"] if r["id"] == "newsletter-signup")

    def hits(phrases) -> bool:
        return any(re.search(appeals.phrase_rx(v), text) for p in phrases for v in expand(p))

    assert hits(rule.match) and not hits(raw["match"])
    assert rule in matcher(("ru",)).fired(
        text, text, matcher(("ru",)).keys(frozenset(text.replace(".", "").split())), False
    )


@pytest.mark.parametrize(
    "bad", ["inflect: 6", "inflect: {min: 6}", "inflect: {min: 5, cut: 2}", "inflect: {min: 6, cut: 2, max: 9}"]
)
def test_a_bad_inflect_setting_is_an_error(tmp_path: Path, bad: str) -> None:
    with pytest.raises(LexiconError, match="inflect"):
        _load(_write(tmp_path, "xx.yaml", f"language: xx\n{bad}\n"))


# --- the whole-word index: a phrase is looked up under the words a matching text must hold -----


def test_first_words_name_every_whole_word_a_match_can_start_with() -> None:
    from cleaners.appeals import _first_words

    assert _first_words(("log_in", "sign_in")) == {"log", "login", "sign", "signin"}
    assert _first_words(("donate", "give")) == {"donate", "give"}
    assert _first_words(("donat*",)) is None and _first_words(("ad-blocker",)) is None


@pytest.mark.parametrize("text", ["Log in to read the full story.", "Login to read the full story."])
def test_a_phrase_indexed_by_whole_words_still_matches_its_glued_form(text: str) -> None:
    m = matcher(("en",))
    low, words, keys, cjk = appeals._tokens(text)
    fired = [r.id for r in m.fired(text, low, m.keys(words, keys), cjk, words)]
    assert "appeal:subscription:en:subscribe-to-read" in fired
