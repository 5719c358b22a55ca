"""Publishing a run as a pull request: real runs, a real bare remote, a loopback GitHub API."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from agent.errors import UsageError
from agent.reports.model import ReportError
from agent.ship.github import GitHub, GitHubError, marker
from agent.ship.pr_text import pr_body, pr_title
from agent.ship.pullrequest import (
    PullRequestSettings,
    parse_remote_url,
    parse_slug,
    publish,
    publishable,
)
from tests.conftest import EVOLVER, KEYS_PROJECT, git, init_repo, repo_state, write_files
from tests.github_server import GitHubServer

CHANGED_TARGETS = Path(__file__).parents[1] / "scripts" / "changed-targets"
FAST_RUN = ["--no-confirm", "--max-targets", "1", "--candidates", "2", "--rounds", "1"]


@dataclass(frozen=True)
class Ran:
    """A real `evolver run` that ended well: its JSON report and what it printed."""

    report: dict[str, Any]
    stdout: str


@dataclass
class Project:
    repo: Path
    remote: Path  # a bare repository standing in for GitHub's copy
    root: Path

    def run(self, branch: str, *args: str, env: dict[str, str] | None = None) -> Ran:
        """A real `evolver run` on the repository, to its end."""
        out = self.root / f"{branch.replace('/', '-')}.json"
        argv = [*EVOLVER, "run", str(self.repo), "--branch", branch, "--json", str(out)]
        done = subprocess.run(
            [*argv, *FAST_RUN, *args],
            capture_output=True,
            text=True,
            timeout=600,
            env={**os.environ, "COLUMNS": "200", **(env or {})},
            check=False,
        )
        assert done.returncode == 0, done.stderr
        found: dict[str, Any] = json.loads(out.read_text())
        assert publishable(found), [(c["summary"], c["reason"]) for c in found["candidates"]]
        return Ran(found, done.stdout)

    def another_remote(self, name: str) -> Path:
        """A bare copy of the remote, added to the repository as remote ``name``."""
        path = self.root / f"{name}.git"
        git(self.root, "clone", "--quiet", "--bare", str(self.remote), str(path))
        git(self.repo, "remote", "add", name, str(path))
        return path

    def remote_sha(self, branch: str) -> str | None:
        done = subprocess.run(
            ["git", "rev-parse", "--verify", "--quiet", f"refs/heads/{branch}"],
            cwd=self.remote,
            capture_output=True,
            text=True,
            check=False,
        )
        return done.stdout.strip() or None


def new_project(root: Path) -> Project:
    """KEYS_PROJECT, then one more commit on main; main pushed to a bare remote."""
    repo, remote = init_repo(root / "repo", KEYS_PROJECT), root / "remote.git"
    write_files(repo, {"README.md": "A project.\n"})
    git(repo, "add", "-A")
    git(repo, "commit", "--quiet", "-m", "a readme")
    git(root, "init", "--quiet", "--bare", "--initial-branch=main", str(remote))
    git(repo, "remote", "add", "origin", str(remote))
    git(repo, "push", "--quiet", "origin", "main")
    return Project(repo, remote, root)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    return new_project(tmp_path_factory.mktemp("pr"))


@dataclass(frozen=True)
class CommandLine:
    """The pull request made on the command line: `evolver pr` for the earlier run, then the
    later run made with `evolver run --pr`, against one loopback GitHub that stays up for the
    module."""

    server: GitHubServer
    flags: list[str]  # where GitHub is, for `evolver pr` and `evolver run --pr`
    earlier: Ran
    opened: subprocess.CompletedProcess[str]  # `evolver pr EARLIER`
    opened_pulls: list[dict[str, Any]]  # the server's pull requests right after it
    later: Ran  # `evolver run --pr`


def evolver_with_token(token: str, *args: str) -> subprocess.CompletedProcess[str]:
    """The real command line, with ``token`` as GITHUB_TOKEN."""
    env = {**os.environ, "COLUMNS": "200", "GITHUB_TOKEN": token}
    return subprocess.run([*EVOLVER, *args], capture_output=True, text=True, env=env, check=False)


@pytest.fixture(scope="module")
def command_line(project: Project) -> Iterator[CommandLine]:
    """Two real runs: an earlier one (on the commit before main's tip, as last week's would
    have been), published by `evolver pr`; then a later one on main's tip, made with `--pr`, so
    that it updates that pull request. One after the other: two at once on a busy machine can
    blur a 2× speedup's interval below the bar. The later run is also the API tests' second
    report: one run fewer than a run for each."""
    with GitHubServer(repos={"octo/app": project.remote}) as server:
        flags = ["--github-url", server.api_url, "--github-repo", "octo/app"]
        earlier = project.run("evolver/run-1", "--base", "main~1")
        run_id = str(earlier.report["run_id"])
        opened = evolver_with_token(server.token, "pr", run_id, "-C", str(project.repo), *flags)
        opened_pulls = server.pulls("octo/app")  # copies, as they are now
        later = project.run("evolver/run-2", "--pr", *flags, env={"GITHUB_TOKEN": server.token})
        yield CommandLine(server, flags, earlier, opened, opened_pulls, later)


@pytest.fixture(scope="module")
def reports(command_line: CommandLine) -> tuple[dict[str, Any], dict[str, Any]]:
    """The earlier run's report and the later one's."""
    return command_line.earlier.report, command_line.later.report


@pytest.fixture(scope="module")
def first_report(reports: tuple[dict[str, Any], dict[str, Any]]) -> dict[str, Any]:
    return reports[0]


def settings_for(server: GitHubServer, **overrides: Any) -> PullRequestSettings:
    options: dict[str, Any] = {"token": server.token, "api_url": server.api_url}
    options["slug"] = "octo/app"  # a bare path remote names no GitHub repository
    return PullRequestSettings(**(options | overrides))


def committed(report: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for c in report["candidates"] if c["committed"]]


# --- end to end ------------------------------------------------------------------------------


@pytest.mark.pipeline
def test_a_run_becomes_a_pull_request_and_a_rerun_updates_it(
    project: Project, reports: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    first_report, second_report = reports
    [winner] = committed(first_report)
    with GitHubServer(repos={"octo/app": project.remote}) as server:
        before = repo_state(project.repo)
        result = publish(project.repo, first_report, settings_for(server))

        assert repo_state(project.repo) == before  # not even a remote-tracking ref
        assert result.created and result.head_branch == "evolver/main"
        assert result.base_branch == "main" and result.pushed
        assert result.pushed_commit == winner["commit"] == project.remote_sha("evolver/main")
        assert git(project.repo, "rev-parse", "main~1") == first_report["base_commit"]
        [pull] = server.pulls("octo/app")
        assert (pull["number"], pull["html_url"]) == (result.number, result.url)
        assert pull["head"]["sha"] == winner["commit"] and pull["base"]["ref"] == "main"
        assert pull["title"] == "Evolver: 1 verified speedup in count_known " + (
            f"({winner['speedup']:.1f}×)"
        )
        body = pull["body"]
        assert marker("evolver/main") in body
        assert "| target | change | strategy | speedup | 99.5% interval | first call |" in body
        low, high = winner["ci"]
        assert winner["strategy"] == "data-structure"  # the rule's, carried by the report
        assert (
            "| `pkg/core.py::count_known` | dict_keys_membership | data-structure "
            f"| {winner['speedup']:.2f}× | {low:.2f}–{high:.2f}× "
            f"| {winner['first_call_speedup']:.2f}× |"
        ) in body
        assert "- **Strategy:** data-structure\n" in body
        assert "### How each change was verified" in body and winner["commit"][:10] in body
        for heading in ("Tests", "Differential check on recorded calls",
                        "Property check on generated inputs", "Timing"):  # fmt: skip
            assert f"- **{heading}:** " in body
        assert f"### Risk: {winner['risk']['level']}" in body
        assert [(r["method"], r["path"]) for r in server.calls()] == [
            ("GET", "/repos/octo/app"),
            ("GET", "/repos/octo/app/pulls"),
            ("POST", "/repos/octo/app/pulls"),
        ]
        assert server.calls("GET")[1]["query"]["head"] == "octo:evolver/main"
        headers = server.calls()[0]["headers"]
        assert headers["authorization"] == f"Bearer {server.token}"
        assert headers["accept"] == "application/vnd.github+json"
        assert headers["x-github-api-version"] == "2022-11-28" and headers["user-agent"]

        # A later run of the same repository, on a newer main: a new local branch, the same
        # remote branch and the same pull request, updated.
        [second] = committed(second_report)
        assert second_report["base_commit"] == project.remote_sha("main")
        assert second["commit"] != winner["commit"]
        before = repo_state(project.repo)
        again = publish(project.repo, second_report, settings_for(server))

        assert repo_state(project.repo) == before
        assert (again.number, again.created, again.head_branch) == (
            result.number,
            False,
            "evolver/main",
        )
        assert again.pushed_commit == second["commit"] == project.remote_sha("evolver/main")
        # Forced: the run rewrote the branch rather than adding to it.
        ancestry = ["git", "merge-base", "--is-ancestor", winner["commit"], second["commit"]]
        assert subprocess.run(ancestry, cwd=project.repo, check=False).returncode == 1
        [pull] = server.pulls("octo/app")
        assert second["commit"][:10] in pull["body"] and winner["commit"][:10] not in pull["body"]
        assert f"`{second_report['base_commit'][:10]}`" in pull["body"]
        assert f"Run `{second_report['run_id']}`." in pull["body"]
        assert marker("evolver/main") in pull["body"]
        assert len(server.calls("POST")) == 1
        [patch] = server.calls("PATCH")
        assert patch["path"] == f"/repos/octo/app/pulls/{result.number}"
        assert set(patch["body"]) == {"title", "body"}  # the base is already right


@pytest.mark.pipeline
def test_the_command_line_opens_a_pull_request_and_a_later_run_updates_it(
    project: Project, command_line: CommandLine
) -> None:
    """`evolver pr RUN` opens one for a run in the history; a later `evolver run --pr` updates
    that same pull request; each is recorded in the history."""
    first_run = command_line.earlier.report["run_id"]
    server, flags = command_line.server, command_line.flags
    opened = command_line.opened
    assert opened.returncode == 0, opened.stderr
    assert "opened pull request #1 (evolver/main → main" in opened.stdout
    [pull] = command_line.opened_pulls
    assert "| `pkg/core.py::count_known` | dict_keys_membership |" in pull["body"]
    assert "### How each change was verified" in pull["body"]
    assert f"Run `{first_run}`." in pull["body"]

    assert "updated pull request #1" in command_line.later.stdout
    [pull] = server.pulls("octo/app")  # still one
    assert f"Run `{first_run}`." not in pull["body"] and len(server.calls("POST")) == 1

    refused = evolver_with_token("wrong", "pr", str(first_run), "-C", str(project.repo), *flags)
    assert refused.returncode == 2
    assert refused.stderr.strip() == (
        "evolver: error: GitHub refused the token (401 Bad credentials)"
    )

    history = evolver_with_token(server.token, "history", "-C", str(project.repo), "--json")
    events = [e for e in json.loads(history.stdout)["events"] if e["kind"] == "pr"]
    assert [(e["run_id"], e["detail"]["created"]) for e in events][-2:] == [
        (first_run, True),
        (max(run["id"] for run in json.loads(history.stdout)["runs"]), False),
    ]


@pytest.mark.pipeline
def test_someone_elses_pull_request_on_the_branch_is_not_taken_over(
    project: Project, first_report: dict[str, Any]
) -> None:
    remote = project.another_remote("theirs")
    with GitHubServer(repos={"octo/app": remote}) as server:
        git(project.repo, "push", "--quiet", str(remote), "+main:refs/heads/evolver/main")
        theirs = server.add_pull("octo/app", "evolver/main", title="my work", user="alice")
        before = git(remote, "rev-parse", "refs/heads/evolver/main")

        with pytest.raises(UsageError, match=r"pull request #1, which Evolver did not open"):
            publish(project.repo, first_report, settings_for(server, remote="theirs"))

        # Not pushed, not edited, nothing opened.
        assert git(remote, "rev-parse", "refs/heads/evolver/main") == before
        [pull] = server.pulls("octo/app")
        assert (pull["number"], pull["title"], pull["body"]) == (theirs["number"], "my work", None)
        assert server.calls("POST") == server.calls("PATCH") == []

        # The way out the message gives: another branch.
        result = publish(
            project.repo,
            first_report,
            settings_for(server, head_branch="evolver/b", remote="theirs"),
        )
        assert result.created and result.number == 2
        assert git(remote, "rev-parse", "refs/heads/evolver/b") == result.pushed_commit


@pytest.mark.pipeline
def test_github_enterprise_prefix(project: Project, first_report: dict[str, Any]) -> None:
    remote = project.another_remote("ghe")
    with GitHubServer(repos={"corp/app": remote}, prefix="/api/v3") as server:
        assert server.api_url.endswith("/api/v3")
        settings = settings_for(
            server, slug="corp/app", base_branch="main", draft=True, remote="ghe"
        )
        result = publish(project.repo, first_report, settings)
        assert result.created and result.url == f"{server.url}/corp/app/pull/{result.number}"
        assert all(r["prefixed"] for r in server.calls())  # every path under /api/v3
        assert [r["path"] for r in server.calls()] == ["/repos/corp/app/pulls"] * 2
        assert server.pulls("corp/app")[0]["draft"] is True


@pytest.mark.pipeline
def test_refusals_before_anything_is_pushed(project: Project, first_report: dict[str, Any]) -> None:
    remote = project.another_remote("refusals")
    heads_before = git(remote, "for-each-ref")
    with GitHubServer(repos={"octo/app": remote}) as server:

        def settings(**overrides: Any) -> PullRequestSettings:
            return settings_for(server, **({"remote": "refusals"} | overrides))

        nothing = {**first_report, "branch": None}
        with pytest.raises(UsageError, match="committed no change"):
            publish(project.repo, nothing, settings())
        with pytest.raises(UsageError, match="refusing to push to main"):
            publish(project.repo, first_report, settings(head_branch="main"))
        with pytest.raises(UsageError, match="no remote named 'upstream'"):
            publish(project.repo, first_report, settings(remote="upstream"))
        with pytest.raises(UsageError, match="--github-repo OWNER/NAME"):
            publish(project.repo, first_report, settings(slug=None))
        with pytest.raises(GitHubError, match=r"^GitHub found no repository octo/nope"):
            publish(project.repo, first_report, settings(slug="octo/nope"))
        with pytest.raises(UsageError, match="has no branch develop"):
            publish(project.repo, first_report, settings(base_branch="develop"))
        assert server.calls("POST") == []
    assert git(remote, "for-each-ref") == heads_before


def test_wrong_token_is_one_line() -> None:
    with GitHubServer() as server:
        github = GitHub(api_url=server.api_url, token="wrong")
        with pytest.raises(GitHubError) as caught:
            github.default_branch("octo", "app")
        assert str(caught.value) == "GitHub refused the token (401 Bad credentials)"
        assert caught.value.status == 401
        assert len(server.calls()) == 1  # a refusal is not retried


def test_server_errors_are_retried_then_reported() -> None:
    with GitHubServer() as server:
        github = GitHub(api_url=server.api_url, token=server.token, attempts=3, backoff=0.01)
        server.fail = [502, 503]
        assert github.default_branch("octo", "app") == "main"
        assert len(server.calls()) == 3
        server.fail = [500] * 3
        with pytest.raises(GitHubError, match=r"^GitHub failed \(500 Server Error\) after 3 "):
            github.default_branch("octo", "app")
    unreachable = GitHub(api_url=server.url, token="t", attempts=2, backoff=0.01)
    with pytest.raises(GitHubError, match=r"^cannot reach GitHub at http://127\.0\.0\.1"):
        unreachable.default_branch("octo", "app")


def test_second_open_pull_for_a_head_is_422_and_evolver_finds_its_own() -> None:
    with GitHubServer() as server:
        github = GitHub(api_url=server.api_url, token=server.token)
        body = "text\n" + marker("evolver/main")
        first = github.create_pull("octo", "app", "t", body, "evolver/main", "main")
        with pytest.raises(
            GitHubError, match="A pull request already exists for octo:evolver/main"
        ):
            github.create_pull("octo", "app", "t", body, "evolver/main", "main")
        assert github.find_open_pull("octo", "app", "octo", "evolver/main") == first
        server.add_pull("octo/app", "evolver/dev", body="no marker")
        assert github.find_open_pull("octo", "app", "octo", "evolver/dev") is None
        updated = github.update_pull("octo", "app", first.number, "new", "new body")
        assert (updated.title, updated.body, updated.number) == ("new", "new body", first.number)


# --- title, body and settings -------------------------------------------------------------


REPORT: dict[str, Any] = {
    "version": 1,
    "run_id": 42,
    "base_commit": "0123456789abcdef0123456789abcdef01234567",
    "branch": "evolver/local",
    "provider": "openai",
    "model": "gpt-test",
    "targets": [
        {"target": "pkg/a.py::fast", "share": 0.5},
        {"target": "pkg/b.py::Cls.meth", "share": 0.125},
    ],
    "candidates": [
        {
            "target": "pkg/a.py::fast", "summary": "use a set | not a list\nreally",
            "verdict": "accepted", "stage": "speed", "reason": "same outcomes",
            "speedup": 12.04, "ci": [11.5, 12.5], "first_call_speedup": 10.0,
            "committed": True, "commit": "a" * 40,
            "evidence": {
                "timing": "12.04× faster", "tests": "3 tests that reach it pass",
                "differential": "same results on 16 recorded calls",
                "property": "same outcomes on 50 generated inputs",
            },
            "risk": {"level": "medium", "reasons": ["adds a cache: memory grows"]},
            "strategy": "caching",
        },
        {
            "target": "pkg/b.py::Cls.meth", "summary": "hoist", "verdict": "accepted",
            "stage": "speed", "reason": "same outcomes on 3 recorded calls",
            "speedup": 1.5, "ci": [1.3, 1.7], "first_call_speedup": 1.4,
            "committed": True, "commit": "b" * 40,
        },
        {
            "target": "pkg/a.py::fast", "summary": "broken", "verdict": "rejected",
            "stage": "behaviour", "reason": "on a generated call ([]): raises <IndexError>",
            "speedup": None, "ci": None, "first_call_speedup": None, "committed": False,
            "commit": None, "strategy": "builtins+data-structure",
        },
    ],
    "notes": ["target x skipped: flaky"],
    "confirmation": {
        "what": "benchmarks: tests/bench.py", "method": "benchmarks", "runs": 3,
        "base_seconds": 2.0, "result_seconds": 1.0, "speedup": 4.5,
        "benchmarks": {"a": 4.5},
    },
}  # fmt: skip


def test_title_and_body() -> None:
    assert pr_title(REPORT) == "Evolver: 2 verified speedups (up to 12.0×)"
    body = pr_body(REPORT, head_branch="evolver/main")
    assert body.startswith(marker("evolver/main") + "\n")
    assert "`openai` with the model `gpt-test`" in body and "`0123456789`" in body
    assert "Run `42`." in body
    assert "**Whole result:** 4.50× faster than the base" in body
    assert "geometric mean of 1 benchmarks' medians, 3 runs a side" in body
    # One row per committed change; a | and a newline inside a cell neither split nor end it.
    # The second change comes from a report written before strategies were recorded.
    assert (
        "| `pkg/a.py::fast` | use a set \\| not a list really | caching | 12.04× | 11.50–12.50× "
        "| 10.00× | 50.0% | medium |"
    ) in body
    assert "| `pkg/b.py::Cls.meth` | hoist | – | 1.50× | 1.30–1.70× | 1.40× | 12.5% | – |" in body
    verified = body.split("### How each change was verified", 1)[1]
    first, second = verified.split("#### ")[1:3]
    order = [first.index(f"- **{h}:**") for h in (
        "Tests", "Differential check on recorded calls", "Property check on generated inputs",
        "Timing", "Risk")]  # fmt: skip
    assert order == sorted(order)
    assert "- **Tests:** 3 tests that reach it pass." in first
    assert first.index("- **Strategy:** caching\n") < first.index("- **Tests:**")
    assert "- **Strategy:** not recorded\n" in second
    assert "- **Risk:** medium: adds a cache: memory grows" in first
    assert "- **Checks passed:** Same outcomes on 3 recorded calls." in second  # no evidence
    assert "- **Timing:** 1.50× faster (95% interval 1.30–1.70×, first calls 1.40×)." in second
    assert "### Risk: medium\nReview these first:\n- `pkg/a.py::fast`: adds a cache" in body
    assert "<details>\n<summary>1 rejected candidate</summary>" in body
    assert "raises &lt;IndexError&gt;" in body  # visible, not swallowed as an HTML tag
    # A rules candidate's several strategies, read as such, in the rejected candidates too.
    assert "| `pkg/a.py::fast` | broken | builtins + data-structure | behaviour |" in body
    assert "### Notes\n- target x skipped: flaky" in body
    one = {**REPORT, "candidates": REPORT["candidates"][1:2]}
    assert pr_title(one) == "Evolver: 1 verified speedup in Cls.meth (1.5×)"


def test_a_strategy_label_cannot_break_the_body() -> None:
    """A label is only data from a report (hand-edited, or from an older version): a ``|``
    stays in its cell, a newline on its line and a tag visible as text."""
    hostile = "caching|x\n### <img src=x onerror=alert(1)>"
    [change, *_] = REPORT["candidates"]
    body = pr_body({**REPORT, "candidates": [{**change, "strategy": hostile}]})
    [row] = [line for line in body.splitlines() if line.startswith("| `pkg/a.py::fast`")]
    assert row.count(" | ") == 7  # eight cells, as the header has
    assert "| caching\\|x ### &lt;img src=x onerror=alert(1)&gt; |" in row
    assert "<img" not in body and "\n### &lt;img" not in body
    for odd in (None, "", "+"):  # missing, or no name in it
        plain = pr_body({**REPORT, "candidates": [{**change, "strategy": odd}]})
        assert "| use a set \\| not a list really | – | 12.04× |" in plain
        assert "- **Strategy:** not recorded\n" in plain
    with pytest.raises(ReportError, match=r"candidates\[0\]\.strategy: expected a string"):
        pr_body({**REPORT, "candidates": [{**change, "strategy": 7}]})  # not a report


def test_a_change_beyond_its_target_shows_each_definition_on_its_own() -> None:
    """Each definition a class-level change touches gets its own collapsed diff, in a fence
    that a candidate's backticks cannot close early."""
    [first, second, *rest] = REPORT["candidates"]
    hostile = "-    pass\n+    note = '```\\n### pwned'\n"
    changes = {"Cls.meth": "@@ -1 +1 @@\n-a\n+b\n", "Cls.__init__": hostile}
    body = pr_body({**REPORT, "candidates": [first, {**second, "changes": changes}, *rest]})
    section = body[body.index("### Beyond one function") :]
    assert "`pkg/b.py::Cls.meth` changes 2 definitions:" in section
    assert "<summary><code>Cls.__init__</code></summary>" in section
    assert "\n````diff\n" + hostile + "````\n" in section  # four backticks around three
    assert "Beyond one function" not in pr_body(REPORT)


