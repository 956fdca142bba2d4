"""One ``memviz serve`` worker: ``streamlit run`` with memviz's class limits installed first.

``python -m memviz.worker run app.py [streamlit options]`` is ``streamlit run
app.py ...`` after :func:`memviz.limits.install` (see that module); everything
else is Streamlit's own command line.
"""

from __future__ import annotations

import sys


def main() -> None:
    """Install the limits, then hand the command line to Streamlit's CLI."""
    from memviz import limits

    limits.install()
    from streamlit.web import cli

    sys.argv = ["streamlit", *sys.argv[1:]]
    cli.main(prog_name="streamlit")


if __name__ == "__main__":
    main()
