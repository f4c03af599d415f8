"""Settings from the environment and `.env` (SPEC §5).

`get_settings()` is cached and never called at import time, so tests and the
CLI decide when settings are read. A bad value raises `SettingsError` whose
message is one line naming the variable — never the value, which may be a secret.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, time
from functools import lru_cache
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

TEAM_NAME = re.compile(r"^[a-z][a-z0-9-]{1,20}$")
RESERVED_TEAM_NAMES = frozenset({"mine", "open", "unclaimed", "all"})
SLACK_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
# What a partner-facing scorecard may show, in its order (PARTNERBOT_SCORECARD_FIELDS picks from these).
SCORECARD_FIELDS = ("kpis", "deals", "qbr", "requests")
# "Ask for help" categories a partner picks from, their labels, and the team each goes to by default.
HELP_CATEGORIES = {"contracts": "Contracts & legal", "technical": "Technical & product",
                   "billing": "Billing & finance", "other": "Anything else"}
HELP_DEFAULTS = {"contracts": "legal", "technical": "product", "billing": "finance", "other": "owner"}
SLACK_CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{2,}$")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_NAMES = {name: i for i, day in enumerate(WEEKDAYS)
             for name in (day, ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")[i])}
HOURS_EXAMPLE = "like 'mon-fri 09:00-18:00'"
HOLIDAYS_EXAMPLE = "like US, GB-SCT or DE-BY, or a date like 2026-12-24"


@dataclass(frozen=True)
class BusinessWeek:
    """When the SLA clock runs (PARTNERBOT_BUSINESS_HOURS): on `days` (0 = Monday),
    from `opens` to `closes` local time; `closes` None means midnight at the day's end."""

    days: frozenset[int]
    opens: time
    closes: time | None

    @property
    def hours_a_day(self) -> float:
        """The length of one working day (a day that changes clocks aside)."""
        closes = self.closes.hour * 60 + self.closes.minute if self.closes else 24 * 60
        return (closes - self.opens.hour * 60 - self.opens.minute) / 60

    def __str__(self) -> str:
        runs: list[list[int]] = []
        for d in sorted(self.days):
            if runs and runs[-1][-1] == d - 1:
                runs[-1].append(d)
            else:
                runs.append([d])
        days = ",".join(WEEKDAYS[r[0]] + (f"-{WEEKDAYS[r[-1]]}" if len(r) > 1 else "") for r in runs)
        closes = self.closes.strftime("%H:%M") if self.closes else "24:00"
        return f"{days} {self.opens:%H:%M}-{closes}"


def parse_business_hours(text: str) -> BusinessWeek:
    """`mon-fri 09:00-18:00`, `mon-thu,sat 08:30-17:00`, `sun-thu` (whole days): days as
    names or ranges (a range may wrap past Sunday), then an optional time window within a
    day. ValueError says what to type."""
    words = text.strip().lower().split()
    if not words or len(words) > 2:
        raise ValueError(f"must be days and hours {HOURS_EXAMPLE} (or days alone, like 'mon-fri', for whole days)")
    days: set[int] = set()
    for part in words[0].split(","):
        first, _, last = part.partition("-")
        if first not in DAY_NAMES or (last and last not in DAY_NAMES):
            raise ValueError(f"{part!r} is not a day or a range of days; write days {HOURS_EXAMPLE} or 'mon,wed,fri'")
        start, stop = DAY_NAMES[first], DAY_NAMES[last or first]
        days.update((start + i) % 7 for i in range((stop - start) % 7 + 1))
    if len(words) == 1:
        return BusinessWeek(frozenset(days), time(0), None)
    match = re.fullmatch(r"(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})", words[1])
    if not match:
        raise ValueError(f"{words[1]!r} is not a time window; write hours {HOURS_EXAMPLE}")
    h1, m1, h2, m2 = map(int, match.groups())
    if h1 > 23 or m1 > 59 or m2 > 59 or h2 > 24 or (h2 == 24 and m2):
        raise ValueError(f"{words[1]!r} has a time that does not exist; write hours {HOURS_EXAMPLE}")
    if (h2, m2) <= (h1, m1):
        raise ValueError(f"{words[1]!r} closes before it opens; write hours within one day {HOURS_EXAMPLE}")
    return BusinessWeek(frozenset(days), time(h1, m1), None if h2 == 24 else time(h2, m2))


