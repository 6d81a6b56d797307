"""C4 — 社区矫正对象脱离监督管理的处置 (001 §4(4)).

司法所应当立即组织查找,经通讯联络、信息化核查、实地查访等方式进行查找后仍未发现社区矫正对象下落的,
上报区司法局社区矫正管理科。可能发生上述(一)、(二)、(三)项所列情形的,司法所应当立即通知执行地
公安派出所协助查找和处置,并上报区司法局社区矫正管理科。区司法局社区矫正管理科应当通知执行地公安机关
协助查找,同时通报上一级社区矫正机构,通报执行地人民检察院。发现社区矫正对象下落的,应当责令其立即到
司法所报告情况,情形紧急的,应当立即将其带回。区司法局社区矫正管理科应当根据其脱离监管的情形,及时依法
处罚,并将最终处罚结果及时上报上一级社区矫正机构,同时通报执行地人民检察院。

Reports this clause takes: ``search_result`` (found, methods, risk of 001 §4(1)–(3)), then, if not
found, further ``search_result`` or ``subject_found``; then ``punishment``.
"""

from __future__ import annotations

from temporalio import workflow
from temporalio.common import RawValue

from workflows.base import IncidentWorkflow

with workflow.unsafe.imports_passed_through():
    from plan.agencies import Agency
    from plan.models import (
        SEARCH_METHOD_ZH,
        IncidentOutcome,
        IncidentType,
        Punishment,
        Report,
        SearchResult,
        SubjectFound,
    )

CLAUSE = "001 §4(4)"


@workflow.defn(name="C4AbscondFromSupervision")
class AbscondFromSupervision(IncidentWorkflow):
    """001 §4(4): a correction subject absconds from supervision."""

    TYPE = IncidentType.C4
    TITLE_ZH = "社区矫正对象脱离监督管理"
    CLAUSE = CLAUSE
    CLAUSE_REPORTS = frozenset({"search_result", "subject_found", "punishment"})
    REPORT_UP_ON_OPEN = False  # the clause reports to the section only once the search has failed

    @workflow.run
    async def run(self, raw: RawValue) -> IncidentOutcome:
        return await self.handle()

    async def respond(self) -> None:
        self._search_deadline()
        self.decide("司法所立即组织查找(通讯联络、信息化核查、实地查访)", CLAUSE)
        search = await self.next_report(SearchResult)
        self.fulfil("search", search.actor)
        self.decide(f"查找方式:{'、'.join(SEARCH_METHOD_ZH[m] for m in search.methods)}", CLAUSE)
        if search.found:
            await self._found(urgent=False, actor=search.actor)
        else:
            await self._not_found(search)
        # 根据其脱离监管的情形,及时依法处罚,并将最终处罚结果及时上报上一级社区矫正机构,同时通报执行地人民检察院
        await self.punish("脱离监督管理", clause=CLAUSE, step="final-punishment", label="最终处罚结果")

    def _search_deadline(self) -> None:
        """立即组织查找: the search result is due within the local policy for 立即 (catalogue)."""
        self._start_deadline(
            "search",
            "查找结果报告时限",
            CLAUSE,
            workflow.now() + self.POLICY.immediate,
            escalate_to=(Agency.CORRECTION_SECTION, Agency.EMERGENCY_OFFICE),
        )

    async def _not_found(self, search: SearchResult) -> None:
        police_station_told = False
        section_told = False
        while True:
            if search.risk_of_serious_incident and not police_station_told:
                # 可能发生(一)(二)(三)项情形:立即通知执行地公安派出所协助查找和处置
                police_station_told = True
                await self.notify(
                    Agency.POLICE_STATION,
                    self.ask("脱离监督管理,下落不明,可能实施行凶、群体性事件或非正常上访等行为", "立即协助查找和处置"),
                    step="police-station-search",
                    clause=CLAUSE,
                )
            if not section_told:
                section_told = True
                # 仍未发现下落的,上报区司法局社区矫正管理科
                await self.notify(
                    Agency.CORRECTION_SECTION,
                    self.ask(
                        "脱离监督管理,经通讯联络、信息化核查、实地查访仍未发现下落"
                        + (",可能发生(一)(二)(三)项所列情形" if search.risk_of_serious_incident else ""),
                        "通知执行地公安机关协助查找,同时通报上一级社区矫正机构和执行地人民检察院",
                    ),
                    step="report-to-section",
                    clause=CLAUSE,
                )
                # 管理科通知执行地公安机关协助查找,同时通报上一级社区矫正机构,通报执行地人民检察院
                await self.notify(
                    Agency.POLICE_ORGAN,
                    self.ask("脱离监督管理,下落不明", "协助查找"),
                    step="section-police-search",
                    clause=CLAUSE,
                )
                await self.notify_all(
                    [Agency.HIGHER_CORRECTION_AGENCY, Agency.PROCURATORATE],
                    self.ask("脱离监督管理,下落不明,已通知执行地公安机关协助查找", "知悉"),
                    step="section-report-up",
                    clause=CLAUSE,
                )
            nxt = await self.next_report(SearchResult, SubjectFound)
            if isinstance(nxt, SubjectFound):
                await self._found(
                    urgent=nxt.urgent, actor=nxt.actor, searchers=True, police_station=police_station_told
                )
                return
            search = nxt

    async def _found(
        self, *, urgent: bool, actor: str, searchers: bool = False, police_station: bool = False
    ) -> None:
        """发现下落:责令其立即到司法所报告情况;情形紧急的,立即将其带回."""
        if urgent:
            self.decide("发现社区矫正对象下落,情形紧急,立即将其带回", CLAUSE, actor=actor)
        else:
            self.decide("发现社区矫正对象下落,责令其立即到司法所报告情况", CLAUSE, actor=actor)
        if searchers:
            # The agencies asked to search are told the search is over (so no effort is wasted).
            helpers = [Agency.CORRECTION_SECTION, Agency.POLICE_ORGAN]
            if police_station:
                helpers.append(Agency.POLICE_STATION)
            await self.notify_all(
                helpers,
                self.ask("下落已查明" + (",已带回" if urgent else ",已责令到司法所报告"), "知悉,协助查找可以终止"),
                step="subject-found",
                clause=CLAUSE,
            )

    def waiting_for(self) -> list[str]:
        searches = self.reports_of(SearchResult)
        if not searches:
            return ["search_result"]
        found = any(s.found for s in searches) or bool(self.reports_of(SubjectFound))
        if not found:
            return ["subject_found", "search_result"]
        if not self.reports_of(Punishment):
            return ["punishment"]
        return []

    def check_clause_report(self, report: Report) -> str | None:
        if isinstance(report, SearchResult) and report.found and self.reports_of(SearchResult):
            return "search_result: the section has been told; report 'subject_found' when found"
        return None
