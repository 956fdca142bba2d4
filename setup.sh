#!/usr/bin/env bash
# Set up memviz in ./.venv.  `bash setup.sh` for the app, `bash setup.sh --test`
# for the app plus the test tools (pytest, hypothesis, ruff, Playwright and
# Debian's chromium for the browser tests).
set -euo pipefail
cd "$(dirname "$0")"

want_tests=0
[ "${1:-}" = "--test" ] && want_tests=1

PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
PIP=(.venv/bin/python -m pip --disable-pip-version-check -q)

# torch first, so pyproject's "torch>=2.2" is already satisfied and pip does not
# pull a multi-GB CUDA build.  Pinning 2.13.0 takes the CPU wheel that this kind
# of machine keeps on disk; elsewhere see README ("Getting torch").
if ! .venv/bin/python -c "import torch" 2>/dev/null; then
    "${PIP[@]}" install "${MEMVIZ_TORCH_SPEC:-torch==2.13.0}"
fi

if [ "$want_tests" = 1 ]; then
    "${PIP[@]}" install -e ".[test]"
    if [ ! -x /usr/bin/chromium ]; then
        # Debian's chromium for the Playwright tests: never a browser download.
        SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
        $SUDO apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
    fi
    if [ ! -x /usr/sbin/haproxy ]; then
        # Debian's HAProxy for `memviz serve` and its balancer test (tests/browser/test_balancer.py).
        SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
        $SUDO apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq haproxy >/dev/null
    fi
else
    "${PIP[@]}" install -e .
fi
