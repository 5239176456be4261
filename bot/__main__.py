"""Runs the staff command line: `python -m bot …` is the same as `wspolnota …`."""

from bot.cli import main

main(prog_name="wspolnota")
