"""The `helpline` command: run the helpline and look after it from a terminal."""
from __future__ import annotations

import functools
import sys
from datetime import datetime
from zoneinfo import ZoneInfo

import click
from pydantic import ValidationError
from sqlalchemy.exc import OperationalError
from tabulate import tabulate

from bot import app as composition
from bot.profiles import ProfileError, list_profiles, load_profile
from bot.settings import Settings, config_path
from core.ports import StaffMember
from nlu.commands import nlu
from core.tickets import Actor, DomainError, RejectReason, Role, Status, Ticket


def fail_cleanly(command):
    """Turn known failures into one clear line on stderr and exit status 1."""
    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except (DomainError, ProfileError) as exc:
            raise click.ClickException(str(exc)) from None
        except OperationalError as exc:
            raise click.ClickException(f"database unavailable: {_first_line(exc.orig)}") from None
        except ValidationError as exc:
            raise click.ClickException("\n".join(_setting_problems(exc))) from None
    return wrapper


def _first_line(error: object) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


def _setting_problems(exc: ValidationError) -> list[str]:
    """One line per bad setting, naming where it can come from."""
    lines = []
    for error in exc.errors():
        key = ".".join(str(part) for part in error["loc"])
        lines.append(f"{config_path()}: {key}: {error['msg']} (found {error['input']!r}; "
                     f"or set HELPLINE_{key.upper()})")
    return lines


def build_app(**kwargs) -> composition.App:
    """The helpline, closed again (its database connections too) when the command ends."""
    app = composition.build(**kwargs)
    click.get_current_context().call_on_close(app.close)
    return app


def local(at: datetime | None, tz: str) -> str:
    return at.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M") if at else "-"


@click.group()
def cli() -> None:
    """Citizen Helpline: a municipality's helpline on Telegram."""


@cli.command()
@fail_cleanly
def run() -> None:
    """Start the helpline with the settings of config.yml (and HELPLINE_* variables)."""
    from bot.runner import run_helpline
    sys.exit(run_helpline(Settings()))


@cli.command()
@click.option("--chat-id", default=1, show_default=True, type=int, help="Who you are to the helpline.")
@click.option("--name", default="Terminal resident", show_default=True)
@click.option("--language", type=click.Choice(["el", "sl", "he", "en"]), help="Default: the profile's.")
@fail_cleanly
def chat(chat_id: int, name: str, language: str | None) -> None:
    """Talk to the helpline as a resident, in this terminal (no Telegram needed)."""
    import asyncio

    from bot.console import Console, chat_loop
    from core.dialogue import Sender

    app = build_app()
    sender = Sender(chat_id, name, language or app.profile.default_language)
    console = Console(app.conversation(), app.translator(), sender, click.echo)
    click.echo(f"Citizen Helpline of {app.profile.names['en']} - type /quit to leave.")
    asyncio.run(chat_loop(console))


# --- database ------------------------------------------------------------------------------------

@cli.group()
def db() -> None:
    """The database: create and upgrade its schema."""


@db.command("upgrade")
@fail_cleanly
def db_upgrade() -> None:
    """Create the schema or bring it up to date (safe to repeat)."""
    from bot.db import migrate
    settings = Settings()
    migrate.upgrade(settings.database_url)
    click.echo(f"database at revision {migrate.current_revision(settings.database_url)}")


# --- profile -------------------------------------------------------------------------------------

@cli.group()
def profile() -> None:
    """The municipality profile (data/municipalities/<slug>/)."""


@profile.command("check")
@click.argument("slug", required=False)
@fail_cleanly
def profile_check(slug: str | None) -> None:
    """Validate a profile (default: the configured one); `all` checks every profile."""
    settings = Settings()
    slugs = list_profiles(settings.profiles_dir) if slug == "all" else [slug or settings.profile]
    broken = [name for name in slugs if not _check_one_profile(name, settings.profiles_dir)]
    if broken:
        raise click.ClickException(f"{len(broken)} profile{'s' if len(broken) > 1 else ''} to fix: "
                                   f"{', '.join(broken)}")