def parse_holiday(item: str) -> date | tuple[str, str | None]:
    """One PARTNERBOT_HOLIDAYS entry: a date, or a (country, subdivision) the `holidays`
    package knows, spelt as it spells them. ValueError says what to type."""
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", item):
        try:
            return date.fromisoformat(item)
        except ValueError:
            raise ValueError(f"{item!r} is not a date; write dates like 2026-12-24") from None
    import holidays  # only when a country is named: its table takes a moment to load

    country, _, region = item.partition("-")
    regions = holidays.list_supported_countries().get(country.upper())
    if regions is None:
        raise ValueError(f"{item!r} is not a country code or a date; write one {HOLIDAYS_EXAMPLE}")
    if not region:
        return country.upper(), None
    spelt = {r.upper(): r for r in regions}.get(region.upper())
    if spelt is None:
        some = ", ".join(regions[:12]) + (", …" if len(regions) > 12 else "")
        raise ValueError(f"{item!r}: {country.upper()} has no region {region!r}"
                         + (f"; choose one of {some}" if regions else f"; write {country.upper()} alone"))
    return country.upper(), spelt


class SettingsError(Exception):
    """Settings are missing or malformed; the message is safe to print. `problems`
    holds one line per setting, so more can be added and all named at once."""

    def __init__(self, message: str | list[str]):
        self.problems = [message] if isinstance(message, str) else list(message)
        super().__init__(settings_problems(self.problems))


def _csv(value: Any) -> Any:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


WEBHOOK_EVENTS = frozenset({
    "request.created", "request.claimed", "request.resolved", "deal.registered", "deal.approved",
    "deal.rejected", "partner.stage_changed", "onboarding.completed",
})


