"""Limits that protect a class on one Streamlit server (installed by ``memviz.worker``).

Placeholder: filled in below.
"""

from __future__ import annotations


def install() -> None:
    """Install every limit (idempotent)."""
