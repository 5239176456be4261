"""Benchmark: the themes of 100,000 open answers (aim: <= 30 s), beside a plain count of their words.

The answers are made from the fixture corpus's sentences (tests/unit/themes_corpus.py), joined in twos and
threes with varied inflection and a few typos, in the consultation's mix of languages (83 % Polish, 12 %
Ukrainian, 5 % English, some Ukrainians answering in Polish), 70 % quotable. They stream through one
ThemeCounter with the shipped coding frame (config/themes.yaml), as `wspolnota themes` and the report do.

Prints the time of the first run in the process (the dictionaries and models loading: simplemma, lingua,
wordfreq), of a second run on warm caches, answers/s, the ratio to a bare regex-and-Counter word count over
the same texts, the peak memory and the top themes (a sanity check that they are the planted ones).

Usage: `python -m bench.themes [--answers 100000] [--seed 16]`
"""

from __future__ import annotations

import argparse
import random
import re
import resource
import time
from collections import Counter
from pathlib import Path

from handlers.definitions.questionnaire import Question
from handlers.definitions.themes import THEMES_FILE, load_coding_frame
from reports.themes import Lexicon, ThemeCounter
from tests.unit import themes_corpus as corpus

ROOT = Path(__file__).resolve().parent.parent
QUESTION = Question.model_validate(
    {
        "code": "community_meaning",
        "type": "text",
        "label": {
            "pl": "Czym jest dla Ciebie wspólnota?",
            "en": "What does community mean to you?",
            "uk": "Що для вас означає спільнота?",
        },
    }
)
GROUPS = [f"{event}/{district}" for event in ("wola", "ochota", "targowek", "—") for district in range(18)]
# What residents add to a sentence: a few words that make each answer a little different.
TAILS = {
    "pl": ["", "", " Naprawdę.", " Tak uważam.", " Pozdrawiam!", " W bloku 12.", " Od lat."],
    "uk": ["", "", " Дякую.", " Так думаю.", " Вже давно."],
    "en": ["", "", " Thanks.", " I think so.", " For years now."],
}


def answers(n: int, seed: int) -> list[tuple[str, str, bool, str]]:
    """`n` synthetic answers: (text, the questionnaire's language, quotable, group)."""
    rng = random.Random(seed)
    pools = {"pl": corpus.POLISH, "uk": corpus.UKRAINIAN, "en": corpus.ENGLISH}
    made = []
    for _ in range(n):
        roll = rng.random()
        language = "pl" if roll < 0.83 else "uk" if roll < 0.95 else "en"
        sentences = rng.sample(pools[language], rng.choice((1, 2, 2, 3)))
        text = " ".join(sentences) + rng.choice(TAILS[language])
        if language == "pl" and rng.random() < 0.05:
            text = text.replace("ą", "a").replace("ę", "e").replace("ó", "o")  # typed without diacritics
        hint = "uk" if language == "pl" and rng.random() < 0.05 else language
        made.append((text, hint, rng.random() < 0.7, rng.choice(GROUPS)))
    return made


def count_themes(data: list[tuple[str, str, bool, str]], lexicon: Lexicon) -> tuple[float, float, ThemeCounter, int]:
    """Wall and CPU seconds (the machine's cores may be shared), the counter, how many themes."""
    started, cpu = time.perf_counter(), time.process_time()
    counter = ThemeCounter(QUESTION, lexicon)
    for text, language, allowed, group in data:
        counter.add(text, allowed, language=language, group=group)
    themes = counter.themes(top=10)
    return time.perf_counter() - started, time.process_time() - cpu, counter, len(themes)


def count_words(data: list[tuple[str, str, bool, str]]) -> float:
    """The floor: lower-case words counted once per answer, nothing else."""
    word = re.compile(r"[^\W\d_]{3,}")
    started = time.perf_counter()
    counts: Counter[str] = Counter()
    for text, _, _, _ in data:
        counts.update(set(word.findall(text.lower())))
    counts.most_common(10)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--answers", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=16)
    args = parser.parse_args()
    data = answers(args.answers, args.seed)
    frame = load_coding_frame(ROOT / "config" / THEMES_FILE)
    first, first_cpu, _, _ = count_themes(data, Lexicon(frame))  # the first: dictionaries and models load
    warm, warm_cpu, counter, shown = count_themes(data, Lexicon(frame))
    plain = count_words(data)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"themes of {args.answers:,} open answers ({dict(counter.by_language)}), {shown} themes shown")
    print(
        f"  first run (loading simplemma, lingua, wordfreq): {first:.1f} s ({first_cpu:.1f} s CPU), "
        f"{args.answers / first:,.0f} answers/s"
    )
    print(f"  warm run: {warm:.1f} s ({warm_cpu:.1f} s CPU), {args.answers / warm:,.0f} answers/s")
    print(f"  a bare word count: {plain:.2f} s; themes/word count {warm / plain:.1f}x")
    print(f"  peak memory: {peak:.0f} MB")
    for theme in counter.themes(top=10):
        where = "frame" if theme.kind == "frame" else theme.language
        print(f"    {theme.answers:>6}  {theme.label} [{where}]")


if __name__ == "__main__":
    main()
