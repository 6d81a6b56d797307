"""Information release (001 §5(3)): 拟定信息内容,报送职能部门审核后统一发布 — drafted, reviewed by the
functional department, published once; never unreviewed."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from plan.models import Release, ReleaseAction
    from plan.state import IncidentState

from workflows.mechanics.timeline import Timeline

CLAUSE = "001 §5(3)"

#: What each release state allows next.
ALLOWED = {
    "none": {ReleaseAction.DRAFT},
    "rejected": {ReleaseAction.DRAFT},
    "withdrawn": {ReleaseAction.DRAFT},
    "drafted": {ReleaseAction.APPROVE, ReleaseAction.REJECT, ReleaseAction.WITHDRAW},
    "approved": {ReleaseAction.PUBLISH, ReleaseAction.WITHDRAW},
}


class Publication:
    """The release of one incident (``state.release``, ``state.release_content``)."""

    def __init__(self, state: IncidentState, timeline: Timeline) -> None:
        self.state = state
        self.timeline = timeline

    def check(self, r: Release) -> str | None:
        state = self.state.release
        if state == "published":
            return "release: the information was already published (统一发布, once)"
        if r.action not in ALLOWED[state]:
            if r.action is ReleaseAction.PUBLISH:
                return "release: publish needs a draft approved by the functional department first"
            return f"release: '{r.action.value}' not possible now (release is {state})"
        return None

    def apply(self, r: Release) -> None:
        s, decide = self.state, self.timeline.decide
        if r.action is ReleaseAction.DRAFT:
            s.release, s.release_content = "drafted", r.content
            decide(f"拟定对外发布信息,报送职能部门审核:{r.content}", CLAUSE, actor=r.actor)
        elif r.action is ReleaseAction.APPROVE:
            s.release = "approved"
            decide(f"{r.department}审核通过拟发布信息", CLAUSE, actor=r.actor)
        elif r.action is ReleaseAction.REJECT:
            s.release = "rejected"
            decide(f"{r.department}审核未通过拟发布信息:{r.note or '需修改'}", CLAUSE, actor=r.actor)
        elif r.action is ReleaseAction.WITHDRAW:
            s.release = "withdrawn"
            decide("撤回拟发布信息,不予发布", CLAUSE, actor=r.actor)
        else:
            s.release = "published"
            decide(f"信息经审核后统一发布:{s.release_content}", CLAUSE, actor=r.actor)

    def under_way(self) -> bool:
        """A draft awaits review or publication: the incident does not complete before it is settled."""
        return self.state.release in ("drafted", "approved")

    def waiting(self) -> list[str]:
        if self.state.release == "drafted":
            return ["release (approve / reject)"]
        if self.state.release == "approved":
            return ["release (publish / withdraw)"]
        return []
