"""The tamper guard (``agent/verify/tamper.py``): what code run in a candidate's sandbox does
to the files that judge it is seen afterwards, however it tries to hide it."""

from __future__ import annotations

import sys

import pytest

from agent.project.workspace import Workspace
from agent.verify.tamper import Snapshot
from tests.conftest import write_files

FILES = {
    "pkg/__init__.py": "",
    "pkg/core.py": "def f():\n    return 1\n",
    "tests/test_core.py": "from pkg.core import f\n\n\ndef test_f():\n    assert f() == 1\n",
    "pyproject.toml": "[tool.pytest.ini_options]\n",
}

# Each: Python run in the sandbox, and what the guard must name afterwards.
ATTEMPTS = {
    "rewrites a test": (
        "open('tests/test_core.py', 'w').write('def test_f():\\n    pass\\n')",
        ["tests/test_core.py"],
    ),
    "rewrites it and puts its times back": (
        "import os\n"
        "before = os.stat('tests/test_core.py')\n"
        "open('tests/test_core.py', 'a').write('#')\n"
        "os.utime('tests/test_core.py', ns=(before.st_atime_ns, before.st_mtime_ns))",
        ["tests/test_core.py"],
    ),
    "replaces it by a rename": (
        "open('t.tmp', 'w').write('def test_f():\\n    pass\\n')\n"
        "import os; os.replace('t.tmp', 'tests/test_core.py')",
        ["tests/test_core.py"],
    ),
    "plants a conftest": ("open('tests/conftest.py', 'w').write('')", ["tests/conftest.py"]),
    "plants a .pth file": ("open('evil.pth', 'w').write('import os')", ["evil.pth"]),
    "removes the configuration": ("import os; os.remove('pyproject.toml')", ["pyproject.toml"]),
    "writes byte code and a data file": (
        "import compileall, pathlib\n"
        "compileall.compile_dir('pkg', quiet=1)\n"
        "pathlib.Path('out.json').write_text('{}')",
        [],
    ),
}


@pytest.mark.parametrize("attempt", list(ATTEMPTS))
def test_what_a_run_does_to_the_judging_files_is_seen(attempt: str) -> None:
    code, expected = ATTEMPTS[attempt]
    with Workspace() as workspace:
        write_files(workspace.state, FILES)
        with workspace.sandbox("candidate") as sandbox:
            guard = Snapshot.take(sandbox.work)
            done = sandbox.run([sys.executable, "-c", code], timeout=60)
            assert done.ok, done.stderr
            assert guard.changes() == expected
