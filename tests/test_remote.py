"""A real Dask cluster on localhost, started with the ``dask`` CLI as docs/remote.md says
(``dask scheduler`` and ``dask worker``): ``--scheduler tcp://...`` gives the serial
results, reads the worker count from the cluster, prints the dashboard link, and refuses
workers that run other software (exit 2).

The cluster takes ~10 s to start on a busy 2-core machine, so its tests run when
``MOLRG_TEST_CLUSTER=1`` (CI's "dask CLI cluster" lane, .ci/run):

    MOLRG_TEST_CLUSTER=1 python -m pytest tests/test_remote.py -q
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from verify import cli, parallel

pytest.importorskip("distributed")
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
SMALL_MAP = ["map", "--K", "2,5", "--d", "1,8", "--delta", "0.3", "--quiet"]
cluster = pytest.mark.skipif(os.environ.get("MOLRG_TEST_CLUSTER") != "1",
                             reason="starts a dask CLI cluster: MOLRG_TEST_CLUSTER=1")


def _dask(*args: str) -> list[str]:
    exe = shutil.which("dask", path=os.path.dirname(sys.executable)) or shutil.which("dask")
    return [exe, *args] if exe else [sys.executable, "-m", "dask", *args]


@pytest.fixture(scope="module")
def scheduler(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``dask scheduler`` and ``dask worker --nworkers 2`` on localhost; the address."""
    tmp = tmp_path_factory.mktemp("cluster")
    file = tmp / "scheduler.json"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])}
    procs = [subprocess.Popen(
        _dask("scheduler", "--host", "127.0.0.1", "--port", "0", "--dashboard-address",
              "127.0.0.1:0", "--scheduler-file", str(file)),
        cwd=tmp, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True)]
    try:
        deadline = time.monotonic() + 60
        while not file.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        address = json.loads(file.read_text())["address"]
        procs.append(subprocess.Popen(
            _dask("worker", address, "--nworkers", "2", "--nthreads", "1", "--no-dashboard",
                  "--local-directory", str(tmp)),
            cwd=tmp, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True))
        from dask.distributed import Client

        with Client(address, timeout="30s") as client:
            client.wait_for_workers(2, timeout=60)
        yield address
    finally:
        for p in reversed(procs):
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
        for p in reversed(procs):
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)


@cluster
def test_map_on_a_dask_cli_cluster_equals_serial_and_reads_its_worker_count(
        scheduler: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    serial, remote = tmp_path / "serial.json", tmp_path / "remote.json"
    assert cli.main([*SMALL_MAP, "--scheduler", "serial", "--json", str(serial)]) in (0, 1)
    capsys.readouterr()
    # --workers is the LocalCluster's size: a remote cluster reports its own (2)
    assert cli.main([*SMALL_MAP, "--scheduler", scheduler, "--workers", "7",
                     "--json", str(remote)]) in (0, 1)
    err = capsys.readouterr().err
    data = json.loads(remote.read_text())
    assert data["results"] == json.loads(serial.read_text())["results"]
    assert data["workers"] == 2, data["workers"]
    assert f"dask: {scheduler} scheduler, 2 worker(s), dashboard http://127.0.0.1:" in err, err


@cluster
def test_workers_running_other_software_are_refused_with_exit_2(
        scheduler: str, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """The workers compute the real :func:`verify.parallel.environment`; this process
    pretends to run another numpy and other molrg sources."""
    real = parallel.environment()
    monkeypatch.setattr(parallel, "environment", lambda: {
        **real, "numpy": "0.0.1", "molrg sources": "000000000000"})
    assert cli.main([*SMALL_MAP, "--scheduler", scheduler]) == 2
    err = capsys.readouterr().err
    assert "do not run the same software" in err and "numpy: here 0.0.1" in err, err
    assert "molrg sources: here 000000000000" in err and "Traceback" not in err, err


def test_unreachable_scheduler_is_exit_2(monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(parallel, "CONNECT_TIMEOUT", "1s")
    assert cli.main([*SMALL_MAP, "--scheduler", "tcp://127.0.0.1:9"]) == 2
    err = capsys.readouterr().err
    assert "cannot be reached" in err and "Traceback" not in err, err


@cluster
def test_ctrl_c_under_a_local_cluster_prints_one_line() -> None:
    """Ctrl-C reaches the terminal's whole process group: the workers ignore it, the
    command says ``interrupted`` (exit 130) and no worker prints a traceback (issue 24:
    67 lines)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "verify", "map", "--scheduler", "local", "--workers", "2",
         "--quiet"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,
        # as from a terminal: a runner that starts the suite in the background (SIGINT
        # ignored, inherited through exec) must not make this test vacuous or hang
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        assert proc.stderr is not None
        first = proc.stderr.readline()  # printed once the tasks are submitted
        assert first.startswith("dask: local scheduler, 2 worker(s)"), first
        time.sleep(3)  # the workers are computing
        os.killpg(proc.pid, signal.SIGINT)
        _out, rest = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 130
    assert rest.strip() == "python -m verify map: interrupted", rest


def _sigint_ignored() -> bool:
    """Whether this process ignores SIGINT (bit 2 of ``SigIgn`` in /proc/self/status)."""
    with open("/proc/self/status") as f:
        line = next(x for x in f if x.startswith("SigIgn:"))
    return bool(int(line.split()[1], 16) & (1 << (signal.SIGINT - 1)))


@cluster
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc")
def test_local_workers_ignore_sigint_and_this_process_does_not() -> None:
    # this process keeps the SIGINT disposition it had (default when run from a terminal;
    # ignored when a runner starts the suite in the background)
    before_ignored, before_handler = _sigint_ignored(), signal.getsignal(signal.SIGINT)
    client, local = parallel._connect("local", 2)
    try:
        ignored = client.run(_sigint_ignored)
    finally:
        client.close()
        local.close()
    assert len(ignored) == 2 and all(ignored.values()), ignored
    assert _sigint_ignored() == before_ignored
    assert signal.getsignal(signal.SIGINT) is before_handler


def _blas_threads_now(task: parallel.Task) -> int:
    from threadpoolctl import threadpool_info

    return max(i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas")


def test_a_dask_task_runs_with_one_blas_thread() -> None:
    """What each Dask worker runs (``_run_one_on_worker``) limits BLAS to one thread, also
    on a worker started without the nanny's OPENBLAS_NUM_THREADS=1."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=2, user_api="blas"):
        if _blas_threads_now(parallel.Task("x", {})) < 2:
            pytest.skip("this BLAS cannot run 2 threads here")
        key, ok, threads = parallel._run_one_on_worker(_blas_threads_now, parallel.Task("x", {}))
        assert (key, ok, threads) == ("x", True, 1)
        assert _blas_threads_now(parallel.Task("x", {})) == 2
