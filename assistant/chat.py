"""`assistant chat`: a terminal chat with the running assistant, as one employee."""

from __future__ import annotations

import sys

from assistant.chatclient import ChatClient
from assistant.config import Settings

BANNER = {
    "zh": "你好，{name}！我是邻桌。输入消息后回车；Ctrl-D 退出。",
    "en": "Hi {name}! I'm Deskmate. Type a message and press Enter; Ctrl-D to quit.",
}


def default_via(settings: Settings) -> str:
    """How the terminal chat reaches Deskmate unless told: through the IM when the deployment has one."""
    return "matrix" if settings.im_backend == "matrix" else "rest"


def chat(settings: Settings, person: str, via: str | None = None) -> int:
    """`assistant chat` / `assistant run`: over Matrix (what an employee's IM shows, other rooms included) or
    over the REST channel (no IM server needed)."""
    if (via or default_via(settings)) == "matrix":
        from assistant.matrix_chat import terminal_chat_matrix

        return terminal_chat_matrix(settings, person)
    return terminal_chat(settings, person)


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
