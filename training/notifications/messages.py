"""What each notification says: rendered from templates (plain text and HTML) and queued.

Each message is rendered in its recipient's language — the locale they chose (``users.locale``)
or the company's default, Chinese — whoever's request or command causes it (HR's English page
that creates an account still sends the new hire a Chinese invitation).

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

from flask import current_app
from flask_babel import force_locale
from markupsafe import escape

from training.auth.models import User
from training.course.lessons import active_lessons
from training.course.models import Lesson, NormVersion
from training.i18n import join_words
from training.i18n import render as render_message
from training.language.selection import DEFAULT, normalise
from training.notifications import outbox
from training.notifications.channels import SECRET_MARK, robot_address
from training.notifications.models import Channel, Kind
from training.urls import public_url

TEMPLATES = "notifications"


def recipient_locale(user: Any) -> str:
    """The locale a message to ``user`` is written in: their saved choice, else the default."""
    return normalise(getattr(user, "locale", None)) or DEFAULT


def _render(name: str, locale: str, **context: Any) -> tuple[str, str, str]:
    """Return (subject, text, html) of a template set ``notifications/<name>.*`` in ``locale``.

    Rendered by the app's Jinja environment (its gettext, its autoescaping of ``.html``) with
    the given values only: a message is not a page, and the pages' context processors — the
    request's language, endpoint and user — neither apply to it nor exist in a command or a job.
    """
    context.setdefault("company", current_app.config["MAIL_SENDER_NAME"])
    env = current_app.jinja_env
    with force_locale(locale):
        subject = env.get_template(f"{TEMPLATES}/{name}.subject.txt").render(context).strip()
        text = env.get_template(f"{TEMPLATES}/{name}.txt").render(context)
        html = env.get_template(f"{TEMPLATES}/{name}.html").render(context)
    return subject, text, html


def _mail(key: str, kind: Kind, user: User, template: str, **context: Any) -> int | None:
    if not user.email:
        return None  # no address: HR hands the link or the news over in person
    subject, text, html = _render(template, recipient_locale(user), user=user, **context)
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
    locale: str | None = None  # a new account has chosen none: the default language


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
    templates are rendered once per language and with a due date or without, with stand-ins
    for the invitee's name, 工号, address and due date, which are then filled in (escaped in
    the HTML part). The first message of each such kind is also rendered the ordinary way and
    must come out the same; otherwise (a template that uses the values in some other way)
    every message is rendered on its own.
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

    def variant(invitee: Invitee) -> tuple[str, bool]:
        return recipient_locale(invitee), invitee.due_date is not None

    rendered = {
        (locale, dated): _render(
            "invitation",
            locale,
            user=_Marked(),
            due_date=_MarkedDate() if dated else None,
            **context,
        )
        for locale, dated in {variant(invitee) for invitee in mailed}
    }

    def fast(invitee: Invitee) -> tuple[str, str, str]:
        subject, text, html = rendered[variant(invitee)]
        return (
            _fill(subject, invitee, html=False),
            _fill(text, invitee, html=False),
            _fill(html, invitee, html=True),
        )

    def slow(invitee: Invitee) -> tuple[str, str, str]:
        return _render(
            "invitation",
            recipient_locale(invitee),
            user=invitee,
            due_date=invitee.due_date,
            **context,
        )

    samples = {variant(invitee): invitee for invitee in reversed(mailed)}
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
    title_params: dict[str, Any] | None = None,
    rows: Sequence[Any],
    finished: Sequence[Any],
    counts: dict[str, int],
    week: str,
    list_url: str,
    evidence: Any = None,
) -> int | None:
    """Queue a weekly digest mail (a manager's department, or HR's whole company).

    ``title`` is a message id (``N_``) with its ``title_params``, put in the reader's language.
    HR's digest also carries ``evidence``, the chain heads of the HR records and their
    fingerprint, so each week's mail is a copy kept outside the database.
    """
    with force_locale(recipient_locale(user)):
        # A list parameter (a manager's departments) is joined in the reader's language.
        params = {
            key: join_words(value) if isinstance(value, (list, tuple)) else value
            for key, value in (title_params or {}).items()
        }
        title = render_message(title, params)
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
