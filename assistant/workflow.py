"""Approval workflows: BPMN processes run by SpiffWorkflow, independent of the database and of Rasa.

The process file (``processes/reimbursement.bpmn``) holds everything an admin may change: the steps, their
order, the thresholds (conditions of exclusive gateways) and which role acts on each step (the ``role``
property of each user task, a SpiffWorkflow extension). This module only knows the conventions, never a
step or a threshold:

* a user task's ``role`` property names who acts on it; ``applicant`` marks the task where the applicant
  revises a returned claim (``revise``), every other role is an approval step;
* completing an approval step sets ``decision`` ('approve' | 'return' | 'reject') in the task data, and on
  'return' also ``returned_by`` (the step id) so that the gateway after ``revise`` can send the resubmitted
  claim back to the step that returned it;
* an end event's id (or its ``outcome`` property) is the outcome: ``approved`` or ``rejected``.

`ApprovalWorkflow` wraps one running instance. It passes steps automatically when nobody must act on them
(the approver already approved an earlier step of the claim, or there is nobody above the applicant), so a
caller only ever sees steps waiting for a human. An instance lives in the caller's database as the JSON of
`serialize()`: the JSON embeds the process definition, so a claim in flight keeps the rules it started under
even if the BPMN file is edited later; new claims use the new file.

An instance is not thread-safe: the caller holds one per claim at a time (e.g. under a row lock) and stores
`serialize()` after each change. A failed `decide` / `resubmit` / `withdraw` leaves the instance unchanged.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Literal, Mapping
from uuid import UUID

from lxml import etree
from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnValidator
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from SpiffWorkflow.bpmn.specs.mixins.events.end_event import EndEvent
from SpiffWorkflow.bpmn.specs.mixins.user_task import UserTask
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.specs.MultiChoice import MultiChoice
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from assistant.config import ROOT
from assistant.directory import ROLES, Directory

REIMBURSEMENT_PROCESS = ROOT / "processes" / "reimbursement.bpmn"

DECISIONS = ("approve", "return", "reject")
APPLICANT_ROLE = "applicant"
OUTCOMES = ("approved", "rejected")
SKIPPED_ALREADY_APPROVED = "skipped: already approved"
SKIPPED_NO_APPROVER = "skipped: no approver"
RESUBMIT = "resubmit"
WITHDRAW = "withdraw"

# Step roles that name a holder of a directory role (assistant.directory.ROLES); directory roles are
# accepted as step roles too, so an admin can add e.g. a `finance_director` step without touching Python.
ROLE_HOLDERS = {"reviewer": "expense_reviewer", "hr": "hr_director", "ceo": "ceo"}

MAX_AUTOMATIC_STEPS = 100  # a process that passes more steps than this without a human is looping

_META = "deskmate"  # our bookkeeping, kept in the SpiffWorkflow workflow's data (so it is serialized with it)
# Written by the engine (decision, returned_by: read by the gateways) or ours: claim data may not set them.
# (_META too: at the end SpiffWorkflow copies the last task's data into the workflow's data.)
RESERVED_KEYS = frozenset({"decision", "returned_by", _META})

Status = Literal["in_review", "returned", "approved", "rejected", "withdrawn"]
OPEN_STATUSES = ("in_review", "returned")

Resolver = Callable[[str, frozenset], str | None]
"""resolver(role, already_approved) -> the employee id who must act on a step of that role, or None."""


class WorkflowError(Exception):
    """A process that cannot be loaded or run, or a request the workflow's state does not allow."""


@dataclass(frozen=True)
class Step:
    """A step waiting for a person (or, from `upcoming_steps`, expected to)."""

    id: str  # the BPMN task id: 'manager', 'director', ..., or 'revise' (the applicant's)
    role: str  # the task's declared role: 'manager', 'reviewer', ..., 'applicant'
    approver: str  # the employee id who acts on it (the applicant for 'revise')
    entered_at: datetime | None  # when the claim reached it; None for a step still ahead
    name: str = ""  # the BPMN task name, for display


