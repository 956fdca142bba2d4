"""Train a shipped model: ``python -m memviz.train NAME [options]``.

The name picks the family (``ntm-*``/``lstm-*`` or ``memn2n-*``); the family's
module ``memviz.<family>_training`` parses the remaining options.
"""

import sys

from memviz.registry import run_family_command

if __name__ == "__main__":
    raise SystemExit(run_family_command("training", sys.argv[1:]))
