"""The shared procedures of each plan: ``linkage`` (000: information report, the centre's instruction,
arrival, feedback, progress, written report, aftermath) and ``correction`` (001: report level by level,
cross-county notice, punishment, persuasion, family, termination)."""
