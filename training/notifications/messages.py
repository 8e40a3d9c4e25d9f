"""What each notification says: rendered from Chinese templates (plain text and HTML) and queued.

Every builder runs in the caller's transaction and queues at most one notification per
idempotency key. Links are absolute, built from BASE_URL (messages are read outside the app).
A set-password link is kept out of the stored message: it holds ``{secret}``, and the
sender issues the link when it sends the invitation (see ``outbox``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import current_app, render_template
from markupsafe import escape

from training.auth.models import User
from training.course.lessons import active_lessons
from training.course.models import Lesson, NormVersion
from training.notifications import outbox
from training.notifications.channels import SECRET_MARK, robot_address
from training.notifications.models import Channel, Kind
from training.urls import public_url

TEMPLATES = "notifications"


def _render(name: str, **context: Any) -> tuple[str, str, str]:
    """Return (subject, text, html) of a template set ``notifications/<name>.*``."""
    context.setdefault("company", current_app.config["MAIL_SENDER_NAME"])
    subject = render_template(f"{TEMPLATES}/{name}.subject.txt", **context).strip()
    text = render_template(f"{TEMPLATES}/{name}.txt", **context)
    html = render_template(f"{TEMPLATES}/{name}.html", **context)
    return subject, text, html


def _mail(key: str, kind: Kind, user: User, template: str, **context: Any) -> int | None:
    if not user.email:
        return None  # no address: HR hands the link or the news over in person
    subject, text, html = _render(template, user=user, **context)
    return outbox.enqueue(
        key,
        kind=kind,
        channel=Channel.EMAIL,
        address=user.email,
        subject=subject,
        body_text=text,
        body_html=html,
        payload={"template": template},
        user_id=user.id,
    )


def invitation(
    user: User, due_date: date | None, lessons: Sequence[Lesson] | None = None
) -> int | None:
    """Queue the new account's invitation with its set-password link (if it has an e-mail).

    ``lessons`` lets an import pass the lesson list once for all its rows.
    """
    link = public_url("auth.set_password", token=SECRET_MARK)
    link = link.replace("%7Bsecret%7D", SECRET_MARK)
    return _mail(
        f"invitation:{user.id}:{user.employee_no}",
        Kind.INVITATION,
        user,
        "invitation",
        link=link,
        login_url=public_url("auth.login"),
        due_date=due_date,
        lessons=active_lessons() if lessons is None else lessons,
        hours=current_app.config["PASSWORD_LINK_HOURS"],
    )


@dataclass(frozen=True)
class Invitee:
    """A new account to invite, as an import knows it (no ORM object per row)."""

    id: int
    employee_no: str
    name: str
    email: str
    due_date: date | None


# Stand-ins for an invitee's own values while a message is rendered once for many people:
# characters no template writes and no escaping changes.
_MARK_RE = re.compile("\x1f(name|no|email|due)\x1f")


@dataclass(frozen=True)
class _Marked:
    """An invitee whose every value is a stand-in."""

    id: int = 0
    employee_no: str = "\x1fno\x1f"
    name: str = "\x1fname\x1f"
    email: str = "\x1femail\x1f"


class _MarkedDate:
    """A due date as a stand-in: a template writes it with ``isoformat()`` (or as text)."""

    def isoformat(self) -> str:
        return "\x1fdue\x1f"

    __str__ = isoformat


def _fill(text: str, invitee: Invitee, *, html: bool) -> str:
    values = {
        "name": invitee.name,
        "no": invitee.employee_no,
        "email": invitee.email,
        "due": invitee.due_date.isoformat() if invitee.due_date else "",
    }
    if html:
        values = {key: str(escape(value)) for key, value in values.items()}
    return _MARK_RE.sub(lambda match: values[match.group(1)], text)


def invitations(invitees: Sequence[Invitee], lessons: Sequence[Lesson]) -> int:
    """Queue the invitations of many new accounts at once (an import); return how many.

    The same messages ``invitation`` queues, one per invitee with an e-mail address. The
    templates are rendered twice — with a due date and without — with stand-ins for the
    invitee's name, 工号, address and due date, which are then filled in (escaped in the HTML
    part). The first message with a due date and the first without are also rendered the
    ordinary way and must come out the same; otherwise (a template that uses the values in
    some other way) every message is rendered on its own.
    """
    mailed = [invitee for invitee in invitees if invitee.email]
    if not mailed:
        return 0
    context = {
        "link": public_url("auth.set_password", token=SECRET_MARK).replace(
            "%7Bsecret%7D", SECRET_MARK
        ),
        "login_url": public_url("auth.login"),
        "lessons": lessons,
        "hours": current_app.config["PASSWORD_LINK_HOURS"],
    }
    rendered = {
        dated: _render(
            "invitation", user=_Marked(), due_date=_MarkedDate() if dated else None, **context
        )
        for dated in {invitee.due_date is not None for invitee in mailed}
    }

    def fast(invitee: Invitee) -> tuple[str, str, str]:
        subject, text, html = rendered[invitee.due_date is not None]
        return (
            _fill(subject, invitee, html=False),
            _fill(text, invitee, html=False),
            _fill(html, invitee, html=True),
        )

    def slow(invitee: Invitee) -> tuple[str, str, str]:
        return _render("invitation", user=invitee, due_date=invitee.due_date, **context)

    samples = {invitee.due_date is not None: invitee for invitee in reversed(mailed)}
    same = all(fast(sample) == slow(sample) for sample in samples.values())
    render = fast if same else slow
    messages = []
    for invitee in mailed:
        subject, text, html = render(invitee)
        messages.append(
            {
                "key": f"invitation:{invitee.id}:{invitee.employee_no}",
                "kind": Kind.INVITATION,
                "channel": Channel.EMAIL,
                "address": invitee.email,
                "subject": subject,
                "body_text": text,
                "body_html": html,
                "payload": {"template": "invitation"},
                "user_id": invitee.id,
            }
        )
    return len(outbox.enqueue_many(messages))


def reminder(
    user: User,
    due_date: date,
    when: str,
    today: date,
    lessons: Sequence[Lesson],
    completed: int,
) -> int | None:
    """Queue a due-date reminder: ``when`` is "before:7", "due" or "overdue:14" (days)."""
    return _mail(
        f"reminder:{user.id}:{due_date.isoformat()}:{when}",
        Kind.REMINDER,
        user,
        "reminder",
        due_date=due_date,
        when=when,
        days=(due_date - today).days,
        home_url=public_url("lessons.home"),
        lessons=lessons,
        completed=completed,
    )


def recertification(key: str, user: User, expires: date, when: str, today: date) -> int | None:
    """Queue a refresher reminder: the certificate runs out on ``expires`` (or has)."""
    return _mail(
        key,
        Kind.RECERTIFICATION,
        user,
        "recertification",
        expires=expires,
        when=when,
        days=(expires - today).days,
        refresher_url=public_url("refresher.index"),
    )


def retraining(user: User, version: NormVersion, lessons: Sequence[Lesson], due_date: date):
    """Queue the notice that a revision took effect and which lessons to study again."""
    return _mail(
        f"retraining:{user.id}:{version.source_sha256[:16]}",
        Kind.RETRAINING,
        user,
        "retraining",
        version=version,
        lessons=lessons,
        due_date=due_date,
        home_url=public_url("lessons.home"),
    )


def nudge(user: User, due_date: date | None, sender: User, sent_on: date) -> int | None:
    """Queue a reminder someone asked for now (one per employee and day)."""
    return _mail(
        f"nudge:{user.id}:{sent_on.isoformat()}",
        Kind.NUDGE,
        user,
        "nudge",
        due_date=due_date,
        sender=sender,
        home_url=public_url("lessons.home"),
    )


def digest(
    key: str,
    kind: Kind,
    user: User,
    *,
    title: str,
    rows: Sequence[Any],
    finished: Sequence[Any],
    counts: dict[str, int],
    week: str,
    list_url: str,
    evidence: Any = None,
) -> int | None:
    """Queue a weekly digest mail (a manager's department, or HR's whole company).

    HR's digest also carries ``evidence``, the chain heads of the HR records and their
    fingerprint, so each week's mail is a copy kept outside the database.
    """
    return _mail(
        key,
        kind,
        user,
        "digest",
        title=title,
        rows=rows,
        finished=finished,
        counts=counts,
        week=week,
        list_url=list_url,
        evidence=evidence,
    )


def webhook_digest(
    key: str, kind: Kind, *, department: str, title: str, lines: Sequence[str]
) -> int | None:
    """Queue a digest for a department's group robot (企业微信, 钉钉 or 飞书) as Markdown."""
    text = "\n".join(lines)
    return outbox.enqueue(
        key,
        kind=kind,
        channel=Channel.WEBHOOK,
        address=robot_address(department),
        subject=title,
        body_text=text,
        payload={"title": title, "text": text},
    )
