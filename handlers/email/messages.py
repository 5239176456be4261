"""The email adapter's own catalog keys (config/messages.yaml) and the placeholders each takes."""

from __future__ import annotations

MESSAGES: dict[str, set[str]] = {
    "form_pick_any": {"example"},
    "form_pick_many": {"max", "example"},
    "form_scale": {"min", "max", "min_label", "max_label"},
    "form_own_words": set(),
    "mail_subject": set(),
    "mail_thanks": set(),
    "mail_privacy_below": set(),
    "mail_form_intro": set(),
    "mail_form_examples": {"examples"},
    "mail_quote": {"text"},
    "mail_signature": {"address"},
    "mail_recorded": set(),
    "mail_unclear": set(),
    "mail_correct": set(),
    # An application to the working groups by email (application_mail.py)
    "mail_application_subject": set(),
    "mail_application_thanks": set(),
    "mail_application_missing": set(),
    "mail_application_complete": set(),
    "mail_application_decision": {"decision_date"},
    "mail_application_withdrawn": set(),
    "mail_application_privacy": set(),
    "mail_application_consent": set(),
}
