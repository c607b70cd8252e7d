"""The system clock, the one real implementation of core.ports.Clock."""
from datetime import datetime, timezone


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(timezone.utc)