# -- process definitions --------------------------------------------------------------------------------


def load_process(path: str | Path = REIMBURSEMENT_PROCESS, process_id: str | None = None) -> BpmnProcessSpec:
    """The parsed, validated process in a BPMN file; parsed once per (path, modification time).

    `process_id` may be left out when the file holds one executable process.
    """
    resolved = Path(path).resolve()
    try:
        mtime = resolved.stat().st_mtime_ns
    except OSError as exc:
        raise WorkflowError(f"cannot read process file {resolved}: {exc}") from exc
    specs = _parse_file(str(resolved), mtime)
    if process_id is None:
        if len(specs) != 1:
            raise WorkflowError(f"{resolved} holds processes {sorted(specs)}: name the one to run")
        return next(iter(specs.values()))
    if process_id not in specs:
        raise WorkflowError(f"{resolved} has no executable process {process_id!r} (it has {sorted(specs)})")
    return specs[process_id]


@lru_cache(maxsize=32)
def _parse_file(path: str, _mtime_ns: int) -> dict[str, BpmnProcessSpec]:
    """Every executable process in a file, parsed (schema-checked) and validated; cached per modification."""
    parser = SpiffBpmnParser(validator=BpmnValidator())
    try:
        parser.add_bpmn_file(path)
        specs = {process_id: parser.get_spec(process_id) for process_id in parser.get_process_ids()}
    except (ValidationException, SpiffWorkflowException, etree.LxmlError) as exc:
        raise WorkflowError(f"invalid process file {path}: {exc}") from exc
    for spec in specs.values():
        _validate(spec, path)
    return specs


def _properties(task_spec: Any) -> dict:
    return (getattr(task_spec, "extensions", None) or {}).get("properties", {})


def _role(task_spec: Any) -> str:
    return _properties(task_spec).get("role", "").strip()


def _outcome(task_spec: Any) -> str:
    return _properties(task_spec).get("outcome") or task_spec.bpmn_id


def _validate(spec: BpmnProcessSpec, path: str) -> None:
    """Refuse at load time what would only fail halfway through a claim."""
    user_tasks = [ts for ts in spec.task_specs.values() if isinstance(ts, UserTask)]
    for ts in user_tasks:
        if not _role(ts):
            raise WorkflowError(f"{path}: user task {ts.bpmn_id!r} declares no role "
                                "(add a spiffworkflow:property named 'role')")
    ends = [ts for ts in spec.task_specs.values() if isinstance(ts, EndEvent)]
    for ts in ends:
        if _outcome(ts) not in OUTCOMES:
            raise WorkflowError(f"{path}: end event {ts.bpmn_id!r} has no outcome: name it 'approved' or 'rejected' "
                                "or give it an 'outcome' property")
    if "approved" not in {_outcome(ts) for ts in ends}:
        raise WorkflowError(f"{path}: no end event 'approved'")

    # Every approval step that can return a claim must be reachable again from the applicant's task.
    revise_names = {ts.name for ts in user_tasks if _role(ts) == APPLICANT_ROLE}
    back_targets: set[str] = set()
    for ts in user_tasks:
        if ts.name in revise_names:
            for out in ts.outputs:
                back_targets |= _targets(out)
    for ts in user_tasks:
        if ts.name in revise_names:
            continue
        returnable = any(revise_names & _targets(out) for out in ts.outputs)
        if returnable and ts.name not in back_targets:
            raise WorkflowError(f"{path}: step {ts.bpmn_id!r} can return a claim, but no flow leads from the "
                                f"applicant's task back to it (add returned_by == '{ts.bpmn_id}' to the gateway)")


def _targets(task_spec: Any) -> set[str]:
    """The task names a spec leads to: itself, or the outputs of a gateway."""
    if isinstance(task_spec, MultiChoice):
        names = {name for _cond, name in task_spec.cond_task_specs}
        default = getattr(task_spec, "default_task_spec", None)
        return names | ({default} if default else set())
    return {task_spec.name}


