"""Evaluate a shipped model: ``python -m memviz.evaluate NAME [options]``.

The name picks the family (``ntm-*``/``lstm-*`` or ``memn2n-*``); the family's
module ``memviz.<family>_evaluation`` parses the remaining options.
"""

import sys

from memviz.registry import run_family_command

if __name__ == "__main__":
    raise SystemExit(run_family_command("evaluation", sys.argv[1:]))
