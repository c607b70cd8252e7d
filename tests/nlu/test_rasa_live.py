"""The trained model on the real Rasa server: new sentences in each language are understood right."""
from __future__ import annotations

import pytest

from core.ports import Entity
from nlu.intents import category_of

pytestmark = pytest.mark.rasa

REPORTS = [
    ("en", "There's a deep hole in the asphalt outside the bakery", "pothole"),
    ("en", "The lamp post on our corner stays dark every night", "streetlight"),
    ("en", "Nobody emptied the rubbish bins this week, it stinks", "garbage"),
    ("en", "Water is gushing out of a broken pipe under the pavement", "water_leak"),
    ("en", "A pack of stray dogs is chasing children near the school", "stray_animal"),
    ("sl", "Na cesti pred trgovino je globoka luknja", "pothole"),
    ("sl", "Javna razsvetljava v naši ulici ne deluje", "streetlight"),
    ("sl", "Smeti že teden dni niso bile odpeljane", "garbage"),
    ("sl", "Iz počene cevi na pločniku teče voda", "water_leak"),
    ("sl", "Po parku se klatijo potepuški psi", "stray_animal"),
    ("el", "Υπάρχει μια βαθιά λακκούβα στο δρόμο μπροστά από το φούρνο", "pothole"),
    ("el", "Η λάμπα της κολόνας στη γωνία δεν ανάβει τα βράδια", "streetlight"),
    ("el", "Οι κάδοι απορριμμάτων δεν έχουν αδειάσει εδώ και μια εβδομάδα", "garbage"),
    ("el", "Τρέχει νερό από σπασμένο σωλήνα στο πεζοδρόμιο", "water_leak"),
    ("el", "Αδέσποτα σκυλιά κυνηγάνε τα παιδιά κοντά στο σχολείο", "stray_animal"),
    ("he", "יש בור עמוק בכביש מול המאפייה", "pothole"),
    ("he", "פנס הרחוב בפינה לא דולק בלילות", "streetlight"),
    ("he", "לא פינו את פחי האשפה כבר שבוע", "garbage"),
    ("he", "מים זורמים מצינור שבור על המדרכה", "water_leak"),
    ("he", "להקת כלבים משוטטים רודפת אחרי ילדים ליד בית הספר", "stray_animal"),
]

STATUS_QUESTIONS = [
    ("en", "Any news on koz-2026-00042?", "KOZ-2026-00042"),
    ("sl", "Kaj se dogaja s prijavo KRA-2026-00105?", "KRA-2026-00105"),
    ("el", "Τι έγινε με την αναφορά PET-2026-00007;", "PET-2026-00007"),
    ("he", "מה המצב עם הפנייה SDE-2026-00031?", "SDE-2026-00031"),
]

CONVERSATION = [
    ("en", "good morning", "greet"),
    ("en", "cancel that, forget it", "cancel"),
    ("en", "how does this work? I need help", "help"),
    ("en", "You closed my report but nothing was fixed, this is unacceptable", "complain_about_handling"),
    ("sl", "dober dan", "greet"),
    ("sl", "prekliči, ne bom oddal prijave", "cancel"),
    ("sl", "pomoč, kako to deluje?", "help"),
    ("sl", "Prijavo ste zaprli, čeprav ni nič popravljeno, to je nesprejemljivo", "complain_about_handling"),
    ("el", "καλημέρα", "greet"),
    ("el", "ακύρωση, άσ' το", "cancel"),
    ("el", "βοήθεια, πώς λειτουργεί αυτό;", "help"),
    ("el", "Κλείσατε την αναφορά μου αλλά δεν φτιάχτηκε τίποτα, απαράδεκτο", "complain_about_handling"),
    ("he", "בוקר טוב", "greet"),
    ("he", "בטל, עזוב", "cancel"),
    ("he", "עזרה, איך זה עובד?", "help"),
    ("he", "סגרתם את הפנייה שלי אבל שום דבר לא תוקן, זה לא מקובל", "complain_about_handling"),
]


