"""The reimbursement approval workflow: the BPMN process, the engine wrapper and approver resolution."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timezone
from decimal import Decimal
from pathlib import Path

import pytest

from assistant.config import ROOT
from assistant.directory import Directory
from assistant.workflow import (
    REIMBURSEMENT_PROCESS,
    SKIPPED_ALREADY_APPROVED,
    SKIPPED_NO_APPROVER,
    ApprovalWorkflow,
    Step,
    WorkflowError,
    directory_resolver,
    load_process,
    resolve_approver,
)


def start(directory: Directory, applicant: str, process: Path = REIMBURSEMENT_PROCESS, **data) -> ApprovalWorkflow:
    return ApprovalWorkflow.start({"applicant": applicant, **data}, directory_resolver(directory, applicant),
                                  process=process)


def approve_all(wf: ApprovalWorkflow) -> list[tuple[str, str]]:
    """Approve every step as its approver; the (step, approver) pairs a person acted on."""
    done = []
    while wf.status == "in_review":
        step = wf.current_step()
        done.append((step.id, step.approver))
        wf.decide(step.id, "approve", step.approver)
    return done


def chain(directory: Directory, applicant: str, process: Path = REIMBURSEMENT_PROCESS, **data) -> list[str]:
    """The approvers of a claim, in order, checked against the chain announced at the start."""
    wf = start(directory, applicant, process, **data)
    announced = [step.approver for step in wf.upcoming_steps()]
    approvers = [approver for _step, approver in approve_all(wf)]
    assert approvers == announced
    assert wf.status == "approved"
    return approvers


def skips(wf: ApprovalWorkflow) -> list[tuple[str, str, str | None]]:
    return [(h["step"], h["decision"], h["actor"]) for h in wf.history if h["decision"].startswith("skipped")]


# -- chains from DESIGN.md ---------------------------------------------------------------------------------


def test_small_taxi_goes_to_manager_then_reviewer(directory):
    wf = start(directory, "zhangwei", total_cny=58)
    assert wf.status == "in_review"
    step = wf.current_step()
    assert (step.id, step.role, step.approver) == ("manager", "manager", "yanglei")
    assert step.entered_at.tzinfo is not None
    assert [(s.id, s.approver) for s in wf.upcoming_steps()] == [("manager", "yanglei"), ("reviewer", "liuyang")]
    assert approve_all(wf) == [("manager", "yanglei"), ("reviewer", "liuyang")]
    assert wf.status == "approved" and wf.current_step() is None and wf.upcoming_steps() == []


def test_large_trip_goes_through_director_and_ceo(directory):
    assert chain(directory, "zhangwei", total_cny=6800) == ["yanglei", "chenjing", "liuyang", "wangfang"]


def test_manager_own_claim_starts_at_their_manager(directory):
    assert chain(directory, "yanglei", total_cny=58) == ["chenjing", "liuyang"]


def test_a_person_twice_in_the_chain_approves_once(directory):
    wf = start(directory, "yanglei", total_cny=1500)
    assert approve_all(wf) == [("manager", "chenjing"), ("reviewer", "liuyang")]
    assert skips(wf) == [("director", SKIPPED_ALREADY_APPROVED, "chenjing")]
    assert [h["step"] for h in wf.history] == ["manager", "director", "reviewer"]


def test_training_adds_hr_director_after_the_reviewer(directory):
    assert chain(directory, "zhangwei", total_cny=300, has_training=True) == ["yanglei", "liuyang", "wuting"]


def test_large_entertainment_item_needs_the_ceo(directory):
    assert chain(directory, "zhangwei", total_cny=2500, max_entertainment_item=2500) == [
        "yanglei", "chenjing", "liuyang", "wangfang"]
    assert chain(directory, "zhangwei", total_cny=2500, max_entertainment_item=1500) == [
        "yanglei", "chenjing", "liuyang"]


def test_thresholds_are_strictly_over(directory):
    assert chain(directory, "zhangwei", total_cny=Decimal("1000.00")) == ["yanglei", "liuyang"]
    assert chain(directory, "zhangwei", total_cny="1000.01") == ["yanglei", "chenjing", "liuyang"]
    assert chain(directory, "zhangwei", total_cny=5000) == ["yanglei", "chenjing", "liuyang"]
    assert chain(directory, "zhangwei", total_cny=3000, max_entertainment_item="2000") == [
        "yanglei", "chenjing", "liuyang"]


def test_reviewer_own_claim_passes_to_their_manager(directory):
    # liuyang is the expense reviewer: the reviewer step passes to lina, who approved as manager already.
    wf = start(directory, "liuyang", total_cny=58)
    assert approve_all(wf) == [("manager", "lina")]
    assert skips(wf) == [("reviewer", SKIPPED_ALREADY_APPROVED, "lina")]
    assert wf.status == "approved"


def test_director_own_claim(directory):
    wf = start(directory, "chenjing", total_cny=1500)
    assert approve_all(wf) == [("manager", "wangfang"), ("reviewer", "liuyang")]
    assert skips(wf) == [("director", SKIPPED_ALREADY_APPROVED, "wangfang")]


def test_ceo_own_claim_is_still_reviewed(directory):
    wf = start(directory, "wangfang", total_cny=6800)
    assert wf.current_step().id == "reviewer"
    assert [s.approver for s in wf.upcoming_steps()] == ["liuyang"]
    assert approve_all(wf) == [("reviewer", "liuyang")]
    assert skips(wf) == [("manager", SKIPPED_NO_APPROVER, None), ("director", SKIPPED_NO_APPROVER, None),
                         ("ceo", SKIPPED_NO_APPROVER, None)]
    assert wf.status == "approved"


def test_hr_director_own_training_claim(directory):
    wf = start(directory, "wuting", total_cny=300, has_training=True)
    assert approve_all(wf) == [("manager", "wangfang"), ("reviewer", "liuyang")]
    assert skips(wf) == [("hr", SKIPPED_ALREADY_APPROVED, "wangfang")]


# -- approver resolution -------------------------------------------------------------------------------


def test_resolve_approver(directory):
    assert resolve_approver("manager", "zhangwei", directory, set()) == "yanglei"
    assert resolve_approver("director", "zhangwei", directory, set()) == "chenjing"
    assert resolve_approver("reviewer", "zhangwei", directory, set()) == "liuyang"
    assert resolve_approver("hr", "zhangwei", directory, set()) == "wuting"
    assert resolve_approver("ceo", "zhangwei", directory, set()) == "wangfang"
    assert resolve_approver("finance_director", "zhangwei", directory, set()) == "lina"
    # nobody approves their own claim: the step passes to the applicant's manager
    assert resolve_approver("manager", "chenjing", directory, set()) == "wangfang"
    assert resolve_approver("director", "chenjing", directory, set()) == "wangfang"
    assert resolve_approver("reviewer", "liuyang", directory, set()) == "lina"
    # the CEO has nobody above
    assert resolve_approver("manager", "wangfang", directory, set()) is None
    assert resolve_approver("ceo", "wangfang", directory, set()) is None
    # the person who already approved is still the answer: the workflow passes the step and records it
    assert resolve_approver("director", "yanglei", directory, {"chenjing"}) == "chenjing"
    with pytest.raises(WorkflowError, match="unknown approval role"):
        resolve_approver("janitor", "zhangwei", directory, set())
    with pytest.raises(WorkflowError, match="unknown applicant"):
        resolve_approver("manager", "nobody", directory, set())


def test_a_resolver_that_picks_the_applicant_is_refused():
    with pytest.raises(WorkflowError, match="nobody approves their own claim"):
        ApprovalWorkflow.start({"applicant": "zhangwei", "total_cny": 58}, lambda role, done: "zhangwei")


# -- decisions -------------------------------------------------------------------------------------------


def test_return_then_resubmit_restarts_at_the_step_that_returned_it(directory):
    wf = start(directory, "zhangwei", total_cny=6800)
    wf.decide("manager", "approve", "yanglei")
    wf.decide("director", "approve", "chenjing")
    wf.decide("reviewer", "return", "liuyang", "发票缺失 / invoice missing")
    assert wf.status == "returned"
    step = wf.current_step()
    assert (step.id, step.role, step.approver) == ("revise", "applicant", "zhangwei")
    assert [s.id for s in wf.upcoming_steps()] == ["reviewer", "ceo"]
    wf.resubmit()
    assert wf.status == "in_review"
    assert (wf.current_step().id, wf.current_step().approver) == ("reviewer", "liuyang")  # not the manager
    assert approve_all(wf) == [("reviewer", "liuyang"), ("ceo", "wangfang")]
    assert [(h["step"], h["decision"], h["actor"], h["reason"]) for h in wf.history] == [
        ("manager", "approve", "yanglei", None),
        ("director", "approve", "chenjing", None),
        ("reviewer", "return", "liuyang", "发票缺失 / invoice missing"),
        ("revise", "resubmit", "zhangwei", None),
        ("reviewer", "approve", "liuyang", None),
        ("ceo", "approve", "wangfang", None),
    ]
    times = [h["at"] for h in wf.history]
    assert times == sorted(times) and all(t.tzinfo == timezone.utc for t in times)
    wf.history[0]["actor"] = "someone else"  # a copy
    assert wf.history[0]["actor"] == "yanglei"


def test_resubmit_with_changed_data_reevaluates_the_gateways(directory):
    wf = start(directory, "zhangwei", total_cny=6800)
    wf.decide("manager", "approve", "yanglei")
    wf.decide("director", "return", "chenjing", "split the hotel and the flight")
    wf.resubmit({"total_cny": "1200"})
    assert wf.data["total_cny"] == 1200.0
    assert approve_all(wf) == [("director", "chenjing"), ("reviewer", "liuyang")]  # no CEO any more


def test_manager_return_restarts_at_the_manager(directory):
    wf = start(directory, "zhangwei", total_cny=58)
    wf.decide("manager", "return", "yanglei", "which day?")
    wf.resubmit()
    assert wf.current_step().id == "manager"


def test_reject_is_final(directory):
    wf = start(directory, "zhangwei", total_cny=6800)
    wf.decide("manager", "approve", "yanglei")
    wf.decide("director", "reject", "chenjing", "not a business trip")
    assert wf.status == "rejected"
    assert wf.current_step() is None and wf.upcoming_steps() == []
    with pytest.raises(WorkflowError, match="finished"):
        wf.decide("reviewer", "approve", "liuyang")
    with pytest.raises(WorkflowError, match="finished"):
        wf.resubmit()
    with pytest.raises(WorkflowError, match="finished"):
        wf.withdraw()


def test_withdraw(directory):
    wf = start(directory, "zhangwei", total_cny=6800)
    wf.decide("manager", "approve", "yanglei")
    wf.withdraw("wrong project code")
    assert wf.status == "withdrawn"
    assert wf.current_step() is None
    last = wf.history[-1]
    assert (last["step"], last["decision"], last["actor"], last["reason"]) == (
        "director", "withdraw", "zhangwei", "wrong project code")
    with pytest.raises(WorkflowError, match="finished"):
        wf.decide("director", "approve", "chenjing")
    assert ApprovalWorkflow.restore(wf.serialize()).status == "withdrawn"


def test_withdraw_a_returned_claim(directory):
    wf = start(directory, "zhangwei", total_cny=58)
    wf.decide("manager", "return", "yanglei", "which day?")
    wf.withdraw()
    assert wf.status == "withdrawn"


def test_withdraw_after_final_approval_is_refused(directory):
    wf = start(directory, "zhangwei", total_cny=58)
    approve_all(wf)
    with pytest.raises(WorkflowError, match=r"finished \(approved\)"):
        wf.withdraw()
    with pytest.raises(WorkflowError, match="finished"):
        wf.decide("reviewer", "approve", "liuyang")


def test_bad_requests_raise_workflow_error_and_change_nothing(directory):
    wf = start(directory, "zhangwei", total_cny=6800)
    before = wf.serialize()
    with pytest.raises(WorkflowError, match="not the current step"):
        wf.decide("reviewer", "approve", "liuyang")
    with pytest.raises(WorkflowError, match="not the current step"):
        wf.decide("no_such_step", "approve", "yanglei")
    with pytest.raises(WorkflowError, match="waits for 'yanglei'"):
        wf.decide("manager", "approve", "chenjing")
    with pytest.raises(WorkflowError, match="unknown decision"):
        wf.decide("manager", "maybe", "yanglei")
    with pytest.raises(WorkflowError, match="reason is required"):
        wf.decide("manager", "reject", "yanglei", "  ")
    with pytest.raises(WorkflowError, match="reason is required"):
        wf.decide("manager", "return", "yanglei")
    with pytest.raises(WorkflowError, match="not returned"):
        wf.resubmit()
    assert wf.serialize() == before
    wf.decide("manager", "return", "yanglei", "receipt?")
    with pytest.raises(WorkflowError, match="returned to the applicant"):
        wf.decide("manager", "approve", "yanglei")
    with pytest.raises(WorkflowError, match="applicant cannot change"):
        wf.resubmit({"applicant": "zhaomin"})


def test_a_failing_step_leaves_the_workflow_unchanged(directory):
    def resolver(role: str, done: frozenset) -> str | None:
        if role == "reviewer":
            raise WorkflowError("nobody holds the role 'expense_reviewer'")
        return resolve_approver(role, "zhangwei", directory, done)

    wf = ApprovalWorkflow.start({"applicant": "zhangwei", "total_cny": 58}, resolver)
    with pytest.raises(WorkflowError, match="expense_reviewer"):
        wf.decide("manager", "approve", "yanglei")
    assert wf.current_step().id == "manager" and wf.history == []
    wf.with_resolver(directory_resolver(directory, "zhangwei"))
    assert approve_all(wf) == [("manager", "yanglei"), ("reviewer", "liuyang")]


def test_bad_claim_data():
    def nobody(role: str, done: frozenset) -> None:
        return None

    for data, message in [
        ({"total_cny": 58}, "applicant"),
        ({"applicant": "zhangwei"}, "total_cny"),
        ({"applicant": "zhangwei", "total_cny": "58 yuan"}, "must be a number"),
        ({"applicant": "zhangwei", "total_cny": True}, "must be a number"),
        ({"applicant": "zhangwei", "total_cny": "NaN"}, "finite"),
        ({"applicant": "zhangwei", "total_cny": 58, "decision": "approve"}, "may not set"),
        ({"applicant": "zhangwei", "total_cny": 58, "when": object()}, "JSON"),
    ]:
        with pytest.raises(WorkflowError, match=message):
            ApprovalWorkflow.start(data, nobody)


# -- persistence -----------------------------------------------------------------------------------------


def test_serialize_and_restore_in_the_middle_of_a_chain(directory):
    wf = start(directory, "zhangwei", total_cny=6800, has_training=True, claim_id=42)
    wf.decide("manager", "approve", "yanglei")
    text = wf.serialize()
    assert isinstance(text, str) and json.loads(text)
    restored = ApprovalWorkflow.restore(text, directory_resolver(directory, "zhangwei"))
    assert restored.current_step() == wf.current_step()
    assert restored.history == wf.history
    assert restored.data == wf.data and restored.data["claim_id"] == 42
    restored.decide("director", "return", "chenjing", "too expensive")
    restored = ApprovalWorkflow.restore(restored.serialize(), directory_resolver(directory, "zhangwei"))
    assert restored.status == "returned"
    restored.resubmit()
    assert approve_all(restored) == [("director", "chenjing"), ("reviewer", "liuyang"), ("hr", "wuting"),
                                     ("ceo", "wangfang")]
    final = ApprovalWorkflow.restore(restored.serialize())
    assert final.status == "approved" and len(final.history) == 7


def test_restore_without_resolver_reads_but_does_not_advance(directory):
    wf = start(directory, "zhangwei", total_cny=58)
    restored = ApprovalWorkflow.restore(wf.serialize())
    assert restored.current_step().approver == "yanglei"
    with pytest.raises(WorkflowError, match="without a resolver"):
        restored.decide("manager", "approve", "yanglei")
    assert restored.current_step().id == "manager"


def test_restore_refuses_garbage():
    with pytest.raises(WorkflowError):
        ApprovalWorkflow.restore("not json")
    with pytest.raises(WorkflowError):
        ApprovalWorkflow.restore(json.dumps({"hello": "world"}))


def test_an_instance_survives_a_process_restart(directory, tmp_path):
    wf = start(directory, "zhangwei", total_cny=6800)
    wf.decide("manager", "approve", "yanglei")
    (tmp_path / "wf.json").write_text(wf.serialize(), encoding="utf-8")
    script = """
