"""The terminal channel's pure functions: a typed line into an Inbound, a Reply into text."""

from __future__ import annotations

from handlers.engine.messages import Choice, Inbound, Reply, RespondentRef


def _command(choice: Choice) -> str:
    assert choice.action is not None
    return f"/{choice.action.value}" + (f" {choice.argument}" if choice.argument else "")


def _buttons(reply: Reply) -> list[Choice]:
    """The buttons a typed number picks: all of them when the reply asks no question."""
    return [] if reply.question else [c for c in (*reply.choices, *reply.navigation) if c.action is not None]


def render(reply: Reply) -> str:
    """Shows a reply as plain text: numbered options or buttons, and the navigation commands."""
    lines: list[str] = []
    if reply.heading:
        lines.append(f"[{reply.heading}]")
    lines.append(reply.text)
    if reply.question:
        for number, choice in enumerate(reply.choices, start=1):
            mark = ("[x] " if choice.selected else "[ ] ") if reply.multiple else ("* " if choice.selected else "")
            lines.append(f"  {number}) {mark}{choice.label}")
        if reply.navigation:
            lines.append("  " + " · ".join(f"{_command(c)} = {c.label}" for c in reply.navigation))
    else:
        for number, choice in enumerate(_buttons(reply), start=1):
            lines.append(f"  {number}) {choice.label}  ({_command(choice)})")
    return "\n".join(lines)


def inbound_from_line(line: str, respondent: RespondentRef, last: Reply | None) -> Inbound:
    """Reads one typed line; a bare number picks a numbered button of a reply that asks no question."""
    text = line.rstrip("\n")
    buttons = _buttons(last) if last is not None else []
    stripped = text.strip()
    if buttons and stripped.isdigit() and 1 <= int(stripped) <= len(buttons):
        chosen = buttons[int(stripped) - 1]
        return Inbound(respondent, action=chosen.action, argument=chosen.argument)
    return Inbound(respondent, text=text)
