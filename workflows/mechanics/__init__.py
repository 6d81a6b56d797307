"""The shared mechanics of every incident, one component per file (see docs/writing-a-workflow.md).

- ``inputs``: the raw start input validated inside, with named non-retryable errors;
- ``timeline``: the incident's record (every line with time, actor and clause) and its details;
- ``notifier``: notifications, each its own activity, nothing waits on another (urgent first);
- ``acknowledgements``: the recipients' 回执, re-sent and escalated when they do not come;
- ``deadlines``: due times with reminders and escalation, and recurring duties;
- ``accountability``: the register of 001 §7(4) (按时, 迟报, 超时未报, 漏报);
- ``reports``: officers' reports parsed, checked, accepted, and what the clause awaits;
- ``release``: information release, reviewed before it is published (001 §5(3));
- ``leadership``: the leadership group's decisions on a major incident (000 §2.1).

Each component owns its part of the one state model (``plan/state.py``) and has a small public API;
``workflows/base.py`` wires them, and ``workflows/procedures/`` holds each plan's shared procedures.
"""
