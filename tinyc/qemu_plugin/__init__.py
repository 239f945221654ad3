"""The TCG plugin source of tinyc.cycles (built on first use, see tinyc/cycles.py)."""