def test_body_stays_within_githubs_limit() -> None:
    reject = {**REPORT["candidates"][2], "reason": "x" * 1000}
    huge = {**REPORT, "candidates": REPORT["candidates"][:2] + [reject] * 400}
    body = pr_body(huge, head_branch="evolver/main")
    assert len(body) < 65_536 and "The other candidates are left out" in body
    assert marker("evolver/main") in body and "`pkg/b.py::Cls.meth`" in body


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://github.com/octo/app.git", ("github.com", "octo", "app")),
        ("https://github.com/octo/app", ("github.com", "octo", "app")),
        ("https://github.com/octo/app/", ("github.com", "octo", "app")),
        ("https://x-access-token:ghs_1@github.com/octo/app.git", ("github.com", "octo", "app")),
        ("git@github.com:octo/app.git", ("github.com", "octo", "app")),
        ("git@github.com:octo/my.app", ("github.com", "octo", "my.app")),
        ("ssh://git@github.com/octo/app.git", ("github.com", "octo", "app")),
        ("ssh://git@ghe.example.com:2222/corp/app.git", ("ghe.example.com", "corp", "app")),
        ("https://GHE.example.com/corp/app", ("ghe.example.com", "corp", "app")),
        ("git://github.com/octo/app.git", ("github.com", "octo", "app")),
        ("/srv/git/app.git", None),
        ("../app.git", None),
        ("file:///srv/octo/app.git", None),
        ("https://github.com/octo", None),
        ("https://gitlab.com/group/sub/app.git", None),
    ],
)
def test_remote_urls(url: str, expected: tuple[str, str, str] | None) -> None:
    assert parse_remote_url(url) == expected


