"""python-telegram-bot's Application without its per-chat bookkeeping for a persistence the helpline does not use.

After each update (and each error handled) python-telegram-bot notes the update's chat and user ids in two sets,
for its persistence to save their chat_data and user_data on its next run. Only that run empties the sets, and it
runs only when a persistence is configured. The helpline keeps its state in its own database and configures none,
so the sets would keep every chat and user id the process has ever seen, and grow with each new resident.
Here the ids are noted only when there is a persistence to save them, as python-telegram-bot does otherwise.
"""
from __future__ import annotations

from typing import Any

from telegram.ext import Application, Job


class HelplineApplication(Application):
    __slots__ = ()

    def _mark_for_persistence_update(self, *, update: object | None = None, job: Job | None = None,
                                     **kwargs: Any) -> None:
        if self.persistence is not None:
            super()._mark_for_persistence_update(update=update, job=job, **kwargs)