import sys
from pathlib import Path
from assistant.workflow import ApprovalWorkflow
people = {"director": "chenjing", "reviewer": "liuyang", "ceo": "wangfang"}
path = Path(sys.argv[1])
wf = ApprovalWorkflow.restore(path.read_text(encoding="utf-8"), lambda role, done: people[role])
step = wf.current_step()
wf.decide(step.id, "approve", step.approver)
path.write_text(wf.serialize(), encoding="utf-8")
print(step.id, wf.current_step().id)
"""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", script, str(tmp_path / "wf.json")], capture_output=True, text=True,
                         env=env, cwd=ROOT, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["director", "reviewer"]
    back = ApprovalWorkflow.restore((tmp_path / "wf.json").read_text(encoding="utf-8"),
                                    directory_resolver(directory, "zhangwei"))
    assert approve_all(back) == [("reviewer", "liuyang"), ("ceo", "wangfang")]


# -- the process file: changed by admins, never in Python --------------------------------------------------

DIRECTOR_CONDITION = ">total_cny &gt; 1000<"

# The new step of docs/workflows.md: the finance director approves every claim after the expense reviewer.
FINANCE_STEP = """
    <bpmn:userTask id="finance" name="财务总监审批 / Finance director approval">
      <bpmn:extensionElements>
        <spiffworkflow:properties>
          <spiffworkflow:property name="role" value="finance_director" />
        </spiffworkflow:properties>
      </bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="finance_done" sourceRef="finance" targetRef="finance_decision" />
    <bpmn:exclusiveGateway id="finance_decision" />
    <bpmn:sequenceFlow id="finance_approve" sourceRef="finance_decision" targetRef="needs_hr">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">decision == 'approve'</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="finance_return" sourceRef="finance_decision" targetRef="revise">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">decision == 'return'</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="finance_reject" sourceRef="finance_decision" targetRef="rejected">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">decision == 'reject'</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