ANSWERS = [   # emergencies, questions (the topic comes from the ResponseSelector), asking for a person
    ("en", "there is smoke pouring out of the flat upstairs and the alarm is going off", "emergency"),
    ("en", "my neighbour fell and hit his head, he is not moving", "emergency"),
    ("en", "what time does the town hall close today?", "ask_office_hours"),
    ("en", "how do I get a certificate of residence?", "ask_certificates"),
    ("en", "where can I pay my municipal water bill?", "ask_fees"),
    ("en", "which bin do glass bottles go in?", "ask_recycling"),
    ("en", "can I speak to a real person please", "talk_to_person"),
    ("sl", "iz stanovanja nad nami se vali dim, nekdo je še notri", "emergency"),
    ("sl", "sosed je padel po stopnicah in ne diha", "emergency"),
    ("sl", "kdaj je občina odprta v petek?", "ask_office_hours"),
    ("sl", "kako dobim potrdilo o stalnem prebivališču?", "ask_certificates"),
    ("sl", "kje lahko plačam komunalni prispevek?", "ask_fees"),
    ("sl", "kam naj vržem steklenice?", "ask_recycling"),
    ("sl", "rad bi govoril z nekom iz občine, ne z robotom", "talk_to_person"),
    ("el", "βγαίνει καπνός από το διαμέρισμα από πάνω και κάποιος είναι μέσα", "emergency"),
    ("el", "ο γείτονας έπεσε από τη σκάλα και δεν αναπνέει", "emergency"),
    ("el", "τι ώρα κλείνει το δημαρχείο σήμερα;", "ask_office_hours"),
    ("el", "πώς βγάζω πιστοποιητικό οικογενειακής κατάστασης;", "ask_certificates"),
    ("el", "πού μπορώ να πληρώσω τα δημοτικά τέλη;", "ask_fees"),
    ("el", "σε ποιον κάδο πάνε τα γυάλινα μπουκάλια;", "ask_recycling"),
    ("el", "θέλω να μιλήσω με έναν άνθρωπο, όχι με ρομπότ", "talk_to_person"),
    ("he", "יוצא עשן מהדירה למעלה ויש שם מישהו", "emergency"),
    ("he", "השכן נפל במדרגות והוא לא נושם", "emergency"),
    ("he", "מתי העירייה פתוחה ביום שישי?", "ask_office_hours"),
    ("he", "איך מקבלים אישור תושב?", "ask_certificates"),
    ("he", "איפה משלמים ארנונה?", "ask_fees"),
    ("he", "לאיזה פח זורקים בקבוקי זכוכית?", "ask_recycling"),
    ("he", "אני רוצה לדבר עם בן אדם אמיתי", "talk_to_person"),
]


@pytest.mark.parametrize("language, text, category", REPORTS)
async def test_reports_are_understood(rasa_nlu, language, text, category):
    result = await rasa_nlu.understand(text)

    assert result.available
    assert category_of(result.intent) == category, result.ranking[:3]
    assert result.language == language


@pytest.mark.parametrize("language, text, ref", STATUS_QUESTIONS)
async def test_status_questions_carry_the_reference(rasa_nlu, language, text, ref):
    result = await rasa_nlu.understand(text)

    assert result.intent == "check_status", result.ranking[:3]
    assert [e for e in result.entities if e.name == "ticket_ref"] == [
        Entity("ticket_ref", ref, text.upper().index(ref), text.upper().index(ref) + len(ref))]


@pytest.mark.parametrize("language, text, intent", CONVERSATION)
async def test_conversation_intents_are_understood(rasa_nlu, language, text, intent):
    result = await rasa_nlu.understand(text)

    assert result.intent == intent, result.ranking[:3]


@pytest.mark.parametrize("language, text, intent", ANSWERS)
async def test_emergencies_questions_and_asking_for_a_person_are_understood(rasa_nlu, language, text, intent):
    result = await rasa_nlu.understand(text)

    assert result.intent == intent, result.ranking[:3]
    assert result.confidence >= 0.55


async def test_gibberish_is_not_taken_for_a_report(rasa_nlu):
    result = await rasa_nlu.understand("qwzx vbnm plkj")

    assert result.available
    assert category_of(result.intent) is None


async def test_the_server_reports_ready(rasa_nlu):
    assert await rasa_nlu.ready()
