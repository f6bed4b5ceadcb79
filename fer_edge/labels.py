"""The one place FER-2013's label order lives; every other naming maps through it."""

from __future__ import annotations

from collections.abc import Mapping

from fer_edge.errors import FerEdgeError

EMOTIONS: tuple[str, ...] = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
NUM_CLASSES = len(EMOTIONS)
USAGES: tuple[str, ...] = ("Training", "PublicTest", "PrivateTest")

#: Names other datasets and tools use for the same seven classes.
SYNONYMS: Mapping[str, str] = {
    "anger": "angry",
    "disgusted": "disgust",
    "disgusting": "disgust",
    "fearful": "fear",
    "afraid": "fear",
    "scared": "fear",
    "happiness": "happy",
    "joy": "happy",
    "sadness": "sad",
    "surprised": "surprise",
    "neutrality": "neutral",
    "calm": "neutral",
}


def index_of(name: str) -> int:
    """Index in FER-2013 order of an emotion name or a known synonym (case-insensitive)."""
    key = name.strip().lower()
    key = SYNONYMS.get(key, key)
    try:
        return EMOTIONS.index(key)
    except ValueError:
        raise FerEdgeError(
            f"unknown emotion {name!r}: expected one of {', '.join(EMOTIONS)} (or a synonym "
            "such as 'anger', 'sadness'); map it with --label-map NAME=EMOTION"
        ) from None
