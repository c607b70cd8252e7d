"""The group chats the review tests bind (the `stack` fixture of tests/integration/conftest.py): two departments'
groups and the Citizen's Advocate's chat, and the Advocate's Telegram id."""
OMBUDSMAN_CHAT, TECHNICAL_CHAT, GREEN_CHAT = -1009, -1001, -1002
ADVOCATE_ID = 900
