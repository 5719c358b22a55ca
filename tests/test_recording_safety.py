"""Nothing that project or candidate code wrote is unpickled, or trusted, in Evolver's process.

The recorder and the profiler ride in the project's own processes, where a candidate committed
earlier runs too, and write to a folder that code can change. Here the project's code, when it
sees the recorder (or the profiler), plants pickles whose ``__reduce__`` would run in whoever
loads them, swaps a real dump for one, and leaves dumps of the wrong shape, option-like test ids,
non-finite times and a FIFO posing as a source file. Evolver ignores all of it with notes, keeps
what is genuine, and the genuine calls still replay in a real harness run.
"""

from __future__ import annotations

import pickle
import subprocess
import sys
from pathlib import Path

from agent.domain import TargetRef
from agent.profile.profiling import profile_workload
from agent.profile.recording import record_calls
from agent.project.runner import Project
from agent.verify.equivalence import observe
from sandbox import Sandbox
from tests.conftest import write_files

SECRET = "sk-live-0123456789abcdefghijklmnopqrstuv"
TARGET = TargetRef("app/work.py", "double")

WORK = """
    def double(x):
        return x * 2
"""

# Runs under the recorder: records double(2) honestly, then attacks the recorder's folder.
HOSTILE_TEST = """
    import base64, json, os, pickle, subprocess, sys

    from app.work import double

    MARKER = {marker!r}
    SECRET = {secret!r}


    class Payload:
        def __reduce__(self):
            return (os.mkdir, (MARKER,))


    def plant(out, name, data):
        with open(os.path.join(out, name), "wb") as handle:
            handle.write(data)


    def test_uses_helper():
        assert double(2) == 4
        spec = os.environ.get("EVOLVER_RECORD")
        if not spec:
            return
        with open(spec) as handle:
            out = json.load(handle)["out_dir"]
        # Another process records a call too; then its genuine dump is swapped for a pickle.
        code = "from app.work import double; double(5)"
        subprocess.run([sys.executable, "-c", code], check=True)
        evil = pickle.dumps(Payload())
        with open("evil.pickle", "wb") as handle:  # for the test to show the payload is live
            handle.write(evil)
        mine = f"{{os.getpid()}}.json"
        for name in os.listdir(out):
            if name.endswith(".json") and name not in ("spec.json", mine):
                plant(out, name, evil)
        plant(out, f"{{os.getpid()}}.pkl", evil)  # where the recorder used to write
        plant(out, "999990.pkl", evil)
        key = "app.work:double"
        ids = ["-p", "--junitxml=/tmp/x", f"tests/test_work.py::test_uses_helper[{{SECRET}}]"]
        forged = {{
            "targets": {{
                key: {{"calls": [], "tests": ids, "seen": 0, "skipped": 0}},
                "some.other:target": 5,  # not ours to read, whatever it holds
            }}
        }}
        plant(out, "999991.json", json.dumps(forged).encode())
        plant(out, "999992.json", json.dumps({{"targets": {{key: [1, 2]}}}}).encode())
"""


def test_planted_pickles_are_never_loaded_and_genuine_calls_are_kept(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    source = tmp_path / "src"
    write_files(
        source,
        {
            "app/__init__.py": "",
            "app/work.py": WORK,
            "tests/test_work.py": HOSTILE_TEST.format(marker=str(marker), secret=SECRET),
        },
    )
    notes: list[str] = []
    with Sandbox.create(tmp_path / "boxes", source) as sandbox:
        project = Project()
        recording = record_calls(project, sandbox, [TARGET], notes=notes)[TARGET]
        assert not marker.exists(), "a planted pickle ran in Evolver's process"

        # Only the pytest process's own, genuine dump counted.
        assert recording.test_calls == [pickle.dumps(((2,), {}), pickle.HIGHEST_PROTOCOL)]
        assert recording.tests == {"tests/test_work.py::test_uses_helper"}
        swapped = [n for n in notes if n.startswith("ignored the recorder's dump ")]
        assert any("is not JSON" in n for n in swapped), notes
        assert any(n.startswith("ignored the recorder's dump 999992.json: an entry") for n in notes)
        assert "ignored 2 files in the recorder's folder that it does not write" in notes
        assert not any(SECRET in note for note in notes)

        # The genuine calls are opaque bytes here, and replay where they belong: a sandbox.
        answer = observe(project, sandbox, TARGET, recording.test_calls, [10.0], timeout=60)
        assert answer.observations[0] is not None
        assert answer.observations[0]["returned"] == 4

        # And the payload was live: loading it (in a throwaway process) does run it.
        load = "import pickle, sys; pickle.loads(open(sys.argv[1], 'rb').read())"
        evil = sandbox.work / "evil.pickle"
        subprocess.run([sys.executable, "-c", load, str(evil)], check=True)
    assert marker.is_dir()


# Runs as the workload under the profiler: profiles double(3), then plants dumps of its own.
HOSTILE_WORKLOAD = """
    import json, marshal, os

    from app.work import double

    for _ in range(1000):
        double(3)
    out = os.environ["EVOLVER_PROFILE_DIR"]
    trap = os.path.abspath("app/trap.py")
    os.mkfifo(trap)  # a FIFO where a source file would be: reading it would wait for ever
    row = [trap, 1, "trap", 1, 1, 0.5, 0.5, []]
    with open(os.path.join(out, "999990.json"), "w") as handle:
        json.dump({"functions": [row]}, handle)
    with open(os.path.join(out, "999991.json"), "wb") as handle:
        handle.write(marshal.dumps({("x", 1, "y"): (1, 1, 0.1, 0.1, {})}))  # the old format
    with open(os.path.join(out, "999992.json"), "w") as handle:
        handle.write('{"functions": [["a.py", 1, "b", 1, 1, NaN, 0.1, []]]}')
"""


def test_hostile_profile_dumps_are_left_out_with_notes(tmp_path: Path) -> None:
    source = tmp_path / "src"
    write_files(
        source,
        {"app/__init__.py": "", "app/work.py": WORK, "workload.py": HOSTILE_WORKLOAD},
    )
    with Sandbox.create(tmp_path / "boxes", source) as sandbox:
        profile = profile_workload(Project(workload="python workload.py"), sandbox)
    assert TARGET in profile.functions
    assert profile.functions[TARGET].calls == 1000
    assert TargetRef("app/trap.py", "trap") not in profile.functions
    notes = "\n".join(profile.notes)
    assert "ignored the profile dump 999991.json: 999991.json is not JSON" in notes
    assert "ignored the profile dump 999992.json: a time is not a finite number" in notes


def test_nothing_is_written_through_a_temporary_directory_swapped_for_a_link(
    tmp_path: Path,
) -> None:
    source = tmp_path / "src"
    write_files(source, {"app/__init__.py": "", "app/work.py": WORK})
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    notes: list[str] = []
    with Sandbox.create(tmp_path / "boxes", source) as sandbox:
        # What code in an earlier run there could do: tmp/ becomes a link to anywhere.
        sandbox.tmp.rename(sandbox.root / "tmp-moved")
        sandbox.tmp.symlink_to(elsewhere)
        recording = record_calls(Project(), sandbox, [TARGET], notes=notes)[TARGET]
    assert recording.test_calls == [] and recording.tests == set()
    assert notes == ["the sandbox's temporary directory was replaced: nothing recorded"]
    assert list(elsewhere.iterdir()) == []