def _check_one_profile(name: str, profiles_dir) -> bool:
    """Say whether the profile is usable; list its problems (one a line) when it is not."""
    try:
        p = load_profile(name, profiles_dir)
    except ProfileError as exc:
        for problem in exc.problems:
            click.echo(problem, err=True)
        return False
    click.echo(f"{name}: ok - {p.names['en']}, {len(p.departments)} departments, "
               f"{len(p.categories)} categories, {len(p.areas)} areas, languages {', '.join(p.languages)}")
    return True


# --- tickets -------------------------------------------------------------------------------------

@cli.group()
def tickets() -> None:
    """List and inspect tickets."""


@tickets.command("list")
@click.option("--status", "statuses", multiple=True, type=click.Choice([s.value for s in Status]),
              help="Only these statuses (repeatable). Default: all open ones.")
@click.option("--all", "all_statuses", is_flag=True, help="Every status, closed ones too.")
@click.option("--department", help="Only this department's tickets.")
@click.option("--limit", default=50, show_default=True)
@fail_cleanly
def tickets_list(statuses: tuple[str, ...], all_statuses: bool, department: str | None, limit: int) -> None:
    """Tickets by due date."""
    app = build_app()
    wanted = None if all_statuses else [Status(s) for s in statuses] or [s for s in Status if s.is_open]
    rows = app.helpline.tickets(status=wanted, department=department, limit=limit)
    tz = app.profile.calendar.timezone
    if not rows:
        click.echo("no tickets")
        return
    click.echo(tabulate([[t.ref, t.status, t.category, t.department or "-", local(t.resolve_due, tz),
                          t.supporter_count, _short(t.location.address if t.location else None, 30)]
                         for t in rows],
                        headers=["ref", "status", "category", "department", "due", "+1", "address"]))


@tickets.command("show")
@click.argument("ref")
@fail_cleanly
def tickets_show(ref: str) -> None:
    """Everything about one ticket, with its history."""
    app = build_app()
    click.echo(render_ticket(app.helpline.ticket(ref), app.profile.calendar.timezone))


# --- one ticket ----------------------------------------------------------------------------------

@cli.group()
def ticket() -> None:
    """Change a ticket (as an administrator)."""


@ticket.command("set-status")
@click.argument("ref")
@click.argument("status", type=click.Choice([s.value for s in Status]))
@click.option("--note", help="What the resident (or the record) is told.")
@click.option("--reason", type=click.Choice([r.value for r in RejectReason]), help="Why it is rejected.")
@click.option("--referral", help="Outside body key, for --reason not_responsible.")
@click.option("--duplicate-of", help="Reference of the original, for --reason duplicate.")
@click.option("--internal", is_flag=True, help="Do not tell the resident.")
@click.option("--by", default="cli", show_default=True, help="Who is making the change (for the record).")
@fail_cleanly
def ticket_set_status(ref, status, note, reason, referral, duplicate_of, internal, by) -> None:
    """Move a ticket to STATUS."""
    app = build_app()
    t = app.helpline.change_status(ref, status, Actor(Role.ADMIN, by), note, reason=reason, referral=referral,
                                   duplicate_of=duplicate_of, public=not internal)
    click.echo(f"{t.ref} is now {t.status}")


@ticket.command("assign")
@click.argument("ref")
@click.argument("department")
@click.option("--note")
@click.option("--by", default="cli", show_default=True)
@fail_cleanly
def ticket_assign(ref, department, note, by) -> None:
    """Hand a ticket to DEPARTMENT."""
    app = build_app()
    t = app.helpline.assign(ref, department, Actor(Role.ADMIN, by), note)
    click.echo(f"{t.ref} is now with {t.department}")


# --- staff ---------------------------------------------------------------------------------------

@cli.group()
def staff() -> None:
    """Who may act on tickets: department staff and heads, the ombudsman, admins, operators."""


@staff.command("add")
@click.argument("telegram_id", type=int)
@click.option("--role", required=True, type=click.Choice(["staff", "head", "ombudsman", "admin", "operator"]))
@click.option("--department", help="For staff and heads.")
@click.option("--name", help="A name for the list (never shown to residents).")
@fail_cleanly
def staff_add(telegram_id, role, department, name) -> None:
    app = build_app()
    app.helpline.add_staff(StaffMember(telegram_id, role, department, name))
    click.echo(f"{telegram_id} is now {role}" + (f" of {department}" if department else ""))