def test_slug_and_api_url_defaults(
    project: Project, first_report: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GITHUB_API_URL", raising=False)
    assert parse_slug("octo/app") == ("octo", "app")
    for bad in ("octo", "octo/app/x", "/app", "octo/"):
        with pytest.raises(UsageError, match="OWNER/NAME"):
            parse_slug(bad)
    with pytest.raises(UsageError, match="set GITHUB_TOKEN"):
        PullRequestSettings.from_env(env={})
    settings = PullRequestSettings.from_env(env={"GH_TOKEN": "sekrit"}, remote=None, draft=True)
    assert (settings.token, settings.remote, settings.draft) == ("sekrit", "origin", True)
    assert "sekrit" not in repr(settings)  # the token stays out of logs and tracebacks
    # An Enterprise remote without --github-url: a clear error, not the token sent elsewhere.
    clone = project.root / "ghe-clone"
    if not clone.exists():
        git(project.root, "clone", "--quiet", str(project.repo), str(clone))
        git(clone, "remote", "set-url", "origin", "git@ghe.example.com:corp/app.git")
        git(clone, "branch", "--quiet", "evolver/run-1", "origin/evolver/run-1")
    with pytest.raises(UsageError, match=r"pass --github-url https://ghe\.example\.com/api/v3"):
        publish(clone, first_report, PullRequestSettings(token="t"))


# --- scripts/changed-targets -----------------------------------------------------------------


def changed_targets(repo: Path, base: str, head: str) -> list[str]:
    done = subprocess.run(
        [sys.executable, str(CHANGED_TARGETS), base, head],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.splitlines()


def test_changed_targets(tmp_path: Path) -> None:
    repo = init_repo(
        tmp_path / "repo",
        {
            "pkg/__init__.py": "",
            "pkg/shapes.py": """
                import math

                LIMIT = 10


                class Circle:
                    def __init__(self, r):
                        self.r = r

                    @property
                    def area(self):
                        return math.pi * self.r ** 2

                    def grow(self, by):
                        def clamp(v):
                            return min(v, LIMIT)
                        self.r = clamp(self.r + by)
                        return self


                def total(circles):
                    s = 0
                    for c in circles:
                        if c is None:
                            continue
                        s += c.area
                    return s
            """,
            "pkg/gone.py": "def f():\n    return 1\n",
            "tests/test_shapes.py": "def test_x():\n    assert True\n",
        },
        message="base",
    )
    git(repo, "checkout", "--quiet", "-b", "feature")

    def commit(message: str) -> None:
        git(repo, "commit", "--quiet", "-am", message)

    shapes = repo / "pkg" / "shapes.py"
    text = shapes.read_text()
    shapes.write_text(text.replace("return min(v, LIMIT)", "return v if v < LIMIT else LIMIT"))
    commit("inside a nested function of a method")
    assert changed_targets(repo, "main", "HEAD") == ["--target pkg/shapes.py::Circle.grow"]

    git(repo, "reset", "--quiet", "--hard", "main")
    shapes.write_text(
        text.replace("LIMIT = 10", "LIMIT = 12").replace("import math", "import math  # pi")
    )
    (repo / "tests" / "test_shapes.py").write_text("def test_x():\n    assert 1\n")
    git(repo, "rm", "--quiet", "pkg/gone.py")
    commit("outside functions, in a test, and a deleted file")
    assert changed_targets(repo, "main", "HEAD") == []

    git(repo, "reset", "--quiet", "--hard", "main")
    lines = text.splitlines(keepends=True)
    without = "".join(line for line in lines if "None" not in line and "continue" not in line)
    shapes.write_text(without.replace("@property", "@property  # cached?"))
    commit("a deleted line and a decorator")
    assert changed_targets(repo, "main", "HEAD") == [
        "--target pkg/shapes.py::Circle.area",
        "--target pkg/shapes.py::total",
    ]
    # Changes on the base branch since the fork are not the pull request's.
    git(repo, "checkout", "--quiet", "main")
    (repo / "pkg" / "gone.py").write_text("def f():\n    return 2\n")
    commit("on main meanwhile")
    assert changed_targets(repo, "main", "feature") == [
        "--target pkg/shapes.py::Circle.area",
        "--target pkg/shapes.py::total",
    ]
