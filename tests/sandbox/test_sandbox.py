"""The sandbox against real processes: no mocks, every test runs actual commands."""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

import sandbox._process
from sandbox import Limits, Sandbox, _confine, clean_environment
from sandbox._process import OUTPUT_LIMIT
from sandbox._sandbox import _copy_tree
from tests.sandbox.procs import await_marked, gone, sleeper, wait_marked

PYTHON = sys.executable


# --- running commands --------------------------------------------------------------------------


@pytest.mark.usefixtures("layer")
def test_captures_output_and_returncode(box: Sandbox) -> None:
    result = box.run(["sh", "-c", "echo out; echo err >&2; exit 3"], timeout=10)
    assert (result.returncode, result.stdout, result.stderr) == (3, "out\n", "err\n")
    assert result.argv == ("sh", "-c", "echo out; echo err >&2; exit 3")
    assert not result.timed_out and not result.ok
    assert 0 < result.duration < 5
    assert box.run(["true"], timeout=10).ok


@pytest.mark.usefixtures("layer")
def test_stdin_and_undecodable_output(box: Sandbox) -> None:
    result = box.run(["sh", "-c", "cat; printf '\\377'"], timeout=10, stdin="héllo")
    assert result.stdout == "héllo\ufffd"


@pytest.mark.usefixtures("layer")
def test_signal_gives_negative_returncode(box: Sandbox) -> None:
    # Exact even where a wrapper (bubblewrap, unshare --fork) would report 128 + n.
    assert box.run(["sh", "-c", "kill -TERM $$"], timeout=10).returncode == -signal.SIGTERM


@pytest.mark.usefixtures("layer")
def test_missing_command_is_127(box: Sandbox) -> None:
    result = box.run(["no-such-command-here"], timeout=10)
    assert result.returncode == 127 and "not found" in result.stderr


@pytest.mark.usefixtures("layer")
def test_cwd_is_work_or_relative_to_it(box: Sandbox) -> None:
    assert box.run(["pwd"], timeout=10).stdout.strip() == str(box.work)
    assert box.run(["pwd"], timeout=10, cwd=Path("pkg")).stdout.strip() == str(box.work / "pkg")


