"""Text preprocessing for the interest classifier: cleaning, length cap and clause splitting."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from ..config import DEFAULT_MAX_MESSAGE_CHARS

MAX_CHARS = DEFAULT_MAX_MESSAGE_CHARS  # the length cap, named here for the text functions and their callers

MAX_CLAUSES = 32  # bounds one message's encoder batch; later clauses are dropped, not failed on.

_URL = re.compile(r"(?:https?://|ftp://|www\.)\S+", re.IGNORECASE)
_SPACE = re.compile(r"\s+")
_HAS_WORD = re.compile(r"[^\W_]", re.UNICODE)
# Sentence ends and clause breaks; a dot between digits ("3.5") is not a break.
# Brackets break clauses, except around a year: "Heat (1995)" keeps its year for title linking.
_PUNCT = re.compile(r"(?<!\d)[.!?;]+(?!\d)|[\n\u2026]+|\s[-\u2013\u2014]{1,2}\s|\((?!\d{4}\))|(?<!\(\d{4})\)")
# Contrast words start a new clause; the word itself carries no taste and is dropped.
_CONTRAST = re.compile(
    # "anything but horror" is one taste, not a contrast: the comparison reader takes it whole.
    # A match starts only where a run of commas and spaces starts: ", , , ..." is not tried at every position.
    r"(?<!\banything)(?<!\beverything)(?<!\bwhatever)(?<![,\s])[,\s]+(?:but|however|although|though|whereas|yet|except that|except|while|on the other hand|nevertheless|"
    r"even though|then again|instead)\b[,\s]*",
    re.IGNORECASE,
)
# A comma may join two statements ("braveheart is a banger, rob roy was pure shite"): the pieces of a clause cut where
# each side has words enough to be a statement; "Westerns, I can't stand them" and "honestly, I love horror" stay whole.
_COMMA = re.compile(r",\s+")
COMMA_MIN_WORDS = 2
# "..., and I hate ..." starts a new statement when a subject follows the conjunction.
# The speaker as a subject, typed with or without apostrophes; every rule below that asks "is this the speaker?" uses it.
_FIRST_PERSON = r"(?:i|i'm|im|i've|ive|i'd|id|we|we're|we've)"
_AND_SUBJECT = re.compile(rf"(?:,\s*|\s+)(?:and|so|plus|also)\s+(?=(?:my|{_FIRST_PERSON})\b)", re.IGNORECASE)
# A relative clause that is a verdict: the speaker's liking verb ("which I adore", "which I really hated"); not "which I
# was excited for" or "which I found on sale", which judge nothing or the other way.
_JUDGING = r"(?:love[sd]?|adored?|hated?|enjoy(?:ed)?|liked?|rate[sd]?|detest(?:ed)?|loathed?)"
# A trailing "..., I love them" or "..., which I adore" judges what the clause named: its verdict is the clause's polarity.
_ANAPHORIC_TAIL = re.compile(
    rf",\s*((?:{_FIRST_PERSON}\b[^,]{{0,40}}?\b(?:it|them|those|these|that|this|one)|which\s+{_FIRST_PERSON}\s+(?:(?:really|still|absolutely|just|truly|always|totally)\s+)?{_JUDGING}\b[^,]{{0,40}}?)\b[\s.!]*)$",
    re.IGNORECASE,
)
_LEADING_NOT = re.compile(r"^(?:not|never)\s+(?:really\s+|so\s+much\s+|a\s+fan\s+of\s+)?", re.IGNORECASE)
_LEADING_FILLER = re.compile(r"^(?:and|or|so|also|plus|then)\s+", re.IGNORECASE)


# "I dont like war films": a negation typed without its apostrophe reads as an unknown word to the encoder.
_BARE_NEGATION = re.compile(r"\b(do|does|did|is|are|was|were|have|has|had|could|would|should|ca|wo|ai)nt\b", re.IGNORECASE)


def _with_apostrophe(match: re.Match[str]) -> str:
    """ "dont" -> "don't", "CANT" -> "CAN'T": the negation's apostrophe put back, in the word's own case."""
    word = match.group(0)
    return word[:-1] + ("'T" if word[-1] == "T" else "'t")


def _keep_char(ch: str) -> bool:
    """Drop control and format characters (zero-width, bidi marks, BOM); keep newlines as breaks."""
    if ch in "\n\t":
        return True
    return unicodedata.category(ch) not in {"Cc", "Cf", "Cs", "Co", "Cn"}


def normalize(text: object, max_chars: int = MAX_CHARS) -> str:
    """NFKC, control/zero-width characters removed, URLs stripped, spaces collapsed, capped at max_chars."""
    if text is None:
        return ""
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="ignore")
    text = str(text)
    # Cap before the expensive steps so a 100,000-character message costs no more than a long one.
    text = text[: max_chars * 2]
    text = unicodedata.normalize("NFKC", text)
    text = "".join(ch for ch in text if _keep_char(ch))
    text = _URL.sub(" ", text)
    text = text.replace("\u2019", "'").replace("\u2018", "'")
    text = _BARE_NEGATION.sub(_with_apostrophe, text)
    lines = [_SPACE.sub(" ", line).strip() for line in text.split("\n")]
    text = "\n".join(line for line in lines if line)
    if len(text) > max_chars:
        cut = text[:max_chars]
        # Truncate at a word boundary when there is one near the end.
        space = cut.rfind(" ")
        text = cut[:space] if space > max_chars * 0.8 else cut
    return text


# A bracket breaks a clause but not its sentence, so the sentence's own end says whether it asks; a spaced dash often
# ends a sentence in chat ("Watched Titanic - total snooze - any romances?").
_INNER_BREAK = re.compile(r"[()]")
# A contrast word set off by commas ("X, however, ...") after a bare subject: a name or a noun phrase with no verb of its own.
_PARENTHETICAL = re.compile(r"\s*,\s*(?:however|though|on the other hand|then again)\s*,\s*", re.IGNORECASE)
_BARE_SUBJECT = re.compile(
    r"(?!.*\b(?:i|i'm|im|we|you|he|she|they|it|it's|is|was|are|were|be|been|am|do|does|did|have|has|had|can|could|will|would|"
    r"love[sd]?|like[sd]?|hate[sd]?|enjoy(?:ed|s)?|watch(?:ed)?|saw|seen)\b)[^,;:]{1,60}",
    re.IGNORECASE,
)
# What follows a bare subject's parenthetical when the statement goes on: its verb ("was three hours of misery",
# "bore me to tears"), not another statement with a subject of its own ("comedies are great").
_PREDICATE = re.compile(
    r"(?:is|was|are|were|isn't|wasn't|aren't|weren't|has|had|have|bores?|bored|makes?|made|leaves?|left|gets?|got|"
    r"does|did|doesn't|didn't|do|don't|can|can't|could|couldn't|will|won't|would|wouldn't|never|just|always|really|"
    r"send|sends|put|puts|drive|drives|drag|drags|take|takes|feel|feels|felt|look|looks|seem|seems|seemed)\b",
    re.IGNORECASE,
)
# Contrast words that often only join ("popcorn while watching horror"): the sides they join are not set against
# each other.
_JOINING = re.compile(r"\b(?:while|instead)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Clause:
    """One clause of a message, with what its boundaries say about it."""

    text: str
    contrasted: bool = False  # opened by a contrast word ("but", "though") or cut from the clause before it
    asks: bool = False  # its sentence (up to the next ".", "!", "?", ";", "…", dash or line break) ends in a question mark
    opposed: bool = False  # contrasted by a word that sets the sides against each other (not "while" or "instead")


def read_clauses(text: str, max_clauses: int = MAX_CLAUSES) -> list[Clause]:
    """Split normalized text into clauses on punctuation and contrast words ("I love X but hate Y"), each with whether a
    contrast word opened it and whether it asks."""
    clauses: list[Clause] = []
    start = 0
    breaks = [*_PUNCT.finditer(text), None]
    # A bracket does not end the sentence: "Any heist movies (the clever kind)?" asks in both pieces. Read from the
    # end, so each piece learns its sentence's end in one pass.
    asks_at: list[bool] = []
    asking = False
    for b in reversed(breaks):
        if b is None or not _INNER_BREAK.fullmatch(b.group()):
            asking = b is not None and "?" in b.group()
        asks_at.append(asking)
    asks_at.reverse()
    for end, asks in zip(breaks, asks_at):
        sentence = text[start : end.start() if end else len(text)]
        start = end.end() if end else len(text)
        # The sentence's parts between contrast words, each with the word that opened it (one regex pass).
        spoken = " " + sentence
        parts: list[tuple[str, str | None]] = []
        cut, opener, subject = 0, None, ""
        for m in _CONTRAST.finditer(spoken):
            before = spoken[cut : m.start()]
            bare = before.strip(" ,")
            if not subject and _PARENTHETICAL.fullmatch(m.group()) and _BARE_SUBJECT.fullmatch(bare) and _PREDICATE.match(spoken, m.end()):
                # "Les Mis, on the other hand, was three hours of misery": the contrast word sits inside one statement,
                # so its subject stays with what is said of it, and the statement is the contrasted one.
                subject, cut, opener = bare + " ", m.end(), m.group()
                continue
            parts.append((subject + before, opener))
            cut, opener, subject = m.end(), m.group(), ""
        parts.append((subject + spoken[cut:], opener))
        for part, opener in parts:
            opposed = opener is not None and not _JOINING.search(opener)
            for piece in _AND_SUBJECT.split(part):
                piece = _LEADING_FILLER.sub("", piece.strip(" ,:-\t"))
                if not _HAS_WORD.search(piece):
                    continue
                clauses.append(Clause(_complete_fragment(piece, bool(clauses)), opener is not None, asks, opposed))
                if len(clauses) >= max_clauses:
                    return clauses
    return clauses


def split_clauses(text: str, max_clauses: int = MAX_CLAUSES) -> list[str]:
    """The texts of read_clauses: the clauses of normalized text."""
    return [clause.text for clause in read_clauses(text, max_clauses)]


def comma_statements(part: str) -> list[str]:
    """The clause cut at its commas where both sides could be statements (each at least COMMA_MIN_WORDS words)."""
    pieces = _COMMA.split(part)
    if len(pieces) == 1:
        return pieces
    out = [pieces[0]]
    for piece in pieces[1:]:
        if _statement(piece) and _statement(out[-1]) and not _POINTS_TO_TOPIC.match(piece):
            out.append(piece)
        else:
            out[-1] = out[-1] + ", " + piece
    return [_LEADING_FILLER.sub("", piece.strip(" ,:-\t")) for piece in out]


# "Crime films, that is really my cup of tea": a piece opening with a pronoun is about the piece before it.
_POINTS_TO_TOPIC = re.compile(r"(?:that|those|these|this|it|they)(?:'s|'re|\s+(?:is|are|was|were))\b", re.IGNORECASE)


def _statement(piece: str) -> bool:
    """Whether a comma piece has words enough to be a statement of its own (symbols and emoji are not words)."""
    return _word_count(_LEADING_FILLER.sub("", piece.strip())) >= COMMA_MIN_WORDS


def _word_count(text: str) -> int:
    """Space-separated words that hold a letter or digit (symbols and emoji are not words)."""
    return sum(1 for w in text.split() if _HAS_WORD.search(w))


def _complete_fragment(piece: str, after_another: bool) -> str:
    """Turn an elliptic "not horror" after "I love sci-fi" into a full negative clause."""
    match = _LEADING_NOT.match(piece)
    if match and after_another and len(piece.split()) <= 4:
        return "I don't like " + piece[match.end() :]
    return piece


_ANAPHORIC_CLAUSE = re.compile(
    rf"^(?:(?:and|but|honestly|really|tbh|lol|haha|oh|yeah|yes|no)\s+)*{_FIRST_PERSON}\b[^,]{{0,40}}?\b(?:it|them|those|these|that|this|ones?)\b[\s.!]*$",
    re.IGNORECASE,
)


def verdict_on_previous(clause: str) -> bool:
    """True for a clause that only judges what the previous one named ("any good heist movies? I love those")."""
    return len(clause.split()) <= 8 and _ANAPHORIC_CLAUSE.match(clause) is not None


_POINTS_BACK = re.compile(r"\b(?:it|it's|them|those|these|(?:that|this)\s+one)\b", re.IGNORECASE)
# A reaction of the speaker's ("i was bored out of my mind", "I cried twice").
_SPEAKER_FIRST = re.compile(rf"^{_FIRST_PERSON}\b", re.IGNORECASE)
# "Cats was awful" names its own subject: a noun before the verb, not a pronoun.
_NAMES_A_SUBJECT = re.compile(r"^(?!(?:it|that|this|i|we|he|she|they|what|so|how)\b)\S+(?:\s+\S+){0,3}\s+(?:is|was|are|were|has|had)\b", re.IGNORECASE)
VERDICT_WORDS = 4  # a clause this short may be a verdict on the previous one ("loved it", "big yikes", "total snooze")
SPEAKER_VERDICT_WORDS = 7  # longer when it is the speaker's reaction ("i was bored out of my mind")
POINTING_VERDICT_WORDS = 12  # longer still when it points back ("I still think it's one of the sharpest comedies")


def points_back(clause: str) -> bool:
    """Whether a clause refers back to something named before ("it", "them", "that one")."""
    return _POINTS_BACK.search(clause) is not None


# "... but Ronin was good too": the clause sides with the one before it.
_AGREES = re.compile(r"\b(?:too|as well|also|either)\W*$", re.IGNORECASE)


def agrees(clause: str) -> bool:
    """Whether a clause ends by siding with the one before it ("too", "as well", "either")."""
    return _AGREES.search(clause) is not None


def verdict_after(clause: str) -> bool:
    """Whether a clause could be a verdict on the clause before it: it points back, is the speaker's short reaction,
    or is short and names no subject of its own ("Cats was awful" is about Cats, not about what came before)."""
    words = _word_count(clause)
    if points_back(clause):
        return words <= POINTING_VERDICT_WORDS
    if _SPEAKER_FIRST.match(clause):
        return words <= SPEAKER_VERDICT_WORDS
    return words <= VERDICT_WORDS and not _NAMES_A_SUBJECT.match(clause)


def verdict_tail(clause: str) -> str | None:
    """The "I love them" of "Scary movies terrify me in a fun way, I love them", or None."""
    match = _ANAPHORIC_TAIL.search(clause)
    return match.group(1).strip() if match and match.start() > 0 else None


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower())


_CONNECTIVES = {"tho", "though", "then", "and", "but", "also", "too", "so"}


def says_more_than(piece: str, span: str) -> bool:
    """Whether a piece says anything besides naming `span` ("Con Air though" does not: its verdict is elsewhere)."""
    return any(w not in _CONNECTIVES for w in _words(piece.lower().replace(span.lower(), " ")))


def clause_holding(clauses: list[str], span: str) -> int | None:
    """Index of the clause that holds a phrase (else the one sharing most of its words; None if none shares any)."""
    folded = " ".join(_words(span))
    for i, clause in enumerate(clauses):
        if folded and folded in " ".join(_words(clause)):
            return i
    want = set(_words(span))
    overlaps = [len(want & set(_words(c))) for c in clauses]
    best = max(range(len(clauses)), key=lambda i: overlaps[i], default=None)
    return best if best is not None and overlaps[best] else None


def preprocess(text: object, max_chars: int = MAX_CHARS) -> list[str]:
    """Clean a message and return its clauses (empty for empty or wordless input)."""
    return split_clauses(normalize(text, max_chars))
