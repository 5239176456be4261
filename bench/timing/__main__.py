"""Estimate: how long the shipped questionnaire takes on a phone, per language, briefly and more fully.

Not a timing of this machine: a model of a resident's reading, tapping and typing at published
rates (`handlers/definitions/timing.py` cites them). The privacy notice is counted as the web chat
shows it (the presenter's first screen, with its buttons). Usage: `python -m bench.timing`.
"""

from __future__ import annotations

import argparse

from bot.service import MESSAGES
from handlers.definitions.i18n import LANGUAGES, Language, load_catalog
from handlers.definitions.questionnaire import Questionnaire, load_questionnaires
from handlers.definitions.timing import Effort, Estimate, estimate
from handlers.engine.presenter import Presenter
from tests.support import REPOSITORY as ROOT

CONFIG = ROOT / "config"


def first_screen(presenter: Presenter, questionnaire: Questionnaire, language: Language) -> str:
    """The privacy notice as the web chat shows it, with the labels of its buttons."""
    reply = presenter.privacy(questionnaire, language)
    return "\n".join([reply.text, *(choice.label for choice in reply.navigation)])


def estimates(questionnaire: Questionnaire, presenter: Presenter) -> list[Estimate]:
    """The estimate in every language."""
    return [
        estimate(questionnaire, language, first_screen(presenter, questionnaire, language)) for language in LANGUAGES
    ]


def _row(name: str, effort: Effort) -> str:
    return (
        f"{name:>8} {effort.minutes:>5.1f} min ({effort.seconds:>3.0f} s) {effort.reading:>5.0f} s"
        f" {effort.tapping:>8.0f} s {effort.typing:>7.0f} s {effort.screens:>8}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questionnaire", default="wizja-i-wartosci")
    args = parser.parse_args()
    questionnaire = load_questionnaires(CONFIG / "questionnaires")[args.questionnaire]
    presenter = Presenter(load_catalog(CONFIG / "messages.yaml", MESSAGES)).for_channel("web")
    print(f"\n{questionnaire.id} v{questionnaire.version} on a phone (reading, tapping, typing at published rates)")
    print(f"{'':>8} {'total':>17} {'reading':>7} {'tapping':>10} {'typing':>9} {'screens':>8}")
    for result in estimates(questionnaire, presenter):
        print(f"{result.language}")
        print(_row("brief", result.brief))
        print(_row("fuller", result.fuller))
    print("\nbrief: one short sentence per open question, one pick, no contact;")
    print("fuller: a few sentences, the most picks, both contact options and an email address")


if __name__ == "__main__":
    main()
