"""Deadlines the plans set, as typed plan data.

The plans' own numbers are defaults a deployment may tighten but never drop:
- arrival within 30 minutes of the command centre's instruction (000 §4.3);
- handling situation and result fed back to the centre within 24 hours (000 §3(3)).
Where a plan says 立即 (immediately) without a number, the catalogue makes the deadline a local
policy with a documented default (``immediate``).
"""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel, ConfigDict, Field, model_validator

from plan.agencies import Agency
from plan.warning import WarningLevel

ARRIVAL_LIMIT = timedelta(minutes=30)
"""000 §4.3: 各司法所或相关科室接区应急联动指挥中心指令要求后,须在30分钟内赶至指定地点,向指定人员报到."""

FEEDBACK_LIMIT = timedelta(hours=24)
"""000 §3(3): 将处置情况和结果在24小时内反馈至区社会应急联动指挥中心."""


class DeadlinePolicy(BaseModel):
    """Deadlines and retry budgets; validated so that no plan number is loosened."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    arrival: timedelta = ARRIVAL_LIMIT
    feedback: timedelta = FEEDBACK_LIMIT
    feedback_reminders: tuple[timedelta, ...] = (timedelta(hours=4), timedelta(hours=1))
    """Reminders this long before the feedback deadline falls due."""
    immediate: timedelta = timedelta(hours=1)
    """Local policy for 立即 steps without a number (e.g. 001 §4(4) report to the section)."""
    review: timedelta = timedelta(days=7)
    """Local policy for 及时 in 001 §5(2): the written post-incident review is due this long after handling."""
    punishment: timedelta = timedelta(days=3)
    """Local policy for 及时依法处罚 in 001 §4(4): the section's decision is due this long after the
    subject is found."""
    daily_contact: timedelta = timedelta(days=1)
    """001 §4(9) 情形三: 每日与外出人员保持联系 (one contact per day)."""
    ack_timeout: timedelta = timedelta(minutes=5)
    """110, 120 and the command centre confirm receipt within this long, or they are notified again."""
    ack_renotify: int = Field(default=1, ge=0, le=5)
    """How many times an unacknowledged notification is sent again before it is escalated."""
    ack_required: frozenset[Agency] = frozenset({Agency.POLICE_110, Agency.MEDICAL_120, Agency.COMMAND_CENTRE})
    """Recipients whose acknowledgement (回执) is awaited: a missed call to them is the worst failure."""
    duty_leadership_after: timedelta = timedelta(minutes=30)
    """A person's duty not confirmed by its due time goes to the role's superior at once, and to the
    leadership group this long after the due time if still open (``workflows/mechanics/duties.py``)."""
    stated_time_tolerance: timedelta = timedelta(minutes=15)
    """A confirmation whose stated time precedes its receipt by more than this is flagged for an
    officer's review (001 §7(4) 谎报/瞒报 indicator, never a verdict)."""
    pushed: frozenset[Agency] = frozenset({Agency.POLICE_110, Agency.MEDICAL_120})
    """Agencies whose platform takes an automated push beside the on-duty officer's phone call (110 and
    120 in 001 §4(1)(7) are a person's phone duty first). A bureau without such a platform lists none."""
    alarm_verification: timedelta = timedelta(hours=1)
    """Local policy (ours, not a plan number): a platform alarm (信息化核查, 001 §4(4)) is verified by the
    司法所's on-duty person within this long of its receipt, else escalated (``workflows/alarm.py``)."""
    notification_budget: timedelta = Field(default=timedelta(minutes=10))
    """How long one notification is retried before it is recorded as failed and escalated."""
    # Issue 20: warnings (000 §4.1, §2.2(1)) and periodic screening (001 §7(1)). The plans give no
    # number for any of these: each is a local policy, documented with its default (docs/operations.md).
    warning_analysis: timedelta = timedelta(hours=24)
    """A recorded sign is analysed (分析研判) within this long, or the delay is escalated."""
    warning_decision: timedelta = timedelta(hours=24)
    """A proposal to start the plan (提出预案启动的建议) is decided within this long, or it is escalated."""
    warning_measure: timedelta = timedelta(days=3)
    """Each control measure (疏导、管理、教育) is carried out within this long of the decision."""
    warning_follow_up: timedelta = timedelta(days=7)
    """A sign under watch is followed up once per this period until it is closed."""
    screening_interval: timedelta = timedelta(days=30)
    """001 §7(1) 定期排查: how often each justice office screens (the schedule's interval)."""
    screening_due: timedelta = timedelta(days=5)
    """Each period's screening record is due this long after the period starts."""
    warning_recipients: dict[WarningLevel, tuple[Agency, ...]] = Field(default_factory=dict)
    """Whom a warning of each level is sent to, besides the analysing office; a level not listed: the
    plan's default (``plan/warning.py`` ``DEFAULT_RECIPIENTS``)."""

    @model_validator(mode="after")
    def _never_looser_than_the_plan(self) -> DeadlinePolicy:
        if self.arrival > ARRIVAL_LIMIT or self.arrival <= timedelta(0):
            raise ValueError("arrival: must be positive and at most 30 minutes (000 §4.3)")
        if self.feedback > FEEDBACK_LIMIT or self.feedback <= timedelta(0):
            raise ValueError("feedback: must be positive and at most 24 hours (000 §3(3))")
        if any(r <= timedelta(0) or r >= self.feedback for r in self.feedback_reminders):
            raise ValueError("feedback_reminders: each must be positive and shorter than feedback")
        if self.daily_contact > timedelta(days=1) or self.daily_contact <= timedelta(0):
            raise ValueError("daily_contact: must be positive and at most one day (001 §4(9) 每日)")
        for name in ("warning_analysis", "warning_decision", "warning_measure", "warning_follow_up",
                     "screening_interval", "screening_due"):
            if getattr(self, name) <= timedelta(0):
                raise ValueError(f"{name}: must be positive (a local policy, issue 20)")
        if self.screening_due > self.screening_interval:
            raise ValueError("screening_due: the record must be due within its period (screening_interval)")
        if self.alarm_verification <= timedelta(0) or self.alarm_verification > timedelta(hours=24):
            raise ValueError("alarm_verification: must be positive and at most 24 hours (a platform alarm waits no longer)")
        return self


DEFAULT_POLICY = DeadlinePolicy()