@pytest.fixture(params=[True, False], ids=["pidfd", "polling"])
def exit_watch(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run a test both with pidfd exit notification and with the polling fallback."""
    monkeypatch.setattr(sandbox._process, "_USE_PIDFD", request.param)


@pytest.mark.usefixtures("exit_watch")
def test_timeout_kills_the_whole_group(box: Sandbox, marker: str) -> None:
    started = time.monotonic()
    script = f'sh -c "$SLEEPER" & {await_marked(marker)}; sh -c "$SLEEPER"'
    result = box.run(["sh", "-c", script], timeout=1, env={"SLEEPER": sleeper(marker)})
    assert time.monotonic() - started < 3
    assert result.timed_out and not result.ok
    assert result.returncode == -signal.SIGKILL
    assert gone(marker)


@pytest.mark.usefixtures("exit_watch")
def test_leftover_background_process_is_killed_without_waiting(box: Sandbox, marker: str) -> None:
    # The background sleeper keeps stdout open: communicate() would wait 100 s for EOF.
    started = time.monotonic()
    script = f'sh -c "$SLEEPER" & {await_marked(marker)}'
    result = box.run(["sh", "-c", script], timeout=30, env={"SLEEPER": sleeper(marker)})
    assert time.monotonic() - started < 3
    assert result.ok, result
    assert gone(marker)


def test_output_is_capped(box: Sandbox) -> None:
    flood = (
        f"import sys; sys.stdout.write('x' * {OUTPUT_LIMIT + 1000}); print('e', file=sys.stderr)"
    )
    result = box.run([PYTHON, "-c", flood], timeout=30)
    assert result.ok
    assert result.stdout.startswith("x" * OUTPUT_LIMIT)
    assert "truncated, 1000 more bytes dropped" in result.stdout
    assert result.stderr == "e\n"


def test_ignored_signals_are_reset_for_the_command(box: Sandbox) -> None:
    # The Python launcher ignores SIGPIPE; a shell pipeline must not inherit that.
    status = box.run(["grep", "SigIgn", "/proc/self/status"], timeout=10).stdout
    assert status.split() == ["SigIgn:", "0000000000000000"]
    result = box.run(["sh", "-c", "yes | head -n 1"], timeout=10)
    assert (result.stdout, result.stderr) == ("y\n", "")


MARKS = "import os, time; time.sleep(0.8); os.write(1, b'['); time.sleep(0.1); os.write(1, b']')"


def test_clocked_stdout_says_when_the_command_wrote_not_when_we_read(box: Sandbox) -> None:
    """With ``clocked_stdout`` the kernel stamps each write: the 0.1 s between the two marks
    is measured as such even while the reading thread waits 0.25 s at a time for the GIL (a
    clock that reads when the marks are read sees them together, or 0.25 s apart)."""
    switch = sys.getswitchinterval()
    with ThreadPoolExecutor(max_workers=1) as pool:
        running = pool.submit(box.run, [PYTHON, "-c", MARKS], timeout=30, clocked_stdout=True)
        time.sleep(0.4)  # the command starts meanwhile
        sys.setswitchinterval(0.25)
        try:
            busy_until = time.monotonic() + 1.0  # past the marks, made 0.8 s after it started
            while time.monotonic() < busy_until:  # hold the GIL, as a busy machine keeps us
                sum(range(10_000))
        finally:
            sys.setswitchinterval(switch)
        result = running.result()
    assert result.ok and result.stdout == "[]", result
    (_, opened), (_, closed) = result.stdout_times
    assert 0.09 <= (closed - opened) / 1e9 < 0.13, result.stdout_times


def test_clocked_stdout_keeps_no_descriptor_the_command_sends(box: Sandbox) -> None:
    send = (
        "import os, socket; s = socket.socket(fileno=os.dup(1));"
        "s.sendmsg([b'x'], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, bytes(4 * 3))])"
    )
    before = len(os.listdir("/proc/self/fd"))
    result = box.run([PYTHON, "-c", send], timeout=30, clocked_stdout=True)
    assert result.ok and result.stdout == "x", result
    assert len(os.listdir("/proc/self/fd")) == before


def test_runs_from_several_threads(box: Sandbox) -> None:
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda i: box.run(["echo", str(i)], timeout=10), range(8)))
    assert [r.stdout for r in results] == [f"{i}\n" for i in range(8)]


# --- limits ------------------------------------------------------------------------------------


def test_address_space_limit_gives_memory_error(tmp_path: Path, source: Path) -> None:
    limits = Limits(address_space_mb=1024)
    with Sandbox.create(tmp_path / "boxes", source, limits=limits) as box:
        result = box.run([PYTHON, "-c", "x = bytearray(8 * 1024**3)"], timeout=30)
    assert result.returncode == 1
    assert "MemoryError" in result.stderr


def test_limits_are_set_in_the_command(tmp_path: Path, source: Path) -> None:
    limits = Limits(address_space_mb=2048, file_size_mb=1, open_files=64, cpu_seconds=50)
    show = (
        "import json, resource as r; print(json.dumps({n: r.getrlimit(getattr(r, n)) for n in "
        "['RLIMIT_AS', 'RLIMIT_FSIZE', 'RLIMIT_NOFILE', 'RLIMIT_CPU', 'RLIMIT_CORE']}))"
    )
    write = "open('big', 'wb').write(bytes(2 * 1024 * 1024))"
    with Sandbox.create(tmp_path / "boxes", source, limits=limits) as box:
        shown = json.loads(box.run([PYTHON, "-c", show], timeout=10).stdout)
        too_big = box.run([PYTHON, "-c", write], timeout=10)
    assert shown == {
        "RLIMIT_AS": [2048 * 1024**2] * 2,
        "RLIMIT_FSIZE": [1024**2] * 2,
        "RLIMIT_NOFILE": [64, 64],
        "RLIMIT_CPU": [50, 51],
        "RLIMIT_CORE": [0, 0],
    }
    assert "File too large" in too_big.stderr


def test_no_limits_leaves_them_alone(tmp_path: Path, source: Path) -> None:
    limits = Limits(memory_mb=None, address_space_mb=None, file_size_mb=None, open_files=None)
    show = "import resource as r; print(r.getrlimit(r.RLIMIT_NOFILE)[1], r.getrlimit(r.RLIMIT_AS))"
    with Sandbox.create(tmp_path / "boxes", source, limits=limits) as box:
        result = box.run([PYTHON, "-c", show], timeout=10)
    hard_nofile = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    assert result.stdout.split(maxsplit=1)[0] == str(hard_nofile)
    assert "(-1, -1)" in result.stdout


def test_cpu_limit_stops_a_busy_loop(tmp_path: Path, source: Path) -> None:
    with Sandbox.create(tmp_path / "boxes", source, limits=Limits(cpu_seconds=1)) as box:
        result = box.run([PYTHON, "-c", "while True: pass"], timeout=20)
    assert result.returncode == -signal.SIGXCPU
    assert not result.timed_out


def test_launcher_ignores_the_commands_python_path(box: Sandbox) -> None:
    # Modules the launcher imports, shadowed where the command's PYTHONPATH and cwd point.
    for name in ("json", "resource", "signal"):
        (box.work / f"{name}.py").write_text("raise SystemExit('shadowed')\n")
    result = box.run(["echo", "ran"], timeout=10, env={"PYTHONPATH": str(box.work)})
    assert (result.returncode, result.stdout) == (0, "ran\n")


# --- environment -------------------------------------------------------------------------------


def test_environment_is_an_allow_list(box: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-fake-secret")
    monkeypatch.setenv("GITHUB_TOKEN", "ghp-fake-secret")
    monkeypatch.setenv("PYTHONHASHSEED", "7")
    dump = "import json, os; print(json.dumps(dict(os.environ)))"
    result = box.run([PYTHON, "-c", dump], timeout=10, env={"PYTHONPATH": "/somewhere"})
    env = json.loads(result.stdout)
    assert "OPENAI_API_KEY" not in env and "GITHUB_TOKEN" not in env
    assert "fake-secret" not in result.stdout
    assert env["HOME"] == str(box.home)
    assert env["TMPDIR"] == env["TEMP"] == env["TMP"] == str(box.tmp)
    assert env["PYTHONPATH"] == "/somewhere"
    assert env["PYTHONHASHSEED"] == "7"


def test_clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "x")
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    monkeypatch.setenv("VIRTUAL_ENV", "/venv")
    env = clean_environment({"HOME": "/elsewhere", "X": "1"}, home=tmp_path, tmp=tmp_path / "t")
    assert env["PATH"] == "/usr/bin:/bin" and env["VIRTUAL_ENV"] == "/venv"
    assert env["HOME"] == "/elsewhere" and env["X"] == "1"  # the caller's variables win
    assert env["TMPDIR"] == str(tmp_path / "t")
    assert "AWS_SECRET_ACCESS_KEY" not in env


# --- the tree ----------------------------------------------------------------------------------


@pytest.mark.parametrize("use_cp", [True, False], ids=["cp", "copytree"])
def test_copy_is_independent_and_keeps_symlinks(tmp_path: Path, source: Path, use_cp: bool) -> None:
    work = tmp_path / "copy"
    _copy_tree(source, work, use_cp=use_cp)
    assert (work / "link.txt").is_symlink()
    assert os.readlink(work / "link.txt") == "data.txt"
    assert (work / "data.txt").stat().st_ino != (source / "data.txt").stat().st_ino
    (work / "data.txt").write_text("changed\n")
    (work / "pkg" / "mod.py").write_text("VALUE = 2\n")
    assert (source / "data.txt").read_text() == "original\n"
    assert (source / "pkg" / "mod.py").read_text() == "VALUE = 1\n"


def test_commands_can_write_the_copy_but_not_the_source(box: Sandbox, source: Path) -> None:
    result = box.run(
        ["sh", "-c", "echo changed > data.txt && mkdir new && touch new/f"], timeout=10
    )
    assert result.ok, result.stderr
    assert (box.work / "data.txt").read_text() == "changed\n"
    assert (source / "data.txt").read_text() == "original\n"
    assert (box.work / "new" / "f").stat().st_uid == box.owner


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to give a file another owner")
def test_files_of_another_owner_are_writable_inside(tmp_path: Path, source: Path) -> None:
    # Under ``unshare -r`` only our uid is mapped: a copy that kept uid 1000 would be read-only.
    os.chown(source / "data.txt", 1000, 1000)
    with Sandbox.create(tmp_path / "boxes", source) as box:
        assert (box.work / "data.txt").stat().st_uid == box.owner
        assert box.run(["sh", "-c", "echo more >> data.txt"], timeout=10).ok


def test_create_layout_and_names(tmp_path: Path, source: Path) -> None:
    parent = tmp_path / "boxes"
    with Sandbox.create(parent, source, name="one") as box:
        assert box.root == parent / "one"
        assert all(d.is_dir() for d in (box.work, box.home, box.tmp))
        with pytest.raises(FileExistsError):
            Sandbox.create(parent, source, name="one")
    with Sandbox.create(parent, source) as a, Sandbox.create(parent, source) as b:
        assert a.root != b.root and a.root.parent == b.root.parent == parent
    for bad in ("", "..", "a/b"):
        with pytest.raises(ValueError):
            Sandbox.create(parent, source, name=bad)
    with pytest.raises(ValueError, match="contain itself"):
        Sandbox.create(source / "boxes", source)


def test_write_file_replaces_only_the_copy(box: Sandbox, source: Path) -> None:
    (box.work / "run.sh").write_text("old")
    (box.work / "run.sh").chmod(0o755)
    os.link(box.work / "run.sh", box.work / "hardlink.sh")
    box.write_file("run.sh", "new")
    box.write_file("link.txt", "no longer a link")
    box.write_file("deeper/new.py", "x = 1\n")
    assert (box.work / "run.sh").read_text() == "new"
    assert (box.work / "run.sh").stat().st_mode & 0o777 == 0o755
    assert (box.work / "hardlink.sh").read_text() == "old"
    assert not (box.work / "link.txt").is_symlink()
    assert (box.work / "data.txt").read_text() == "original\n"
    assert (box.work / "deeper" / "new.py").read_text() == "x = 1\n"
    assert not (source / "deeper").exists()


def test_write_file_refuses_paths_outside_work(box: Sandbox, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (box.work / "escape").symlink_to(outside)
    for bad in ("../x", "/etc/x", "pkg/../../x", "escape/x", "", "."):
        with pytest.raises(ValueError):
            box.write_file(bad, "pwned")
    assert list(outside.iterdir()) == []
    assert not (box.root / "x").exists()


def test_remove_deletes_read_only_trees(tmp_path: Path, source: Path) -> None:
    box = Sandbox.create(tmp_path / "boxes", source)
    result = box.run(
        ["sh", "-c", "mkdir -p ro/d && touch ro/d/f && chmod 000 ro/d && chmod a-w ro"], timeout=10
    )
    assert result.ok
    box.remove()
    assert not box.root.exists()
    box.remove()  # twice is fine
    with Sandbox.create(tmp_path / "boxes", source) as box:
        root = box.root
    assert not root.exists()
    assert list((tmp_path / "boxes").iterdir()) == []


# --- the caller --------------------------------------------------------------------------------


def test_command_dies_with_its_caller(
    tmp_path: Path, source: Path, layer: _confine.Layer, marker: str
) -> None:
    """A sandboxed command does not outlive the process that ran it, even a SIGKILLed one."""
    # The command comes in the environment: in the caller's argv the marker would find the
    # caller itself, and its death would pass for the command's.
    script = (
        "import os; from pathlib import Path; from sandbox import Sandbox, _confine; "
        f"layer = next(l for l in _confine.available() if l.name == {layer.name!r}); "
        "_confine.choose = lambda: layer; "
        f"box = Sandbox.create(Path({str(tmp_path)!r}) / 'boxes', Path({str(source)!r})); "
        "box.run(['sh', '-c', os.environ['COMMAND']], timeout=120)"
    )
    env = {**os.environ, "COMMAND": sleeper(marker)}
    caller = subprocess.Popen([sys.executable, "-c", script], env=env)
    try:
        assert marker not in " ".join(caller.args)  # type: ignore[arg-type]
        wait_marked(marker)
    finally:
        caller.send_signal(signal.SIGKILL)
        caller.wait()
    assert gone(marker, seconds=10), "the sandboxed command outlived its caller"
