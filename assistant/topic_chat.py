"""Topics by conversation: each intent's turn, from the message text to the reply in the user's language.

The arguments (title, people, conclusion, note, link target, search words) are read from the text by
assistant/topic_text.py; names are resolved by the directory, and an unknown or ambiguous name stops the
whole request with a question, so nobody is half-invited. "This topic" is the room the message was said
in, else the topic the person last opened or worked on.
"""

from __future__ import annotations

from typing import Callable

from assistant import pending, rooms, search, topic_text
from assistant.claim_chat import Turn
from assistant.colleagues import candidates_text
from assistant.directory import Directory
from assistant.i18n import listing, t
from assistant.topics import TopicError, Topics, TopicView


class PeopleProblem(Exception):
    def __init__(self, reply: str) -> None:
        super().__init__(reply)
        self.reply = reply


class TopicChat:
    def __init__(self, topics: Topics, directory: Callable[[], Directory]) -> None:
        self.topics = topics
        self._directory = directory

    # -- helpers -----------------------------------------------------------------------------------------------

    def _run(self, turn: Turn, work: Callable[[], list[str]]) -> list[str]:
        try:
            return work()
        except TopicError as err:
            return [t(f"topic.error.{err.code}", turn.lang, **err.values)]
        except PeopleProblem as problem:
            return [problem.reply]

    def _resolve(self, turn: Turn, names: list[str], method: str | None = None) -> list[str]:
        """Employee ids for the names said; a name that is unknown or ambiguous stops the request (`method`:
        the request, to run again once the user says which person they meant)."""
        directory = self._directory()
        found: list[str] = []
        for name in names:
            res = directory.resolve(name, asker=turn.person)
            if res.kind == "unknown" or not res.people:
                raise PeopleProblem(t("topic.people.unknown", turn.lang, name=name))
            if res.kind == "ambiguous":
                if method is not None:
                    pending.ask_which_person(self.topics.db, turn.person, chat="topic_chat", method=method,
                                             text=turn.text, name=name, candidates=[p.id for p in res.people])
                raise PeopleProblem(t("topic.people.ambiguous", turn.lang, name=name,
                                      candidates=candidates_text(directory, res.people, turn.lang)))
            found += [p.id for p in res.people if p.id not in found]
        return found

    def _names(self, lang: str, people: list[str]) -> str:
        directory = self._directory()
        return listing(lang, (directory.names(p)[lang] for p in people))

    def _current(self, turn: Turn) -> int:
        return self.topics.current(turn.person, turn.room_id, topic_text.parse_topic_ref(turn.text))

    # -- intents -----------------------------------------------------------------------------------------------

    def open_topic(self, turn: Turn) -> list[str]:
        def work() -> list[str]:
            request = topic_text.parse_open(turn.text)
            claim_id = request.claim_id
            if claim_id is None and request.current_claim:  # "discuss my claim": the latest one
                latest = self.topics.claims.latest(turn.person, turn.today)
                claim_id = latest.id if latest else None
            if claim_id is not None:
                view, created = self.topics.open_for_claim(turn.person, claim_id)
                key = "topic.opened_claim" if created else "topic.joined_claim"
                return [t(key, turn.lang, id=view.id, claim=claim_id,
                          people=self._names(turn.lang, [p["person"] for p in view.participants]))]
            if not request.title:
                return [t("topic.ask_title", turn.lang)]
            people = self._resolve(turn, request.people, "open_topic")
            view = self.topics.open_free(turn.person, request.title, people)
            return [t("topic.opened", turn.lang, id=view.id, title=view.title,
                      people=self._names(turn.lang, [p["person"] for p in view.participants]))]
        return self._run(turn, work)

    def add_to_topic(self, turn: Turn) -> list[str]:
        def work() -> list[str]:
            names = topic_text.parse_people(turn.text)
            if not names:
                return [t("topic.ask_people", turn.lang)]
            people = self._resolve(turn, names, "add_to_topic")
            view, added = self.topics.add(turn.person, self._current(turn), people)
            if not added:
                return [t("topic.nobody_new", turn.lang, id=view.id, people=self._names(turn.lang, people))]
            return [t("topic.added", turn.lang, id=view.id, title=view.title, people=self._names(turn.lang, added))]
        return self._run(turn, work)

    def remove_from_topic(self, turn: Turn) -> list[str]:
        def work() -> list[str]:
            names = topic_text.parse_people(turn.text)
            if not names:
                return [t("topic.ask_people", turn.lang)]
            people = self._resolve(turn, names, "remove_from_topic")
            view, removed = self.topics.remove(turn.person, self._current(turn), people)
            return [t("topic.removed", turn.lang, id=view.id, title=view.title,
                      people=self._names(turn.lang, removed or people))]
        return self._run(turn, work)

    def leave_topic(self, turn: Turn) -> list[str]:
        def work() -> list[str]:
            view, _ = self.topics.remove(turn.person, self._current(turn), [turn.person])
            return [t("topic.left", turn.lang, id=view.id, title=view.title)]
        return self._run(turn, work)

    def record_conclusion(self, turn: Turn) -> list[str]:
        def work() -> list[str]:
            text = topic_text.parse_conclusion(turn.text)
            if not text:
                return [t("topic.ask_conclusion", turn.lang)]
            done = self.topics.conclude(turn.person, self._current(turn), text, reply_to=turn.reply_to)
            key = "topic.concluded" if done["claim_id"] is not None else "topic.concluded_free"
            return [t(key, turn.lang, id=done["id"], topic=done["topic_id"], text=done["text"],
                      sources=done["sources"])]
        return self._run(turn, work)

    def write_back(self, turn: Turn) -> list[str]:
        def work() -> list[str]:
            done = self.topics.write_back(turn.person, self._current(turn))
            return [t("topic.written_back", turn.lang, claim=done["claim_id"], text=done["text"])]
        return self._run(turn, work)

    def close_topic(self, turn: Turn) -> list[str]:
        def work() -> list[str]:
            view = self.topics.close(turn.person, self._current(turn))
            return [t("topic.closed", turn.lang, id=view.id, title=view.title)]
        return self._run(turn, work)

    def reopen_topic(self, turn: Turn) -> list[str]:
        def work() -> list[str]:
            view = self.topics.reopen(turn.person, self._current(turn))
            return [t("topic.reopened", turn.lang, id=view.id, title=view.title)]
        return self._run(turn, work)

    def make_topic_public(self, turn: Turn) -> list[str]:
        def work() -> list[str]:
            view = self.topics.make_public(turn.person, self._current(turn))
            return [t("topic.made_public", turn.lang, id=view.id, title=view.title)]
        return self._run(turn, work)

    def take_note(self, turn: Turn) -> list[str]:
        def work() -> list[str]:
            text = topic_text.parse_note(turn.text)
            if not text:
                return [t("topic.ask_note", turn.lang)]
            done = self.topics.note(turn.person, self._current(turn), text)
            return [t("topic.noted", turn.lang, topic=done["topic_id"], title=done["title"], text=text)]
        return self._run(turn, work)

    def link_topic(self, turn: Turn) -> list[str]:
        def work() -> list[str]:
            request = topic_text.parse_link(turn.text)
            if request is None:
                return [t("topic.ask_link", turn.lang)]
            target = request.target
            if request.kind == "person":
                target = self._resolve(turn, [target])[0]
            done = self.topics.link(turn.person, self._current(turn), request.kind, target)
            shown = self._names(turn.lang, [target]) if request.kind == "person" else target
            label = t(f"topic.target.{request.kind}", turn.lang, target=shown)
            key = "topic.linked" if done["new"] else "topic.already_linked"
            return [t(key, turn.lang, topic=done["topic_id"], title=done["title"], target=label)]
        return self._run(turn, work)

    def show_topic(self, turn: Turn) -> list[str]:
        def work() -> list[str]:
            return [self.render(self.topics.get(turn.person, self._current(turn)), turn.lang)]
        return self._run(turn, work)

    def search_topics(self, turn: Turn) -> list[str]:
        query = topic_text.search_query(turn.text)
        if not query:
            return [t("topic.search.ask", turn.lang)]
        hits = search.search(self.topics.db, turn.person, query, limit=5)
        if not hits:
            return [t("topic.search.none", turn.lang, query=query)]
        lines = [t("topic.search.head", turn.lang, query=query)]
        room_ids = rooms.room_ids(self.topics.db, [rooms.topic_purpose(hit.topic_id) for hit in hits])
        for n, hit in enumerate(hits, 1):
            room_id = room_ids.get(rooms.topic_purpose(hit.topic_id))
            link = f"https://matrix.to/#/{room_id}" if room_id else hit.link
            lines.append(t("topic.search.hit", turn.lang, n=n, id=hit.topic_id, title=hit.title,
                           status=t(f"topic.status.{hit.status}", turn.lang), link=link, snippet=hit.snippet,
                           conclusions=t("topic.search.with_conclusions", turn.lang) if hit.has_conclusions else ""))
        return ["\n".join(lines)]

    def render(self, view: TopicView, lang: str) -> str:
        lines = [t("topic.show.head", lang, id=view.id, title=view.title, status=t(f"topic.status.{view.status}", lang),
                   people=self._names(lang, [p["person"] for p in view.participants]))]
        if view.waiting_for:
            lines.append(t("topic.show.waiting", lang, person=self._names(lang, [view.waiting_for])))
        for key, items in (("topic.show.conclusions", [c["text"] for c in view.conclusions]),
                           ("topic.show.notes", [n["text"] for n in view.notes]),
                           ("topic.show.links", [f"{link['kind']} {link['target']}" for link in view.links])):
            if items:
                lines.append(t(key, lang))
                lines += [f"- {item}" for item in items]
        return "\n".join(lines)
