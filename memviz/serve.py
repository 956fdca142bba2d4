"""``memviz serve``: N Streamlit workers behind HAProxy, for a whole class on every core.

One Streamlit process runs its script runs on one core (the GIL), so a class of
thirty queues behind a single server. ``memviz serve --workers N`` starts N
identical ``streamlit run app.py`` workers on loopback ports and HAProxy in front
of them (Debian's package; config ``deploy/haproxy.cfg.in``, rendered with the
worker ports): cookie session affinity, health checks on ``/_stcore/health``,
websocket timeouts for a 50-minute lesson. A worker that fails to start (its port
is taken, a model file is missing) is named and the command exits non-zero;
Ctrl-C or SIGTERM stops every child. A worker that dies later is replaced within
~50 ms by a warm spare (``--spares``, default 1: a worker started outside the
balancer at low priority, idle until needed), which takes the dead worker's name
in the balancer, so its students' browsers reconnect to it and rebuild their view
from the URL while the other students keep their worker to themselves; a new spare
then warms up at low priority. Without a ready spare the worker is restarted and
the balancer sends its students to the others meanwhile.

Usage::

    memviz serve --workers 2 --port 8501          # or: python -m memviz.serve ...
    memviz serve --workers 0 --backend 10.0.0.2:8501 --backend 10.0.0.3:8501   # balancer only
    memviz serve --workers 2 --no-balancer --worker-address 0.0.0.0             # workers only
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import secrets
import shutil
import signal
import socket
import string
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "deploy" / "haproxy.cfg.in"
HEALTH_PATH = "/_stcore/health"
START_TIMEOUT = 90.0
STOP_TIMEOUT = 10.0
POLL_S = 0.05
"""How often the supervisor looks for a worker that died: a spare must take its place before the students'
browsers reconnect (they retry at once), or the balancer sends them to the other workers."""
SPARE_NICE = 19
"""A spare warms up (imports, ~4 s of CPU) at the lowest priority, so a class being served does not pay for it."""


class ServeError(RuntimeError):
    """Something the operator must fix before the class can be served; the message says what."""


@dataclass
class Worker:
    """One ``streamlit run app.py`` process on its own port."""

    index: int
    address: str
    port: int
    log_path: Path
    proc: subprocess.Popen | None = None
    restarts: int = 0
    log: object | None = field(default=None, repr=False)
    spare: bool = False
    ready: bool = False
    exit_told: int | None = None  # the pid whose exit was already reported (a worker left down is told once)

    @property
    def name(self) -> str:
        """The balancer's name for it (``w1``...; the affinity cookie's value); a spare is ``s1``... until promoted."""
        return f"{'s' if self.spare else 'w'}{self.index}"

    @property
    def url(self) -> str:
        host = "127.0.0.1" if self.address in ("0.0.0.0", "") else self.address
        return f"http://{host}:{self.port}"

    def describe(self) -> str:
        return f"{'spare' if self.spare else 'worker'} {self.index} ({self.address}:{self.port})"


def port_is_free(address: str, port: int) -> bool:
    """Whether ``address:port`` can be bound right now."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as tornado and HAProxy bind: TIME_WAIT is no owner
        try:
            s.bind((address, port))
        except OSError:
            return False
    return True


def missing_model_files(directory: Path | None = None) -> list[str]:
    """Pretrained files a worker would need but cannot find (a card without weights, or no models at all)."""
    from memviz.registry import PRETRAINED_DIR, weights_path

    directory = directory or PRETRAINED_DIR
    if not directory.is_dir():
        return [f"{directory} (the pretrained model folder) does not exist"]
    cards = sorted(directory.glob("*.json"))
    if not cards:
        return [f"{directory} holds no model cards (*.json)"]
    return [
        f"{weights_path(card.stem, directory)} (weights of {card.name})"
        for card in cards
        if not weights_path(card.stem, directory).is_file()
    ]


