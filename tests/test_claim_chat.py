"""Reimbursement conversations at the core: intents given, replies and stored state checked (no NLU)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from assistant.claim_chat import Turn
from assistant.config import Settings
from assistant.core import Assistant
from assistant.seed import seed
from assistant.store import Database
from assistant.store.models import Claim, OutboxEffect
from tests.conftest import COMPANY

TODAY = date(2026, 11, 26)


@pytest.fixture
def core(tmp_path: Path) -> Assistant:
    settings = Settings(var_dir=tmp_path / "var", database_url=f"sqlite:///{tmp_path / 'chat.db'}")
    db = Database(settings.database_url)
    seed(db, COMPANY)
    return Assistant(settings, db)


class Person:
    """One employee talking to Deskmate; `say` returns everything Deskmate answered, joined."""

    def __init__(self, core: Assistant, person: str, lang: str) -> None:
        self.core, self.person, self.lang = core, person, lang

    def say(self, intent: str, text: str, entity_person: str | None = None) -> str:
        turn = Turn(self.person, self.lang, TODAY, text)
        chat, approvals = self.core.claim_chat, self.core.approval_chat
        answer = chat.answer(turn, intent)
        if answer is not None:
            return "\n".join(answer)
        handlers = {
            "claim_expense": chat.claim_expense, "change_item": chat.change_item, "remove_item": chat.remove_item,
            "show_claim": chat.show_claim, "cancel_claim": chat.cancel_claim, "save_draft": chat.save_draft,
            "resume_claim": chat.resume_claim, "submit_claim": chat.submit_claim, "ask_policy": chat.ask_policy,
            "list_pending": approvals.list_pending, "withdraw_claim": approvals.withdraw,
            "claim_status": approvals.status, "repeat_last_item": chat.repeat_last_item,
        }
        if intent in ("affirm", "deny", "inform", "nlu_fallback"):
            return "\n".join(chat.answer_or_reply(turn, intent))
        if intent in ("approve_claim", "return_claim", "reject_claim"):
            return "\n".join(approvals.decide(turn, intent.split("_")[0], entity_person))
        return "\n".join(handlers[intent](turn))


def claim_of(core: Assistant, person: str) -> Claim:
    with core.db.session() as s:
        return s.execute(select(Claim).where(Claim.applicant_id == person).order_by(Claim.id.desc())).scalars().first()


def test_a_taxi_claim_in_chinese_from_first_words_to_approval(core: Assistant) -> None:
    zhangwei = Person(core, "zhangwei", "zh")
    reply = zhangwei.say("claim_expense", "我要报销昨天打车58块")
    assert "报销单 #" in reply and "交通费用不设上限" in reply          # the policy note for transport
    assert "2026-11-01" in reply and "餐饮标准" in reply               # changes of the last 90 days
    assert "58 元" in reply and "2026-11-25" in reply and "说“提交”" in reply
    reply = zhangwei.say("submit_claim", "提交")
    assert "合计：58 元" in reply and "杨磊（直属领导）" in reply and "刘洋（费用审核）" in reply
    assert "确认提交吗" in reply
    reply = zhangwei.say("affirm", "是的")
    assert "已提交" in reply and "杨磊" in reply
    assert "还有什么需要帮忙" in zhangwei.say("affirm", "是的")  # a second yes submits nothing
    assert claim_of(core, "zhangwei").status == "in_review"

    yanglei = Person(core, "yanglei", "zh")
    pending = yanglei.say("list_pending", "有什么要我审批的？")
    assert f"#{claim_of(core, 'zhangwei').id}" in pending and "张伟" in pending and "58" in pending
    assert "下一步交给刘洋" in yanglei.say("approve_claim", f"同意 {claim_of(core, 'zhangwei').id}")
    liuyang = Person(core, "liuyang", "zh")
    assert "全部审批通过" in liuyang.say("approve_claim", f"批准报销单{claim_of(core, 'zhangwei').id}")
    assert claim_of(core, "zhangwei").status == "approved"


def test_two_items_in_one_english_message_then_change_and_drop(core: Assistant) -> None:
    alice = Person(core, "alice", "en")
    reply = alice.say("claim_expense", "taxi 58 and lunch 35 yesterday")
    assert "Added" in reply and "58 CNY" in reply and "35 CNY" in reply
    assert "Meals are capped at 100" in reply
    assert "Item 1 updated" in alice.say("change_item", "the taxi was 52")
    reply = alice.say("change_item", "change entry 2 to 36")  # entry 2 is the lunch; 2 is no amount
    assert "Item 2 updated" in reply and "Total: 88 CNY" in reply
    reply = alice.say("remove_item", "drop the lunch")
    assert "Removed item 2" in reply and "Total: 52 CNY" in reply


def test_over_cap_meals_reduced_with_consent_or_kept_with_a_reason(core: Assistant) -> None:
    zhaomin = Person(core, "zhaomin", "zh")
    reply = zhaomin.say("claim_expense", "昨天晚饭120，有发票")
    assert "超过标准（每人每天 100 元）" in reply and "按 100 元报销吗" in reply
    assert "已改为 100 元" in zhaomin.say("affirm", "好")
    alice = Person(core, "alice", "en")
    alice.say("claim_expense", "dinner 130 yesterday with receipt")
    assert "give the reason" in alice.say("deny", "no")
    reply = alice.say("inform", "the only place open after the release at midnight")
    assert "Noted the reason" in reply
    claim = core.claims.editable("alice", TODAY)
    assert claim.items[0].amount_fen == 13000 and "midnight" in claim.items[0].justification
    assert "reason over limit" in alice.say("show_claim", "show my claim")


def test_old_future_negative_and_foreign_amounts(core: Assistant) -> None:
    wei = Person(core, "zhangwei", "zh")
    assert "超过 90 天的费用不能报销" in wei.say("claim_expense", "报销120天前的打车58")
    assert "在未来" in wei.say("claim_expense", "2026年12月20日打车58")
    assert "不是正数" in wei.say("claim_expense", "打车 -58 元")
    carol = Person(core, "carol", "en")
    reply = carol.say("claim_expense", "taxi 20 USD yesterday")
    assert "20 USD at 7.10 is 142 CNY" in reply and "invoice" in reply
    assert "没有新建报销单" in wei.say("claim_expense", "打车 -58 元")
    assert claim_of(core, "zhangwei") is None  # every item refused: no empty draft left behind


def test_entertainment_asks_for_the_client_and_invoice(core: Assistant) -> None:
    bob = Person(core, "bob", "zh")
    reply = bob.say("claim_expense", "昨天招待费800")
    assert "客户名称" in reply
    assert "有发票吗" in bob.say("inform", "客户是华为")
    assert "说“提交”" in bob.say("affirm", "有")
    assert core.claims.editable("bob", TODAY).items[0].client == "华为"


def test_a_category_that_is_not_clear_is_asked(core: Assistant) -> None:
    lina = Person(core, "lina", "en")
    reply = lina.say("claim_expense", "I spent 45 yesterday")
    assert "Which category" in reply
    assert "Added" in lina.say("inform", "it was a meal")
    assert core.claims.editable("lina", TODAY).items[0].category == "meals"


def test_a_policy_question_mid_claim_returns_to_the_open_question(core: Assistant) -> None:
    bob = Person(core, "bob", "en")
    bob.say("claim_expense", "client dinner 800 yesterday")
    reply = bob.say("ask_policy", "what's the hotel limit?")
    assert "600 per night" in reply and "Back to claim" in reply and "which client" in reply


def test_save_resume_cancel_and_double_submit(core: Assistant) -> None:
    wei = Person(core, "zhangwei", "en")
    wei.say("claim_expense", "metro 6 today")
    assert "saved as a draft" in wei.say("save_draft", "save it as a draft")
    assert "metro" in wei.say("resume_claim", "resume my claim")
    wei.say("submit_claim", "submit it")
    assert "submitted" in wei.say("affirm", "yes")
    again = wei.say("submit_claim", "submit it")
    assert "already submitted" in again
    with core.db.session() as s:
        assert s.execute(select(func.count()).select_from(Claim).where(Claim.status == "in_review")).scalar_one() == 1
        effects = s.execute(select(OutboxEffect.kind, OutboxEffect.key)).all()
        assert [kind for kind, _ in effects].count("dm") == 1
        assert len(effects) == len({key for _, key in effects})  # every effect once: no second room, no second post
    wei.say("claim_expense", "bus 3 today")
    assert "cancelled" in wei.say("cancel_claim", "cancel the claim")


def test_only_the_current_approver_may_decide_in_chat(core: Assistant) -> None:
    wei = Person(core, "zhangwei", "zh")
    wei.say("claim_expense", "今天打车30")
    wei.say("submit_claim", "提交")
    wei.say("affirm", "是")
    claim_id = claim_of(core, "zhangwei").id
    reply = Person(core, "liuyang", "zh").say("approve_claim", f"同意 {claim_id}")
    assert "不归你审批" in reply and "杨磊" in reply
    reply = Person(core, "zhaomin", "en").say("approve_claim", f"approve {claim_id}")
    assert f"no claim #{claim_id}" in reply
    assert claim_of(core, "zhangwei").current_approver == "yanglei"


def test_return_resubmit_reject_withdraw_and_status(core: Assistant) -> None:
    wei = Person(core, "zhangwei", "en")
    wei.say("claim_expense", "taxi 40 today")
    wei.say("submit_claim", "submit")
    wei.say("affirm", "yes")
    claim_id = claim_of(core, "zhangwei").id
    yanglei = Person(core, "yanglei", "en")
    assert "need a reason" in yanglei.say("return_claim", f"return {claim_id}")
    assert "receipt is blurry" in yanglei.say("return_claim", f"return {claim_id}: the receipt is blurry")
    assert "returned for changes" in wei.say("claim_status", "where is my claim?")
    wei.say("change_item", "the taxi was 45")
    wei.say("submit_claim", "submit")
    assert "resubmitted" in wei.say("affirm", "yes")
    assert "waiting for Lei Yang" in wei.say("claim_status", "where is my claim?")
    assert "withdrawn" in wei.say("withdraw_claim", f"withdraw claim {claim_id}")
    wei.say("claim_expense", "taxi 41 today")
    wei.say("submit_claim", "submit")
    wei.say("affirm", "yes")
    second = claim_of(core, "zhangwei").id
    assert "Rejected" in yanglei.say("reject_claim", f"reject {second}, personal trip")
    assert claim_of(core, "zhangwei").status == "rejected"


def test_an_ambiguous_applicant_name_is_asked_back(core: Assistant) -> None:
    for person in ("zhangwei", "zhangwei2"):
        Person(core, person, "zh").say("claim_expense", "今天打车30")
        Person(core, person, "zh").say("submit_claim", "提交")
        Person(core, person, "zh").say("affirm", "是")
    sunhao = Person(core, "sunhao", "zh")
    # only 章玮's claim waits for sunhao, yet the name is asked back with the claim numbers: never guessed
    reply = sunhao.say("approve_claim", "同意张伟的报销", entity_person="张伟")
    theirs = claim_of(core, "zhangwei2").id
    assert "哪一位" in reply and "章玮" in reply and f"#{theirs}" in reply
    assert claim_of(core, "zhangwei2").status == "in_review"
    assert "已同意" in sunhao.say("approve_claim", f"同意 {theirs}")


@pytest.mark.parametrize(
    ("text", "name", "reason"),
    [
        ("退回 42，发票不清楚", None, "发票不清楚"),
        ("return 42: the receipt is blurry", None, "the receipt is blurry"),
        ("驳回 42，重复报销", None, "重复报销"),  # 报销 inside a reason stays
        ("return 42: wrong token", None, "wrong token"),  # so does the "ok" in "token"
        ("reject 42 其他费用不能报", None, "其他费用不能报"),  # and the 他 in 其他
        ("reject 42, sent twice", None, "sent twice"),  # an "s" that starts a reason stays
        ("um reject Li Na's claim: duplicate", "Li Na", "duplicate"),
        ("帮我把42退回，发票不清楚吧", None, "发票不清楚"),
        ("退回42，他的发票不清楚", None, "他的发票不清楚"),
        ("42号发票不清楚，退回", None, "发票不清楚"),
        ("um return claim uh seven the receipt is blurry", None, "the receipt is blurry"),
        ("同意张伟的报销", "张伟", ""),
        ("嗯 同意 42 嗯", None, ""),
        ("approve 42 please", None, ""),
    ],
)
def test_a_decision_reason_is_what_the_approver_wrote_without_the_verb_number_or_name(
        text: str, name: str | None, reason: str) -> None:
    from assistant.approval_chat import decision_reason

    assert decision_reason(text, name) == reason


@pytest.mark.parametrize(("text", "number"), [
    ("uh sign off eighty seven", 87),
    ("signed off on one hundred twenty five", 125),
    ("green light two hundred ninety", 290),
    ("approve um forty two", 42),
    ("同意四十二号", 42),
    ("sign off, it went over by twenty", None),  # an amount in a reason is no claim number
])
def test_a_claim_number_said_in_words_follows_a_decision_verb(text: str, number: int | None) -> None:
    from assistant.approval_chat import claim_number

    assert claim_number(text) == number


EN_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")


def test_claim_numbers_said_in_words_through_voice_to_text(core: Assistant) -> None:
    """A voice front end writes "approve claim one" or "同意一号"; a spelled number is a claim number only where
    one goes, so an amount in a reason or 同意一下 picks no claim."""
    from cn2an import an2cn

    wei = Person(core, "zhangwei", "en")
    wei.say("claim_expense", "taxi 40 today")
    wei.say("submit_claim", "submit")
    wei.say("affirm", "yes")
    claim_id = claim_of(core, "zhangwei").id
    yanglei_zh, yanglei = Person(core, "yanglei", "zh"), Person(core, "yanglei", "en")
    assert "哪张报销单" in yanglei_zh.say("approve_claim", "帮我同意一下")
    assert "哪张报销单" in yanglei_zh.say("return_claim", "退回这个报销，超了二十块")
    assert claim_of(core, "zhangwei").current_approver == "yanglei"
    reply = yanglei.say("return_claim", f"um return claim uh {EN_WORDS[claim_id]} the receipt is blurry")
    assert "the receipt is blurry" in reply and EN_WORDS[claim_id] not in reply
    assert claim_of(core, "zhangwei").status == "returned"
    wei.say("submit_claim", "submit")
    wei.say("affirm", "yes")
    assert "下一步交给刘洋" in yanglei_zh.say("approve_claim", f"同意{an2cn(claim_id)}号")
