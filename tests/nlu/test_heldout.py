"""The held-out messages (never used for training) must be understood well enough in every language."""
from __future__ import annotations

from pathlib import Path

import pytest

from nlu.evaluate import format_report, load_examples, report, run

pytestmark = pytest.mark.rasa

HELDOUT = sorted((Path(__file__).resolve().parents[2] / "nlu" / "tests" / "heldout").glob("*.jsonl"))
MIN_TOP1, MIN_TOP3 = 0.90, 0.97          # report lines: the category
# Intent lines (questions, emergencies, a person): reported, not gated. The question, emergency and person intents
# are not in the model: with them in it, report lines fell under the bar above in Greek and Slovenian (docs/nlu.md).
# Emergencies are caught by keywords (core/emergency.py), questions through the Information menu, a person through
# /person and its button.


async def test_heldout_accuracy_in_every_language(rasa_nlu):
    if not HELDOUT:
        pytest.fail("no held-out files in nlu/tests/heldout")
    result = report(await run(rasa_nlu, load_examples(HELDOUT)))
    print(format_report(result, show_misses=40))

    assert result.unavailable == 0
    assert not result.below(MIN_TOP1, MIN_TOP3), "\n" + format_report(result)
    assert result.intents is not None, "no intent lines in the held-out files"
