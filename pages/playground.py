"""Addressing Playground: one NTM head's four addressing stages, no model needed."""

from memviz.ui import use_app_navigation

use_app_navigation()

from memviz.ui.playground import render  # noqa: E402 (after the navigation check, which may rerun)

render()
