"""The `helpline` command as a municipality's IT person uses it, on SQLite and PostgreSQL."""
from __future__ import annotations

import shutil
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
import yaml
from click.testing import CliRunner, Result
from sqlalchemy import inspect, make_url

from bot.cli import cli
from bot.db import migrate
from bot.db.engine import make_engine
from bot.profiles import list_profiles, load_profile
from bot.settings import Settings
from core.ports import Escalation
from core.services import Helpline, Report
from core.tickets import Actor, Location, RejectReason, Role, Status
from tests.support.clock import FixedClock
from tests.support.stack import LOCALES, PROFILES, T0

CENTRE = Location(40.3007, 21.7887, "Dimokratias 12")
UNREACHABLE = "postgresql+psycopg://nobody@127.0.0.1:1/none"
ADMIN = Actor(Role.ADMIN, "test")


@pytest.fixture(autouse=True)
def plain_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No setting leaks in from the shell running the tests; Telegram is not configured."""
    for name in Settings.model_fields:
        monkeypatch.delenv(f"HELPLINE_{name.upper()}", raising=False)
    for name in ("HELPLINE_CONFIG", "TELEGRAM_BOT_TOKEN", "TELEGRAM_API_BASE_URL"):
        monkeypatch.delenv(name, raising=False)


def helpline(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def error_lines(result: Result) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.strip()]


@pytest.fixture
def on_database(migrated_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("HELPLINE_DATABASE_URL", migrated_url)
    return migrated_url


@pytest.fixture
def service(on_database: str, uow_factory) -> Helpline:
    """The use cases on the same database the command uses, as residents and staff reach it."""
    return Helpline(uow_factory, load_profile("kozani", PROFILES), FixedClock(T0))


def file_report(service: Helpline, category: str, description: str = "Please have a look") -> str:
    report = Report(category, description, CENTRE, resident_id=None, language="en")
    return service.file_report(report).ticket.ref


# --- db upgrade ------------------------------------------------------------------------------------

def test_db_upgrade_creates_the_schema_and_says_its_revision(database_url, monkeypatch):
    monkeypatch.setenv("HELPLINE_DATABASE_URL", database_url)

    result = helpline("db", "upgrade")

    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"database at revision {migrate.head_revision()}"
    engine = make_engine(database_url)
    try:
        assert {"tickets", "staff"} <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_db_upgrade_again_keeps_tickets(service):
    first = helpline("db", "upgrade")
    ref = file_report(service, "pothole")

    again = helpline("db", "upgrade")

    assert again.exit_code == 0, again.output
    assert again.output == first.output
    assert ref in helpline("tickets", "list").output


# --- profile check ---------------------------------------------------------------------------------

def test_profile_check_passes_the_configured_profile(on_database):
    result = helpline("profile", "check")

    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"{Settings().profile}: ok - ")


def test_profile_check_all_lists_every_profile(on_database):
    result = helpline("profile", "check", "all")

    assert result.exit_code == 0, result.output
    checked = [line.split(":")[0] for line in result.output.splitlines()]
    assert checked == list_profiles(PROFILES)
    assert len(checked) == 5
    assert all(": ok - " in line for line in result.output.splitlines())


def edit_yaml(path, change) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def break_kozani(folder) -> list[tuple[str, str]]:
    """Four mistakes an editor could make; returns (file, key) of each."""
    def categories(data):
        data["categories"]["thoryvos"]["names"].pop("en")
        data["categories"]["graffiti"]["canonical"] = "grafitti"
        data["categories"]["odostroma"]["department"] = "roads"

    edit_yaml(folder / "categories.yml", categories)
    edit_yaml(folder / "areas.yml", lambda data: data["areas"]["kentro"]["polygon"].pop())
    return [("categories.yml", "categories.thoryvos.names"), ("categories.yml", "categories.graffiti.canonical"),
            ("categories.yml", "categories.odostroma.department"), ("areas.yml", "areas.kentro.polygon")]


@pytest.fixture
def data_copy(tmp_path, monkeypatch):
    """A copy of the data folder (profiles and translations) that the commands read instead."""
    data = tmp_path / "data"
    shutil.copytree(PROFILES, data / "municipalities")
    shutil.copytree(LOCALES, data / "locales")
    monkeypatch.setenv("HELPLINE_DATA_DIR", str(data))
    return data


def test_a_broken_profile_gets_one_line_per_problem_naming_file_and_key(on_database, data_copy):
    mistakes = break_kozani(data_copy / "municipalities" / "kozani")

    result = helpline("profile", "check")

    assert result.exit_code == 1
    assert "Traceback" not in result.output
    for name, key in mistakes:
        lines = [line for line in error_lines(result) if f"kozani/{name}: {key}" in line]
        assert len(lines) == 1, (name, key, result.stderr)
    assert len([line for line in error_lines(result) if "kozani/" in line]) == len(mistakes)


def test_checking_all_profiles_goes_on_past_a_broken_one(on_database, data_copy):
    break_kozani(data_copy / "municipalities" / "kozani")

    result = helpline("profile", "check", "all")

    assert result.exit_code == 1
    assert [line.split(":")[0] for line in result.stdout.splitlines()] == \
           [slug for slug in list_profiles(PROFILES) if slug != "kozani"]
    assert "kozani" in error_lines(result)[-1]


def test_commands_refuse_to_work_with_a_broken_profile(on_database, data_copy):
    mistakes = break_kozani(data_copy / "municipalities" / "kozani")

    result = helpline("tickets", "list")

    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert len(error_lines(result)) == len(mistakes)


def test_a_misspelt_setting_is_one_clear_line(on_database, monkeypatch):
    monkeypatch.setenv("HELPLINE_GEOCODER", "google")

    result = helpline("tickets", "list")

    assert result.exit_code == 1
    assert "Traceback" not in result.output
    [line] = error_lines(result)
    assert "geocoder" in line and "'google'" in line and "HELPLINE_GEOCODER" in line


# --- tickets list / show ---------------------------------------------------------------------------

def test_no_tickets_yet(on_database):
    result = helpline("tickets", "list")

    assert result.exit_code == 0, result.output
    assert result.output.strip() == "no tickets"


def test_tickets_are_listed_most_urgent_first(service):
    refs = [file_report(service, category) for category in ("pothole", "garbage", "streetlight")]
    by_due = sorted(refs, key=lambda ref: service.ticket(ref).resolve_due)
    assert by_due != refs

    result = helpline("tickets", "list")

    assert result.exit_code == 0, result.output
    assert [ref for line in result.output.splitlines() for ref in refs if line.startswith(ref)] == by_due


def test_tickets_list_filters(service):
    pothole, garbage, streetlight = (file_report(service, c) for c in ("pothole", "garbage", "streetlight"))
    service.change_status(garbage, Status.ACKNOWLEDGED, ADMIN)
    service.change_status(pothole, Status.REJECTED, ADMIN, reason=RejectReason.INVALID)

    def listed(*options: str) -> set[str]:
        output = helpline("tickets", "list", *options).output
        return {ref for ref in (pothole, garbage, streetlight) if ref in output}

    assert listed() == {garbage, streetlight}
    assert listed("--all") == {pothole, garbage, streetlight}
    assert listed("--status", "acknowledged") == {garbage}
    assert listed("--status", "new", "--status", "rejected") == {pothole, streetlight}
    assert listed("--department", "lighting") == {streetlight}
    assert listed("--department", "lighting", "--status", "acknowledged") == set()


def test_show_a_ticket_with_its_history(service):
    ref = file_report(service, "streetlight", "The lamp by the bakery has been dark for a week")
    service.change_status(ref, Status.NEEDS_INFO, ADMIN, "Which side of the road?")

    result = helpline("tickets", "show", ref.lower())

    assert result.exit_code == 0, result.output
    ticket = service.ticket(ref)
    assert result.output.startswith(f"{ref}  [needs_info]  streetlight")
    for text in ("lighting", "The lamp by the bakery has been dark for a week", "Dimokratias 12",
                 "-> new", "new -> needs_info", '"Which side of the road?"', "openstreetmap.org"):
        assert text in result.output, text
    due = ticket.resolve_due.astimezone(ZoneInfo(service.profile.calendar.timezone))
    assert f"resolve      by {due:%Y-%m-%d %H:%M}" in result.output


def test_an_unknown_ticket_is_one_clear_line(on_database):
    result = helpline("tickets", "show", "KOZ-2026-09999")

    assert result.exit_code == 1
    assert error_lines(result) == ["Error: no ticket KOZ-2026-09999"]


# --- changing one ticket ---------------------------------------------------------------------------

def test_acknowledge_then_fix_with_a_note(service):
    ref = file_report(service, "streetlight")

    acknowledged = helpline("ticket", "set-status", ref, "acknowledged")
    fixed = helpline("ticket", "set-status", ref, "fixed", "--note", "New lamp fitted")

    assert (acknowledged.exit_code, fixed.exit_code) == (0, 0), acknowledged.output + fixed.output
    assert acknowledged.output.strip() == f"{ref} is now acknowledged"
    assert fixed.output.strip() == f"{ref} is now fixed"
    shown = helpline("tickets", "show", ref).output
    assert "new -> acknowledged" in shown
    assert 'acknowledged -> fixed  "New lamp fitted"' in shown


def test_an_illegal_change_is_refused_and_changes_nothing(service):
    ref = file_report(service, "streetlight")
    before = service.ticket(ref)

    result = helpline("ticket", "set-status", ref, "closed")

    assert result.exit_code == 1
    [line] = error_lines(result)
    assert ref in line and "new" in line and "closed" in line
    after = service.ticket(ref)
    assert (after.status, len(after.events)) == (Status.NEW, len(before.events))


def test_a_rejection_needs_a_reason(service):
    ref = file_report(service, "pothole")

    result = helpline("ticket", "set-status", ref, "rejected")

    assert result.exit_code == 1
    [line] = error_lines(result)
    assert "reason" in line
    assert service.ticket(ref).status is Status.NEW


def test_not_responsible_needs_a_known_outside_body(service):
    ref = file_report(service, "streetlight")

    no_referral = helpline("ticket", "set-status", ref, "rejected", "--reason", "not_responsible")
    unknown = helpline("ticket", "set-status", ref, "rejected", "--reason", "not_responsible",
                       "--referral", "the_moon")
    assert (no_referral.exit_code, unknown.exit_code) == (1, 1)
    assert len(error_lines(no_referral)) == 1
    [line] = error_lines(unknown)
    assert "the_moon" in line and "hedno" in line
    assert service.ticket(ref).status is Status.NEW

    referred = helpline("ticket", "set-status", ref, "rejected", "--reason", "not_responsible",
                        "--referral", "hedno")

    assert referred.exit_code == 0, referred.output
    assert "(referred to hedno)" in helpline("tickets", "show", ref).output


def test_assign_to_another_department(service):
    ref = file_report(service, "streetlight")

    moved = helpline("ticket", "assign", ref, "technical", "--note", "Pole is bent, not the lamp")
    refused = helpline("ticket", "assign", ref, "roads")

    assert moved.exit_code == 0, moved.output
    assert moved.output.strip() == f"{ref} is now with technical"
    assert refused.exit_code == 1
    [line] = error_lines(refused)
    assert "roads" in line
    assert service.ticket(ref).department == "technical"


# --- staff -----------------------------------------------------------------------------------------

def test_add_list_and_remove_staff(on_database):
    added = helpline("staff", "add", "123", "--role", "staff", "--department", "lighting", "--name", "Eleni")
    assert added.exit_code == 0, added.output

    listed = helpline("staff", "list").output
    [row] = [line.split() for line in listed.splitlines() if line.strip().startswith("123")]
    assert row == ["123", "staff", "lighting", "Eleni"]

    removed = helpline("staff", "remove", "123")
    assert removed.exit_code == 0, removed.output
    assert "123" not in helpline("staff", "list").output


def test_staff_without_a_department_is_refused(on_database):
    result = helpline("staff", "add", "123", "--role", "staff")

    assert result.exit_code == 1
    [line] = error_lines(result)
    assert "department" in line
    assert "123" not in helpline("staff", "list").output


def test_removing_someone_who_is_not_staff(on_database):
    result = helpline("staff", "remove", "999")

    assert result.exit_code == 1
    [line] = error_lines(result)
    assert "999" in line


# --- escalations -----------------------------------------------------------------------------------

def test_no_escalations(on_database):
    result = helpline("escalations", "list")

    assert result.exit_code == 0, result.output
    assert result.output.strip() == "no escalations"


def test_an_escalation_is_listed(service, uow_factory):
    ref = file_report(service, "pothole")
    with uow_factory() as uow:
        uow.escalations.add(Escalation(ref, "overdue", T0 + timedelta(days=20), T0 + timedelta(days=30)))
        uow.commit()

    result = helpline("escalations", "list")

    assert result.exit_code == 0, result.output
    [row] = [line.split() for line in result.output.splitlines() if line.startswith(ref)]
    assert row[:3] == [ref, "overdue", "ombudsman"]
    assert row[-1] == "open"
    assert helpline("escalations", "list", "--open").output == result.output


# --- run -------------------------------------------------------------------------------------------

def test_run_without_a_token_explains_how_to_get_one(on_database, monkeypatch):
    monkeypatch.setenv("HELPLINE_RASA", "off")

    result = helpline("run")

    assert result.exit_code == 0, result.output
    assert f"Municipality: {load_profile('kozani', PROFILES).names['en']}" in result.output
    assert f"Database: {make_url(on_database).render_as_string(hide_password=True)}" in result.output
    for text in ("Telegram: not configured", "@BotFather", "make chat"):
        assert text in result.output, text


@pytest.mark.postgres
def test_run_hides_the_database_password(pg_migrated_database, monkeypatch):
    with_password = make_url(pg_migrated_database).set(password="s3cret").render_as_string(hide_password=False)
    monkeypatch.setenv("HELPLINE_DATABASE_URL", with_password)
    monkeypatch.setenv("HELPLINE_RASA", "off")

    result = helpline("run")

    assert result.exit_code == 0, result.output
    assert f"Database: {make_url(with_password).render_as_string(hide_password=True)}" in result.output
    assert "s3cret" not in result.output


# --- an unreachable database -----------------------------------------------------------------------

@pytest.mark.parametrize("command", [["db", "upgrade"], ["tickets", "list"], ["staff", "list"], ["run"]])
def test_an_unreachable_database_is_one_clear_line(command, monkeypatch):
    monkeypatch.setenv("HELPLINE_DATABASE_URL", UNREACHABLE)
    monkeypatch.setenv("HELPLINE_RASA", "off")

    result = helpline(*command)

    assert result.exit_code == 1
    assert "Traceback" not in result.output
    [line] = error_lines(result)
    assert line.startswith("Error: database unavailable: ")
