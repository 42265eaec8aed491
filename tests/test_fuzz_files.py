"""Files like a careful Unix tool (issue 20, item 4): the CLI's outputs on devices, pipes,
symbolic links, full disks, read-only folders, concurrent writers and damaged --resume
files; environment failures are exit 2 with the cause, a planted bug is exit 3.

Devices are stood in for by a FIFO and a symbolic link in a temporary folder; where the
test runs as root, ``/dev/null`` itself is written and must stay a character device.
"""

from __future__ import annotations

import errno
import json
import os
import stat
import threading
from pathlib import Path

import pytest

from verify import cli, parallel, report

T1 = ["theorem1", "--num-sigma", "6", "--input", "clean", "--quiet"]
"""A theorem1 run of ~0.1 s (exact quadrature)."""
SWEEP = ["sweep", "--vary", "K", "--values", "2,3", "--method", "reduced", "--samples", "500",
         "--num-sigma", "5", "--input", "noisy", "--quiet", "--exit-zero"]
"""A multi-setting run (two tasks, resumable)."""


def debris(folder: Path) -> list[str]:
    """Temporary files left in ``folder``."""
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp")
                  or p.name.startswith(".molrg-write-check-"))


def test_json_dash_writes_the_envelope_to_stdout_and_the_report_to_stderr(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    assert cli.main([*T1, "--json", "-"]) in (0, 1)
    out, err = capsys.readouterr()
    data = json.loads(out)  # stdout is the JSON and nothing else
    assert data["format"] == "molrg-result" and data["command"] == "theorem1"
    assert "verdict" in err.lower()
    assert not Path(tmp_path, "-").exists()


def test_json_to_a_fifo_is_written_in_place(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    reader.start()
    code = cli.main([*T1, "--json", str(fifo)])
    reader.join(timeout=30)
    assert code in (0, 1)
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)  # still a pipe, not a regular file
    assert json.loads(received[0])["command"] == "theorem1"
    assert debris(tmp_path) == []


def test_json_through_a_symlink_keeps_the_link(tmp_path: Path) -> None:
    target = tmp_path / "real" / "out.json"
    target.parent.mkdir()
    target.write_text("old")
    link = tmp_path / "link.json"
    link.symlink_to(target)
    assert cli.main([*T1, "--json", str(link)]) in (0, 1)
    assert link.is_symlink() and json.loads(target.read_text())["command"] == "theorem1"
    assert debris(tmp_path) == [] and debris(target.parent) == []


def test_json_through_a_symlink_to_a_device_stays_a_device(tmp_path: Path) -> None:
    link = tmp_path / "null.json"
    link.symlink_to("/dev/null")
    assert cli.main([*T1, "--json", str(link)]) in (0, 1)
    assert link.is_symlink() and stat.S_ISCHR(os.stat("/dev/null").st_mode)


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root")
def test_json_dev_null_as_root_stays_a_character_device() -> None:
    assert cli.main([*T1, "--json", "/dev/null"]) in (0, 1)
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full")
def test_a_full_device_is_exit_2_with_the_cause(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main([*T1, "--json", "/dev/full"]) == 2
    err = capsys.readouterr().err
    assert "--json='/dev/full'" in err and "No space left" in err and "Traceback" not in err
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)


@pytest.mark.parametrize("what", ["json", "plot"])
def test_a_full_disk_is_exit_2_and_leaves_no_debris(what: str, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    """ENOSPC in the middle of a write: exit 2 naming the option, no temporary file, no
    0-byte figure, and an existing file is left untouched."""
    path = tmp_path / ("out.json" if what == "json" else "fig.png")
    path.write_bytes(b"previous")
    real_fsync = os.fsync

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full)
    code = cli.main([*T1, f"--{what}", str(path)])
    monkeypatch.setattr(os, "fsync", real_fsync)
    err = capsys.readouterr().err
    assert code == 2, err
    assert f"--{what}=" in err and "No space left" in err and "bug" not in err
    assert path.read_bytes() == b"previous"
    assert debris(tmp_path) == []


def test_an_unwritable_folder_is_exit_2_before_any_work(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(report, "open_output", None)  # never reached
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert cli.main([*T1, "--json", str(blocker / "out.json")]) == 2
    assert "--json=" in capsys.readouterr().err


def test_concurrent_writers_use_unique_temporary_names(tmp_path: Path) -> None:
    """Issue 20: two runs sharing '<path>.tmp' lost a result 1 in 12 rounds."""
    path = tmp_path / "out.json"
    errors: list[BaseException] = []

    def write(i: int) -> None:
        try:
            for j in range(40):
                report.write_json(path, {"writer": i, "round": j, "pad": "x" * 20_000})
        except BaseException as exc:  # pragma: no cover - the failure being tested
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert json.loads(path.read_text())["round"] == 39
    assert debris(tmp_path) == []


def test_new_files_get_the_usual_permissions(tmp_path: Path) -> None:
    umask = os.umask(0o022)
    try:
        report.write_json(tmp_path / "a.json", {"x": 1})
    finally:
        os.umask(umask)
    assert stat.S_IMODE(os.stat(tmp_path / "a.json").st_mode) == 0o644


def test_an_unreachable_scheduler_is_exit_2(monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("distributed")
    monkeypatch.setattr(parallel, "CONNECT_TIMEOUT", "1s")
    code = cli.main([*SWEEP, "--scheduler", "tcp://127.0.0.1:1"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "--scheduler='tcp://127.0.0.1:1'" in err and "bug" not in err


def test_a_missing_optional_package_is_exit_2(monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    from verify import theorem1

    def needs_torch(args: object) -> object:
        raise ModuleNotFoundError("No module named 'torch'", name="torch")

    monkeypatch.setattr(theorem1.Theorem1, "execute", lambda self, args: needs_torch(args))
    assert cli.main(T1) == 2
    err = capsys.readouterr().err
    assert "'torch'" in err and "pip install" in err and "bug" not in err


def test_a_planted_internal_error_is_exit_3(monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    from verify import theorem1

    def bug(args: object) -> object:
        raise ZeroDivisionError("planted")

    monkeypatch.setattr(theorem1.Theorem1, "execute", lambda self, args: bug(args))
    assert cli.main(T1) == 3
    err = capsys.readouterr().err
    assert "Traceback" in err and "internal error: ZeroDivisionError: planted" in err
    # a module that is not an optional extra is a bug too
    monkeypatch.setattr(theorem1.Theorem1, "execute", lambda self, args: __import__("molrg._no_such_module"))
    assert cli.main(T1) == 3


def _resumable(tmp_path: Path) -> tuple[Path, dict]:
    path = tmp_path / "run.json"
    assert cli.main([*SWEEP, "--json", str(path)]) in (0, 1)
    return path, json.loads(path.read_text())


def _damaged(data: dict) -> list[tuple[str, dict]]:
    run = next(iter(data["runs"]))
    mode = next(iter(data["runs"][run]["modes"]))

    def with_run(value: object) -> dict:
        return {**data, "runs": {**data["runs"], run: value}}

    def with_mode(**change: object) -> dict:
        m = {**data["runs"][run]["modes"][mode], **change}
        return with_run({**data["runs"][run], "modes": {mode: m}})

    return [
        ("runs is a list", {**data, "runs": [1, 2]}),
        ("a run is a number", with_run(3)),
        ("a run lacks modes", with_run({k: v for k, v in data["runs"][run].items()
                                        if k != "modes"})),
        ("modes is a string", with_run({**data["runs"][run], "modes": "noisy"})),
        ("a verdict is a number", with_mode(verdict=1)),
        ("a peak is a string", with_mode(peak_sigma_simulated="0.3")),
        ("sigma is a dict", with_mode(sigma={"a": 1})),
    ]


def test_resume_refuses_malformed_stored_results(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """Issue 20: matching arguments with malformed results raised AttributeError,
    TypeError or KeyError; now exit 2 naming the file and the damage."""
    path, data = _resumable(tmp_path)
    for label, damaged in _damaged(data):
        path.write_text(json.dumps(damaged))
        code = cli.main([*SWEEP, "--json", str(path), "--resume"])
        err = capsys.readouterr().err
        assert code == 2, (label, err)
        assert "cannot be resumed" in err and "Traceback" not in err, label
    path.write_text(json.dumps(data))  # the intact file resumes
    assert cli.main([*SWEEP, "--json", str(path), "--resume"]) in (0, 1)


def test_ctrl_c_flushes_the_partial_json(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    """Ctrl-C after the first setting: the partial JSON holds it (within the partial-write
    interval nothing had been written before) and --resume finishes from there."""
    from verify import sweep, theorem

    calls = []
    real = sweep._task

    def interrupted(task: parallel.Task) -> dict:
        calls.append(task.key)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(task)

    monkeypatch.setattr(parallel, "PARTIAL_EVERY", 1e9)  # no timed partial write at all
    monkeypatch.setattr(sweep, "_task", interrupted)
    path = tmp_path / "run.json"
    assert cli.main([*SWEEP, "--json", str(path)]) == 130
    data = json.loads(path.read_text())
    assert data["partial"] is True and data["verdict"] is None
    assert list(data["runs"]) == [calls[0]]
    assert "partial results in" in capsys.readouterr().err
    ran = []
    monkeypatch.setattr(theorem, "run", _counting(theorem.run, ran))
    monkeypatch.setattr(sweep, "_task", real)
    assert cli.main([*SWEEP, "--json", str(path), "--resume"]) in (0, 1)
    assert len(ran) == 1  # only the unfinished setting ran
    assert json.loads(path.read_text())["partial"] is False


def _counting(fn: object, log: list) -> object:
    def wrapper(*args: object, **kwargs: object) -> object:
        log.append(1)
        return fn(*args, **kwargs)  # type: ignore[operator]

    return wrapper


def test_json_dev_stdout_redirected_to_a_file_keeps_the_report(tmp_path: Path) -> None:
    """``--json /dev/stdout > out.txt``: the JSON is appended after the report on the same
    descriptor; the file is not replaced (which would lose the report)."""
    import subprocess
    import sys

    out = tmp_path / "out.txt"
    root = Path(__file__).resolve().parent.parent
    with out.open("w") as f:
        code = subprocess.run([sys.executable, "-m", "verify", *T1, "--json", "/dev/stdout"],
                              stdout=f, stderr=subprocess.PIPE, cwd=root, timeout=120).returncode
    assert code in (0, 1)
    text = out.read_text()
    assert "verdict" in text.split('{\n  "format"')[0].lower()  # the report came first
    assert '"format": "molrg-result"' in text
    assert debris(tmp_path) == []


@pytest.mark.parametrize("argv", [
    ["probe", "--K", "2", "--d", "2", "--n", "8", "--N", "10", "--probes", "linear,energy",
     "--samples", "200", "--snr-samples", "200", "--num-sigma", "5", "--quiet"],
    [*SWEEP[:-3], "clean", "--quiet", "--exit-zero"],
], ids=["probe-other-probes", "sweep-clean-input"])
def test_resume_accepts_results_whose_shape_depends_on_the_options(
        argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The schemas require only a task's own keys: the modes (--input) and the probes
    (--probes) inside it vary with the options, so an intact file of another choice than
    the schema's examples still resumes."""
    path = tmp_path / "run.json"
    assert cli.main([*argv, "--json", str(path)]) in (0, 1, 4)  # 4: undetermined (small samples)
    assert cli.main([*argv, "--json", str(path), "--resume"]) in (0, 1, 4), capsys.readouterr().err


def test_only_descriptor_paths_are_appended() -> None:
    assert report._stream_path("/dev/stdout") and report._stream_path("/dev/fd/3")
    assert report._stream_path("/proc/self/fd/1")
    assert not report._stream_path("/dev/shm/out.json")  # a tmpfs file: replaced atomically
    assert not report._stream_path("out.json")
