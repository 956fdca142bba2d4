"""`memviz serve` refuses to start half a class: a taken port, a missing model file or a worker that exits is named."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from memviz import serve

SERVE = [sys.executable, "-m", "memviz.serve"]


def free_port_pair() -> int:
    """A port p with p and p + 1 free on loopback (the balancer takes p, worker 1 p + 1...)."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port < 65000 and all(serve.port_is_free("127.0.0.1", port + i) for i in range(3)):
            return port
    raise RuntimeError("no three consecutive free ports")


def haproxy_or_skip() -> str:
    path = shutil.which("haproxy") or "/usr/sbin/haproxy"
    if not Path(path).exists():
        if os.environ.get("CI"):
            pytest.fail("haproxy is missing: bash setup.sh --test installs Debian's package")
        pytest.skip("haproxy is not installed (bash setup.sh --test installs it)")
    return path


def test_rendered_config_is_accepted_by_haproxy(tmp_path):
    haproxy = haproxy_or_skip()
    config = tmp_path / "haproxy.cfg"
    servers = [("w1", "127.0.0.1:18502"), ("w2", "127.0.0.1:18503"), ("b1", "10.0.0.2:8501")]
    config.write_text(serve.render_config("127.0.0.1:18501", servers, tmp_path / "haproxy.sock"))
    text = config.read_text()
    assert "server w2 127.0.0.1:18503 check cookie w2" in text
    assert "option httpchk GET /_stcore/health" in text
    assert "timeout tunnel 3600s" in text
    serve.check_config(haproxy, config)  # raises ServeError if HAProxy rejects it


def test_taken_worker_port_is_named(tmp_path, capsys):
    port = free_port_pair()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", port + 2))
        taken.listen()
        code = serve.main(["--workers", "2", "--port", str(port), "--run-dir", str(tmp_path)])
    assert code == 1
    assert f"worker 2: port 127.0.0.1:{port + 2} is taken" in capsys.readouterr().err


def test_missing_model_file_is_named(tmp_path, monkeypatch, capsys):
    models = tmp_path / "pretrained"
    models.mkdir()
    (models / "ntm-copy.json").write_text("{}")  # a card without its weights
    monkeypatch.setattr("memviz.registry.PRETRAINED_DIR", models)
    port = free_port_pair()
    code = serve.main(["--workers", "1", "--port", str(port), "--run-dir", str(tmp_path / "run")])
    assert code == 1
    err = capsys.readouterr().err
    assert "missing" in err and "ntm-copy.safetensors" in err


def test_worker_that_exits_while_starting_is_named(tmp_path):
    """A worker that cannot start (here: an option Streamlit rejects) stops the command with its log's last lines."""
    port = free_port_pair()
    result = subprocess.run(
        [*SERVE, "--workers", "1", "--port", str(port), "--run-dir", str(tmp_path), "--", "--server.noSuchOption=1"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(Path(serve.ROOT))},
        cwd=serve.ROOT,
    )
    assert result.returncode == 1
    assert f"worker 1 (127.0.0.1:{port + 1}) exited with code" in result.stderr
    assert not list(tmp_path.glob("haproxy.cfg")), "the balancer must not start in front of a failed worker"


def test_memviz_command_names_its_one_subcommand(capsys):
    assert serve.cli([]) == 2
    assert "usage: memviz serve" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        serve.cli(["serve", "--workers", "-1"])
