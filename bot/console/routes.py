"""Every route of the staff console, with the least role that may use it: the one table the guard checks.

A route the table does not name is refused to everyone (and tests/unit/test_console_routes.py fails).
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.console.accounts import Role


@dataclass(frozen=True, slots=True)
class Rule:
    """One route: its name, method and path inside the console, and who may use it (None: anyone)."""

    name: str
    method: str
    path: str
    role: Role | None


ROUTES: tuple[Rule, ...] = (
    Rule("login_form", "GET", "/login", None),
    Rule("login", "POST", "/login", None),
    Rule("setup_form", "GET", "/setup/{token}", None),
    Rule("setup", "POST", "/setup/{token}", None),
    Rule("logout", "POST", "/logout", Role.FIELD),
    Rule("dashboard", "GET", "/", Role.FIELD),
    Rule("dashboard_figures", "GET", "/dashboard.json", Role.FIELD),
    Rule("data_form", "GET", "/data", Role.ANALYST),
    Rule("data_export", "POST", "/data/export", Role.ANALYST),
    Rule("data_report", "POST", "/data/report", Role.ANALYST),
    Rule("audit_log", "GET", "/audit", Role.COORDINATOR),
)
STATIC = Rule("static", "GET", "/static/", None)  # the console's stylesheet and script

RULES: dict[str, Rule] = {rule.name: rule for rule in (*ROUTES, STATIC)}
PUBLIC = frozenset(name for name, rule in RULES.items() if rule.role is None)