"""
RESUME_FINANCE = """    <bpmn:sequenceFlow id="resume_finance" sourceRef="resume" targetRef="finance">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">returned_by == 'finance'</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
"""


def bpmn_text() -> str:
    return REIMBURSEMENT_PROCESS.read_text(encoding="utf-8")


def write_copy(tmp_path: Path, text: str, name: str = "reimbursement.bpmn") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def with_finance_step(text: str, way_back: bool = True) -> str:
    old = 'id="reviewer_approve" name="同意 approve" sourceRef="reviewer_decision" targetRef="needs_hr"'
    assert text.count(old) == 1
    text = text.replace(old, old.replace('targetRef="needs_hr"', 'targetRef="finance"'))
    return text.replace("  </bpmn:process>", FINANCE_STEP + (RESUME_FINANCE if way_back else "") + "  </bpmn:process>")


def test_changing_a_threshold_in_the_bpmn_changes_the_chain(directory, tmp_path):
    text = bpmn_text()
    assert text.count(DIRECTOR_CONDITION) == 1
    copy = write_copy(tmp_path, text.replace(DIRECTOR_CONDITION, ">total_cny &gt; 500<"))
    assert chain(directory, "zhangwei", total_cny=800) == ["yanglei", "liuyang"]
    assert chain(directory, "zhangwei", copy, total_cny=800) == ["yanglei", "chenjing", "liuyang"]
    wf = ApprovalWorkflow.start({"applicant": "zhangwei", "total_cny": 800}, directory_resolver(directory, "zhangwei"),
                                spec=load_process(copy))
    assert [s.approver for s in wf.upcoming_steps()] == ["yanglei", "chenjing", "liuyang"]


def test_adding_a_step_in_the_bpmn_adds_it_to_the_chain(directory, tmp_path):
    copy = write_copy(tmp_path, with_finance_step(bpmn_text()))
    assert chain(directory, "zhangwei", copy, total_cny=58) == ["yanglei", "liuyang", "lina"]
    assert chain(directory, "zhangwei", copy, total_cny=300, has_training=True) == [
        "yanglei", "liuyang", "lina", "wuting"]
    wf = start(directory, "zhangwei", copy, total_cny=58)
    wf.decide("manager", "approve", "yanglei")
    wf.decide("reviewer", "approve", "liuyang")
    wf.decide("finance", "return", "lina", "cost centre?")
    wf.resubmit()
    assert wf.current_step() == Step("finance", "finance_director", "lina", wf.current_step().entered_at,
                                     "财务总监审批 / Finance director approval")


def test_a_claim_in_flight_keeps_the_rules_it_started_under(directory, tmp_path):
    copy = write_copy(tmp_path, bpmn_text())
    wf = start(directory, "zhangwei", copy, total_cny=800)
    text = wf.serialize()
    copy.write_text(bpmn_text().replace(DIRECTOR_CONDITION, ">total_cny &gt; 500<"), encoding="utf-8")
    os.utime(copy, ns=(copy.stat().st_atime_ns, copy.stat().st_mtime_ns + 10**9))
    restored = ApprovalWorkflow.restore(text, directory_resolver(directory, "zhangwei"))
    assert approve_all(restored) == [("manager", "yanglei"), ("reviewer", "liuyang")]
    assert chain(directory, "zhangwei", copy, total_cny=800) == ["yanglei", "chenjing", "liuyang"]


def test_load_process_caches_by_path_and_mtime(tmp_path):
    copy = write_copy(tmp_path, bpmn_text())
    first = load_process(copy)
    assert load_process(copy) is first
    assert load_process(str(copy), "reimbursement") is first
    os.utime(copy, ns=(copy.stat().st_atime_ns, copy.stat().st_mtime_ns + 10**9))
    assert load_process(copy) is not first


def test_every_step_declares_its_role_in_the_bpmn():
    spec = load_process(REIMBURSEMENT_PROCESS)
    roles = {name: ts.extensions["properties"]["role"] for name, ts in spec.task_specs.items()
             if getattr(ts, "extensions", None) and "role" in ts.extensions.get("properties", {})}
    assert roles == {"manager": "manager", "director": "director", "reviewer": "reviewer", "hr": "hr", "ceo": "ceo",
                     "revise": "applicant"}


def test_broken_process_files_are_refused_at_load(tmp_path):
    text = bpmn_text()
    no_role = text.replace('<spiffworkflow:property name="role" value="director" />', "", 1)
    with pytest.raises(WorkflowError, match="'director' declares no role"):
        load_process(write_copy(tmp_path, no_role, "no_role.bpmn"))
    # a new step that can return a claim but has no way back from `revise`
    with pytest.raises(WorkflowError, match="'finance' can return a claim"):
        load_process(write_copy(tmp_path, with_finance_step(text, way_back=False), "no_way_back.bpmn"))
    with pytest.raises(WorkflowError, match="invalid process file"):
        load_process(write_copy(tmp_path, text.replace("</bpmn:definitions>", ""), "truncated.bpmn"))
    with pytest.raises(WorkflowError, match="cannot read"):
        load_process(tmp_path / "missing.bpmn")
    with pytest.raises(WorkflowError, match="no executable process"):
        load_process(REIMBURSEMENT_PROCESS, "leave_request")
