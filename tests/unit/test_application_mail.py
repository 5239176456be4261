"""Applications to the working groups by email, through the mailroom and the real engine: an application is
recognised, recorded and acknowledged once with what is missing; a reply completes it; a late one is
recorded as late; "rezygnuję" withdraws; an opinion stays the consultation's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.mailroom import Mailroom, build_mailroom
from bot.service import Service
from bot.settings import Settings
from storage.applications import find_application, list_applications
from storage.models import Email, OutboxMessage
from tests.support import SHIPPED_CONFIG, FakeClock, make_settings
from tests.support.emails import build_email

APPLICATION = """Dzień dobry,

chciałabym zgłosić się do grupy II (aktywność społeczna i współpraca lokalna). Od sześciu lat prowadzę
sąsiedzki klub planszówek na Pradze i współorganizuję festyn na naszym podwórku.

Z poważaniem
Maria Kowalska
Fundacja Pod Jednym Dachem
"""

# Through a website's contact form: From noreply@, the applicant's address only in Reply-To.
RELAYED = (
    Path(__file__).resolve().parent.parent / "emails" / "applications" / "a21-noreply-form-relay-cannot-reply.eml"
).read_bytes()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """The shipped configuration: its call for applications (recruitment.yaml) is open in September 2027."""
    return make_settings(tmp_path / "data", WSPOLNOTA_CONFIG_DIR=str(SHIPPED_CONFIG))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2027, 9, 15, 10, 0, tzinfo=UTC))


@pytest.fixture
def mailroom(service: Service) -> Mailroom:
    return build_mailroom(service)


async def sent(service: Service) -> list[OutboxMessage]:
    async with service.store.sessions() as session:
        return list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


async def test_an_application_is_acknowledged_with_what_is_missing_and_a_reply_completes_it(
    service: Service, mailroom: Mailroom
) -> None:
    raw = build_email(APPLICATION, sender="Maria Kowalska <maria@example.pl>", subject="Zgłoszenie do grupy roboczej")
    outcome = await mailroom.receive(raw, arrived=datetime(2027, 9, 15, 9, 0, tzinfo=UTC))
    assert outcome.verdict.kind == "application" and outcome.queued == "application"
    [ack] = await sent(service)
    assert "[Z-" in ack.subject and ack.to_address == "maria@example.pl"
    assert "Tak je zapisaliśmy" in ack.body and "Aktywność społeczna i współpraca lokalna" in ack.body
    assert "Maria Kowalska" in ack.body and "planszówek" in ack.body
    assert "potrzebujemy jeszcze odpowiedzi" in ack.body  # availability is not said in the email
    assert "iod@um.warszawa.pl" in ack.body and "8 października 2027" in ack.body
    async with service.store.unit() as unit:
        [email] = (await unit.session.scalars(select(Email))).all()
        application = await find_application(unit, email.respondent_id or 0)
    assert application is not None and application.status == "incomplete"
    assert application.groups == ["aktywnosc"] and application.sector == "ngo"

    # The reply answers the missing questions under their numbers (and says yes to the notice): complete.
    number = next(line.split(".")[0] for line in ack.body.splitlines() if line[:1].isdigit() and "spotka" in line)
    consent = next(line.split(".")[0] for line in ack.body.splitlines() if line[:1].isdigit() and "zgadzasz" in line)
    assert int(consent) == int(number) + 1  # asked last, after the form's own questions
    assert application.privacy_version is None  # an email alone is not consent to the applicants' notice
    reply = build_email(
        f"{number}. a\n{consent}. a\n\n> {ack.body[:200]}",
        sender="Maria Kowalska <maria@example.pl>",
        subject=f"Re: {ack.subject}",
        headers={"In-Reply-To": ack.message_id, "References": ack.message_id},
    )
    outcome = await mailroom.receive(reply, arrived=datetime(2027, 9, 16, 9, 0, tzinfo=UTC))
    assert outcome.queued == "application"
    second = (await sent(service))[-1]
    assert "Zgłoszenie jest kompletne" in second.body
    async with service.store.unit() as unit:
        application = await find_application(unit, email.respondent_id or 0)
    assert application is not None and application.status == "complete" and application.available is True
    assert application.privacy_version == "2027-09-01"
    assert application.description and "planszówek" in application.description  # the reply kept it


async def test_an_application_after_the_deadline_is_kept_marked_late(service: Service, mailroom: Mailroom) -> None:
    deadline = datetime(2027, 9, 30, 21, 59, 59, tzinfo=UTC)
    raw = build_email(APPLICATION, sender="maria@example.pl", subject="Zgłoszenie")
    outcome = await mailroom.receive(raw, arrived=deadline + timedelta(minutes=5))
    assert outcome.queued == "application"
    [ack] = await sent(service)
    async with service.store.unit() as unit:
        [email] = (await unit.session.scalars(select(Email))).all()
        application = await find_application(unit, email.respondent_id or 0)
    assert application is not None and application.late
    assert ack.body.index("Tak je zapisaliśmy") > 0  # the word on lateness comes first


async def test_rezygnuje_withdraws_and_an_opinion_stays_the_consultations(service: Service, mailroom: Mailroom) -> None:
    await mailroom.receive(build_email(APPLICATION, sender="maria@example.pl", subject="Zgłoszenie"))
    outcome = await mailroom.receive(
        build_email(
            "Dzień dobry, rezygnuję ze zgłoszenia do grup roboczych.", sender="maria@example.pl", subject="Rezygnacja"
        )
    )
    assert outcome.queued == "application"
    withdrawn = (await sent(service))[-1]
    assert "wycofaliśmy Twoje zgłoszenie" in withdrawn.body
    async with service.store.unit() as unit:
        email = (await unit.session.scalars(select(Email).order_by(Email.id))).first()
        assert email is not None
        application = await find_application(unit, email.respondent_id or 0)
    assert application is not None and application.status == "withdrawn"

    opinion = build_email("Więcej ławek i zieleni na naszym podwórku.", sender="jan@example.pl", subject="Opinia")
    outcome = await mailroom.receive(opinion)
    assert outcome.verdict.kind != "application" and outcome.queued == "form"


async def test_a_5_mb_cv_is_kept_whole_and_the_application_read(service: Service, mailroom: Mailroom) -> None:
    from email.message import EmailMessage

    message = EmailMessage()
    message["From"], message["To"] = "Ola Nowak <ola@example.pl>", "wspolnota@um.warszawa.pl"
    message["Subject"], message["Message-ID"] = "Zgłoszenie do grupy I", "<cv-5mb@example.pl>"
    message.set_content(
        "Zgłaszam się do grupy I. Od lat prowadzę bibliotekę sąsiedzką w Wawrze. CV w załączniku.\n\nOla Nowak"
    )
    message.add_attachment(
        b"%PDF-1.4\n" + bytes(5 * 1024 * 1024), maintype="application", subtype="pdf", filename="CV.pdf"
    )
    raw = message.as_bytes()
    assert len(raw) > 6_000_000  # base64 makes 5 MB of PDF about 6.8 MB of email
    outcome = await mailroom.receive(raw)
    assert outcome.queued == "application"
    async with service.store.sessions() as session:
        [email] = (await session.scalars(select(Email))).all()
    assert email.raw == raw and not email.truncated  # nothing lost
    assert email.attachments == [{"name": "CV.pdf", "type": "application/pdf", "size": 5 * 1024 * 1024 + 9}]


async def test_an_application_through_a_noreply_form_relay_is_recorded_and_never_mailed(
    service: Service, mailroom: Mailroom
) -> None:
    outcome = await mailroom.receive(RELAYED)
    assert outcome.verdict.kind == "application" and outcome.queued is None
    assert await sent(service) == []
    async with service.store.unit() as unit:
        [email] = (await unit.session.scalars(select(Email))).all()
        application = await find_application(unit, email.respondent_id or 0)
    assert email.reply_to == "ewa.lis@example.pl"  # for staff to write to by hand
    assert application is not None and application.groups == ["otwartosc"]


async def test_extending_the_deadline_takes_late_applications_back(tmp_path: Path, clock: FakeClock) -> None:
    import shutil

    from bot.service import open_service

    config = tmp_path / "config"
    shutil.copytree(SHIPPED_CONFIG, config)
    settings = make_settings(tmp_path / "data", WSPOLNOTA_CONFIG_DIR=str(config))
    arrived = datetime(2027, 10, 1, 9, 0, tzinfo=UTC)  # a day after the deadline
    async with open_service(settings, clock=clock) as service:
        await build_mailroom(service).receive(build_email(APPLICATION, sender="maria@example.pl"), arrived=arrived)
        [application] = await list_applications(service.store)
        assert application.late
    recruitment = config / "recruitment.yaml"
    text = recruitment.read_text(encoding="utf-8")
    recruitment.write_text(text.replace("deadline: 2027-09-30T23:59:59+02:00", "deadline: 2027-10-05T23:59:59+02:00"))
    async with open_service(settings, clock=clock) as service:  # staff extended it, and the service restarts
        [application] = await list_applications(service.store)
        assert not application.late
