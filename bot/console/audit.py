"""`/staff/audit` (coordinators): the audit log, newest first — who did what, when, with which filters;
never the data itself."""

from __future__ import annotations

from aiohttp import web

from bot.console.page import Page
from handlers.engine.presenter import WARSAW
from storage.audit import audit_entries

AUDIT_PAGE = 50  # audit entries a page


class AuditPage(Page):
    async def audit_log(self, request: web.Request) -> web.StreamResponse:
        try:
            page = max(1, int(request.query.get("page", "1")))
        except ValueError:
            page = 1
        entries, total = await audit_entries(self.store, offset=(page - 1) * AUDIT_PAGE, limit=AUDIT_PAGE)
        rows = [
            {
                "at": entry.at.astimezone(WARSAW).strftime("%Y-%m-%d %H:%M:%S"),
                "actor": entry.actor,
                "action": entry.action,
                "details": ", ".join(f"{key}: {value}" for key, value in sorted(entry.details.items())),
            }
            for entry in entries
        ]
        pages = max(1, -(-total // AUDIT_PAGE))
        context = {"entries": rows, "page": page, "pages": pages, "total": total}
        return self.render(request, "audit.html", context)
