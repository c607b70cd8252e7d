"""`helpline chat`: anyone can try the helpline in a terminal, and what they file is a real ticket."""
import pytest
from click.testing import CliRunner

from bot.cli import cli


@pytest.fixture
def on_database(migrated_url, monkeypatch):
    for name in ("PROFILE", "DATA_DIR", "RASA", "GEOCODER"):
        monkeypatch.delenv(f"HELPLINE_{name}", raising=False)
    monkeypatch.setenv("HELPLINE_DATABASE_URL", migrated_url)
    monkeypatch.setenv("HELPLINE_RASA", "off")
    return migrated_url


def test_a_report_typed_in_the_terminal_is_listed_as_a_ticket(on_database):
    typed = "\n".join([
        "4",                          # English
        "1",                          # Report a problem
        "2",                          # Street light
        "The lamp by the bakery is dark",
        "/loc 40.3007,21.7887",
        "1",                          # Skip the photo
        "1",                          # Send the report
        "/quit",
    ]) + "\n"
    chat = CliRunner().invoke(cli, ["chat", "--chat-id", "77", "--language", "en"], input=typed)
    assert chat.exit_code == 0, chat.output
    assert "[4] English" in chat.output
    assert "Your report is KOZ-" in chat.output
    listed = CliRunner().invoke(cli, ["tickets", "list"])
    assert listed.exit_code == 0 and "streetlight" in listed.output and "KOZ-" in listed.output
    assert "Πλατεία Νίκης" in listed.output


def test_a_bad_line_gets_a_hint_not_a_crash(on_database):
    chat = CliRunner().invoke(cli, ["chat", "--language", "en"], input="/photo /no/such/file.jpg\n/quit\n")
    assert chat.exit_code == 0
    assert "/loc latitude,longitude" in chat.output