def worker_command(app: Path, address: str, port: int, extra: Sequence[str] = ()) -> list[str]:
    """The command line of one worker: ``streamlit run app.py`` with memviz's class limits installed first."""
    return [
        sys.executable,
        "-m",
        "memviz.ui.worker",
        "run",
        str(app),
        "--server.headless=true",
        f"--server.address={address}",
        f"--server.port={port}",
        "--browser.gatherUsageStats=false",
        # a served class does not edit the code: no file watcher threads, no reruns on save
        "--server.fileWatcherType=none",
        # Streamlit's full gc.collect(2) after every run was ~90% of a rerun's server CPU (~200 ms of
        # ~230 ms, bench/profile_rerun.py); the worker freezes its start-up heap and Python's own
        # generational collector still frees cycles (RSS after 200 sessions: bench/bench_class.py)
        "--runner.postScriptGC=false",
        "--server.runOnSave=false",
        *extra,
    ]


def start_worker(worker: Worker, app: Path, cookie_secret: str, extra: Sequence[str], nice: int = 0) -> None:
    """Start (or restart) a worker process, ``nice`` lower in priority; its output goes to its log file."""
    worker.log = open(worker.log_path, "ab")  # noqa: SIM115 (closed in stop_process)
    worker.ready = False
    worker.proc = subprocess.Popen(
        worker_command(app, worker.address, worker.port, extra),
        cwd=app.parent,
        stdout=worker.log,
        stderr=subprocess.STDOUT,
        preexec_fn=(lambda: os.nice(nice)) if nice else None,  # the supervisor has one thread
        # one secret for all workers: a student moved to another worker keeps a valid XSRF cookie
        # (Streamlit takes it from the environment only, never from the command line)
        env={**os.environ, "PYTHONUNBUFFERED": "1", "STREAMLIT_SERVER_COOKIE_SECRET": cookie_secret},
    )


def can_restore_priority() -> bool:
    """Whether this process may put a low-priority spare back to normal priority when it takes a worker's place.

    Raising a nice value is always allowed; lowering it back needs root (CAP_SYS_NICE) or an
    RLIMIT_NICE of 20 (``nice`` in /etc/security/limits.conf). Without either, spares start at
    normal priority: a spare left at low priority would serve its students slower than the rest.
    """
    if os.geteuid() == 0:
        return True
    soft, _ = resource.getrlimit(resource.RLIMIT_NICE)
    return soft == resource.RLIM_INFINITY or soft >= 20


def set_priority(pid: int, nice: int) -> None:
    """Every thread of process ``pid`` to ``nice`` (Linux keeps one per thread; a new thread inherits its creator's)."""
    try:
        threads = os.listdir(f"/proc/{pid}/task")
    except FileNotFoundError:
        return
    for tid in threads:
        with contextlib.suppress(ProcessLookupError):  # a thread that ended meanwhile
            os.setpriority(os.PRIO_PROCESS, int(tid), nice)


def balancer_command(stats_socket: Path, command: str) -> str:
    """One command on HAProxy's runtime API (the admin-level stats socket of the rendered config); its reply."""
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(2.0)
        s.connect(str(stats_socket))
        s.sendall(command.encode() + b"\n")
        reply = b""
        while chunk := s.recv(65536):
            reply += chunk
    return reply.decode(errors="replace").strip()


def log_tail(path: Path, lines: int = 6) -> str:
    """The last lines of a log, indented, to explain why a process stopped."""
    try:
        text = path.read_text(errors="replace").strip().splitlines()[-lines:]
    except OSError:
        return ""
    return "\n".join(f"    | {line}" for line in text)


def is_healthy(url: str, timeout: float = 2.0) -> bool:
    """Whether Streamlit's health endpoint at ``url`` answers 200."""
    try:
        with urllib.request.urlopen(url + HEALTH_PATH, timeout=timeout) as response:
            return response.status == 200
    except OSError:
        return False