class Webhook(BaseModel):
    """One outbound webhook subscriber (PARTNERBOT_WEBHOOKS)."""

    url: str
    events: list[str]
    secret: SecretStr

    @field_validator("events")
    @classmethod
    def _events(cls, value: list[str]) -> list[str]:
        unknown = [e for e in value if e != "*" and e not in WEBHOOK_EVENTS]
        if unknown or not value:
            raise ValueError(f"unknown event {unknown[0] if unknown else '(none)'}; use {', '.join(sorted(WEBHOOK_EVENTS))} or *")
        return value

    def wants(self, event: str) -> bool:
        return "*" in self.events or event in self.events


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", populate_by_name=True
    )

    slack_bot_token: SecretStr | None = Field(None, alias="SLACK_BOT_TOKEN")
    slack_signing_secret: SecretStr | None = Field(None, alias="SLACK_SIGNING_SECRET")
    slack_app_token: SecretStr | None = Field(None, alias="SLACK_APP_TOKEN")
    slack_api_url: str = Field("https://slack.com/api/", alias="SLACK_API_URL")
    database_url: str = Field("sqlite:///partnerbot.db", alias="DATABASE_URL")
    port: int = Field(3000, alias="PORT", ge=1, le=65535)
    routes: Annotated[dict[str, str], NoDecode] = Field(default_factory=dict, alias="PARTNERBOT_ROUTES")
    digest_channel: str | None = Field(None, alias="PARTNERBOT_DIGEST_CHANNEL")
    admins: Annotated[list[str], NoDecode] = Field(default_factory=list, alias="PARTNERBOT_ADMINS")
    timezone: str = Field("UTC", alias="PARTNERBOT_TIMEZONE")
    digest_schedule: str = Field("mon 09:00", alias="PARTNERBOT_DIGEST_SCHEDULE")
    stall_days: int = Field(14, alias="PARTNERBOT_STALL_DAYS", ge=1, le=365)
    qbr_remind_days: int = Field(7, alias="PARTNERBOT_QBR_REMIND_DAYS", ge=0, le=90)
    qbr_interval_days: int = Field(90, alias="PARTNERBOT_QBR_INTERVAL_DAYS", ge=1, le=730)
    request_sla_hours: int = Field(24, alias="PARTNERBOT_REQUEST_SLA_HOURS", ge=1, le=24 * 30)
    # The SLA clock: when it runs, and the days it does not (country/region codes and dates).
    business_hours: str = Field("mon-fri", alias="PARTNERBOT_BUSINESS_HOURS")
    holidays: Annotated[list[str], NoDecode] = Field(default_factory=list, alias="PARTNERBOT_HOLIDAYS")
    fiscal_year_start: int = Field(1, alias="PARTNERBOT_FISCAL_YEAR_START", ge=1, le=12)
    currency: str = Field("USD", alias="PARTNERBOT_CURRENCY")
    users: Annotated[list[str], NoDecode] = Field(default_factory=list, alias="PARTNERBOT_USERS")
    crm: Literal["hubspot", "json"] | None = Field(None, alias="PARTNERBOT_CRM")
    crm_url: str | None = Field(None, alias="PARTNERBOT_CRM_URL")
    crm_token: SecretStr | None = Field(None, alias="PARTNERBOT_CRM_TOKEN")
    crm_partner_property: str = Field("partner_name", alias="PARTNERBOT_CRM_PARTNER_PROPERTY")
    crm_won_stages: Annotated[list[str], NoDecode] = Field(default_factory=list, alias="PARTNERBOT_CRM_WON_STAGES")
    webhooks: Annotated[list[Webhook], NoDecode] = Field(default_factory=list, alias="PARTNERBOT_WEBHOOKS")
    allow_private_urls: bool = Field(False, alias="PARTNERBOT_ALLOW_PRIVATE_URLS")
    # HTTP mode: threads serving requests (waitress) and running listeners (Bolt). Few
    # threads are fastest on a small machine; more keep acks prompt while Slack is slow.
    server_threads: int = Field(8, alias="PARTNERBOT_SERVER_THREADS", ge=1, le=128)
    listener_threads: int = Field(16, alias="PARTNERBOT_LISTENER_THREADS", ge=2, le=256)
    # Partner channels: what the partner-facing scorecard shows (a whitelist), and which
    # internal team gets each "Ask for help" category ("owner": the partner's owner, by DM).
    scorecard_fields: Annotated[list[str], NoDecode] = Field(default_factory=lambda: list(SCORECARD_FIELDS),
                                                              alias="PARTNERBOT_SCORECARD_FIELDS")
    partner_help: Annotated[dict[str, str], NoDecode] = Field(default_factory=lambda: dict(HELP_DEFAULTS),
                                                              alias="PARTNERBOT_PARTNER_HELP")

    @field_validator("admins", "users", mode="before")
    @classmethod
    def _split_user_ids(cls, value: Any) -> Any:
        ids = _csv(value)
        for user_id in ids or []:
            if not SLACK_USER_ID.match(user_id):
                raise ValueError(f"{user_id!r} is not a Slack user ID (like U0123ABCD)")
        return ids

    @field_validator("routes", mode="before")
    @classmethod
    def _parse_routes(cls, value: Any) -> Any:
        if isinstance(value, str):
            if not value.strip():
                return {}
            try:
                value = json.loads(value)
            except json.JSONDecodeError:
                raise ValueError('must be JSON like {"legal":"C0LEGAL"}') from None
        if not isinstance(value, dict):
            raise ValueError('must be a JSON object like {"legal":"C0LEGAL"}')
        for team, channel in value.items():
            if not isinstance(team, str) or not TEAM_NAME.match(team) or team in RESERVED_TEAM_NAMES:
                raise ValueError(f"team name {team!r} must be lowercase letters, digits or -")
            if not isinstance(channel, str) or not SLACK_CHANNEL_ID.match(channel):
                raise ValueError(f"channel for {team!r} must be a channel ID like C0123ABCD")
        return value

    @field_validator("scorecard_fields", mode="before")
    @classmethod
    def _scorecard(cls, value: Any) -> Any:
        fields = [f.lower() for f in _csv(value) or []]
        unknown = [f for f in fields if f not in SCORECARD_FIELDS]
        if unknown:
            raise ValueError(f"{', '.join(map(repr, unknown))} is not a scorecard field; choose from {', '.join(SCORECARD_FIELDS)}")
        return fields

    @field_validator("partner_help", mode="before")
    @classmethod
    def _help(cls, value: Any) -> Any:
        if isinstance(value, dict):
            pairs = list(value.items())
        else:
            pairs = []
            for item in _csv(value) or []:
                category, sep, team = item.partition("=")
                if not sep:
                    raise ValueError(f"{item!r} should be category=team, like contracts=legal")
                pairs.append((category.strip().lower(), team.strip().lower()))
        mapping = dict(HELP_DEFAULTS)
        for category, team in pairs:
            if category not in HELP_CATEGORIES:
                raise ValueError(f"{category!r} is not a help category; choose from {', '.join(HELP_CATEGORIES)}")
            if not isinstance(team, str) or not (team == "owner" or (TEAM_NAME.match(team) and team not in RESERVED_TEAM_NAMES)):
                raise ValueError(f"team for {category!r} must be a team name like legal, or owner")
            mapping[category] = team
        return mapping

    @field_validator("crm_won_stages", mode="before")
    @classmethod
    def _stages(cls, value: Any) -> Any:
        return _csv(value)

    @field_validator("crm", mode="before")
    @classmethod
    def _crm(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = value.strip().lower() or None
        if value not in (None, "hubspot", "json"):
            raise ValueError("must be hubspot or json")
        return value

    @field_validator("webhooks", mode="before")
    @classmethod
    def _webhooks(cls, value: Any) -> Any:
        if isinstance(value, str):
            if not value.strip():
                return []
            try:
                value = json.loads(value)
            except json.JSONDecodeError:
                raise ValueError('must be a JSON list like [{"url": "https://…", "events": ["*"], "secret": "…"}]') from None
        if not isinstance(value, list):
            raise ValueError('must be a JSON list like [{"url": "https://…", "events": ["*"], "secret": "…"}]')
        return value

    @model_validator(mode="after")
    def _crm_complete(self) -> "Settings":
        if self.crm == "hubspot" and not self.crm_url:
            self.crm_url = "https://api.hubapi.com"
        if self.crm == "json" and not self.crm_url:
            raise ValueError("PARTNERBOT_CRM=json needs PARTNERBOT_CRM_URL")
        if self.crm and not self.crm_token:
            raise ValueError(f"PARTNERBOT_CRM={self.crm} needs PARTNERBOT_CRM_TOKEN")
        return self

    @field_validator("digest_channel")
    @classmethod
    def _channel_id(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        if not SLACK_CHANNEL_ID.match(value):
            raise ValueError("must be a channel ID like C0123ABCD (not a #name)")
        return value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (use an IANA name like Europe/Berlin)") from None
        return value

    @field_validator("business_hours")
    @classmethod
    def _business_hours(cls, value: str) -> str:
        return str(parse_business_hours(value))

    @field_validator("holidays", mode="before")
    @classmethod
    def _holidays(cls, value: Any) -> Any:
        normal = []
        for item in _csv(value) or []:
            parsed = parse_holiday(item)
            normal.append(parsed.isoformat() if isinstance(parsed, date) else "-".join(p for p in parsed if p))
        return normal

    @field_validator("digest_schedule")
    @classmethod
    def _schedule(cls, value: str) -> str:
        match = re.fullmatch(r"\s*([a-z]{3})\w*\s+(\d{1,2}):(\d{2})\s*", value.lower())
        if not match or match[1] not in WEEKDAYS or int(match[2]) > 23 or int(match[3]) > 59:
            raise ValueError("must be a weekday and a time like 'mon 09:00'")
        return f"{match[1]} {int(match[2]):02d}:{match[3]}"

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z]{3}", value):
            raise ValueError("must be a three-letter currency code like USD")
        return value.upper()

    @field_validator("slack_api_url")
    @classmethod
    def _api_url(cls, value: str) -> str:
        if not re.match(r"^https?://[^/\s]+", value):
            raise ValueError("must be an http(s) URL like https://slack.com/api/")
        return value if value.endswith("/") else value + "/"

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        try:
            make_url(value)
        except ArgumentError:
            raise ValueError("is not a database URL like sqlite:///partnerbot.db") from None
        return value

    # --- derived helpers -------------------------------------------------
    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def secret(self, name: str) -> str | None:
        value = getattr(self, name)
        return value.get_secret_value() if value is not None else None

    def is_admin(self, user_id: str) -> bool:
        return user_id in self.admins


def load_settings(**overrides: Any) -> Settings:
    """Build settings, turning validation errors into safe lines: every problem at
    once, so one edit of `.env` fixes them all."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise SettingsError(describe_each(exc.errors(include_url=False, include_input=False))) from None


class _SlackSecrets(BaseSettings):
    """The Slack secrets read alone, from the same places as Settings: they cannot be
    malformed, so a refusal for other settings can also name the missing ones."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    slack_bot_token: SecretStr | None = Field(None, alias="SLACK_BOT_TOKEN")
    slack_signing_secret: SecretStr | None = Field(None, alias="SLACK_SIGNING_SECRET")
    slack_app_token: SecretStr | None = Field(None, alias="SLACK_APP_TOKEN")


def slack_secrets_set() -> set[str]:
    """Which Slack secrets (field names) are set, even when other settings are malformed."""
    secrets = _SlackSecrets()
    return {name for name in _SlackSecrets.model_fields if getattr(secrets, name) is not None}


def settings_problems(problems: list[str]) -> str:
    """One line for one problem; several under a heading, one line each (the CLI prefixes `partnerbot: `)."""
    if len(problems) <= 1:
        return "".join(problems)
    return f"{len(problems)} problems with the settings (environment or .env):\n" + "\n".join(f"  {p}" for p in problems)


def describe_each(errors: list[dict[str, Any]]) -> list[str]:
    lines: list[str] = []
    for error in errors:
        message = _what_to_do(error)
        if not error["loc"]:  # a rule across settings names them itself
            line = f"settings: {message}"
        else:
            field = str(error["loc"][0])
            alias = Settings.model_fields[field].alias if field in Settings.model_fields else field
            where = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in error["loc"][1:])
            line = f"setting {alias or field}{where}: {message}"
        if line not in lines:
            lines.append(line)
    return lines


