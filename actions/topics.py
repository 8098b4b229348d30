"""Topic actions: one per intent, each a single call into assistant/topic_chat.py."""

from __future__ import annotations

from actions.claims import ChatMethodAction


class TopicAction(ChatMethodAction):
    service = "topic_chat"


class ActionOpenTopic(TopicAction):
    method = "open_topic"


class ActionAddToTopic(TopicAction):
    method = "add_to_topic"


class ActionRemoveFromTopic(TopicAction):
    method = "remove_from_topic"


class ActionLeaveTopic(TopicAction):
    method = "leave_topic"


class ActionRecordConclusion(TopicAction):
    method = "record_conclusion"


class ActionWriteBack(TopicAction):
    method = "write_back"


class ActionCloseTopic(TopicAction):
    method = "close_topic"


class ActionReopenTopic(TopicAction):
    method = "reopen_topic"


class ActionMakeTopicPublic(TopicAction):
    method = "make_topic_public"


class ActionLinkTopic(TopicAction):
    method = "link_topic"


class ActionTakeNote(TopicAction):
    method = "take_note"


class ActionSearchTopics(TopicAction):
    method = "search_topics"


class ActionShowTopic(TopicAction):
    method = "show_topic"
