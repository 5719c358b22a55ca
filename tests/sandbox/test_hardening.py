"""The sandbox against a hostile command: who it runs as, what of the kernel and of our files it
can reach, and what protection() says about it. Real bubblewrap, real files; nothing mocked."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.project.workspace import Workspace
from sandbox import Sandbox, _confine, protection
from sandbox._confine import UNPRIVILEGED

PYTHON = sys.executable
LAUNCHER = Path(_confine.__file__).with_name("_launch.py")
AS_ROOT = os.geteuid() == 0
root_only = pytest.mark.skipif(not AS_ROOT, reason="the switch to nobody happens only as root")


@pytest.fixture
def bwrap(monkeypatch: pytest.MonkeyPatch) -> _confine.Layer:
    layer = next((layer for layer in _confine.available() if layer.name == "bubblewrap"), None)
    if layer is None:
        pytest.skip("bubblewrap is not installed or does not work here")
    monkeypatch.setattr(_confine, "choose", lambda: layer)
    return layer


@pytest.fixture
def outside() -> Iterator[Path]:
    """A directory outside /tmp (which bubblewrap hides anyway), open to all: only hiding it
    can keep a command from reading what is in it."""
    with tempfile.TemporaryDirectory(dir="/var/tmp") as directory:
        os.chmod(directory, 0o755)
        yield Path(directory)


def python(box: Sandbox, code: str, *args: str) -> subprocess.CompletedProcess[str]:
    result = box.run([PYTHON, "-c", code, *args], timeout=30)
    assert result.ok, result.stderr
    return subprocess.CompletedProcess(result.argv, result.returncode, result.stdout, "")


# --- who the command is ------------------------------------------------------------------------

WHO = """
import os
status = dict(line.split(":", 1) for line in open("/proc/self/status"))
print(os.getresuid(), os.getresgid(), os.getgroups())
print(status["CapEff"].strip(), status["CapPrm"].strip(), status["NoNewPrivs"].strip())
"""


@root_only
@pytest.mark.usefixtures("bwrap")
def test_as_root_the_command_runs_as_nobody(box: Sandbox) -> None:
    ids, capabilities = python(box, WHO).stdout.splitlines()
    nobody = (UNPRIVILEGED,) * 3
    assert ids == f"{nobody} {nobody} []"
    assert capabilities == "0000000000000000 0000000000000000 1"


@root_only
@pytest.mark.usefixtures("bwrap")
def test_root_owned_files_are_not_writable(box: Sandbox) -> None:
    """On a writable mount (the sandbox's own), so only the command's uid can stop the write."""
    target = box.work / "root-owned.txt"
    target.write_text("ours\n")
    os.chown(target, 0, 0)
    os.chmod(target, 0o644)
    attempt = (
        "import sys\ntry:\n open(sys.argv[1], 'a').write('pwned')\nexcept OSError as e:\n print(e)"
    )
    shown = python(box, attempt, str(target)).stdout
    assert "Permission denied" in shown
    assert target.read_text() == "ours\n"


@root_only
def test_launcher_fails_closed() -> None:
    """The switch is refused for root, and fails for a caller without the right to switch: the
    command never runs instead of running as whoever we are."""
    base = [PYTHON, "-I", "-S", str(LAUNCHER)]
    to_root = subprocess.run([*base, "--user", "0:0", "--", "true"], capture_output=True)
    assert to_root.returncode == 125 and b"as root" in to_root.stderr
    # Not root, it cannot switch to anyone (and this interpreter may be under /root: use the
    # system's, as any user can).
    system = [shutil.which("python3", path="/usr/bin:/bin") or "python3", *base[1:]]
    unable = subprocess.run(
        [*system, "--user", f"{UNPRIVILEGED}:{UNPRIVILEGED}", "--", "echo", "ran"],
        capture_output=True,
        user=1000,
    )
    assert unable.returncode == 125 and unable.stdout == b"", unable.stderr
    works = subprocess.run(
        [*base, "--user", f"{UNPRIVILEGED}:{UNPRIVILEGED}", "--", "id", "-u"], capture_output=True
    )
    assert works.stdout == f"{UNPRIVILEGED}\n".encode(), works.stderr


# --- the kernel --------------------------------------------------------------------------------

KERNEL = """
import os
for path in ("/proc/sys/kernel/core_pattern", "/proc/sys/kernel/modprobe", "/proc/sysrq-trigger",
             "/sys/kernel/mm/transparent_hugepage/enabled", "/proc/kcore"):
    if not os.path.exists(path):
        continue
    try:
        os.close(os.open(path, os.O_RDONLY if path == "/proc/kcore" else os.O_WRONLY))
        print("opened", path)
    except OSError as error:
        print("refused", path, error.strerror)
print("sys", "read-only" if os.statvfs("/sys").f_flag & os.ST_RDONLY else "writable")
print("proc/sys", "read-only" if os.statvfs("/proc/sys").f_flag & os.ST_RDONLY else "writable")
"""


@pytest.mark.usefixtures("bwrap")
def test_kernel_settings_are_out_of_reach(box: Sandbox) -> None:
    """The escape of issue 11: a uid-0 write to /proc/sys/kernel/core_pattern (a pipe handler
    there runs as root on the host). Opening for writing is the whole attack; the probe stops
    there."""
    shown = python(box, KERNEL).stdout
    assert "opened" not in shown
    assert "refused /proc/sys/kernel/core_pattern" in shown
    assert "sys read-only" in shown and "proc/sys read-only" in shown


# --- what it can see ---------------------------------------------------------------------------

READ = """
import sys
for path in sys.argv[1:]:
    try:
        print(open(path).read().strip())
    except OSError as error:
        print("unreadable", error.strerror)
"""


@pytest.fixture
def planted_in_home() -> Iterator[Path]:
    """A secret anyone could read, in our HOME (/root as root)."""
    descriptor, name = tempfile.mkstemp(dir=Path.home(), prefix=".sandbox-test-")
    os.fchmod(descriptor, 0o644)
    os.write(descriptor, b"home-secret\n")
    os.close(descriptor)
    yield Path(name)
    os.unlink(name)


@pytest.mark.usefixtures("bwrap")
def test_homes_and_hidden_paths_are_unreadable(
    tmp_path: Path, source: Path, outside: Path, planted_in_home: Path
) -> None:
    checkout = outside / "checkout"
    (checkout / "deep").mkdir(parents=True)
    (checkout / "deep" / "key.txt").write_text("checkout-secret\n")
    (outside / "visible.txt").write_text("visible\n")
    paths = [planted_in_home, checkout / "deep" / "key.txt", outside / "visible.txt"]
    with Sandbox.create(tmp_path / "boxes", source, hidden=(checkout,)) as box:
        shown = python(box, READ, *map(str, paths)).stdout.splitlines()
        listed = python(box, "import os; print(os.listdir('/root'), os.listdir('/home'))").stdout
    assert shown[0].startswith("unreadable") and shown[1].startswith("unreadable"), shown
    assert shown[2] == "visible"  # the same place, not hidden: the reads above could succeed
    assert planted_in_home.name not in listed


@pytest.mark.usefixtures("bwrap")
def test_readable_paths_are_shown_read_only_inside_hidden_ones(
    tmp_path: Path, source: Path, outside: Path
) -> None:
    """A project's venv lives in the hidden checkout: named readable, it alone is shown there,
    read-only; a path named both hidden and readable stays hidden."""
    checkout, home = outside / "checkout", Path(tempfile.mkdtemp(dir=Path.home()))
    try:
        for folder in (checkout / ".venv", checkout / "private", home / "env"):
            folder.mkdir(parents=True)
            (folder / "file.txt").write_text(f"{folder.name}\n")
            os.chmod(folder / "file.txt", 0o666)  # only the read-only mount stops a write
            os.chmod(folder, 0o755)
        os.chmod(home, 0o755)
        venv, private, in_home = (
            f / "file.txt" for f in (checkout / ".venv", checkout / "private", home / "env")
        )
        readable = (checkout / ".venv", home / "env", private.parent)
        hidden = (checkout, private.parent)
        with Sandbox.create(tmp_path / "boxes", source, hidden=hidden, readable=readable) as box:
            shown = python(box, READ, str(venv), str(private), str(in_home)).stdout.splitlines()
            write = f"open({str(venv)!r}, 'a').write('x')"
            written = box.run([PYTHON, "-c", write], timeout=30)
    finally:
        shutil.rmtree(home)
    assert shown[0] == ".venv" and shown[2] == "env", shown
    assert shown[1].startswith("unreadable"), shown
    assert not written.ok and "Read-only file system" in written.stderr
    assert venv.read_text() == ".venv\n"


@pytest.mark.usefixtures("bwrap")
def test_neighbouring_sandboxes_are_hidden(source: Path, outside: Path) -> None:
    with Sandbox.create(outside, source) as box, Sandbox.create(outside, source) as neighbour:
        (neighbour.work / "data.txt").write_text("neighbour's\n")
        shown = python(box, READ, str(neighbour.work / "data.txt"), "data.txt").stdout
    assert shown.splitlines() == ["unreadable No such file or directory", "original"]


@pytest.mark.usefixtures("bwrap")
def test_interpreter_and_venv_still_work(box: Sandbox) -> None:
    """Hiding /root (where pyenv keeps this interpreter) and the sandboxes' parent must not hide
    what a command needs: the standard library, the venv's packages, our PYTHONPATH."""
    (box.work / "mine.py").write_text("VALUE = 42\n")
    code = "import ctypes, json, pytest, mine, sys; print(pytest.__file__, mine.VALUE)"
    result = box.run([PYTHON, "-c", code], timeout=30, env={"PYTHONPATH": str(box.work)})
    assert result.ok, result.stderr
    assert result.stdout.startswith(sys.prefix) and result.stdout.endswith(" 42\n")


@pytest.mark.usefixtures("bwrap")
def test_needed_paths_deep_inside_a_hidden_directory_can_be_reached(box: Sandbox) -> None:
    """Evolver itself may live under /tmp (a fresh clone): its venv and its harness are shown
    again inside the hidden /tmp, and the way to the deeper one must be open to nobody too."""
    with tempfile.TemporaryDirectory(dir="/tmp") as checkout:
        shallow, deep = Path(checkout, ".venv"), Path(checkout, "agent", "_harness")
        for folder, name in ((shallow, "shallow_mod"), (deep, "deep_mod")):
            folder.mkdir(parents=True)
            (folder / f"{name}.py").write_text("VALUE = 1\n")
        os.chmod(checkout, 0o755)
        os.chmod(deep.parent, 0o755)
        code = "import shallow_mod, deep_mod; print(shallow_mod.VALUE + deep_mod.VALUE)"
        env = {"PYTHONPATH": f"{shallow}:{deep}"}
        result = box.run([PYTHON, "-c", code], timeout=30, env=env)
    assert result.ok, result.stderr
    assert result.stdout == "2\n"


# --- files it writes, files we write -----------------------------------------------------------

WRITE = """
import os, pathlib, py_compile, sys
pathlib.Path("made.txt").write_text("by the command\\n")
pathlib.Path("pkg/new.txt").write_text("in a copied directory\\n")
pathlib.Path("deep/er/new.txt").write_text("in a directory we made\\n")
py_compile.compile("pkg/mod.py", doraise=True)  # __pycache__ next to the code
home = pathlib.Path(os.environ["HOME"]) / ".cache" / "tool"
home.mkdir(parents=True)
(home / "c").write_text("cache\\n")
pathlib.Path(os.environ["TMPDIR"], "out.json").write_text("{}")
pathlib.Path(sys.argv[1], "answer").write_text("42")
pathlib.Path("/tmp/hard-coded").write_text("private /tmp\\n")
print(pathlib.Path("deep/er/input.txt").read_text().strip())
"""


@pytest.mark.usefixtures("bwrap")
def test_the_command_writes_its_tree_and_we_read_it(box: Sandbox) -> None:
    """Whoever the command runs as, it can write everywhere in the sandbox (caches, answers,
    files in directories we made there after the copy), and we can read what it wrote."""
    box.write_file("deep/er/input.txt", "input\n")
    ours = Path(tempfile.mkdtemp(dir=box.tmp))  # 0700, ours: as a harness's output directory
    shown = python(box, WRITE, str(ours)).stdout
    assert shown == "input\n"
    assert (box.work / "made.txt").read_text() == "by the command\n"
    assert (box.work / "deep" / "er" / "new.txt").exists()
    assert any((box.work / "pkg" / "__pycache__").iterdir())
    assert (box.home / ".cache" / "tool" / "c").read_text() == "cache\n"
    assert (box.tmp / "out.json").read_text() == "{}"
    assert (ours / "answer").read_text() == "42"
    assert (box.work / "made.txt").stat().st_uid == box.owner


@root_only
@pytest.mark.usefixtures("bwrap")
def test_symlinks_planted_in_tmp_do_not_give_away_our_files(box: Sandbox, outside: Path) -> None:
    """Before each command we hand what we put in tmp/ to the command's user: never through a
    link the last command left there."""
    target = outside / "ours.txt"
    target.write_text("ours\n")
    plant = f"import os; os.symlink({str(target)!r}, os.path.join(os.environ['TMPDIR'], 'l'))"
    python(box, plant)
    os.symlink(target, box.home / "link")  # even one that is ours
    python(box, "pass")
    assert target.stat().st_uid == 0


# --- what is reported --------------------------------------------------------------------------


@pytest.mark.usefixtures("bwrap")
def test_protection_reports_what_holds_under_bubblewrap() -> None:
    shown = protection()
    assert shown.kernel_settings_read_only and shown.homes_hidden and shown.tmp_hidden
    assert shown.runs_unprivileged
    assert shown.host_uid == (UNPRIVILEGED if AS_ROOT else os.geteuid())
    text = str(shown)
    assert "kernel settings: read-only" in text and "home directories: hidden" in text
    assert "ROOT" not in text and "VISIBLE" not in text and "WRITABLE" not in text


@root_only
@pytest.mark.parametrize("name", ["unshare", "none"])
def test_protection_is_honest_about_the_fallbacks(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    layer = next((layer for layer in _confine.available() if layer.name == name), None)
    if layer is None:
        pytest.skip(f"{name} does not work here")
    monkeypatch.setattr(_confine, "choose", lambda: layer)
    shown = protection()
    assert not shown.runs_unprivileged and shown.host_uid == 0
    assert not shown.homes_hidden and not shown.kernel_settings_read_only
    text = str(shown)
    assert "run as ROOT" in text and "home directories: VISIBLE" in text
    assert "kernel settings: WRITABLE" in text


# --- recognition -------------------------------------------------------------------------------


def test_paths_do_not_say_sandbox_or_evolver(monkeypatch: pytest.MonkeyPatch) -> None:
    with Workspace() as workspace:
        workspace.state.mkdir()
        with workspace.sandbox("candidate-1") as box:
            env = box.run(["sh", "-c", "pwd; echo $HOME; echo $TMPDIR"], timeout=10).stdout
    assert env.count("\n") == 3
    for word in ("sandbox", "evolver", "candidate"):
        assert word not in env.lower(), env