def wait_healthy(workers: Sequence[Worker], timeout: float = START_TIMEOUT) -> None:
    """Wait until every worker answers its health check; name the first one that exits or times out."""
    pending = list(workers)
    deadline = time.monotonic() + timeout
    while pending:
        for worker in list(pending):
            assert worker.proc is not None
            if worker.proc.poll() is not None:
                raise ServeError(
                    f"{worker.describe()} exited with code {worker.proc.returncode} while starting; "
                    f"its log ({worker.log_path}) ends:\n{log_tail(worker.log_path)}"
                )
            if is_healthy(worker.url):
                pending.remove(worker)
        if pending and time.monotonic() > deadline:
            names = ", ".join(w.describe() for w in pending)
            raise ServeError(f"{names} did not answer {HEALTH_PATH} within {timeout:.0f} s")
        if pending:
            time.sleep(0.25)


def render_config(bind: str, servers: Sequence[tuple[str, str]], stats_socket: Path, template: Path = TEMPLATE) -> str:
    """HAProxy's config from the template: ``servers`` are (name, host:port) pairs, one backend line each."""
    lines = [f"    server {name} {target} check cookie {name}" for name, target in servers]
    return string.Template(template.read_text()).substitute(
        bind=bind, servers="\n".join(lines), stats_socket=str(stats_socket)
    )


def find_haproxy(explicit: str | None) -> str:
    """The haproxy binary: ``--haproxy``, then PATH, then Debian's /usr/sbin (not always on a user's PATH)."""
    for candidate in (explicit, shutil.which("haproxy"), "/usr/sbin/haproxy"):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    raise ServeError("haproxy is not installed: `apt-get install haproxy` (bash setup.sh --test installs it)")


def check_config(haproxy: str, config: Path) -> None:
    """``haproxy -c``: refuse to start with a config HAProxy would reject."""
    result = subprocess.run([haproxy, "-c", "-f", str(config)], capture_output=True, text=True)
    if result.returncode != 0:
        raise ServeError(f"HAProxy rejects {config}:\n{result.stdout}{result.stderr}")


def stop_process(proc: subprocess.Popen | None, timeout: float = STOP_TIMEOUT) -> None:
    """SIGTERM, then SIGKILL after ``timeout`` seconds."""
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


class StopServingError(Exception):
    """Raised by the signal handler to leave the supervision loop."""


def _raise_stop(signum: int, _frame: object) -> None:
    raise StopServingError(signal.Signals(signum).name)


@dataclass
class Plan:
    """What ``memviz serve`` was asked to run."""

    workers: int
    port: int
    address: str
    worker_address: str
    first_worker_port: int
    backends: list[str]
    balancer: bool
    app: Path
    haproxy: str | None
    run_dir: Path
    restart: bool
    streamlit_args: list[str]
    spares: int = 0

    def worker_ports(self) -> list[int]:
        return [self.first_worker_port + i for i in range(self.workers)]

    def spare_ports(self) -> list[int]:
        """Spares listen right after the workers."""
        return [self.first_worker_port + self.workers + i for i in range(self.spares)]


def preflight(plan: Plan) -> None:
    """Every check that can fail before a process starts: app, model files, ports."""
    if not plan.app.is_file():
        raise ServeError(f"no app at {plan.app}")
    missing = missing_model_files()
    if missing and plan.workers:
        raise ServeError("a worker would start without its models; missing: " + "; ".join(missing))
    if plan.balancer and not port_is_free(plan.address, plan.port):
        raise ServeError(f"the balancer's port {plan.address}:{plan.port} is taken")
    for i, port in enumerate(plan.worker_ports(), start=1):
        if not port_is_free(plan.worker_address, port):
            raise ServeError(f"worker {i}: port {plan.worker_address}:{port} is taken (choose --first-worker-port)")
    for i, port in enumerate(plan.spare_ports(), start=1):
        if not port_is_free(plan.worker_address, port):
            raise ServeError(f"spare {i}: port {plan.worker_address}:{port} is taken (choose --first-worker-port)")
    if plan.balancer and not plan.workers and not plan.backends:
        raise ServeError("nothing to balance: give --workers N or --backend host:port")


