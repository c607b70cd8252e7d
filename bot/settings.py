"""Deployment settings: config.yml, overridden by environment variables (HELPLINE_*)."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import (BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict,
                               YamlConfigSettingsSource)

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def config_path() -> Path:
    """HELPLINE_CONFIG if set, else config.yml in the working directory, else the one in the checkout."""
    if env := os.environ.get("HELPLINE_CONFIG"):
        return Path(env)
    local = Path.cwd() / "config.yml"
    return local if local.exists() else PROJECT_ROOT / "config.yml"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HELPLINE_", extra="forbid", populate_by_name=True)

    profile: str = "kozani"
    data_dir: Path = PROJECT_ROOT / "data"
    database_url: str = "sqlite:///var/helpline.db"

    telegram_token: str = Field("", validation_alias=AliasChoices("TELEGRAM_BOT_TOKEN", "HELPLINE_TELEGRAM_TOKEN",
                                                                  "telegram_token"))
    telegram_api_base_url: str = Field("https://api.telegram.org/bot", validation_alias=AliasChoices(
        "TELEGRAM_API_BASE_URL", "HELPLINE_TELEGRAM_API_BASE_URL", "telegram_api_base_url"))
    telegram_mode: Literal["polling", "webhook"] = "polling"
    webhook_url: str = ""
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = 8443
    webhook_secret: str = ""

    rasa: Literal["auto", "on", "off"] = "auto"
    rasa_url: str = "http://127.0.0.1:5005"
    rasa_token: str = ""
    rasa_timeout_s: float = 1.5

    geocoder: Literal["offline", "nominatim"] = "offline"
    nominatim_domain: str = "nominatim.openstreetmap.org"
    nominatim_scheme: Literal["http", "https"] = "https"
    nominatim_user_agent: str = "citizen-helpline"
    nominatim_min_delay_s: float = 1.0

    questionnaire_days: int = 3
    questionnaire_close_days: int = 14
    escalation_margin_days: int = 5
    retention_days: int = 730
    reminder_hours: int = 4
    reopens_to_escalate: int = 2
    digest_hour: int = Field(7, ge=0, le=23)
    delivery_interval_s: float = Field(2.0, gt=0)
    delivery_max_attempts: int = Field(8, ge=1)
    delivery_first_retry_s: float = Field(10.0, ge=0)
    delivery_longest_retry_s: float = Field(1800.0, ge=0)
    delivery_timeout_s: float = Field(10.0, gt=0)
    limit_reports_per_hour: int = Field(5, ge=0)
    limit_messages_per_minute: int = Field(20, ge=0)
    log_level: str = "INFO"

    @classmethod
    def settings_customise_sources(cls, settings_cls: type[BaseSettings],
                                   init_settings: PydanticBaseSettingsSource,
                                   env_settings: PydanticBaseSettingsSource,
                                   dotenv_settings: PydanticBaseSettingsSource,
                                   file_secret_settings: PydanticBaseSettingsSource,
                                   ) -> tuple[PydanticBaseSettingsSource, ...]:
        yaml_source = YamlConfigSettingsSource(settings_cls, yaml_file=config_path())
        return init_settings, env_settings, yaml_source

    @field_validator("data_dir")
    @classmethod
    def _absolute_data_dir(cls, value: Path) -> Path:
        return value if value.is_absolute() else (config_path().parent / value).resolve()

    @field_validator("database_url")
    @classmethod
    def _absolute_sqlite_path(cls, value: str) -> str:
        """A relative SQLite file is relative to the config file, wherever the command runs from."""
        prefix = "sqlite:///"
        if value.startswith(prefix) and not value.startswith(prefix + "/") and ":memory:" not in value:
            return prefix + str((config_path().parent / value[len(prefix):]).resolve())
        return value

    @property
    def profiles_dir(self) -> Path:
        return self.data_dir / "municipalities"

    @property
    def locales_dir(self) -> Path:
        return self.data_dir / "locales"