# -- serialization --------------------------------------------------------------------------------------

_SERIALIZER = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))
# BpmnWorkflowSerializer flips a flag on its shared registry while encoding: not safe across threads.
_SERIALIZER_LOCK = threading.Lock()


def _dump(workflow: BpmnWorkflow) -> str:
    with _SERIALIZER_LOCK:
        return _SERIALIZER.serialize_json(workflow)


def _load(text: str) -> BpmnWorkflow:
    with _SERIALIZER_LOCK:
        return _SERIALIZER.deserialize_json(text)


# -- approver resolution ----------------------------------------------------------------------------------


def resolve_approver(role: str, applicant: str, directory: Directory,
                     already_approved: frozenset | set = frozenset()) -> str | None:
    """Who acts on a step of `role` in `applicant`'s claim (an employee id), or None when nobody is above.

    - 'manager': the applicant's manager; 'director': the director of the applicant's department;
      'reviewer' / 'hr' / 'ceo': the holder of expense_reviewer / hr_director / ceo; any other directory
      role (e.g. 'finance_director') names its holder.
    - Nobody approves their own claim: when that person is the applicant, the step passes to the
      applicant's manager; None if the applicant has none (the CEO).
    - `already_approved` is accepted for policies that want it; this one does not use it: a person who
      already approved this claim is returned as is, and `ApprovalWorkflow` passes the step and records it.

    A role that names nobody (no holder, a department without director) is a directory error: WorkflowError,
    never a silent skip of a control.
    """
    if directory.get(applicant) is None:
        raise WorkflowError(f"unknown applicant {applicant!r}")
    if role == "manager":
        person = directory.manager_of(applicant)
        if person is None:
            return None
    elif role == "director":
        person = directory.director_of(applicant)
        if person is None:
            raise WorkflowError(f"the department of {applicant!r} has no director")
    else:
        held = ROLE_HOLDERS.get(role, role)
        if held not in ROLES:
            raise WorkflowError(f"unknown approval role {role!r}")
        person = directory.one_with_role(held)
        if person is None:
            raise WorkflowError(f"nobody holds the role {held!r}")
    if person.id == applicant:
        manager = directory.manager_of(applicant)
        return manager.id if manager else None
    return person.id


def directory_resolver(directory: Directory, applicant: str) -> Resolver:
    """The `Resolver` for one applicant's claim, over a directory snapshot."""

    def resolver(role: str, already_approved: frozenset) -> str | None:
        return resolve_approver(role, applicant, directory, already_approved)

    return resolver


# -- claim data ------------------------------------------------------------------------------------------


def _number(value: Any, key: str) -> float:
    if isinstance(value, bool) or value is None:
        raise WorkflowError(f"{key} must be a number, not {value!r}")
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError) as exc:
        raise WorkflowError(f"{key} must be a number, not {value!r}") from exc
    if not number.is_finite():
        raise WorkflowError(f"{key} must be a finite number, not {value!r}")
    return float(number)


def _claim_data(data: Mapping[str, Any]) -> dict:
    """The claim's data as the gateways see it: numbers as floats, flags as bools, JSON-serializable."""
    applicant = data.get("applicant")
    if not isinstance(applicant, str) or not applicant.strip():
        raise WorkflowError("the claim data needs an applicant (employee id)")
    reserved = RESERVED_KEYS & set(data)
    if reserved:
        raise WorkflowError(f"claim data may not set {sorted(reserved)}: the engine writes them")
    if "total_cny" not in data:
        raise WorkflowError("the claim data needs total_cny")
    claim = {k: float(v) if isinstance(v, Decimal) else v for k, v in data.items()}
    claim.update(
        applicant=applicant.strip(),
        total_cny=_number(data["total_cny"], "total_cny"),
        has_training=bool(data.get("has_training", False)),
        max_entertainment_item=_number(data.get("max_entertainment_item", 0), "max_entertainment_item"),
    )
    try:
        json.dumps(claim)
    except (TypeError, ValueError) as exc:
        raise WorkflowError(f"claim data must be JSON-serializable: {exc}") from exc
    return claim


