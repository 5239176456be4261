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
    # events and posters (bot/console/events.py)
    Rule("events", "GET", "/events", Role.FIELD),
    Rule("event_codes", "GET", "/events/codes", Role.FIELD),
    Rule("event_poster", "GET", "/events/{code}/poster", Role.FIELD),
    # quotes for the public report (bot/console/quotes.py)
    Rule("quotes", "GET", "/quotes", Role.COORDINATOR),
    Rule("quote_decide", "POST", "/quotes/{quote}", Role.COORDINATOR),
    # people's requests: find and erase (bot/console/people.py)
    Rule("people", "GET", "/people", Role.COORDINATOR),
    Rule("people_erase", "POST", "/people/erase", Role.COORDINATOR),
    # working groups: applications (bot/console/applications.py)
    Rule("applications", "GET", "/groups/applications", Role.COORDINATOR),
    Rule("application", "GET", "/groups/applications/{reference}", Role.COORDINATOR),
    Rule("application_exclude", "POST", "/groups/applications/{reference}/exclude", Role.COORDINATOR),
    Rule("application_include", "POST", "/groups/applications/{reference}/include", Role.COORDINATOR),
    # working groups: the draw, decisions, replacements, rosters (bot/console/selection.py)
    Rule("groups", "GET", "/groups", Role.COORDINATOR),
    Rule("groups_select", "POST", "/groups/select", Role.COORDINATOR),
    Rule("groups_report", "GET", "/groups/report", Role.COORDINATOR),
    Rule("groups_notify", "POST", "/groups/notify", Role.COORDINATOR),
    Rule("groups_replace", "POST", "/groups/replace", Role.COORDINATOR),
    Rule("groups_roster", "GET", "/groups/roster/{group}", Role.COORDINATOR),
    # staff accounts (bot/console/team.py)
    Rule("team", "GET", "/team", Role.COORDINATOR),
    Rule("team_add", "POST", "/team/add", Role.COORDINATOR),
    Rule("team_disable", "POST", "/team/disable", Role.COORDINATOR),
    Rule("team_totp", "POST", "/team/totp", Role.COORDINATOR),
    Rule("team_link", "POST", "/team/link", Role.COORDINATOR),
)
STATIC = Rule("static", "GET", "/static/", None)  # the console's stylesheet and script

RULES: dict[str, Rule] = {rule.name: rule for rule in (*ROUTES, STATIC)}
# The header's links, in order: (text key, route name); each shown to the roles its route allows.
NAV: tuple[tuple[str, str], ...] = (
    ("nav_dashboard", "dashboard"),
    ("nav_events", "events"),
    ("nav_data", "data_form"),
    ("nav_quotes", "quotes"),
    ("nav_people", "people"),
    ("nav_groups", "groups"),
    ("nav_team", "team"),
    ("nav_audit", "audit_log"),
)
PUBLIC = frozenset(name for name, rule in RULES.items() if rule.role is None)
