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

# plotly.js's cartesian bundle (heatmap, bar, scatter: all the app draws in the browser), in the version the
# plotly package bundles, from the npm registry: a third of the full bundle's evaluation time on every page
# load (memviz/ui/stepper.py). Without npm the app serves the plotly package's full bundle.
bundle=memviz/ui/static/vendor/plotly-cartesian.min.js
version=$(.venv/bin/python -c "from memviz.ui.stepper import FULL_BUNDLE, bundle_version; print(bundle_version(FULL_BUNDLE))" 2>/dev/null || true)
if [ -n "$version" ] && ! head -c 300 "$bundle" 2>/dev/null | grep -q " v$version"; then
    if command -v npm >/dev/null; then
        tmp=$(mktemp -d)
        (cd "$tmp" && npm pack --silent "plotly.js-cartesian-dist-min@$version" >/dev/null && tar xzf ./*.tgz)
        mkdir -p "$(dirname "$bundle")"
        cp "$tmp/package/plotly-cartesian.min.js" "$bundle"
        rm -rf "$tmp"
    else
        echo "setup: npm not found, so pages load plotly's full bundle (about 1 s slower to open)" >&2
    fi
fi
