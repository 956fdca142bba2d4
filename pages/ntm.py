"""NTM Explorer: step through a pretrained NTM's episode, see every addressing stage, and intervene.

The page is :func:`memviz.ui.ntm.render` (a module is compiled once per
process; a page script is recompiled on every rerun).
"""

from memviz.ui import use_app_navigation

use_app_navigation()

from memviz.ui.ntm import render  # noqa: E402 (after the navigation check, which may rerun)

render()
