"""C6 — 社区矫正对象非正常死亡的处置 (001 §4(6)).

(六)社区矫正对象非正常死亡的处置:区司法局社区矫正管理科或司法所发现社区矫正对象非正常死亡的,应当立即联系社区矫正对象家属、监护人、保证人以及其他相关人员核 实情况,必要时可以向公安“110”或执行地公安派出所报警到现场进行处置。核实死亡真实性后,按照终止社区矫正相关程序予以办理,并将有关情况及时上报上一级社区矫正机构,同时通报原判法院或决定机关以及执行地人民检察院。

(Quoted verbatim from ../shared/seeds/001_5f209eb0f92587e5.txt, including the source's stray space
in "核 实".)

Steps:

- 立即联系社区矫正对象家属、监护人、保证人以及其他相关人员核实情况: every contact in ``subject.family`` is notified (``family-<i>``);
  with no contact registered, the justice office verifies on site (a decision on the timeline);
- 必要时报警: a ``police_requested`` report (the officer judged it necessary) makes 110 the 司法所 on-duty
  officer's phone duty (``duty-alarm-110``, confirmed by ``phoned``), beside the automated push where the
  bureau's platform takes one (``POLICY.pushed``: ``alarm-110``), at most once;
- 核实死亡真实性后: a ``death_verification`` report. Verified: 终止社区矫正 and the report up to the
  higher agency, the deciding authority (原判法院或决定机关) and the procuratorate, at the same time
  (``termination-report``). Not verified: correction is not terminated and the result is reported up
  to the higher agency (``verification-report``; 001 §5(1) 逐级向上一级社区矫正机构报告突发事件及处置工作进展情况).

No punishment: the clause has none.

Reports this clause takes: ``police_requested`` (once, before the verification) and
``death_verification`` (once).
"""

from __future__ import annotations

from temporalio import workflow
from temporalio.common import RawValue

from workflows.base import IncidentWorkflow
from workflows.mechanics.duties import PATCH

with workflow.unsafe.imports_passed_through():
    from plan.agencies import Agency
    from plan.models import (
        DeathVerification,
        DutyForm,
        IncidentOutcome,
        IncidentType,
        PoliceRequested,
        Report,
    )

CLAUSE = "001 §4(6)"

#: 上报上一级社区矫正机构,同时通报原判法院或决定机关以及执行地人民检察院.
TERMINATION_REPORT_TO = (
    Agency.HIGHER_CORRECTION_AGENCY,
    Agency.DECIDING_AUTHORITY,
    Agency.PROCURATORATE,
)


@workflow.defn(name="C6AbnormalDeath")
class AbnormalDeath(IncidentWorkflow):
    """001 §4(6): a correction subject's abnormal death."""

    TYPE = IncidentType.C6
    TITLE_ZH = "社区矫正对象非正常死亡"
    CLAUSE = CLAUSE
    CLAUSE_REPORTS = frozenset({"police_requested", "death_verification"})

    @workflow.run
    async def run(self, raw: RawValue) -> IncidentOutcome:
        return await self.handle()

    async def respond(self) -> None:
        await self._contact_family()
        while True:
            report = await self.next_report(DeathVerification, PoliceRequested)
            if isinstance(report, PoliceRequested):
                # 必要时可以向公安“110”或执行地公安派出所报警到现场进行处置
                fact = f"疑似非正常死亡,需警方到场:{report.reason}"
                if workflow.patched(PATCH):  # the 司法所 on-duty officer's phone duty, and the push (issue 16)
                    self.alarm_110(fact, "立即到现场进行处置", step="alarm-110", clause=CLAUSE,
                                   what_zh="必要时可以向公安“110”或执行地公安派出所报警到现场进行处置")
                    continue
                self.notify(  # histories recorded before duties of people
                    Agency.POLICE_110, self.ask(fact, "立即到现场进行处置"), step="alarm-110", clause=CLAUSE,
                )
                continue
            if report.verified:
                await self._terminate(report)
            else:
                await self._not_verified(report)
            return

    async def _contact_family(self) -> None:
        """立即联系社区矫正对象家属、监护人、保证人以及其他相关人员核实情况."""
        self.notify_family(
            "疑似非正常死亡,需向家属、监护人、保证人核实情况",
            "协助核实情况",
            clause=CLAUSE,
            none_zh="未登记家属、监护人、保证人联系方式,由司法所实地核实",
            form=DutyForm.VERIFICATION,  # a person's verification by phone, never a message to the family
            what_zh="立即联系社区矫正对象家属、监护人、保证人以及其他相关人员核实情况",
        )

    async def _terminate(self, report: DeathVerification) -> None:
        """核实死亡真实性后,按照终止社区矫正相关程序予以办理,并将有关情况及时上报上一级社区矫正机构,同时通报原判法院或决定机关以及执行地人民检察院."""
        note = f"({report.note})" if report.note else ""
        self.terminate_correction(
            "核实死亡真实性,按照终止社区矫正相关程序予以办理",
            f"非正常死亡,经核实死亡属实{note},已按照终止社区矫正相关程序予以办理",
            TERMINATION_REPORT_TO,
            clause=CLAUSE,
            actor=report.actor,
        )

    async def _not_verified(self, report: DeathVerification) -> None:
        """Death not verified: no termination; the result is reported up (001 §5(1))."""
        self.decide("经核实,社区矫正对象死亡情况未能证实,不予终止社区矫正,继续核查", CLAUSE, actor=report.actor)
        note = f"({report.note})" if report.note else ""
        self.notify(
            Agency.HIGHER_CORRECTION_AGENCY,
            self.ask(f"疑似非正常死亡,经核实死亡情况未能证实{note},不予终止社区矫正,继续核查", "知悉"),
            step="verification-report",
            clause=CLAUSE,
        )

    def check_clause_report(self, report: Report) -> str | None:
        if isinstance(report, PoliceRequested) and self.reports_of(PoliceRequested):
            return "police_requested: 110 was already called to the scene (001 §4(6)); report progress instead"
        return None
