"""The one composition root: builds every adapter and hands them to the use cases. Nothing else does."""
from __future__ import annotations

from dataclasses import dataclass, field
from sqlalchemy import Engine

from bot.clock import SystemClock
from bot.geo import make_geocoder
from bot.cards import register_department_cards
from bot.i18n import Translator
from bot.knowledge import load_emergency_words
from bot.notices import register_notices
from handlers.operator_cards import register_handovers
from bot.outgoing import Renderers
from bot.scheduler_messages import register_scheduler_renderers
from bot.db import migrate
from bot.db.engine import make_engine, make_message_engine
from bot.db.uow import unit_of_work_factory
from bot.profiles import load_profile
from bot.settings import Settings
from core.dialogue import Conversation
from core.ports import NLU, Clock, Geocoder
from core.profile import Profile
from core.handover import Handovers
from core.services import Helpline, Policy
from nlu.client import NoNLU, RasaNLU
from nlu.langid import detect_language


@dataclass
class App:
    settings: Settings
    profile: Profile
    engine: Engine
    clock: Clock
    helpline: Helpline
    message_engine: Engine | None = None
    _translator: Translator | None = field(default=None, repr=False)

    def close(self) -> None:
        self.engine.dispose()
        if self.message_engine is not None:
            self.message_engine.dispose()

    def translator(self) -> Translator:
        """One Translator for the process (its catalogs are compiled once)."""
        if self._translator is None:
            self._translator = Translator(self.settings.locales_dir, self.profile.calendar.timezone)
        return self._translator

    def nlu(self) -> NLU:
        if self.settings.rasa == "off":
            return NoNLU()
        return RasaNLU(self.settings.rasa_url, self.settings.rasa_token or None, self.settings.rasa_timeout_s)

    def conversation(self, nlu: NLU | None = None, geocoder: Geocoder | None = None) -> Conversation:
        return Conversation(self.helpline, nlu or self.nlu(), geocoder or make_geocoder(self.settings, self.profile),
                            detect_language, load_emergency_words(self.settings.data_dir / "emergency" / "keywords.yml"))

    def renderers(self, translator: Translator | None = None) -> Renderers:
        """Every notification kind the outbox may hold, with the function that renders it."""
        translator = translator or self.translator()
        renderers = Renderers()
        register_department_cards(renderers, self.helpline, translator)
        register_notices(renderers, translator, self.helpline)
        register_scheduler_renderers(renderers, translator)
        register_handovers(renderers, translator, self.profile)
        return renderers

    def scheduler(self, bot, renderers: Renderers | None = None, handovers: Handovers | None = None):
        """The periodic jobs (bot/scheduler.py): outbox delivery with `bot`, sweeps, digest, retention."""
        from bot.delivery import Deliverer, DeliveryPolicy
        from bot.scheduler import LeaderLock, Scheduler
        from core.sweeps import Sweeps

        s = self.settings
        policy = DeliveryPolicy(max_attempts=s.delivery_max_attempts, first_retry_s=s.delivery_first_retry_s,
                                longest_retry_s=s.delivery_longest_retry_s, send_timeout_s=s.delivery_timeout_s)
        deliverer = Deliverer(self.helpline.uow, self.clock, renderers or self.renderers(), bot, policy)
        handovers = handovers or Handovers(self.helpline)

        def operators_digest() -> int:
            return 1 if handovers.write_digest() else 0
        return Scheduler(Sweeps(self.helpline), deliverer, LeaderLock(self.engine), self.profile.calendar.timezone,
                         digest_hour=s.digest_hour, delivery_interval_s=s.delivery_interval_s,
                         digests=(operators_digest,))

    def telegram(self, conversation: Conversation | None = None):
        """The python-telegram-bot Application with every handler installed."""
        from telegram.constants import ParseMode
        from telegram.ext import ApplicationBuilder, Defaults

        from bot.chat_order import OneAtATimePerChat
        from bot.delivery import rate_limiter
        from bot.notices import Notices
        from bot.telegram_app import HelplineApplication
        from bot.telegram_io import BotApiRequest
        from handlers.departments import DepartmentChannel
        from handlers.limits import install_limits
        from handlers.ombudsman import OmbudsmanChat
        from handlers.operators import OperatorDesk
        from handlers.residents import ResidentChannel

        s = self.settings
        application = (ApplicationBuilder().application_class(HelplineApplication)
                       .token(s.telegram_token).base_url(s.telegram_api_base_url)
                       .base_file_url(s.telegram_api_base_url.replace("/bot", "/file/bot"))
                       .defaults(Defaults(parse_mode=ParseMode.HTML)).rate_limiter(rate_limiter())
                       .request(BotApiRequest()).concurrent_updates(OneAtATimePerChat()).build())
        conversation, translator, renderers = conversation or self.conversation(), self.translator(), self.renderers()
        OmbudsmanChat(Notices(translator, self.helpline)).install(application)   # first: its chat may be private
        desk = OperatorDesk(conversation.handovers, renderers, translator)
        residents = ResidentChannel(conversation, translator, after_reply=desk.after_resident)
        install_limits(application, s, conversation, translator)   # per-resident limits, first
        residents.install(application)
        desk.install(application)
        DepartmentChannel.build(self.helpline, translator).install(application)
        application.add_handler(residents.unknown_button_handler())     # last: only presses nobody else takes
        application.post_init = residents.publish_commands
        # keep last: it wraps post_init and post_shutdown
        self.scheduler(application.bot, renderers, conversation.handovers).attach(application)
        return application


def build(settings: Settings | None = None, *, clock: Clock | None = None, upgrade: bool = True) -> App:
    """Load the profile, open (and by default migrate) the database, and wire the use cases."""
    settings = settings or Settings()
    profile = load_profile(settings.profile, settings.profiles_dir)
    if upgrade:
        migrate.upgrade(settings.database_url)
    engine, message_engine = make_engine(settings.database_url), make_message_engine(settings.database_url)
    clock = clock or SystemClock()
    policy = Policy(settings.questionnaire_days, settings.questionnaire_close_days, settings.escalation_margin_days,
                    settings.retention_days, settings.reminder_hours, settings.reopens_to_escalate)
    helpline = Helpline(unit_of_work_factory(engine, clock, message_engine=message_engine), profile, clock, policy)
    return App(settings, profile, engine, clock, helpline, message_engine)
