"""Layer 2: paragraph-level appeal detector that works on plain text.

Each paragraph gets a score from several independent signals (a call-to-action phrase, an
imperative call-to-action verb, money per period, second-person address, first-person plural,
appeal topic words) minus a news signal (reported speech). No single keyword is enough: the
topic words alone ("donations", "newsletter") only ever add one point, so a third-person news
sentence that mentions them stays. Blocks are handled on top of the scores: an opener
("A message from …:", "Dear readers") takes everything up to its dismiss line ("Remind me later",
"Not now"), and a strong appeal paragraph pulls in adjacent weaker appeal paragraphs.
Languages: English, German, French, Spanish, Russian.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from .article import Removal, clip

THRESHOLD = 4  # score at which a paragraph alone is an appeal
WEAK = 2  # some appeal signal
ADJACENT = 3  # score at which a paragraph joins an adjacent appeal
MAX_BLOCK = 20  # an opener looks this many paragraphs ahead for its dismiss line
OPENER_REACH = 8  # ...and this many for its last appeal paragraph when there is no dismiss line

_I = re.IGNORECASE


_WORD = re.compile(r"\w+")


def _rx(*parts: str, flags: int = _I) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in parts), flags)


# Call-to-action phrases: one hit is strong evidence (3 points). Each alternative comes with the
# lower-case substrings it cannot match without (every group must have one of its members
# present), so a paragraph only pays for the few small regexes whose words it contains; one big
# alternation costs ~100x more per paragraph in Python's regex engine.
_CTA_RULES: tuple[tuple[tuple[tuple[str, ...], ...], str], ...] = (
    # en
    (
        (("support ",),),
        r"\bsupport (?:us|our (?:work|journalism|reporting|newsroom|mission|coverage)"
        r"|(?:independent|quality|local|nonprofit|non-profit|free) (?:journalism|media|news|press|reporting))\b",
    ),
    (
        (("donate ", "give ", "contribute ", "subscribe ", "join ", "sign up "), (" now", " today", " monthly")),
        r"\b(?:donate|give|contribute|subscribe|join|sign up) (?:now|today|monthly)\b",
    ),
    ((("donate to ",),), r"\bdonate to (?:us|our|the \w+ (?:fund|project|campaign))\b"),
    ((("make a ",),), r"\bmake a (?:one-time |monthly |recurring )?(?:donation|contribution|gift)\b"),
    ((("become a",),), r"\bbecome an? (?:member|supporter|subscriber|patron|donor|insider)\b"),
    (
        (("sign up ",),),
        r"\bsign up (?:for|to) (?:our|the|this|my)\b[^.!?]{0,40}\b(?:newsletter|briefing|email|digest|updates)",
    ),
    (
        (("subscribe to ",),),
        r"\bsubscribe to (?:our|the|this)\b[^.!?]{0,40}\b(?:newsletter|briefing|channel|podcast|digest)",
    ),
    ((("newsletter",), ("inbox",)), r"\b(?:get|receive) (?:our|the)\b[^.!?]{0,30}\bnewsletter\b[^.!?]{0,30}\binbox\b"),
    (
        (("please ",),),
        r"\bplease (?:consider )?(?:supporting us|support us|support our|donating|donate|subscribing|subscribe"
        r"|contributing)\b",
    ),
    (
        (("we need ", "we rely on ", "we depend on ", "we count on "),),
        r"\bwe (?:need|rely on|depend on|count on) (?:your|readers like you|you)\b",
    ),
    ((("readers like you",),), r"\breaders like you\b"),
    ((("already a",),), r"\balready an? (?:subscriber|member|supporter)\b"),
    (
        (("subscri",), ("reading",)),
        r"\bsubscribe to (?:continue|keep) reading\b|\bto continue reading\b[^.!?]{0,30}\bsubscri",
    ),
    ((("every ",),), r"\bevery (?:contribution|donation|dollar|gift)\b[^.!?]{0,40}\b(?:helps|counts|matters|makes)\b"),
    ((("chip in",),), r"\bchip in\b"),
    (
        (("join ",),),
        r"\bjoin (?:our|the)\b[^.!?]{0,30}\b(?:newsletter|mailing list|community of (?:readers|supporters|members))",
    ),
    ((("sign up for",), ("newsletter",)), r"\bsign up for\b[^.!?]{0,60}\bnewsletters?\b"),
    ((("exclusive",),), r"\bexclusive(?:ly)? (?:to|for) (?:our )?[\w+ ]{0,25}\b(?:subscribers|members|supporters)\b"),
    (
        (("subscribe to ", "log in to ", "sign in to ", "register to "),),
        r"\b(?:subscribe|log in|sign in|register) to (?:read|continue|unlock|access|keep reading)\b",
    ),
    ((("please consider",),), r"\bplease consider\b[^.!?]{0,40}\b(?:support|subscrib|donat|contribut|becom)"),
    (
        (("if you ",),),
        r"\bif you (?:liked|enjoyed|like|enjoy|value|appreciate) (?:this|our|the|what)\b[^.!?]{0,40}"
        r"\b(?:article|post|story|newsletter|work|podcast|journalism|reporting|read)",
    ),
    ((("tell your friends", "refer a friend"),), r"\b(?:tell your friends|refer a friend)\b"),
    (
        (("follow",),),
        r"\bfollow (?:us|me)\b[^.!?]{0,20}\bon\b"
        r"|\bfollow\b[^.!?]{0,40}\bon (?:facebook|twitter|instagram|youtube|tiktok)",
    ),
    ((("help us ",),), r"\bhelp us (?:keep|continue|bring|do|make|fund|sustain|stay|grow|remain)\b"),
    ((("can you ",),), r"\bcan you (?:spare|give|chip in|help us|support us)\b"),
    # de
    ((("unterstütze",),), r"\bunterstützen sie (?:uns|unsere|unabhängigen|den|die)\b|\bunterstütze uns\b"),
    ((("jetzt ",),), r"\bjetzt (?:spenden|unterstützen|abonnieren|mitglied werden|anmelden|registrieren)\b"),
    (
        (("spenden sie", "abonnieren sie", "werde"),),
        r"\b(?:spenden|abonnieren) sie\b|\bwerden sie (?:mitglied|unterstützer|abonnent)"
        r"|\bwerde (?:mitglied|unterstützer)",
    ),
    ((("newsletter",),), r"\bnewsletter abonnieren\b|\bmelden sie sich\b[^.!?]{0,40}\bnewsletter"),
    ((("ihre",),), r"\bwir (?:brauchen|sind auf) ihre (?:hilfe|unterstützung)|\bmit ihrer (?:unterstützung|spende)\b"),
    # fr
    ((("soutenez",),), r"\bsoutenez(?:-nous| notre| le journalisme| l'information| une)\b"),
    (
        (("un don", "abonnez-vous", "devenez "),),
        r"\bfai(?:tes|re) un don\b|\babonnez-vous\b|\bdevenez (?:membre|abonné|donateur|donatrice)",
    ),
    ((("inscrivez-vous",),), r"\binscrivez-vous\b[^.!?]{0,40}\b(?:newsletter|lettre)"),
    (
        (("nous avons besoin de ", "aidez-nous", "rejoignez-nous"),),
        r"\bnous avons besoin de (?:vous|votre)\b|\baidez-nous\b|\brejoignez-nous\b",
    ),
    # es
    ((("apóyanos", "apoya "),), r"\bapóyanos\b|\bapoya (?:nuestro|nuestra|el periodismo|a )"),
    (
        (("haz ", "dona "),),
        r"\bhaz (?:una|tu) (?:donación|aportación|contribución)\b|\bdona (?:ahora|hoy)\b",
    ),
    (
        (("hazte ", "suscríbete"),),
        r"\bhazte (?:socio|socia|miembro|suscriptor|suscriptora|mecenas)\b|\bsuscríbete\b",
    ),
    (
        (("necesitamos ", "ayúdanos", "únete "),),
        r"\bnecesitamos (?:tu|su) (?:ayuda|apoyo)\b|\bayúdanos\b|\búnete (?:a|hoy)\b",
    ),
    # ru
    ((("поддерж",),), r"(?<!\w)поддержите(?!\w)|(?<!\w)поддержать (?:нас|проект|редакцию|независим)"),
    (
        (("пожертв", "взнос"),),
        r"(?<!\w)(?:сделайте|сделать) (?:пожертвование|взнос)|(?<!\w)пожертвуйте(?!\w)",
    ),
    (
        (("подпишитесь", "оформите подписку", "станьте "),),
        r"(?<!\w)подпишитесь(?!\w)|(?<!\w)оформите подписку|(?<!\w)станьте (?:членом|участником|подписчиком|спонсором)",
    ),
    (
        (("ваша ", "помогите нам"),),
        r"(?<!\w)нам (?:нужна|необходима) ваша (?:помощь|поддержка)|(?<!\w)помогите нам(?!\w)",
    ),
)
CTA = _rx(*(p for _, p in _CTA_RULES))  # the whole rule as one pattern (reference; slow to search)
_CTA_GATED = tuple((gates, re.compile(p, _I)) for gates, p in _CTA_RULES)
# every CTA alternative contains one of these: paragraphs without any skip all the rules at once
CTA_ROOTS = tuple(sorted({r for gates, _ in _CTA_RULES for r in gates[0]}))


# a word (lower-case \w+ token) each CTA alternative cannot match without, in _CTA_RULES order
_CTA_KEYS = (
    "support", "donate give contribute subscribe join sign", "donate", "make", "become", "sign", "subscribe",
    "inbox", "please", "we", "readers", "already", "reading", "every", "chip", "join", "newsletter newsletters",
    "exclusive exclusively", "subscribe log sign register", "please", "if", "tell refer", "follow", "help", "can",
    "unterstützen unterstütze", "jetzt", "spenden abonnieren werden werde", "newsletter melden", "ihre ihrer",
    "soutenez", "don abonnez devenez", "inscrivez", "besoin aidez rejoignez", "apóyanos apoya", "haz dona",
    "hazte suscríbete", "necesitamos ayúdanos únete", "поддержите поддержать", "сделайте сделать пожертвуйте",
    "подпишитесь оформите станьте", "ваша помогите",
)  # fmt: skip
_CTA_BY_WORD: dict[str, list[int]] = {}
for _i, _keys in enumerate(_CTA_KEYS):
    for _w in _keys.split():
        _CTA_BY_WORD.setdefault(_w, []).append(_i)
_CTA_WORDS = frozenset(_CTA_BY_WORD)


def _has_all(low: str, gates: tuple[tuple[str, ...], ...]) -> bool:
    for group in gates:
        for r in group:
            if r in low:
                break
        else:
            return False
    return True


def _cta(s: str, low: str | None = None, words: set[str] | None = None) -> bool:
    """CTA.search(s) is not None, running only the alternatives whose words are in `s`."""
    low = s.lower() if low is None else low
    words = set(_WORD.findall(low)) if words is None else words
    hits = words & _CTA_WORDS
    if not hits:
        return False
    rules = {i for w in hits for i in _CTA_BY_WORD[w]}
    for i in rules:
        gates, rx = _CTA_GATED[i]
        if _has_all(low, gates) and rx.search(s) is not None:
            return True
    return False


# An imperative call-to-action verb opening a sentence (2 points). Each alternative with the
# words it needs: whole words for the first three, word beginnings (no \b after them) for the rest.
_IMPERATIVE_RULES = (
    ("donate subscribe sign help keep", r"(?:^|[.!?:]\s+)(?:please\s+)?(?:donate|subscribe|sign up|help us|keep us)\b"),
    ("support", r"(?:^|[.!?:]\s+)(?:please\s+)?support (?:the|us|our|independent|local)\b(?! for\b)"),
    ("spenden unterstützen abonnieren registrieren anmelden",
     r"(?:^|[.!?:]\s+)(?:jetzt\s+)?(?:spenden|unterstützen|abonnieren|registrieren|anmelden)\b"),
    ("soutenez abonnez inscrivez faites devenez rejoignez aidez",
     r"(?:^|[.!?:]\s+)(?:soutenez|abonnez|inscrivez|faites un don|devenez|rejoignez|aidez)"),
    ("apoya dona suscríbete únete hazte regístrate ayúdanos colabora",
     r"(?:^|[.!?:]\s+)(?:apoya|dona|suscríbete|únete|hazte|regístrate|ayúdanos|colabora)"),
    ("поддержите подпишитесь пожертвуйте станьте помогите оформите",
     r"(?:^|[.!?:]\s+)(?:поддержите|подпишитесь|пожертвуйте|станьте|помогите|оформите)"),
)  # fmt: skip
IMPERATIVE = _rx(*(p for _, p in _IMPERATIVE_RULES))
_IMPERATIVE_WORDS = tuple(frozenset(w.split()) for w, _ in _IMPERATIVE_RULES[:3])
_IMPERATIVE_STEMS = tuple(tuple(w.split()) for w, _ in _IMPERATIVE_RULES[3:])
_IMPERATIVE_RX = tuple(re.compile(p, _I) for _, p in _IMPERATIVE_RULES)


def _imperative_candidates(words: set[str], low: str) -> list[int]:
    """Alternatives of IMPERATIVE that can match: the others lack the verb."""
    out = [i for i, ws in enumerate(_IMPERATIVE_WORDS) if not words.isdisjoint(ws)]
    out += [i + 3 for i, stems in enumerate(_IMPERATIVE_STEMS) if any(st in low for st in stems)]
    return out


def _imperative(s: str, candidates: list[int]) -> bool:
    return any(_IMPERATIVE_RX[i].search(s) is not None for i in candidates)


_CUR = r"(?:[$€£₽¥]|US\$|CHF|EUR|USD|GBP|RUB)"
_AMOUNT = rf"(?:{_CUR}\s?\d[\d.,]*|\d[\d.,]*\s?(?:{_CUR}|euros?|dollars?|pounds?|francs?|руб(?:\.|лей|ля|ль)?|р\.))"
_PERIOD = (
    r"(?:a|per|each|every|/)\s?(?:month|mo|year|yr|week|day)\b|\bmonthly\b|\bannually\b|\byearly\b"
    r"|\b(?:im|pro|je|jeden)\s(?:monat|jahr|woche|tag)\b|\bmonatlich\b|\bjährlich\b"
    r"|\bpar\s(?:mois|an|année|semaine|jour)\b|\bmensuels?\b"
    r"|\b(?:al|por|cada)\s(?:mes|año|semana|día)\b|\bmensuales?\b"
    r"|(?<!\w)в\s(?:месяц|год|неделю|день)(?!\w)|(?<!\w)ежемесячно(?!\w)|/\s?мес"
)
# An amount followed closely by a period, in either currency position (2 points).
MONEY_PERIOD = re.compile(rf"{_AMOUNT}[^\n]{{0,20}}?(?:{_PERIOD})", _I)

_DIGIT = re.compile(r"\d")
SECOND_PERSON = re.compile(
    r"\b(?:you|your|yours|yourself)\b|\b(?:du|dich|dir|dein\w*)\b|\b(?:Sie|Ihnen|Ihre?[mnrs]?)\b"
    r"|\b(?:vous|votre|vos|toi)\b|\b(?:usted(?:es)?|tus?|contigo|vuestr[oa]s?)\b"
    r"|(?<!\w)(?:вы|вас|вам|ваш\w*|ты|тебя|тебе|тво\w+)(?!\w)",
    re.IGNORECASE,
)
# Case-sensitive: "US" is a country, "us" a pronoun; "Sie" is handled above by case too.
FIRST_PLURAL = re.compile(
    r"\b(?:[Ww]e|[Oo]urs?|us)\b|\b(?:[Ww]ir|[Uu]ns|[Uu]nser\w*)\b|\b(?:[Nn]ous|[Nn]otre|[Nn]os)\b"
    r"|\b(?:[Nn]osotr[oa]s|[Nn]uestr[oa]s?)\b|(?<!\w)(?:[Мм]ы|[Нн]ас|[Нн]ам|[Нн]аш\w*)(?!\w)"
)
TOPIC = _rx(
    r"\b(?:donat\w*|contribut\w*|journalism|newsletters?|subscri\w*|members?(?:hip)?|paywall|supporters?)\b",
    r"\b(?:spende\w*|journalismus|abo\w*|mitglied\w*|unterstütz\w*)\b",
    r"\b(?:dons?|soutien|journalisme|abonn\w*|adhérent\w*)\b",
    r"\b(?:donaci\w+|aportaci\w+|periodismo|suscrip\w+|boletín|socios?|apoyo)\b",
    r"(?<!\w)(?:пожертвован\w*|журналистик\w*|подписк\w*|рассылк\w*|поддержк\w*|донат\w*)(?!\w)",
)
# News reports speech in the third person; appeals address the reader.
REPORTED = _rx(
    r"\b(?:said|says|told|according to)\b",
    r"\b(?:sagte|sagt|erklärte|teilte\w* mit|laut)\b",
    r"\b(?:a déclaré|a dit|a affirmé|selon|a annoncé)\b",
    r"\b(?:dijo|afirmó|declaró|según|anunció)\b",
    r"(?<!\w)(?:сказал\w*|заявил\w*|сообщил\w*|по словам)(?!\w)",
)
# Fast equivalents of the searches above, used by score(). The word-level patterns
# (SECOND_PERSON, FIRST_PLURAL, TOPIC, REPORTED) are whole-word tests, so they are answered from
# the paragraph's set of \w+ tokens; the others first check for the literal words they need.
_MONEY_ROOTS = ("$", "€", "£", "₽", "¥", "chf", "eur", "usd", "gbp", "rub", "dollar", "pound", "franc", "руб", "р.")
_SP_WORDS = frozenset(
    "you your yours yourself du dich dir sie ihnen ihr ihre ihrm ihrn ihrr ihrs ihrem ihren ihrer ihres vous votre vos"
    " toi usted ustedes tu tus contigo vuestro vuestra vuestros vuestras вы вас вам ты тебя тебе".split()
)
_SP_PREFIXES = ("dein", "ваш")  # dein\w*, ваш\w*; тво\w+ below
_FP_WORDS = frozenset(
    "We we Our our Ours ours us Wir wir Uns uns Nous nous Notre notre Nos nos Nosotros nosotros Nosotras nosotras"
    " Nuestro nuestro Nuestra nuestra Nuestros nuestros Nuestras nuestras Мы мы Нас нас Нам нам".split()
)
_FP_LOWER = frozenset(w.lower() for w in _FP_WORDS)
_FP_PREFIXES = ("Unser", "unser", "Наш", "наш")
_TOPIC_WORDS = frozenset(
    "journalism newsletter newsletters member members memberhip membership paywall supporter supporters journalismus"
    " don dons soutien journalisme periodismo boletín socio socios apoyo".split()
)
_TOPIC_PREFIXES = (
    "donat", "contribut", "subscri", "spende", "abo", "mitglied", "unterstütz", "abonn", "adhérent",
    "пожертвован", "журналистик", "подписк", "рассылк", "поддержк", "донат",
)  # fmt: skip
_TOPIC_PREFIXES_PLUS = ("donaci", "aportaci", "suscrip")  # \w+: at least one more character
_REPORTED_WORDS = frozenset("said says told sagte sagt erklärte laut selon dijo afirmó declaró según anunció".split())
_REPORTED_PREFIXES = ("сказал", "заявил", "сообщил")
# multi-word alternatives: when one of these is in the text, the regex decides
_REPORTED_PHRASES = ("according to", "teilte", "a déclaré", "a dit", "a affirmé", "a annoncé", "по словам")


def _any_prefix(words: frozenset[str] | set[str], low: str, prefixes: tuple[str, ...], longer: bool = False) -> bool:
    if not any(p in low for p in prefixes):
        return False
    if longer:
        return any(w.startswith(p) and len(w) > len(p) for w in words for p in prefixes)
    return any(w.startswith(prefixes) for w in words)


def _second_person(words: set[str], low: str) -> bool:
    return (
        not words.isdisjoint(_SP_WORDS)
        or _any_prefix(words, low, _SP_PREFIXES)
        or _any_prefix(words, low, ("тво",), longer=True)
    )


def _first_plural(s: str, words: set[str], low: str) -> bool:
    if words.isdisjoint(_FP_LOWER) and not any(p in low for p in ("unser", "наш")):
        return False
    cased = set(_WORD.findall(s))  # case matters: "US" is a country
    return not cased.isdisjoint(_FP_WORDS) or any(w.startswith(_FP_PREFIXES) for w in cased)


def _topic(words: set[str], low: str) -> bool:
    return (
        not words.isdisjoint(_TOPIC_WORDS)
        or _any_prefix(words, low, _TOPIC_PREFIXES)
        or _any_prefix(words, low, _TOPIC_PREFIXES_PLUS, longer=True)
    )


def _reported(s: str, words: set[str] | None = None, low: str | None = None) -> bool:
    """REPORTED.search(s) is not None, mostly without running it."""
    low = s.lower() if low is None else low
    if words is None:
        words = set(_WORD.findall(low))
    if not words.isdisjoint(_REPORTED_WORDS) or _any_prefix(words, low, _REPORTED_PREFIXES):
        return True
    return any(p in low for p in _REPORTED_PHRASES) and REPORTED.search(s) is not None


_DISMISS = {
    "remind me later",
    "not now",
    "maybe later",
    "no thanks",
    "no thank you",
    "close",
    "dismiss",
    "später erinnern",
    "erinnere mich später",
    "nicht jetzt",
    "vielleicht später",
    "nein danke",
    "schließen",
    "me le rappeler plus tard",
    "rappelez-moi plus tard",
    "plus tard",
    "pas maintenant",
    "non merci",
    "fermer",
    "recuérdamelo más tarde",
    "recordármelo más tarde",
    "ahora no",
    "más tarde",
    "no gracias",
    "cerrar",
    "напомнить позже",
    "напомните позже",
    "не сейчас",
    "позже",
    "нет спасибо",
    "закрыть",
}
OPENER = _rx(
    r"^(?:an? )?(?:message|note|word|letter) from\b.{0,60}$",
    r"^(?:eine |ein )?(?:nachricht|botschaft|wort|brief) (?:von|der|des)\b.{0,60}$|^in eigener sache\b",
    r"^(?:un )?(?:message|mot|lettre) (?:de|du|des)\b.{0,60}$",
    r"^(?:un )?(?:mensaje|nota|carta) (?:de|del)\b.{0,60}$",
    r"^(?:сообщение|обращение|письмо) (?:от|редакции)\b.{0,60}$",
    r"^(?:dear|liebe|chers|chères|queridos|queridas|estimados|дорогие|уважаемые) \w+(?: \w+){0,3}[,:!]?$",
)


@dataclass(frozen=True)
class Score:
    score: int
    rule: str | None
    opener: bool
    dismiss: bool
    # a call-to-action, imperative verb or price somewhere in the paragraph: without one, none of
    # its sentences longer than a dismiss line can be an appeal (the patterns are not anchored)
    signal: bool = field(default=True, compare=False, repr=False)
    reported: bool = field(default=False, compare=False, repr=False)  # REPORTED matches (reported speech)


def _dismiss_key(p: str) -> str:
    return " ".join(re.sub(r"[^\w\s-]", " ", p.casefold()).replace("-", " ").split())


_DISMISS_KEYS = {_dismiss_key(d) for d in _DISMISS}
# generic "close" buttons drop themselves but do not pull in the paragraphs before them
_CLOSE_KEYS = {_dismiss_key(d) for d in ("close", "dismiss", "schließen", "fermer", "cerrar", "закрыть")}


@lru_cache(maxsize=8192)
def score(p: str) -> Score:
    """Score one paragraph; `rule` names the strongest signal when the score reaches THRESHOLD."""
    s = p.strip()
    if not s:
        return Score(0, None, False, False)
    if len(s) <= 40 and _dismiss_key(s) in _DISMISS_KEYS:
        return Score(THRESHOLD, "appeal:dismiss", False, True, True, _reported(s))
    opener = len(s) <= 100 and bool(OPENER.search(s))
    low = s.lower()
    words = set(_WORD.findall(low))
    cta = _cta(s, low, words)
    imp_candidates = _imperative_candidates(words, low)
    imp_root = bool(imp_candidates)
    imp = imp_root and _imperative(s, imp_candidates)
    money = _DIGIT.search(s) is not None and any(r in low for r in _MONEY_ROOTS) and MONEY_PERIOD.search(s) is not None
    # a sentence of this paragraph can only reach THRESHOLD with one of these (or as a dismiss line)
    strong_signal = cta or imp_root or money
    # an appeal asks for the publisher itself: imperatives and prices weigh more next to we/our/us
    own = _first_plural(s, words, low)
    total = 3 * cta + (2 if own else 1) * imp + (2 if own else 0) * money
    total += _second_person(words, low) + own + _topic(words, low)
    reported = _reported(s, words, low)
    if reported:
        total -= 2
    if len(s) > 600:  # appeals are short; long paragraphs that mention "subscribe" are content
        total -= 1 if len(s) <= 1000 else 2
    if opener and total < WEAK:
        total = WEAK  # "Dear readers," alone only joins an adjacent appeal
    words = len(s.split())
    if (words <= 4 and (cta or imp)) or (words <= 6 and cta and total >= THRESHOLD - 1):
        return Score(max(total, THRESHOLD), "appeal:button", opener, False, strong_signal, reported)
    rule = None
    if total >= THRESHOLD:
        rule = "appeal:money-per-period" if money else "appeal:call-to-action" if cta else "appeal:second-person"
    return Score(total, rule, opener, False, strong_signal, reported)


def is_appeal(paragraph: str) -> str | None:
    """Rule name if this paragraph on its own looks like an appeal, else None."""
    sc = score(paragraph)
    if sc.score >= THRESHOLD:
        return sc.rule or "appeal:score"
    return None


_SENT_END = re.compile(r"(?<=[.!?…])\s+(?=[\"“«„A-ZÀ-ÖØ-ÞА-ЯЁ¿¡])")


_QUOTES = re.compile('["“”«»„]')


def _trailing_appeal(p: str) -> int | None:
    """Index where a trailing appeal sentence starts inside an otherwise news paragraph."""
    sc = score(p)
    if _QUOTES.search(p) or sc.reported:  # quoted speech: "help us win" is news
        return None
    cuts = [m.end() for m in _SENT_END.finditer(p)]
    signal = sc.signal
    for cut in cuts[-2:]:
        head, tail = p[:cut], p[cut:]
        if not signal and len(tail.strip()) > 40:
            continue
        if len(head.strip()) >= 40 and is_appeal(tail) and not is_appeal(head):
            return cut
    return None


def find_appeals(paras: list[str]) -> tuple[dict[int, str], dict[int, int]]:
    """Decide which paragraphs are appeals.

    Returns ({index: rule} of whole paragraphs to drop, {index: cut} of paragraphs to truncate).
    """
    scores = [score(p) for p in paras]
    drop: dict[int, str] = {}
    n = len(paras)

    def strong(i: int) -> bool:
        return scores[i].score >= THRESHOLD

    # 1. opener ... dismiss blocks; or opener followed by a run of appeal-ish paragraphs
    for i, sc in enumerate(scores):
        if not sc.opener or i in drop:
            continue
        end = next((j for j in range(i + 1, min(n, i + MAX_BLOCK)) if scores[j].dismiss), None)
        if end is not None and any(strong(k) for k in range(i, end)):
            for k in range(i, end + 1):
                drop.setdefault(k, "appeal:block")
            continue
        # no dismiss line (it was a button the extractor dropped): the block runs to its last
        # strong appeal paragraph nearby, then over the appeal-ish paragraphs right after it
        last = None
        for j in range(i + 1, min(n, i + 1 + OPENER_REACH)):
            if len(paras[j]) > 800 or scores[j].reported:
                break
            if strong(j):
                last = j
        if last is None:
            continue
        while last + 1 < n and scores[last + 1].score >= 1 and not scores[last + 1].opener:
            last += 1
        for k in range(i, last + 1):
            drop.setdefault(k, "appeal:block")
    # 2. dismiss lines take the appeal-ish run right before them
    for i, sc in enumerate(scores):
        if not sc.dismiss or i in drop:
            continue
        j = i
        while (
            _dismiss_key(paras[i]) not in _CLOSE_KEYS
            and j > 0
            and scores[j - 1].score >= 1
            and len(paras[j - 1]) <= 800
            and (i - j) < MAX_BLOCK
        ):
            j -= 1
        if any(strong(k) for k in range(j, i)):
            for k in range(j, i):
                drop.setdefault(k, "appeal:block")
        drop[i] = sc.rule or "appeal:dismiss"
    # 3. strong paragraphs, spreading to adjacent weak ones; a news paragraph that merely ends
    # in an appeal sentence only loses that sentence
    cuts: dict[int, int] = {}
    for i, sc in enumerate(scores):
        if strong(i) and i not in drop:
            cut = _trailing_appeal(paras[i])
            if cut is not None and score(paras[i][:cut]).score <= 0:
                cuts[i] = cut
            else:
                drop[i] = sc.rule or "appeal:score"
    changed = True
    while changed:
        changed = False
        for i in list(drop):
            for k in (i - 1, i + 1):
                if 0 <= k < n and k not in drop and k not in cuts and scores[k].score >= ADJACENT:
                    drop[k] = "appeal:adjacent"
                    changed = True
    for i, p in enumerate(paras):
        if i not in drop and i not in cuts and scores[i].score >= 1:
            cut = _trailing_appeal(p)
            if cut is not None:
                cuts[i] = cut
    return drop, cuts


def strip_paragraphs(paras: list[str]) -> tuple[list[str], list[Removal]]:
    """Apply the text layer to a list of paragraphs."""
    drop, cuts = find_appeals(paras)
    kept: list[str] = []
    removed: list[Removal] = []
    for i, p in enumerate(paras):
        if i in drop:
            removed.append(Removal(clip(p), drop[i], "text"))
        elif i in cuts:
            kept.append(p[: cuts[i]].rstrip())
            removed.append(Removal(clip(p[cuts[i] :]), "appeal:trailing-sentence", "text"))
        else:
            kept.append(p)
    return kept, removed
