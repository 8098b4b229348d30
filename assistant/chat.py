"""`assistant chat`: a terminal chat with the running assistant, as one employee."""

from __future__ import annotations

import sys

from assistant.chatclient import ChatClient
from assistant.config import Settings

BANNER = {
    "zh": "你好，{name}！我是邻桌。输入消息后回车；Ctrl-D 退出。",
    "en": "Hi {name}! I'm Deskmate. Type a message and press Enter; Ctrl-D to quit.",
}


def terminal_chat(settings: Settings, person: str) -> int:
    """Read lines from the terminal, print Deskmate's replies. The admin token speaks as `person`."""
    try:
        import readline  # noqa: F401 - line editing and history for input()
    except ImportError:
        pass
    client = ChatClient(settings.rasa_url, settings.api_url, settings.admin_token())
    print(BANNER["zh"].format(name=person))
    print(BANNER["en"].format(name=person))
    while True:
        try:
            line = input(f"{person}> ")
        except EOFError:
            print()
            return 0
        if not line.strip():
            continue
        try:
            for text in client.say(person, line):
                print(f"邻桌> {text}")
        except (RuntimeError, OSError) as exc:
            print(f"! {exc}", file=sys.stderr)
