"""Every user-facing string of the core, in Chinese and English. `t(key, lang, **values)` renders one."""

from __future__ import annotations

from typing import Any

MESSAGES: dict[str, dict[str, str]] = {
    # Intake: messages refused before they reach the NLU.
    "intake.empty": {
        "zh": "你发的消息是空的。请直接告诉我你要做什么，或者说“帮助”。",
        "en": "Your message was empty. Tell me what you need, or say \"help\".",
    },
    "intake.too_long": {
        "zh": "消息太长了（{length} 个字符，最多 {limit} 个）。请分几条发，或者只说要点。",
        "en": "That message is too long ({length} characters, at most {limit}). Please split it or keep to the point.",
    },
    "intake.no_text": {
        "zh": "我只能读懂文字。请用中文或英文告诉我你要做什么。",
        "en": "I can only read words. Please tell me in Chinese or English what you need.",
    },
    "intake.unknown_sender": {
        "zh": "抱歉，通讯录里没有你（{sender}），我不能为你办事。请联系管理员把你加入通讯录。",
        "en": "Sorry, you ({sender}) are not in the company directory, so I can't act for you. "
              "Please ask your admin to add you.",
    },
    "intake.command_refused": {
        "zh": "以“/”开头的指令只对管理员开放。请直接用文字告诉我你要做什么。",
        "en": "Messages starting with \"/\" are reserved for admins. Please just tell me in words what you need.",
    },
    "error.internal": {
        "zh": "抱歉，我这边出了点问题，你的请求没有执行，也没有保存任何内容。请稍后再试。",
        "en": "Sorry, something went wrong on my side. Nothing was done or saved; please try again shortly.",
    },
    "error.no_reply": {
        "zh": "抱歉，这次我没能给出答复。请再说一遍，或者换个说法。",
        "en": "Sorry, I couldn't come up with an answer this time. Please try again or say it differently.",
    },
    # HTTP errors (API and REST channel).
    "http.unauthorized": {"zh": "缺少或无效的访问令牌。", "en": "Missing or invalid bearer token."},
    "http.forbidden": {"zh": "你无权查看这项内容。", "en": "You are not allowed to see this."},
    "http.forbidden_sender": {"zh": "这个令牌不能代表 {sender} 发言。", "en": "This token may not speak as {sender}."},
    "http.not_found": {"zh": "找不到请求的内容。", "en": "Not found."},
    "http.bad_request": {"zh": "请求格式不正确：{detail}", "en": "Malformed request: {detail}"},
    "http.bad_chat_request": {"zh": "请求格式不正确：需要 JSON，含字符串字段 sender 和 message。",
                              "en": "Malformed request: expected JSON with string fields sender and message."},
    "http.method_not_allowed": {"zh": "不支持这个请求方法。", "en": "Method not allowed."},
    "http.internal": {"zh": "服务器内部错误，请求未执行。", "en": "Internal error; the request was not carried out."},
    # Directory.
    "who.need_name": {
        "zh": "你想了解哪位同事？告诉我名字就行，比如“李娜是谁”。",
        "en": "Which colleague do you mean? Tell me a name, e.g. \"who is Na Li?\"",
    },
    "who.unknown": {
        "zh": "通讯录里找不到“{name}”。请检查一下名字，中文名、英文名或账号都可以。",
        "en": "I can't find \"{name}\" in the directory. Please check the name: Chinese, English or login id all work.",
    },
    "who.ambiguous": {
        "zh": "“{name}”可能是以下几位，你指的是哪一位？\n{candidates}",
        "en": "\"{name}\" could be any of these. Which one do you mean?\n{candidates}",
    },
    "who.candidate": {
        "zh": "{index}. {name}（{id}），{department} {title}",
        "en": "{index}. {name} ({id}), {title}, {department}",
    },
    "who.person": {
        "zh": "{name}（{other_name}，账号 {id}）：{department} {title}。{manager_line}",
        "en": "{name} ({other_name}, id {id}): {title}, {department}. {manager_line}",
    },
    "who.manager_line": {
        "zh": "直属领导是{manager}。",
        "en": "Reports to {manager}.",
    },
    "who.top": {
        "zh": "公司最高负责人。",
        "en": "Heads the company.",
    },
    "who.group": {
        "zh": "“{name}”是一个组，共 {count} 人：{members}",
        "en": "\"{name}\" is a group of {count}: {members}",
    },
    "who.list_separator": {"zh": "、", "en": ", "},
}


def language_from_header(accept_language: str) -> str:
    """'zh' when an Accept-Language header asks for Chinese first, else 'en'."""
    return "zh" if (accept_language or "").strip().lower().startswith("zh") else "en"


def t(key: str, lang: str, **values: Any) -> str:
    """The message `key` in `lang` ('zh' or 'en'; anything else falls back to 'en'), with values filled in."""
    variants = MESSAGES[key]
    text = variants.get(lang) or variants["en"]
    return text.format(**values) if values else text
