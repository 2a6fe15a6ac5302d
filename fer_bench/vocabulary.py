"""The canonical expression vocabulary every dataset adapter maps into.

Datasets disagree on label order (RAF-DB counts from surprise, FER2013 from anger,
AffectNet from neutral), so adapters map *their own codes* to these names, never by
index position. Protocols declare the class set they evaluate and record it.
"""
from __future__ import annotations

# Basic vocabulary, in the order used throughout docs/datasets.md.
BASIC = ("neutral", "happiness", "sadness", "surprise", "fear", "disgust", "anger", "contempt")
BASIC7 = BASIC[:7]  # the usual 7-class view (no contempt)
BASIC6 = BASIC[1:7]  # six basic emotions (no neutral, no contempt)

# Compound expressions of Du, Tao & Martinez (PNAS 2014). The first 11 are RAF-DB's
# compound classes in RAF-DB's own order (codes 1..11); CFEE adds the rest.
COMPOUND_PARTS: dict[str, tuple[str, ...]] = {
    "happily surprised": ("happiness", "surprise"),
    "happily disgusted": ("happiness", "disgust"),
    "sadly fearful": ("sadness", "fear"),
    "sadly angry": ("sadness", "anger"),
    "sadly surprised": ("sadness", "surprise"),
    "sadly disgusted": ("sadness", "disgust"),
    "fearfully angry": ("fear", "anger"),
    "fearfully surprised": ("fear", "surprise"),
    "angrily surprised": ("anger", "surprise"),
    "angrily disgusted": ("anger", "disgust"),
    "disgustedly surprised": ("disgust", "surprise"),
    "fearfully disgusted": ("fear", "disgust"),
    # Du et al. define these three as compounds too: appalled ~ disgust + anger-ish brows,
    # hatred ~ anger + disgust, awed ~ fear + surprise (their Table 1 AU codings).
    "appalled": ("disgust", "anger"),
    "hatred": ("anger", "disgust"),
    "awed": ("fear", "surprise"),
}
RAF_COMPOUND = tuple(list(COMPOUND_PARTS)[:11])
COMPOUND = tuple(COMPOUND_PARTS)
ALL_EXPRESSIONS = BASIC + COMPOUND

# Coarse groups of CRS-CONT (docs/crs-cont.md): ids fixed so that
# negative == 1 and surprise == 3 as in the official code.
COARSE = ("neutral", "negative", "positive", "surprise")
_COARSE_OF_BASIC = {
    "neutral": "neutral",
    "happiness": "positive",
    "surprise": "surprise",
    "sadness": "negative",
    "fear": "negative",
    "disgust": "negative",
    "anger": "negative",
    "contempt": "negative",
}

# Everyday spellings found in folder names and label files.
SYNONYMS = {
    "angry": "anger", "anger": "anger",
    "happy": "happiness", "happiness": "happiness", "joy": "happiness",
    "sad": "sadness", "sadness": "sadness",
    "surprised": "surprise", "surprise": "surprise",
    "fearful": "fear", "fear": "fear", "afraid": "fear", "scared": "fear",
    "disgusted": "disgust", "disgust": "disgust",
    "neutral": "neutral", "calm": "neutral",
    "contempt": "contempt", "contemptuous": "contempt",
}


def canonical(name: str) -> str:
    """Return the canonical spelling of an expression name; raise on anything unknown."""
    key = name.strip().lower().replace("_", " ").replace("-", " ")
    if key in SYNONYMS:
        return SYNONYMS[key]
    if key in COMPOUND_PARTS:
        return key
    raise KeyError(f"unknown expression name {name!r}; known: {', '.join(ALL_EXPRESSIONS)} "
                   f"(and synonyms {', '.join(sorted(set(SYNONYMS) - set(BASIC)))})")


def coarse_group(expression: str) -> str:
    """Coarse CRS-CONT group of an expression.

    Compound rule (documented in the README): a compound that has any negative part is
    'negative' (the weight vector treats negatives specially, and a negative part is what
    a rater notices first); otherwise positive beats surprise, so 'happily surprised' is
    'positive' and 'awed' (fear + surprise) is 'negative'.
    """
    expression = canonical(expression)
    if expression in _COARSE_OF_BASIC:
        return _COARSE_OF_BASIC[expression]
    groups = {_COARSE_OF_BASIC[p] for p in COMPOUND_PARTS[expression]}
    for g in ("negative", "positive", "surprise"):
        if g in groups:
            return g
    return "neutral"


def coarse_id(expression: str) -> int:
    return COARSE.index(coarse_group(expression))


def shared_classes(*class_sets: tuple[str, ...]) -> tuple[str, ...]:
    """Classes present in every set, in the canonical order (for cross-dataset probes)."""
    common = set(class_sets[0]).intersection(*map(set, class_sets[1:]))
    return tuple(c for c in ALL_EXPRESSIONS if c in common)