def serve(plan: Plan) -> int:
    """Run the workers and the balancer until a signal; 0 on a clean stop, 1 if something failed to start."""
    plan.run_dir.mkdir(parents=True, exist_ok=True)
    cookie_secret = os.environ.get("MEMVIZ_COOKIE_SECRET") or secrets.token_hex(32)
    workers = [
        Worker(i, plan.worker_address, port, plan.run_dir / f"worker{i}.log")
        for i, port in enumerate(plan.worker_ports(), start=1)
    ]
    spares = [
        Worker(i, plan.worker_address, port, plan.run_dir / f"spare{i}.log", spare=True)
        for i, port in enumerate(plan.spare_ports(), start=1)
    ]
    balancer: subprocess.Popen | None = None
    previous = {sig: signal.signal(sig, _raise_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        preflight(plan)
        haproxy = find_haproxy(plan.haproxy) if plan.balancer else ""
        for worker in workers:
            start_worker(worker, plan.app, cookie_secret, plan.streamlit_args)
        wait_healthy(workers)
        for worker in workers:
            say(f"{worker.describe()} is up: {worker.url} (log {worker.log_path})")
        if plan.balancer:
            balancer = start_balancer(plan, haproxy, workers)
            say(f"serving memviz at http://{plan.address}:{plan.port} with {len(workers) + len(plan.backends)} workers")
        for spare in spares:  # after the workers: the class is served while the spares warm up
            start_spare(plan, spare, cookie_secret)
        write_state(plan.run_dir, workers, balancer, spares)
        supervise(plan, workers, balancer, cookie_secret, spares)
        return 0
    except ServeError as exc:
        say(f"error: {exc}")
        return 1
    except StopServingError as stop:
        say(f"{stop}: stopping the balancer and {len(workers)} workers")
        return 0
    finally:
        stop_process(balancer)
        for worker in [*workers, *spares]:
            stop_process(worker.proc)
            if worker.log:
                worker.log.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def start_balancer(plan: Plan, haproxy: str, workers: Sequence[Worker]) -> subprocess.Popen:
    """Render the config into the run folder, check it, and start HAProxy in the foreground."""
    servers = [(w.name, f"{w.url.removeprefix('http://')}") for w in workers]
    servers += [(f"b{i}", target) for i, target in enumerate(plan.backends, start=1)]
    config = plan.run_dir / "haproxy.cfg"
    config.write_text(render_config(f"{plan.address}:{plan.port}", servers, plan.run_dir / "haproxy.sock"))
    check_config(haproxy, config)
    proc = subprocess.Popen([haproxy, "-db", "-f", str(config)], stdout=sys.stderr, stderr=sys.stderr)
    deadline = time.monotonic() + 10
    while not is_healthy(f"http://{'127.0.0.1' if plan.address == '0.0.0.0' else plan.address}:{plan.port}"):
        if proc.poll() is not None:
            raise ServeError(f"haproxy exited with code {proc.returncode} (config {config})")
        if time.monotonic() > deadline:
            raise ServeError(f"haproxy did not answer on {plan.address}:{plan.port} within 10 s")
        time.sleep(0.2)
    return proc


def start_spare(plan: Plan, spare: Worker, cookie_secret: str) -> None:
    """Start a spare worker: a warm process outside the balancer, at low priority while it warms up."""
    nice = SPARE_NICE if can_restore_priority() else 0
    start_worker(spare, plan.app, cookie_secret, plan.streamlit_args, nice=nice)
    say(f"{spare.describe()} starting{' at low priority' if nice else ''}; it takes the place of a worker that dies")


def promote(plan: Plan, dead: Worker, spare: Worker) -> bool:
    """Put the warm ``spare`` where the ``dead`` worker was: same balancer name, so its students' cookie leads there.

    HAProxy's runtime API points the dead worker's server line at the spare's port and marks it up
    (the dead process's refused connections had marked it down). The spare gets normal priority back.
    The two Worker records swap process, port and log, so the spare slot holds the dead port, free
    for the next spare (which logs to a new ``spare<i>.<n>.log``). False if the balancer refused
    (the caller restarts the worker instead).
    """
    assert spare.proc is not None
    stats_socket = plan.run_dir / "haproxy.sock"
    host = "127.0.0.1" if spare.address in ("0.0.0.0", "") else spare.address
    try:
        for command in (
            f"set server streamlit/{dead.name} addr {host} port {spare.port}",
            f"set server streamlit/{dead.name} state ready",
            f"set server streamlit/{dead.name} health up",
        ):
            reply = balancer_command(stats_socket, command)
            if reply and not reply.startswith(("IP changed", "no need to change", "port changed")):
                say(f"haproxy refused `{command}`: {reply}")
                return False
    except OSError as exc:
        say(f"could not reach haproxy's runtime API at {stats_socket}: {exc}")
        return False
    set_priority(spare.proc.pid, 0)
    for attr in ("port", "proc", "log", "log_path"):
        dead_value, spare_value = getattr(dead, attr), getattr(spare, attr)
        setattr(dead, attr, spare_value)
        setattr(spare, attr, dead_value)
    dead.ready, spare.ready = True, False
    spare.restarts += 1
    spare.log_path = spare.log_path.with_name(f"spare{spare.index}.{spare.restarts}.log")  # the next spare's own log
    return True


def replace_dead_worker(plan: Plan, worker: Worker, spares: Sequence[Worker], cookie_secret: str) -> bool:
    """A worker died: a ready spare takes its place, else it restarts on its port. True if anything changed.

    Called on every poll while the worker stays down (its port still taken, or ``--no-restart``): says so once.
    """
    assert worker.proc is not None
    first_time = worker.exit_told != worker.proc.pid
    if first_time:
        worker.exit_told = worker.proc.pid
        say(f"{worker.describe()} exited with code {worker.proc.returncode}")
        if worker.log:
            worker.log.close()
    spare = next((s for s in spares if s.ready and s.proc is not None and s.proc.poll() is None), None)
    if spare is not None and plan.balancer and promote(plan, worker, spare):
        say(f"spare {spare.index} now serves as {worker.name} on port {worker.port}: its students reconnect there")
        spare.proc = None  # the dead process it holds now; the next spare starts on its port (or once it is free)
        if plan.restart and port_is_free(spare.address, spare.port):
            start_spare(plan, spare, cookie_secret)
        return True
    if first_time:
        say(f"{worker.describe()}: its students go to the other workers")
    if plan.restart and port_is_free(worker.address, worker.port):
        worker.restarts += 1
        start_worker(worker, plan.app, cookie_secret, plan.streamlit_args)
        say(f"{worker.describe()} restarted ({worker.restarts}); the balancer adds it back once healthy")
        return True
    return False


def supervise(
    plan: Plan,
    workers: Sequence[Worker],
    balancer: subprocess.Popen | None,
    cookie_secret: str,
    spares: Sequence[Worker] = (),
) -> None:
    """Until a signal: a worker that died is replaced by a warm spare (or restarted); spares are kept warm."""
    next_health_check = 0.0
    while True:
        time.sleep(POLL_S)
        if balancer is not None and balancer.poll() is not None:
            raise ServeError(f"haproxy exited with code {balancer.returncode}")
        changed = False
        for worker in workers:
            assert worker.proc is not None
            if worker.proc.poll() is None:
                continue
            changed |= replace_dead_worker(plan, worker, spares, cookie_secret)
            if not plan.restart and all(w.proc is not None and w.proc.poll() is not None for w in workers):
                raise ServeError("every worker has exited")
        if time.monotonic() >= next_health_check:  # a spare's health, once a second (it serves nobody meanwhile)
            next_health_check = time.monotonic() + 1.0
            for spare in spares:
                if spare.proc is None:  # its port was still taken: try again
                    if plan.restart and port_is_free(spare.address, spare.port):
                        start_spare(plan, spare, cookie_secret)
                        changed = True
                    continue
                if spare.proc.poll() is not None:
                    if spare.log:
                        spare.log.close()
                    say(f"{spare.describe()} exited with code {spare.proc.returncode}")
                    spare.proc = None
                    if plan.restart and port_is_free(spare.address, spare.port):
                        start_spare(plan, spare, cookie_secret)
                    changed = True
                elif not spare.ready and is_healthy(spare.url, timeout=0.5):
                    spare.ready = changed = True
                    say(f"{spare.describe()} is warm and ready")
        if changed:
            write_state(plan.run_dir, workers, balancer, spares)


def write_state(
    run_dir: Path, workers: Sequence[Worker], balancer: subprocess.Popen | None, spares: Sequence[Worker] = ()
) -> None:
    """``run_dir/state.json``: the pid and port of every process, for operators, benchmarks and tests."""

    def entry(w: Worker) -> dict:
        return {"name": w.name, "port": w.port, "pid": w.proc.pid if w.proc else None, "log": str(w.log_path)}

    state = {
        "balancer_pid": balancer.pid if balancer else None,
        "stats_socket": str(run_dir / "haproxy.sock"),
        "workers": [entry(w) for w in workers],
        "spares": [{**entry(s), "ready": s.ready} for s in spares],
    }
    tmp = run_dir / "state.json.tmp"
    tmp.write_text(json.dumps(state, indent=1))
    tmp.replace(run_dir / "state.json")


def say(message: str) -> None:
    """One line on stderr, prefixed so it stands out among the workers' and HAProxy's."""
    print(f"memviz serve: {message}", file=sys.stderr, flush=True)


def parse_args(argv: Sequence[str] | None = None) -> Plan:
    parser = argparse.ArgumentParser(
        prog="memviz serve",
        description="Run N Streamlit workers of memviz behind HAProxy (session affinity, health checks).",
    )
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="worker processes (default: cores)")
    parser.add_argument("--port", type=int, default=8501, help="the balancer's port (default 8501)")
    parser.add_argument("--address", default="127.0.0.1", help="the balancer's address (default 127.0.0.1)")
    parser.add_argument("--worker-address", default="127.0.0.1", help="the workers' address (default 127.0.0.1)")
    parser.add_argument("--first-worker-port", type=int, default=0, help="worker i listens on this + i - 1 (--port+1)")
    parser.add_argument(
        "--backend", action="append", default=[], metavar="HOST:PORT", help="a worker on another machine (repeat)"
    )
    parser.add_argument("--no-balancer", action="store_true", help="start the workers only")
    parser.add_argument("--no-restart", action="store_true", help="leave a worker that died down")
    parser.add_argument(
        "--spares",
        type=int,
        default=1,
        help="warm spare workers that take a dead worker's place at once (default 1; 0 without a balancer)",
    )
    parser.add_argument("--app", type=Path, default=ROOT / "app.py", help="the Streamlit app (default: app.py)")
    parser.add_argument("--haproxy", help="path of the haproxy binary (default: from PATH or /usr/sbin)")
    parser.add_argument("--run-dir", type=Path, help="rendered config, socket and worker logs (default: a temp dir)")
    parser.add_argument("streamlit_args", nargs="*", help="after --: more options for every `streamlit run`")
    args = parser.parse_args(argv)
    if args.workers < 0:
        parser.error("--workers must be >= 0")
    if args.spares < 0:
        parser.error("--spares must be >= 0")
    run_dir = args.run_dir or Path(tempfile.mkdtemp(prefix="memviz-serve-"))
    return Plan(
        workers=args.workers,
        port=args.port,
        address=args.address,
        worker_address=args.worker_address,
        first_worker_port=args.first_worker_port or args.port + 1,
        backends=list(args.backend),
        balancer=not args.no_balancer,
        app=args.app.resolve(),
        haproxy=args.haproxy,
        run_dir=run_dir.resolve(),
        restart=not args.no_restart,
        streamlit_args=list(args.streamlit_args),
        spares=args.spares if args.workers and not args.no_balancer else 0,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m memviz.serve``: see the module docstring."""
    return serve(parse_args(argv))


def cli(argv: Sequence[str] | None = None) -> int:
    """The ``memviz`` console command: ``memviz serve ...`` (the one subcommand so far)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] != "serve":
        print("usage: memviz serve [--workers N] [--port P] ...   (memviz serve --help)", file=sys.stderr)
        return 2
    return main(argv[1:])


if __name__ == "__main__":
    sys.exit(main())
