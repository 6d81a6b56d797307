"""Every enum an officer sees carries its Chinese label (``plan/labels.py`` ``ZhEnum``), while pydantic,
JSON and the recorded histories see the plain English code, as before."""

import json

from pydantic import BaseModel

from plan.agencies import Agency
from plan.labels import Channel, ExecutionStatus, ReleaseState, ReportKind, ZhEnum, channel_zh, kind_zh
from plan.models import (
    CommandGroup,
    DeadlineStatus,
    EntryKind,
    EpidemicScenario,
    Flow,
    IncidentPhase,
    MediationOutcomeKind,
    ObligationStatus,
    RiskSituation,
    SearchMethod,
    Source,
)

LABELLED = (Agency, Channel, CommandGroup, DeadlineStatus, EntryKind, EpidemicScenario, ExecutionStatus, Flow,
            IncidentPhase, MediationOutcomeKind, ObligationStatus, ReleaseState, ReportKind, RiskSituation,
            SearchMethod, Source)


class _Carrier(BaseModel):
    flow: Flow
    agencies: list[Agency]


def test_the_value_is_the_code_and_zh_the_label() -> None:
    assert Flow("urgent") is Flow.URGENT and Flow.URGENT == "urgent" and f"{Flow.URGENT}" == "urgent"
    assert Flow.URGENT.value == "urgent" and Flow.URGENT.zh == "紧急处置流程"
    assert Agency.POLICE_110.zh == "公安“110”"
    assert {Flow.GENERAL: 1}["general"] == 1  # still hashes as its code


def test_pydantic_and_json_see_the_plain_code() -> None:
    c = _Carrier.model_validate_json('{"flow": "general", "agencies": ["police_110", "family"]}')
    assert c.flow is Flow.GENERAL and c.agencies == [Agency.POLICE_110, Agency.FAMILY]
    assert c.model_dump(mode="json") == {"flow": "general", "agencies": ["police_110", "family"]}
    assert json.loads(c.model_dump_json()) == {"flow": "general", "agencies": ["police_110", "family"]}
    assert _Carrier.model_json_schema()["$defs"]["Flow"]["enum"] == ["urgent", "general"]


def test_every_member_has_a_chinese_label() -> None:
    for enum in LABELLED:
        assert issubclass(enum, ZhEnum)
        for member in enum:
            assert member.zh and member.zh != member.value, (enum, member)
            assert isinstance(member.value, str)


def test_an_unknown_code_is_shown_as_it_is() -> None:
    assert ReleaseState.zh_of("drafted") == "已起草,待职能部门审核" and ReleaseState.zh_of("odd") == "odd"
    assert ExecutionStatus.zh_of("TERMINATED") == "已终止"
    assert kind_zh("search_result") == "查找结果" and kind_zh("nonsense") == "nonsense"
    assert channel_zh("sms+email") == "短信、电子邮件" and channel_zh("fax") == "fax"
