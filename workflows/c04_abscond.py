"""C4 — 社区矫正对象脱离监督管理的处置 (001 §4(4)).

司法所应当立即组织查找,经通讯联络、信息化核查、实地查访等方式进行查找后仍未发现社区矫正对象下落的,
上报区司法局社区矫正管理科。可能发生上述(一)、(二)、(三)项所列情形的,司法所应当立即通知执行地
公安派出所协助查找和处置,并上报区司法局社区矫正管理科。区司法局社区矫正管理科应当通知执行地公安机关
协助查找,同时通报上一级社区矫正机构,通报执行地人民检察院。发现社区矫正对象下落的,应当责令其立即到
司法所报告情况,情形紧急的,应当立即将其带回。区司法局社区矫正管理科应当根据其脱离监管的情形,及时依法
处罚,并将最终处罚结果及时上报上一级社区矫正机构,同时通报执行地人民检察院。

Steps:

- 立即组织查找: a verification duty of the 司法所's on-duty officer (``duty-search``: 通讯联络、信息化核查、
  实地查访), due within the local policy for 立即, discharged by the ``search_result`` report (or
  ``verified``), escalated to the section then the leadership group when unconfirmed (histories
  recorded before duties of people: the ``search`` deadline);
- 仍未发现社区矫正对象下落的,上报区司法局社区矫正管理科 (``report-to-section``); the section then 通知执行地公安机关
  协助查找,同时通报上一级社区矫正机构,通报执行地人民检察院 (``section-police-search``,
  ``section-report-up``), each once, whichever way the section came to be told;
- a ``risk`` report (可能发生上述(一)、(二)、(三)项所列情形), taken at any time while the subject is missing,
  with or without a search result: 立即通知执行地公安派出所协助查找和处置,并上报区司法局社区矫正管理科
  (``risk-police-station-<n>`` and ``risk-section-<n>``, issued the moment the report arrives);
- 发现社区矫正对象下落的: ordered to report (the finding officer's ``subject_found`` says so), or brought
  back when urgent (an on-site duty of the 司法所's on-duty officer, ``duty-bring-back``, confirmed by
  ``on_site``); the section is told in every
  case, because it must 根据其脱离监管的情形,及时依法处罚 (``found-to-section``), with a due time for
  that decision (``punishment``, local policy for 及时); those asked to help search are told it is over;
- the final punishment reported up and to the procuratorate (``final-punishment``).

The section's messages ask it only for what the system has not already done (the police organ, the
higher agency and the procuratorate are notified by the system on the section's behalf).

Reports this clause takes: ``search_result`` (found, methods), ``risk`` (any time while missing),
then, if not found, further ``search_result`` or ``subject_found``; then ``punishment``.
"""

from __future__ import annotations

from temporalio import workflow
from temporalio.common import RawValue

from workflows.base import IncidentWorkflow
from workflows.mechanics.duties import PATCH

with workflow.unsafe.imports_passed_through():
    from pydantic import BaseModel

    from plan.agencies import Agency
    from plan.models import (
        DutyForm,
        IncidentOutcome,
        IncidentType,
        Punishment,
        Report,
        Risk,
        SearchResult,
        SubjectFound,
    )

CLAUSE = "001 §4(4)"
class AbscondFacts(BaseModel):
    """What the clause remembers: the risks reported so far, and whether the section has acted."""

    risks: int = 0
    section_acted: bool = False


SEARCH = "search"
"""The 司法所's search: a person's duty (``duty-search``), or the deadline of histories recorded before."""

PUNISHMENT = "punishment"
"""The section's punishment decision once the subject is found (及时依法处罚), due by local policy."""


