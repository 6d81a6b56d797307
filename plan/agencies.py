"""Who the plans tell: every recipient the two plans name, and the directory that says how to reach them.

The recipients are listed in `../shared/design/incident-catalogue.md` ("Recipients") and come from
000 §2–§4 and 001 §3–§5. The directory (``config/directory.json``) is plan data: it is validated on
load, and a recipient that is missing from it is a configuration error, never a silent drop.
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from plan.labels import ZhEnum


class Agency(ZhEnum):  # .zh: the plan's own name of the recipient, used in every Chinese text
    """A recipient named by the plans. The value is the stable id used in keys, logs and config."""

    POLICE_110 = "police_110", "公安“110”"
    """公安"110" (001 §4(1)(2)(5)(6)(8)(10))."""
    POLICE_STATION = "police_station", "执行地公安派出所"
    """执行地公安派出所 (001 §4(1)(4))."""
    POLICE_ORGAN = "police_organ", "执行地公安机关"
    """执行地公安机关 (001 §4(4)(7))."""
    MEDICAL_120 = "medical_120", "急救中心“120”/医院"
    """120 / hospital (001 §4(1)(7))."""
    FAMILY = "family", "社区矫正对象家属、监护人、保证人"
    """The subject's family, guardian, guarantor (001 §4(6)(7))."""
    PARTY = "party", "当事人"
    """The citizen concerned: a complainant (000 §1.4(2)) or a help-seeker (000 §1.4(3))."""
    JUSTICE_OFFICE = "justice_office", "司法所"
    """司法所 handling the incident (000 §4.2, 001 §5(1))."""
    CORRECTION_SECTION = "correction_section", "区司法局社区矫正管理科"
    """区司法局社区矫正管理科 (001 §4, §5(1))."""
    EMERGENCY_OFFICE = "emergency_office", "区司法局应急办公室"
    """区司法局应急办公室 (000 §2.2, §4.2)."""
    LEADERSHIP_GROUP = "leadership_group", "区司法局应急联动指挥领导小组"
    """区司法局应急联动指挥领导小组 / 指挥部 (000 §2.1, 001 §3(1))."""
    COMMAND_CENTRE = "command_centre", "区社会应急联动指挥中心"
    """区社会应急联动指挥中心 (000 §3, §4.2, §4.3)."""
    HIGHER_CORRECTION_AGENCY = "higher_correction_agency", "上一级社区矫正机构"
    """上一级社区矫正机构 (001 §4, §5(1))."""
    PROCURATORATE = "procuratorate", "执行地人民检察院"
    """执行地人民检察院 (001 §4)."""
    PETITION_OFFICE = "petition_office", "同级信访部门"
    """同级信访部门 (001 §4(3))."""
    DECIDING_AUTHORITY = "deciding_authority", "原判法院或决定机关"
    """原判法院或决定机关 (001 §4(6)(7))."""
    EPIDEMIC_DEPARTMENT = "epidemic_department", "社区/疫情防控部门"
    """社区 / 疫情防控部门 (001 §4(9))."""
    AWAY_EPIDEMIC_DEPARTMENT = "away_epidemic_department", "外出地当地疫情防控部门"
    """当地疫情防控部门 of the place where a subject away is (001 §4(9) 情形三); its number comes with
    the incident."""
    OTHER_COUNTY_BUREAU = "other_county_bureau", "相关县(市、区)司法行政机关"
    """相关县(市、区)司法行政机关 (001 §5(1))."""
    MEDIATION_GROUP = "mediation_group", "人民调解组"
    """人民调解组 (000 §2.3)."""
    LEGAL_SERVICE_GROUP = "legal_service_group", "法律服务组"
    """法律服务组 (000 §2.3)."""
    LEGAL_AID_GROUP = "legal_aid_group", "法律援助组"
    """法律援助组 (000 §2.3)."""
    CORRECTION_GROUP = "correction_group", "社区矫正组"
    """社区矫正组 (000 §2.3)."""
    DISTRICT_COMMITTEE_GOVERNMENT = "district_committee_government", "区委、区政府"
    """区委、区政府 (000 §2.1)."""
    POLITICAL_LEGAL_COMMITTEE = "political_legal_committee", "区委政法委"
    """区委政法委 (000 §2.1)."""
    CITY_JUSTICE_BUREAU = "city_justice_bureau", "市司法局"
    """市司法局 (000 §2.1, 001 §3(1))."""
    PEOPLES_GOVERNMENT = "peoples_government", "本级人民政府"
    """本级人民政府 (001 §3(1))."""
    CORRECTION_COMMAND = "correction_command", "社区矫正突发事件应急处置总指挥部"
    """社区矫正突发事件应急处置总指挥部 (001 §3(1)(2))."""
    CORRECTION_COMMAND_OFFICE = "correction_command_office", "总指挥部办公室"
    """总指挥部办公室, whose daily work the 社区矫正管理科 does (001 §3(2))."""


PER_INCIDENT = frozenset({Agency.FAMILY, Agency.PARTY, Agency.AWAY_EPIDEMIC_DEPARTMENT})
"""Recipients whose phone comes with the incident, not from the directory."""


class DirectoryError(ValueError):
    """The directory file is missing, unreadable or invalid; the message names file and field."""


class Contact(BaseModel):
    """How one recipient is reached (000 §5.2: 通讯畅通)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name_zh: str = Field(min_length=1, max_length=100)
    phone: str = Field(pattern=r"^[0-9+\-]{3,20}$")


class Directory(BaseModel):
    """Contacts of every agency the plans name; an agency absent here cannot be notified."""

    model_config = ConfigDict(extra="forbid")

    agencies: dict[Agency, Contact]

    @field_validator("agencies")
    @classmethod
    def _every_agency_listed(cls, value: dict[Agency, Contact]) -> dict[Agency, Contact]:
        # FAMILY, PARTY and an away place's department are reached through contacts given in the incident.
        missing = sorted(a.value for a in Agency if a not in value and a not in PER_INCIDENT)
        if missing:
            raise ValueError(f"agencies missing from the directory: {', '.join(missing)}")
        return value

    def contact(self, agency: Agency) -> Contact | None:
        return self.agencies.get(agency)


DEFAULT_DIRECTORY_PATH = Path(__file__).resolve().parent.parent / "config" / "directory.json"


def load_directory(path: Path | str = DEFAULT_DIRECTORY_PATH) -> Directory:
    """Load and validate the directory; errors name the file and the field at fault."""
    path = Path(path)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DirectoryError(f"{path}: directory file not found") from None
    except UnicodeDecodeError as err:
        raise DirectoryError(f"{path}: not UTF-8 text (byte {err.start}); save it as UTF-8") from None
    except json.JSONDecodeError as err:
        raise DirectoryError(f"{path}: line {err.lineno}: invalid JSON: {err.msg}") from None
    try:
        return Directory.model_validate(raw)
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top level)"
        raise DirectoryError(f"{path}: {where}: {first['msg']}") from None