def _now() -> datetime:
    return datetime.now(timezone.utc)


# -- the workflow ----------------------------------------------------------------------------------------


class ApprovalWorkflow:
    """One claim's approval instance. Build it with `start` or `restore`, never directly."""

    def __init__(self, workflow: BpmnWorkflow, resolver: Resolver | None, *, atomic: bool = True) -> None:
        if not isinstance(workflow.data.get(_META), dict):
            raise WorkflowError("not an approval workflow (no Deskmate bookkeeping in its data)")
        self._wf = workflow
        self._resolver = resolver
        self._atomic = atomic

    # construction and persistence

    @classmethod
    def start(cls, data: Mapping[str, Any], resolver: Resolver, process: str | Path = REIMBURSEMENT_PROCESS,
              process_id: str | None = None, *, spec: BpmnProcessSpec | None = None) -> ApprovalWorkflow:
        """Start the process for a claim and run it to the first step that needs a person.

        `data`: applicant (employee id), total_cny (number, Decimal or numeric string), has_training (bool),
        max_entertainment_item (number); other JSON-serializable keys are passed to the gateways as well.
        The process is `spec` (from `load_process`) if given, else loaded from `process` / `process_id`.
        Nothing outside the instance changes: start a workflow and call `upcoming_steps()` to preview a chain.
        """
        claim = _claim_data(data)
        spec = spec if spec is not None else load_process(process, process_id)
        workflow = BpmnWorkflow(spec)
        workflow.data[_META] = {
            "applicant": claim["applicant"],
            "claim": claim,
            "started_at": _now().isoformat(),
            "history": [],
            "current": None,
            "outcome": None,
            "withdrawn": False,
        }
        # Gateways read task data, not workflow data: the claim goes into the engine's Start task.
        for task in workflow.get_tasks(state=TaskState.READY):
            task.data.update(claim)
        instance = cls(workflow, resolver, atomic=False)
        instance._run(instance._advance)
        instance._atomic = True
        return instance

    @classmethod
    def restore(cls, text: str, resolver: Resolver | None = None) -> ApprovalWorkflow:
        """An instance from `serialize()`. Without a resolver it can be read but not advanced."""
        try:
            workflow = _load(text)
        except Exception as exc:  # noqa: BLE001 - whatever the text was, it is not a workflow we can run
            raise WorkflowError(f"cannot restore the workflow: {exc.__class__.__name__}: {exc}") from exc
        return cls(workflow, resolver)

    def serialize(self) -> str:
        """JSON (SpiffWorkflow's BpmnWorkflowSerializer): the process definition, the state, our history."""
        return _dump(self._wf)

    def with_resolver(self, resolver: Resolver) -> ApprovalWorkflow:
        self._resolver = resolver
        return self

    # state

    @property
    def _meta(self) -> dict:
        return self._wf.data[_META]

    @property
    def applicant(self) -> str:
        return self._meta["applicant"]

    @property
    def data(self) -> dict:
        """The claim data the gateways see (a copy)."""
        return dict(self._meta["claim"])

    @property
    def process_id(self) -> str:
        return self._wf.spec.name

    @property
    def status(self) -> Status:
        meta = self._meta
        if meta["withdrawn"]:
            return "withdrawn"
        if meta["outcome"]:
            return meta["outcome"]
        current = meta["current"]
        return "returned" if current and current["role"] == APPLICANT_ROLE else "in_review"

    @property
    def finished(self) -> bool:
        return self.status not in OPEN_STATUSES

    @property
    def history(self) -> list[dict]:
        """The completed steps, oldest first, as new dicts: step (id), role, decision, actor, reason, at.

        decision: approve | return | reject | skipped: already approved | skipped: no approver | resubmit
        (step 'revise') | withdraw. actor: who decided; for a skip the person who already approved, or None.
        at: a timezone-aware datetime (UTC).
        """
        return [{**entry, "at": datetime.fromisoformat(entry["at"])} for entry in self._meta["history"]]

    def already_approved(self) -> frozenset:
        """Everyone who has approved a step of this claim so far."""
        return frozenset(e["actor"] for e in self._meta["history"] if e["decision"] == "approve")

    def current_step(self) -> Step | None:
        """The step waiting for a person: an approval, or 'revise' (role 'applicant') when returned."""
        current = self._meta["current"]
        if current is None or self.finished:
            return None
        return Step(current["step"], current["role"], current["approver"],
                    datetime.fromisoformat(current["entered_at"]), current.get("name", ""))

    def upcoming_steps(self) -> list[Step]:
        """The steps that still need a person, the current one first, given the claim data as it is now.

        Computed by simulation on a copy: the copy approves each step as its approver would, so the
        gateways' conditions and the automatic passes (already approved, nobody above) are evaluated by the
        same code as the real run; nothing is duplicated from the BPMN. A returned claim is resubmitted
        unchanged on the copy first, so the step that returned it comes first. Steps ahead have
        entered_at None; the steps listed are those a person acts on (passed steps are left out).
        """
        if self.finished:
            return []
        sim = ApprovalWorkflow(_load(self.serialize()), self._resolver, atomic=False)
        current = self.current_step()
        steps: list[Step] = []
        if sim.status == "returned":
            sim.resubmit()
        elif current is not None:
            steps.append(current)
            sim.decide(current.id, "approve", current.approver)
        for _ in range(MAX_AUTOMATIC_STEPS):
            step = sim.current_step()
            if sim.status != "in_review" or step is None:
                return steps
            steps.append(replace(step, entered_at=None))
            sim.decide(step.id, "approve", step.approver)
        raise WorkflowError("the process does not end when every step approves: it loops")

    # actions

    def decide(self, step_id: str, decision: str, actor: str, reason: str | None = None) -> None:
        """The current step's approver approves, returns (reason required) or rejects (reason required)."""
        current = self._require_open()
        if decision not in DECISIONS:
            raise WorkflowError(f"unknown decision {decision!r}: one of {', '.join(DECISIONS)}")
        if current["role"] == APPLICANT_ROLE:
            raise WorkflowError(f"step {step_id!r} is not waiting: the claim was returned to the applicant")
        if step_id != current["step"]:
            raise WorkflowError(f"step {step_id!r} is not the current step (the claim is at {current['step']!r})")
        if actor != current["approver"]:
            raise WorkflowError(f"step {step_id!r} waits for {current['approver']!r}, not {actor!r}")
        reason = (reason or "").strip() or None
        if decision != "approve" and reason is None:
            raise WorkflowError(f"a reason is required to {decision} a claim")

        def run() -> None:
            task = self._current_task(current)
            self._record(step_id, current["role"], decision, actor, reason)
            extra = {"returned_by": step_id} if decision == "return" else {}
            self._complete(task, decision=decision, **extra)
            self._advance()

        self._run(run)

    def resubmit(self, data: Mapping[str, Any] | None = None) -> None:
        """The applicant resubmits a returned claim, optionally with changed data (e.g. a new total).

        The chain restarts at the step that returned it; the gateways after it see the new data.
        """
        current = self._require_open()
        if current["role"] != APPLICANT_ROLE:
            raise WorkflowError("the claim is not returned: nothing to resubmit")
        changes = dict(data or {})
        if changes.get("applicant", self.applicant) != self.applicant:
            raise WorkflowError("a claim's applicant cannot change")
        claim = _claim_data({**self._meta["claim"], **changes})

        def run() -> None:
            task = self._current_task(current)
            self._meta["claim"] = claim
            self._record(current["step"], APPLICANT_ROLE, RESUBMIT, self.applicant, None)
            self._complete(task, **claim)
            self._advance()

        self._run(run)

    def withdraw(self, reason: str | None = None) -> None:
        """The applicant withdraws the claim (allowed until the final approval)."""
        current = self._require_open()

        def run() -> None:
            self._record(current["step"], current["role"], WITHDRAW, self.applicant, (reason or "").strip() or None)
            self._meta.update(withdrawn=True, current=None)
            self._wf.cancel()

        self._run(run)

    # engine

    def _require_open(self) -> dict:
        status = self.status
        if status not in OPEN_STATUSES:
            raise WorkflowError(f"the workflow is finished ({status})")
        return self._meta["current"]

    def _run(self, action: Callable[[], None]) -> None:
        """Run an action all or nothing; SpiffWorkflow's errors come out as WorkflowError."""
        snapshot = _dump(self._wf) if self._atomic else None
        try:
            action()
        except Exception as exc:
            if snapshot is not None:
                self._wf = _load(snapshot)
            if isinstance(exc, SpiffWorkflowException):
                raise WorkflowError(f"the process failed: {exc}") from exc
            raise

    def _current_task(self, current: dict) -> Task:
        task = self._wf.get_task_from_id(UUID(current["task"]))
        if task is None or task.state != TaskState.READY:
            raise WorkflowError(f"step {current['step']!r} is not ready in the engine")
        return task

    def _complete(self, task: Task, **data: Any) -> None:
        task.data.update(data)
        task.run()
        self._wf.do_engine_steps()

    def _record(self, step: str, role: str, decision: str, actor: str | None, reason: str | None) -> None:
        self._meta["history"].append(
            {"step": step, "role": role, "decision": decision, "actor": actor, "reason": reason,
             "at": _now().isoformat()})

    def _ready_task(self) -> Task | None:
        ready = self._wf.get_tasks(state=TaskState.READY, manual=True)
        if len(ready) > 1:
            names = sorted(t.task_spec.bpmn_id for t in ready)
            raise WorkflowError(f"steps {names} are open at once: parallel approval is not supported")
        return ready[0] if ready else None

    def _advance(self) -> None:
        """Run the engine to the next step that needs a person, passing those that need nobody."""
        self._wf.do_engine_steps()
        meta = self._meta
        for _ in range(MAX_AUTOMATIC_STEPS):
            task = self._ready_task()
            if task is None:
                meta["current"] = None
                if not self._wf.is_completed():
                    raise WorkflowError("the process is waiting for something other than a person")
                meta["outcome"] = self._end_outcome()
                return
            spec = task.task_spec
            role = _role(spec)
            entry = {"task": str(task.id), "step": spec.bpmn_id, "role": role, "name": spec.bpmn_name or "",
                     "entered_at": _now().isoformat()}
            if role == APPLICANT_ROLE:
                meta["current"] = {**entry, "approver": self.applicant}
                return
            approved = self.already_approved()
            approver = self._resolve(role, approved)
            if approver is not None and approver not in approved:
                meta["current"] = {**entry, "approver": approver}
                return
            skipped = SKIPPED_NO_APPROVER if approver is None else SKIPPED_ALREADY_APPROVED
            self._record(spec.bpmn_id, role, skipped, approver, None)
            self._complete(task, decision="approve")
        raise WorkflowError(f"more than {MAX_AUTOMATIC_STEPS} steps passed automatically: the process loops")

    def _resolve(self, role: str, approved: frozenset) -> str | None:
        if self._resolver is None:
            raise WorkflowError("this workflow was restored without a resolver: pass one to restore()")
        approver = self._resolver(role, approved)
        if approver is not None and approver == self.applicant:
            raise WorkflowError(f"the resolver chose the applicant {approver!r} for step role {role!r}: "
                                "nobody approves their own claim")
        return approver

    def _end_outcome(self) -> str:
        ends = [t for t in self._wf.get_tasks(state=TaskState.COMPLETED) if isinstance(t.task_spec, EndEvent)]
        if not ends:
            raise WorkflowError("the process ended without reaching an end event")
        return _outcome(ends[-1].task_spec)