@workflow.defn(name="C4AbscondFromSupervision")
class AbscondFromSupervision(IncidentWorkflow):
    """001 §4(4): a correction subject absconds from supervision."""

    TYPE = IncidentType.C4
    TITLE_ZH = "社区矫正对象脱离监督管理"
    CLAUSE = CLAUSE
    CLAUSE_REPORTS = frozenset({"search_result", "subject_found", "risk", "punishment"})
    REPORT_UP_ON_OPEN = False  # the clause reports to the section only once the search has failed
    ClauseState = AbscondFacts

    @workflow.run
    async def run(self, raw: RawValue) -> IncidentOutcome:
        return await self.handle()

    async def respond(self) -> None:
        duty = workflow.patched(PATCH)
        if duty:
            self._search_duty()
        else:  # histories recorded before duties of people
            self._search_deadline()
        self.decide("司法所立即组织查找(通讯联络、信息化核查、实地查访)", CLAUSE)
        search = await self.next_report(SearchResult)
        if duty:
            methods = "、".join(m.zh for m in search.methods)
            self.discharge_duty(SEARCH, search, f"查找方式:{methods};{'已发现下落' if search.found else '仍未发现下落'}")
        else:
            self.fulfil("search", search.actor)
        self.decide(f"查找方式:{'、'.join(m.zh for m in search.methods)}", CLAUSE)
        if search.found:
            self._found(urgent=False, actor=search.actor)
        else:
            await self._not_found(search)
        # 根据其脱离监管的情形,及时依法处罚,并将最终处罚结果及时上报上一级社区矫正机构,同时通报执行地人民检察院
        await self.punish("脱离监督管理", clause=CLAUSE, step="final-punishment", label="最终处罚结果")
        self.fulfil(PUNISHMENT, "区司法局社区矫正管理科")

    def _search_duty(self) -> None:
        """司法所应当立即组织查找,经通讯联络、信息化核查、实地查访等方式进行查找: a duty of the 司法所's
        on-duty officer (issue 16), due within the local policy for 立即 (``immediate``), discharged by
        the ``search_result`` report (or a ``verified``); unconfirmed, the section and then the
        leadership group are told (``mechanics/duties.py``)."""
        self.assign_duty(
            SEARCH, "立即组织查找,经通讯联络、信息化核查、实地查访等方式进行查找", CLAUSE,
            role=Agency.JUSTICE_OFFICE, form=DutyForm.VERIFICATION, evidence="search_result",
            say_zh="脱离监督管理,下落不明;请报告查找方式和结果(是否发现下落,是否可能发生(一)(二)(三)项所列情形)",
        )

    def _search_deadline(self) -> None:
        """立即组织查找: the search result is due within the local policy for 立即 (catalogue)."""
        self.start_deadline(
            "search",
            "查找结果报告时限",
            CLAUSE,
            workflow.now() + self.policy.immediate,
            escalate_to=(Agency.CORRECTION_SECTION, Agency.EMERGENCY_OFFICE),
        )

    @property
    def _missing(self) -> bool:
        searches = self.reports_of(SearchResult)
        return not (any(s.found for s in searches) or self.reports_of(SubjectFound))

    def on_report(self, report: Report, seq: int) -> None:
        """The risk of (一)(二)(三) is acted on the moment it is reported, wherever the search stands."""
        if isinstance(report, Risk):
            self._risk("、".join(s.zh for s in report.situations), report.grounds)
        elif isinstance(report, SearchResult) and report.risk_of_serious_incident and not report.found:
            # Reported with a failed search: the section hears of it in the search's own report.
            self._risk("上述(一)、(二)、(三)项所列情形", "查找中发现", tell_section=False)

    def _risk(self, situations: str, grounds: str, *, tell_section: bool = True) -> None:
        """可能发生上述(一)、(二)、(三)项所列情形的,司法所应当立即通知执行地公安派出所协助查找和处置,
        并上报区司法局社区矫正管理科."""
        n = self.clause_state.risks = self.clause_state.risks + 1
        fact = f"脱离监督管理,下落不明,可能发生{situations}(依据:{grounds})"
        self.decide(f"可能发生{situations},立即通知执行地公安派出所协助查找和处置,并上报社区矫正管理科", CLAUSE)
        self.notify(
            Agency.POLICE_STATION, self.ask(fact, "立即协助查找和处置"), step=f"risk-police-station-{n}", clause=CLAUSE
        )
        if not tell_section:
            return
        self.notify(
            Agency.CORRECTION_SECTION,
            self.ask(fact + ",司法所已通知执行地公安派出所协助查找和处置", self._asked_of_section("知悉")),
            step=f"risk-section-{n}",
            clause=CLAUSE,
        )
        self._section_acts()

    def _asked_of_section(self, asked: str) -> str:
        """What the section is asked: only what the system has not done on its behalf already."""
        if self.clause_state.section_acted:
            return asked
        return asked + "(系统已同时代社区矫正管理科通知执行地公安机关协助查找,并通报上一级社区矫正机构和执行地人民检察院,无需重复通知)"

    def _section_acts(self) -> None:
        """区司法局社区矫正管理科应当通知执行地公安机关协助查找,同时通报上一级社区矫正机构,通报执行地
        人民检察院: done once, on the section's behalf, the first time the section is told the subject
        is missing."""
        if self.clause_state.section_acted:
            return
        self.clause_state.section_acted = True
        self.notify(
            Agency.POLICE_ORGAN,
            self.ask("脱离监督管理,下落不明", "协助查找"),
            step="section-police-search",
            clause=CLAUSE,
        )
        self.notify_all(
            [Agency.HIGHER_CORRECTION_AGENCY, Agency.PROCURATORATE],
            self.ask("脱离监督管理,下落不明,已通知执行地公安机关协助查找", "知悉"),
            step="section-report-up",
            clause=CLAUSE,
        )

    async def _not_found(self, search: SearchResult) -> None:
        # 仍未发现社区矫正对象下落的,上报区司法局社区矫正管理科
        risk = ",可能发生(一)(二)(三)项所列情形,司法所已通知执行地公安派出所协助查找和处置" if search.risk_of_serious_incident else ""
        self.notify(
            Agency.CORRECTION_SECTION,
            self.ask(
                "脱离监督管理,经通讯联络、信息化核查、实地查访仍未发现下落" + risk,
                self._asked_of_section("知悉,督导继续查找"),
            ),
            step="report-to-section",
            clause=CLAUSE,
        )
        self._section_acts()
        while True:
            nxt = await self.next_report(SubjectFound, SearchResult)
            if isinstance(nxt, SubjectFound):
                self._found(urgent=nxt.urgent, actor=nxt.actor)
                return
            self.decide(
                f"继续查找({'、'.join(m.zh for m in nxt.methods)}),仍未发现下落", CLAUSE, actor=nxt.actor
            )

    def _found(self, *, urgent: bool, actor: str) -> None:
        """发现社区矫正对象下落的,应当责令其立即到司法所报告情况,情形紧急的,应当立即将其带回. The section is
        told either way:
        it must 根据其脱离监管的情形,及时依法处罚, and that decision is due (``punishment``)."""
        if urgent:
            self.decide("发现社区矫正对象下落,情形紧急,立即将其带回", CLAUSE, actor=actor)
            if workflow.patched(PATCH):  # 带回 is done by people on site (issue 16)
                self.assign_duty(
                    "bring-back", "情形紧急的,应当立即将其带回", CLAUSE, role=Agency.JUSTICE_OFFICE,
                    form=DutyForm.ON_SITE, say_zh="已发现社区矫正对象下落,情形紧急,立即将其带回司法所",
                )
        else:
            self.decide("发现社区矫正对象下落,责令其立即到司法所报告情况", CLAUSE, actor=actor)
        how = "已带回" if urgent else "已责令其立即到司法所报告情况"
        self.notify(
            Agency.CORRECTION_SECTION,
            self.ask(f"脱离监督管理,现已发现下落,{how}", "根据其脱离监管的情形,及时依法处罚,并报告处罚决定"),
            step="found-to-section",
            clause=CLAUSE,
        )
        self.start_deadline(
            PUNISHMENT,
            "社区矫正管理科处罚决定",
            CLAUSE,
            workflow.now() + self.policy.punishment,
            escalate_to=(Agency.EMERGENCY_OFFICE, Agency.LEADERSHIP_GROUP),
        )
        # The agencies asked to search are told the search is over (so no effort is wasted).
        helpers: list[Agency] = []
        if self.clause_state.section_acted:
            helpers.append(Agency.POLICE_ORGAN)
        if self.clause_state.risks:
            helpers.append(Agency.POLICE_STATION)
        if helpers:
            self.notify_all(
                helpers,
                self.ask("下落已查明" + (",已带回" if urgent else ",已责令到司法所报告"), "知悉,协助查找可以终止"),
                step="subject-found",
                clause=CLAUSE,
            )

    def check_clause_report(self, report: Report) -> str | None:
        if isinstance(report, SearchResult) and report.found and self.reports_of(SearchResult):
            return "search_result: the section has been told; report 'subject_found' when found"
        return None

    def accepts_now(self) -> frozenset[str]:
        # 可能发生上述(一)、(二)、(三)项所列情形: at any time while the subject is missing.
        return frozenset({"risk"}) if self._missing else frozenset()
