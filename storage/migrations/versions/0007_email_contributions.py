"""email submissions complete: an emailed opinion is a contribution, recorded under the opinion question

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04

Before this version the mailbox kept people's emails beside their submissions, which stayed
`active` for ever, so `--completed-only` exports and the report left every emailing resident out.
Now an email goes through the engine: its words are the answer to the questionnaire's opinion
question (`email_opinion`, else its first text question), and the submission is completed.
This migration does the same for what came before: each email submission is completed, and the
own words of its plain emails (not replies to our form) become that answer where it has none.
The question is read from the questionnaire snapshot stored with the submission's version, so the
migration does not depend on today's configuration files. Answers already given stay as they are.
"""
from datetime import datetime, timezone
from typing import Any, Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0007'
down_revision: Union[str, Sequence[str], None] = '0006'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

MAX_TEXT = 20000  # the longest text a question can allow


def _opinion_code(definition: Any) -> tuple[str, int] | None:
    """The opinion question's code and length limit, from a stored questionnaire definition."""
    if not isinstance(definition, dict):
        return None
    questions = [q for q in definition.get("questions") or [] if isinstance(q, dict)]
    wanted = definition.get("email_opinion")
    for question in questions:
        if (question.get("code") == wanted) if wanted else question.get("type") == "text":
            return str(question["code"]), int(question.get("max_length") or 2000)
    return None


def upgrade() -> None:
    """Upgrade data: complete email submissions, their plain emails' words as the opinion answer."""
    bind = op.get_bind()
    meta = sa.MetaData()
    submission = sa.Table('submission', meta, autoload_with=bind)
    answer = sa.Table('answer', meta, autoload_with=bind)
    email = sa.Table('email', meta, autoload_with=bind)
    version = sa.Table('questionnaire_version', meta, autoload_with=bind)
    now = datetime.now(timezone.utc)

    definitions = {
        (row.questionnaire_id, row.version): row.definition
        for row in bind.execute(sa.select(version.c.questionnaire_id, version.c.version, version.c.definition))
    }
    pending = bind.execute(
        sa.select(submission.c.id, submission.c.questionnaire_id, submission.c.questionnaire_version,
                  submission.c.updated_at)
        .where(submission.c.channel == 'email', submission.c.status != 'completed',
               submission.c.status != 'cancelled')
    ).all()
    for row in pending:
        target = _opinion_code(definitions.get((row.questionnaire_id, row.questionnaire_version)))
        if target is not None:
            code, limit = target
            has = bind.execute(
                sa.select(sa.func.count()).select_from(answer)
                .where(answer.c.submission_id == row.id, answer.c.question_code == code)
            ).scalar_one()
            words = [
                (text or '').strip()
                for (text,) in bind.execute(
                    sa.select(email.c.own_text)
                    .where(email.c.submission_id == row.id, email.c.kind != 'form_reply')
                    .order_by(email.c.id)
                )
            ]
            opinion = "\n\n".join(word for word in words if word)
            if opinion and not has:
                if len(opinion) > limit:
                    opinion = opinion[: limit - 1] + "…"
                bind.execute(answer.insert().values(
                    # options and number left out: NULL, not the JSON text 'null'
                    submission_id=row.id, question_code=code, text=opinion, skipped=False,
                    answered_at=row.updated_at or now,
                ))
        bind.execute(
            submission.update().where(submission.c.id == row.id).values(
                status='completed', step='done', current=None, editing=False,
                finished_at=row.updated_at or now,
            )
        )


def downgrade() -> None:
    """Nothing to undo in the schema; completed email submissions stay completed."""