@staff.command("list")
@click.option("--department")
@fail_cleanly
def staff_list(department) -> None:
    app = build_app()
    members = app.helpline.staff(department)
    if not members:
        click.echo("no staff yet: add some with `helpline staff add TELEGRAM_ID --role ...`")
        return
    click.echo(tabulate([[m.telegram_id, m.role, m.department or "-", m.name or ""] for m in members],
                        headers=["telegram id", "role", "department", "name"]))


@staff.command("remove")
@click.argument("telegram_id", type=int)
@click.option("--role")
@click.option("--department")
@fail_cleanly
def staff_remove(telegram_id, role, department) -> None:
    app = build_app()
    removed = app.helpline.remove_staff(telegram_id, role, department)
    click.echo(f"removed {removed} entr{'y' if removed == 1 else 'ies'} for {telegram_id}")


# --- group chats ---------------------------------------------------------------------------------

@cli.group()
def chats() -> None:
    """Which Telegram group is each department's, the ombudsman's and the operators'."""


@chats.command("set", context_settings={"ignore_unknown_options": True})   # group ids are negative
@click.argument("key")
@click.argument("chat_id", type=int)
@fail_cleanly
def chats_set(key, chat_id) -> None:
    """Bind KEY (department:<key>, ombudsman or operators) to the group CHAT_ID (a negative number)."""
    app = build_app()
    app.helpline.bind_chat(key, chat_id)
    click.echo(f"{key} is now chat {chat_id}")


@chats.command("list")
@fail_cleanly
def chats_list() -> None:
    app = build_app()
    bound = app.helpline.bound_chats()
    keys = [f"department:{d}" for d in app.profile.departments] + ["ombudsman", "operators"]
    rows = [[key, app.helpline.chat_of(key) or "-", "set" if key in bound else
             ("profile" if app.helpline.chat_of(key) else "not bound")] for key in keys + sorted(set(bound) - set(keys))]
    click.echo(tabulate(rows, headers=["chat", "chat id", "from"]))


@chats.command("remove")
@click.argument("key")
@fail_cleanly
def chats_remove(key) -> None:
    """Forget the chat set for KEY (the profile's chat_id, if any, applies again)."""
    app = build_app()
    if not app.helpline.unbind_chat(key):
        raise click.ClickException(f"no chat was set for {key}")
    click.echo(f"{key} is no longer bound" + (f"; the profile's chat {app.helpline.chat_of(key)} applies"
                                              if app.helpline.chat_of(key) else ""))


# --- outbox --------------------------------------------------------------------------------------

@cli.group()
def outbox() -> None:
    """Notifications waiting to be sent, and those Telegram would not take."""


@outbox.command("failed")
@click.option("--limit", default=50, show_default=True)
@fail_cleanly
def outbox_failed(limit: int) -> None:
    """Notifications given up on, newest first, with Telegram's reason."""
    app = build_app()
    with app.helpline.uow() as uow:
        counts, rows = uow.outbox.counts(), uow.outbox.failed(limit)
    click.echo(f"{counts['pending']} waiting, {counts['sent']} sent, {counts['failed']} failed")
    if rows:
        tz = app.profile.calendar.timezone
        click.echo(tabulate([[n.id, local(n.created_at, tz), n.kind, n.chat_id, n.ticket_ref or "-", n.attempts,
                              _short(n.last_error, 60)] for n in rows],
                            headers=["id", "written", "kind", "chat", "ticket", "tries", "why"]))


@outbox.command("retry")
@click.argument("ids", nargs=-1, type=int)
@click.option("--all", "retry_all", is_flag=True, help="Every failed notification.")
@fail_cleanly
def outbox_retry(ids: tuple[int, ...], retry_all: bool) -> None:
    """Send failed notifications (by id, or --all) again, e.g. after the resident unblocked the bot."""
    if not ids and not retry_all:
        raise click.UsageError("name the notifications to send again (ids from `helpline outbox failed`) or --all")
    app = build_app()
    with app.helpline.uow() as uow:
        count = uow.outbox.retry(None if retry_all else list(ids))
        uow.commit()
    click.echo(f"{count} notification{'' if count == 1 else 's'} queued again")


# --- escalations ---------------------------------------------------------------------------------

@cli.group()
def escalations() -> None:
    """Tickets escalated to a department head or the ombudsman."""