def _what_to_do(error: dict[str, Any]) -> str:
    """Pydantic's generic messages said as what the value must be; ours pass through."""
    kind, ctx = error["type"], error.get("ctx") or {}
    if kind == "value_error":
        return error["msg"].removeprefix("Value error, ")
    bounds = _bounds(error["loc"])
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return "must be a whole number" + (f" from {bounds[0]} to {bounds[1]}" if bounds else "")
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        if bounds:
            return f"must be a whole number from {bounds[0]} to {bounds[1]}"
        limit = next(iter(ctx.values()), "")
        return f"must be {'at least' if kind.startswith('greater') else 'at most'} {limit}"
    if kind in ("bool_parsing", "bool_type"):
        return "must be true or false"
    if kind in ("string_type", "missing"):
        return "must be text" if kind == "string_type" else "is required"
    return error["msg"]


def _bounds(loc: tuple) -> tuple[Any, Any] | None:
    """(ge, le) of a top-level numeric setting, to say its whole range in one message."""
    by_alias = {f.alias: f for f in Settings.model_fields.values()}
    field = (Settings.model_fields.get(str(loc[0])) or by_alias.get(str(loc[0]))) if len(loc) == 1 else None
    if field is None:
        return None
    ge = next((m.ge for m in field.metadata if getattr(m, "ge", None) is not None), None)
    le = next((m.le for m in field.metadata if getattr(m, "le", None) is not None), None)
    return (ge, le) if ge is not None and le is not None else None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
