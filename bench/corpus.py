"""Deterministic, English-like feedback text for the benchmarks.

Search cost depends on how often the searched trigrams occur, so the text must look like
real feedback: a Zipf-like word distribution (a few very common short words, a long tail of
rare ones), real English function words at the top, product terms in the middle ranks and
a few thousand pronounceable made-up words in the tail. Everything derives from a seed, so
two runs produce byte-identical databases and comparable numbers.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass
from functools import cached_property

# The most frequent English words, roughly in frequency order.
COMMON_TEXT = """
the i to and a it is of for in that this when on my not with but can be have you app
was are so just at get do no if me all as or out there an please would like from
after an it's one up now can't what time again does any page only how work every
very need make after which some use also because still them they even then open
really would more click try any other than new way want could back screen see go
should here about keep shows way first same into been both after their while never
had before each show tried our its please much where load wrong right since already
"""
COMMON_WORDS = COMMON_TEXT.split()

# Terms a software product's feedback is full of; these sit in the middle ranks.
PRODUCT_TEXT = """
checkout login password dashboard invoice export notification settings profile upload
download search filter report billing subscription payment account email signup logout
cart order refund shipping delivery tracking coupon discount receipt address mobile
android iphone tablet browser chrome safari firefox button menu sidebar toolbar modal
popup tooltip calendar schedule reminder message inbox chat support ticket feedback
onboarding tutorial integration webhook token session timeout error crash freeze slow
loading spinner blank broken missing duplicate sync offline backup restore import
template workspace project folder archive trash permission admin member invite team
avatar photo image video audio playlist stream camera microphone keyboard shortcut
darkmode language translation currency timezone pricing plan trial upgrade downgrade
"""
PRODUCT_TERMS = PRODUCT_TEXT.split()

ONSETS = ["", "b", "c", "d", "f", "g", "h", "l", "m", "n", "p", "r", "s", "t", "v", "w"]
ONSETS += ["br", "cl", "dr", "fl", "gr", "pl", "pr", "sh", "sl", "st", "th", "tr"]
NUCLEI = ["a", "e", "i", "o", "u", "a", "e", "i", "o", "ai", "ea", "ee", "oo", "ou"]
CODAS = ["", "", "", "", "n", "r", "s", "t", "l", "m", "nd", "nt", "st", "ck", "ng"]
# English endings make the tail's trigram statistics (ing, ent, ion, ...) look like English.
SUFFIXES = ["", "", "", "", "ing", "er", "ed", "ly", "tion", "ment", "ness", "able", "ous"]

TAIL_SIZE = 3200
ZIPF_EXPONENT = 1.0
MIN_WORDS, MAX_WORDS = 8, 40
MIN_TITLE_WORDS, MAX_TITLE_WORDS = 3, 10


def _syllable(rng: random.Random) -> str:
    return rng.choice(ONSETS) + rng.choice(NUCLEI) + rng.choice(CODAS)


def _made_up_words(rng: random.Random, count: int, taken: set[str]) -> list[str]:
    """Pronounceable words of one to three syllables with English endings, unique and
    distinct from ``taken``."""
    words: list[str] = []
    seen = set(taken)
    while len(words) < count:
        syllables = rng.choice((1, 2, 2, 2, 3))
        word = "".join(_syllable(rng) for _ in range(syllables)) + rng.choice(SUFFIXES)
        if len(word) >= 4 and word not in seen:
            seen.add(word)
            words.append(word)
    return words


def _ranked_words(seed: int) -> list[str]:
    """All words, most frequent first: common words, then common words interleaved with
    product terms, then the made-up tail."""
    common = list(dict.fromkeys(COMMON_WORDS))
    product = list(dict.fromkeys(PRODUCT_TERMS))
    head, rest = common[:40], common[40:]
    middle = [w for pair in itertools.zip_longest(rest, product) for w in pair if w]
    tail = _made_up_words(random.Random(seed), TAIL_SIZE, set(common) | set(product))
    return head + middle + tail


@dataclass(frozen=True)
class Corpus:
    """A ranked vocabulary with Zipf weights, and the search terms the bench uses."""

    seed: int

    @cached_property
    def words(self) -> list[str]:
        return _ranked_words(self.seed)

    @cached_property
    def cumulative_weights(self) -> list[float]:
        weights = (1.0 / rank**ZIPF_EXPONENT for rank in range(1, len(self.words) + 1))
        return list(itertools.accumulate(weights))

    def sentence(self, rng: random.Random) -> str:
        """One feedback message of 8 to 40 words, shorter ones more likely."""
        count = int(rng.triangular(MIN_WORDS, MAX_WORDS, MIN_WORDS + 6))
        picked = rng.choices(self.words, cum_weights=self.cumulative_weights, k=count)
        if count > 20:
            cut = count // 2
            picked[cut - 1] += "."
            picked[cut] = picked[cut].capitalize()
        return " ".join(picked).capitalize() + "."

    def title(self, rng: random.Random) -> str:
        """A board feedback's title: 3 to 10 words, no full stop."""
        count = rng.randint(MIN_TITLE_WORDS, MAX_TITLE_WORDS)
        picked = rng.choices(self.words, cum_weights=self.cumulative_weights, k=count)
        return " ".join(picked).capitalize()

    @cached_property
    def moderate_terms(self) -> list[str]:
        """Product terms in the middle ranks: each is in roughly 1-4% of messages."""
        product = set(PRODUCT_TERMS)
        ranked = [w for w in self.words[60:260] if w in product and len(w) >= 5]
        return ranked[:: max(1, len(ranked) // 12)][:12]

    @cached_property
    def rare_terms(self) -> list[str]:
        """Long made-up words from the far tail that are no other word's substring: each is
        in roughly 0.1% of messages, so a search returns a few hundred hits."""
        tail = [w for w in self.words[-600:] if len(w) >= 7]
        others = " ".join(self.words)
        unique = [w for w in tail if others.count(w) == 1]
        return unique[:12]


def rank_of(corpus: Corpus, word: str) -> int:
    """1-based frequency rank (for reports)."""
    return corpus.words.index(word) + 1


def expected_share(corpus: Corpus, word: str, words_per_message: float = 16.0) -> float:
    """Rough share of messages containing ``word`` (for sanity checks of the terms)."""
    total = corpus.cumulative_weights[-1]
    probability = (1.0 / rank_of(corpus, word) ** ZIPF_EXPONENT) / total
    return 1.0 - (1.0 - probability) ** words_per_message