@escalations.command("list")
@click.option("--open", "open_only", is_flag=True, help="Only those still waiting for a decision.")
@fail_cleanly
def escalations_list(open_only) -> None:
    app = build_app()
    rows = app.helpline.escalations(open_only)
    tz = app.profile.calendar.timezone
    if not rows:
        click.echo("no escalations")
        return
    click.echo(tabulate([[e.ticket_ref, e.reason, e.level, local(e.opened_at, tz), local(e.deadline, tz),
                          f"#{e.id}", e.decision or "open"] for e in rows],
                        headers=["ticket", "reason", "level", "opened", "deadline", "id", "decision"]))


@escalations.command("show")
@click.argument("escalation_id", type=int)
@fail_cleanly
def escalations_show(escalation_id) -> None:
    """One escalation, its decision, and the ticket's whole history."""
    from core.review import Review
    app = build_app()
    case = Review(app.helpline).case(escalation_id)
    e, tz = case.escalation, app.profile.calendar.timezone
    click.echo(f"escalation #{e.id}  {e.reason}  to the {e.level}  opened {local(e.opened_at, tz)}"
               f"  deadline {local(e.deadline, tz)}")
    click.echo(f"  decision     {e.decision or 'open'}" + (f" by {e.decided_by} on {local(e.decided_at, tz)}"
                                                          if e.decision else ""))
    click.echo(f"  note         {e.note or '-'}")
    click.echo(render_ticket(case.ticket, tz))


@escalations.command("decide")
@click.argument("escalation_id", type=int)
@click.argument("decision", type=click.Choice(["explain", "uphold", "reopen", "reassign"]))
@click.option("--note", help="To the department (explain), the resident (uphold) or both (reopen).")
@click.option("--days", type=int, help="Working days for the deadline (explain, reopen).")
@click.option("--department", help="The department to reassign to.")
@click.option("--by", default="cli", show_default=True, help="Who decides (for the record).")
@fail_cleanly
def escalations_decide(escalation_id, decision, note, days, department, by) -> None:
    """Decide on an escalation as an administrator, as the ombudsman does in their chat."""
    from core.review import Review
    app = build_app()
    outcome = Review(app.helpline).decide(escalation_id, decision, Actor(Role.ADMIN, by), note=note, days=days,
                                          department=department)
    t = outcome.ticket
    click.echo(f"escalation #{escalation_id}: {decision}; {t.ref} is {t.status} with {t.department}, "
               f"resolve by {local(t.resolve_due, app.profile.calendar.timezone)}")


def render_ticket(t: Ticket, tz: str) -> str:
    loc = t.location
    lines = [
        f"{t.ref}  [{t.status}]  {t.category}",
        f"  department   {t.department or '-'}" + (f"  (referred to {t.outside_body})" if t.outside_body else ""),
        f"  filed        {local(t.created_at, tz)}",
        f"  acknowledge  by {local(t.ack_due, tz)}",
        f"  resolve      by {local(t.resolve_due, tz)}",
        f"  place        {(loc.address or '') if loc else '-'} "
        + (f"({loc.lat:.5f}, {loc.lon:.5f}) https://www.openstreetmap.org/?mlat={loc.lat}&mlon={loc.lon}#map=18/"
           f"{loc.lat}/{loc.lon}" if loc else ""),
        f"  photos       {len(t.photos)}   supporters {t.supporter_count}   priority {t.priority}",
        f"  reporter     {'resident #' + str(t.reporter_id) if t.reporter_id else 'anonymous'}",
        f"  description  {t.description}",
        "  history:",
    ]
    for e in t.events:
        change = f"{e.from_status or ''} -> {e.to_status}" if e.to_status else str(e.kind)
        extra = ", ".join(f"{k}={v}" for k, v in e.data.items())
        lines.append(f"    {local(e.at, tz)}  {e.actor_role:<9} {change}"
                     + (f"  {extra}" if extra else "") + (f"  \"{e.note}\"" if e.note else "")
                     + ("" if e.public else "  (internal)"))
    return "\n".join(lines)


def _short(text: str | None, width: int) -> str:
    text = text or "-"
    return text if len(text) <= width else text[: width - 1] + "…"


def main() -> None:
    cli()


cli.add_command(nlu)
