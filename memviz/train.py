"""Train a shipped model: ``python -m memviz.train NAME [options]``.

The model's family (its card's ``family``, else ``memviz.registry.SHIPPED_MODELS``,
else ``--family F`` for a new name) picks the row of ``memviz.registry.FAMILIES``
whose trainer module parses the remaining options.
"""

import sys

from memviz.registry import run_family_command

if __name__ == "__main__":
    raise SystemExit(run_family_command("training", sys.argv[1:]))
