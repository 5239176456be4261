"""The terminal channel's pure functions: a typed line into an Inbound, a Reply into text."""

from __future__ import annotations

from handlers.messages import Choice, Inbound, InputKind, Reply, ReplyKind, RespondentRef


def _command(choice: Choice) -> str:
    assert choice.action is not None
    return f"/{choice.action.value}" + (f" {choice.argument}" if choice.argument else "")


def render(reply: Reply) -> str:
    """Shows a reply as plain text with numbered choices and the commands that navigate."""
    lines: list[str] = []
    if reply.heading:
        lines.append(f"[{reply.heading}]")
    lines.append(reply.text)
    if reply.kind is not ReplyKind.SUMMARY:
        for number, choice in enumerate(reply.choices, start=1):
            mark = "[x] " if choice.selected else ("[ ] " if reply.multiple else "")
            lines.append(f"  {number}) {mark}{choice.label}")
    else:
        lines.append("  " + "  ".join(f"{n}) {c.label}" for n, c in enumerate(reply.choices, start=1)))
    if reply.multiple:
        lines.append("  (1, 3 …)")
    commands = [f"{_command(c)} = {c.label}" for c in reply.navigation]
    if commands:
        lines.append("  " + " · ".join(commands))
    if reply.input in (InputKind.TEXT, InputKind.EMAIL) and not reply.choices:
        lines.append("> …")
    return "\n".join(lines)


def inbound_from_line(line: str, respondent: RespondentRef, last: Reply | None) -> Inbound:
    """Reads one typed line; a number picks a numbered button when the last reply had action buttons."""
    text = line.rstrip("\n")
    stripped = text.strip()
    if last is not None and stripped.isdigit():
        number = int(stripped)
        actions = [c for c in last.choices if c.action is not None]
        if actions and 1 <= number <= len(actions):
            chosen = actions[number - 1]
            return Inbound(respondent, action=chosen.action, argument=chosen.argument)
    return Inbound(respondent, text=text)
