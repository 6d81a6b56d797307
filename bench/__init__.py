"""``python -m bench``: what the incident workflows cost on top of bare Temporal, measured as ratios
in one run on one embedded dev server (see docs/benchmarks.md)."""
