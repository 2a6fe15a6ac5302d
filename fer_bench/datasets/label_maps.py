"""Every dataset's own label codes -> canonical expression names, in one place.

Code by code as tabulated in docs/datasets.md (and in each dataset's own
documentation); tests/datasets/test_dataset_label_maps.py checks them the same way. Adapters map
through these tables, never by index position: RAF-DB counts from surprise, FER2013
from anger, AffectNet from neutral, CK+ has contempt at 2.
"""
from __future__ import annotations

from fer_bench.vocabulary import BASIC, BASIC6, BASIC7, COMPOUND, RAF_COMPOUND

RAFDB_BASIC = {1: "surprise", 2: "fear", 3: "disgust", 4: "happiness", 5: "sadness",
               6: "anger", 7: "neutral"}
RAFDB_COMPOUND = {i + 1: name for i, name in enumerate(RAF_COMPOUND)}

# FER2013 and ExpW share the Kaggle order.
FER2013 = {0: "anger", 1: "disgust", 2: "fear", 3: "happiness", 4: "sadness", 5: "surprise",
           6: "neutral"}
EXPW = dict(FER2013)

# FERPlus vote columns, in file order; the last two are not expressions.
FERPLUS_COLUMNS = ("neutral", "happiness", "surprise", "sadness", "anger", "disgust", "fear",
                   "contempt", "unknown", "NF")
FERPLUS_EMOTIONS = FERPLUS_COLUMNS[:8]

AFFECTNET = {0: "neutral", 1: "happiness", 2: "sadness", 3: "surprise", 4: "fear",
             5: "disgust", 6: "anger", 7: "contempt"}
AFFECTNET_DROPPED = {8: "none", 9: "uncertain", 10: "no-face"}

CKPLUS = {0: "neutral", 1: "anger", 2: "contempt", 3: "disgust", 4: "fear", 5: "happiness",
          6: "sadness", 7: "surprise"}
CK48_FOLDERS = {"anger": "anger", "contempt": "contempt", "disgust": "disgust",
                "fear": "fear", "happy": "happiness", "sadness": "sadness",
                "surprise": "surprise"}

JAFFE = {"AN": "anger", "DI": "disgust", "FE": "fear", "HA": "happiness", "NE": "neutral",
         "SA": "sadness", "SU": "surprise"}

OULU_FOLDERS = {"Anger": "anger", "Disgust": "disgust", "Fear": "fear",
                "Happiness": "happiness", "Sadness": "sadness", "Surprise": "surprise"}

SFEW_FOLDERS = {"Angry": "anger", "Disgust": "disgust", "Fear": "fear", "Happy": "happiness",
                "Neutral": "neutral", "Sad": "sadness", "Surprise": "surprise"}

# Declared label spaces (canonical order) of each dataset; 7 vs 8 classes explicit.
CLASSES = {
    "rafdb": BASIC7,
    "rafdb-compound": RAF_COMPOUND,
    "fer2013": BASIC7,
    "ferplus": BASIC,
    "affectnet-7": BASIC7,
    "affectnet-8": BASIC,
    "ckplus": BASIC,                  # six basic + contempt + neutral (first frames)
    "ckplus-no-neutral": BASIC[1:],
    "ck48": BASIC[1:],                # six basic + contempt; the copy has no neutral folder
    "jaffe": BASIC7,
    "oulu": BASIC6,
    "sfew": BASIC7,
    "expw": BASIC7,
    "cfee": BASIC7 + COMPOUND,        # neutral, six basic, 15 compound = 22
    # Action-unit datasets state no expression per frame: no classes, every label "".
    "disfa": (),
    "bp4d": (),
}
