"""The held-out messages (never used for training) must be understood well enough in every language."""
from __future__ import annotations

from pathlib import Path

import pytest

from nlu.evaluate import format_report, load_examples, report, run

pytestmark = pytest.mark.rasa

HELDOUT = sorted((Path(__file__).resolve().parents[2] / "nlu" / "tests" / "heldout").glob("*.jsonl"))
MIN_TOP1, MIN_TOP3 = 0.90, 0.97          # report lines: the category
# Intent lines (questions, emergencies, a person): the intent. Model nlu-01f46fe043cb measured 78.8-85.0% per
# language (emergencies are also caught by keywords, core/emergency.py); the bar guards against regressions,
# 0.85 is the aim.
MIN_INTENT_TOP1 = 0.75


async def test_heldout_accuracy_in_every_language(rasa_nlu):
    if not HELDOUT:
        pytest.fail("no held-out files in nlu/tests/heldout")
    result = report(await run(rasa_nlu, load_examples(HELDOUT)))
    print(format_report(result, show_misses=40))

    assert result.unavailable == 0
    assert not result.below(MIN_TOP1, MIN_TOP3), "\n" + format_report(result)
    assert result.intents is not None, "no intent lines in the held-out files"
    assert not result.intents_below(MIN_INTENT_TOP1), "\n" + format_report(result)
