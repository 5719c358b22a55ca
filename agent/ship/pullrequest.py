"""One run's result published as a GitHub pull request.

    settings = PullRequestSettings.from_env(remote="origin")
    result = publish(Path("."), Report.read(Path("report.json")), settings)

The run's local branch is pushed to ``evolver/<base>`` on the remote, then Evolver's own open
pull request from that branch gets the new title and body, or one is opened. The branch name is
stable so that a rerun (a weekly schedule, say) updates the same pull request instead of
opening another. Evolver's pull requests are recognised by a hidden marker in their body; an
open pull request from the same branch without it belongs to someone else and is never taken
over: publishing stops before pushing.

Only the remote is written to. A push of an explicit ``<sha>:refs/heads/<branch>`` to the
remote's URL changes nothing in the user's repository: not the working tree, the index, the
current branch, nor even a remote-tracking ref.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from agent.errors import UsageError
from agent.record import gitops
from agent.reports import format as fmt
from agent.reports.model import Report, as_report
from agent.ship.github import DEFAULT_API_URL, GitHub, GitHubError, Pull
from agent.ship.pr_text import pr_body, pr_title

OWN_PREFIX = "evolver/"  # branches Evolver may rewrite with a forced push
GITHUB_HOSTS = {"github.com", "www.github.com", "ssh.github.com"}

_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")


@dataclass(frozen=True, kw_only=True)
class PullRequestSettings:
    """Where and how to publish. Every ``None`` means "work it out" (see ``publish``)."""

    token: str = field(repr=False)
    remote: str = "origin"
    api_url: str | None = None  # default: $GITHUB_API_URL, else https://api.github.com
    slug: str | None = None  # "owner/name"; default: parsed from the remote's URL
    head_branch: str | None = None  # default: evolver/<base branch>
    base_branch: str | None = None  # default: the repository's default branch
    draft: bool = False

    @classmethod
    def from_env(
        cls,
        *,
        remote: str | None = None,
        api_url: str | None = None,
        slug: str | None = None,
        head_branch: str | None = None,
        base_branch: str | None = None,
        draft: bool = False,
        env: Mapping[str, str] | None = None,
    ) -> PullRequestSettings:
        """Settings with the token from $GITHUB_TOKEN (or $GH_TOKEN, the gh CLI's).

        Made for a command line: pass each flag as it came, ``None`` when it was not given.
        """
        env = os.environ if env is None else env
        token = env.get("GITHUB_TOKEN") or env.get("GH_TOKEN") or ""
        if not token:
            raise UsageError("publishing a pull request needs a token: set GITHUB_TOKEN")
        return cls(
            token=token,
            remote=remote or "origin",
            api_url=api_url,
            slug=slug,
            head_branch=head_branch,
            base_branch=base_branch,
            draft=draft,
        )


@dataclass(frozen=True)
class PullRequestResult:
    number: int
    url: str
    created: bool  # False: Evolver's open pull request was updated
    head_branch: str
    pushed_commit: str
    base_branch: str = ""
    pushed: bool = True  # False: the remote branch was already at pushed_commit

    def describe(self) -> str:
        """One line for a person: what happened, and where to look."""
        verb = "opened" if self.created else "updated"
        return (
            f"{verb} pull request #{self.number} ({self.head_branch} → {self.base_branch}, "
            f"{fmt.short_sha(self.pushed_commit)}): {self.url}"
        )


# --- publishing ----------------------------------------------------------------------------


def publishable(report: Report | Mapping[str, Any]) -> bool:
    """Whether the run left anything to publish (``evolver run --pr`` skips publishing if not)."""
    report = as_report(report)
    return bool(report.branch) and any(c.commit for c in report.committed_candidates)


def publish(
    repo_path: Path, report: Report | Mapping[str, Any], settings: PullRequestSettings
) -> PullRequestResult:
    """Push the run's branch to ``evolver/<base>`` and open or update Evolver's pull request.

    ``report`` is the run's report (``agent.reports.model``), or its JSON. UsageError
    (GitHubError is one) when the report has nothing to publish, the remote cannot be worked
    out, the head branch is not Evolver's to write, or GitHub refuses; nothing has been pushed
    then, unless the error says that the push happened.
    """
    report = as_report(report)
    branch, commits = _result(report)
    base_commit = report.base_commit
    repo = gitops.open_repo(Path(repo_path))
    root = Path(repo.working_tree_dir or repo_path)
    tip = _local_tip(root, branch, commits)
    push_url = _remote_url(root, settings.remote)
    owner, name, host = _owner_and_name(settings, push_url)
    api_url = _api_url(settings, host)

    with GitHub(api_url=api_url, token=settings.token) as github:
        default = None if settings.base_branch else github.default_branch(owner, name)
        base = settings.base_branch or default or ""
        head = settings.head_branch or OWN_PREFIX + base
        own_branch = head.startswith(OWN_PREFIX)
        if not own_branch and default is None:
            default = github.default_branch(owner, name)  # never write to it, even if asked
        _check_head(root, head, base, default)

        on_head = github.open_pulls(owner, name, owner, head)
        ours = sorted((p for p in on_head if p.is_evolvers()), key=lambda p: p.number)
        if on_head and not ours:
            raise UsageError(
                f"branch {head} of {owner}/{name} is the head of pull request "
                f"#{on_head[0].number}, which Evolver did not open; pass --pr-branch with "
                "another name"
            )

        remote = _ls_remote(root, push_url, [head, base])
        _check_base(root, base, remote.get(base), base_commit, tip, settings.remote)
        current = remote.get(head)
        if current != tip:
            _push(root, push_url, tip, head, current, force=own_branch, remote=settings.remote)

        title, body = pr_title(report), pr_body(report, head_branch=head)
        try:
            pull, created = _open_or_update(
                github, owner, name, ours[0] if ours else None, title, body, head, base, settings
            )
        except GitHubError as error:
            if current == tip:
                raise
            pushed = f"{error}; {head} was pushed to {settings.remote}"
            raise GitHubError(pushed, error.status) from None

    return PullRequestResult(
        number=pull.number,
        url=pull.url,
        created=created,
        head_branch=head,
        pushed_commit=tip,
        base_branch=base,
        pushed=current != tip,
    )


def _open_or_update(
    github: GitHub,
    owner: str,
    name: str,
    existing: Pull | None,
    title: str,
    body: str,
    head: str,
    base: str,
    settings: PullRequestSettings,
) -> tuple[Pull, bool]:
    if existing is not None:
        retarget = base if existing.base != base else None
        return github.update_pull(owner, name, existing.number, title, body, base=retarget), False
    try:
        return github.create_pull(owner, name, title, body, head, base, settings.draft), True
    except GitHubError as error:
        # 422 "already exists": another run opened it since we looked, or a retried POST whose
        # first attempt did reach GitHub. Evolver's own is updated; anyone else's is left alone.
        if error.status != 422:
            raise
        again = github.find_open_pull(owner, name, owner, head)
        if again is None:
            raise
        return github.update_pull(owner, name, again.number, title, body), False


def _result(report: Report) -> tuple[str, list[str]]:
    """The run's local branch and its commits; a UsageError when there is nothing to publish."""
    commits = [c.commit for c in report.committed_candidates if c.commit]
    if not report.branch or not commits:
        raise UsageError("the run committed no change: there is nothing to publish")
    return report.branch, commits


def _local_tip(root: Path, branch: str, commits: list[str]) -> str:
    found = _git(root, "rev-parse", "--verify", "--quiet", f"refs/heads/{branch}^{{commit}}")
    if found.returncode != 0:
        raise UsageError(f"the run's branch {branch} no longer exists in {root}")
    tip = found.stdout.strip()
    for commit in commits:
        if _git(root, "merge-base", "--is-ancestor", commit, tip).returncode != 0:
            raise UsageError(
                f"branch {branch} no longer holds the run's commit {fmt.short_sha(commit)}; "
                "it was moved after the run"
            )
    return tip


def _remote_url(root: Path, remote: str) -> str:
    # The push URL with insteadOf applied: pushing to a URL, not to the remote's name, leaves
    # the remote-tracking refs of the user's repository alone.
    found = _git(root, "remote", "get-url", "--push", remote)
    if found.returncode != 0 or not found.stdout.strip():
        raise UsageError(f"{root} has no remote named {remote!r}; pass --remote NAME")
    return found.stdout.strip().splitlines()[0]


def _owner_and_name(settings: PullRequestSettings, push_url: str) -> tuple[str, str, str | None]:
    """owner, name, and the GitHub host the remote names (None when given or unknown)."""
    if settings.slug:
        owner, name = parse_slug(settings.slug)
        return owner, name, None
    parsed = parse_remote_url(push_url)
    if parsed is None:
        raise UsageError(
            f"cannot tell the GitHub repository from the remote URL {_redact(push_url)}; "
            "pass --github-repo OWNER/NAME"
        )
    host, owner, name = parsed
    return owner, name, host


def _api_url(settings: PullRequestSettings, host: str | None) -> str:
    explicit = settings.api_url or os.environ.get("GITHUB_API_URL")
    if explicit:
        return explicit
    if host is not None and host.lower() not in GITHUB_HOSTS:
        # Sending the token to api.github.com for a repository that lives elsewhere would fail
        # at best; guessing an API on the remote's host could hand the token to a stranger.
        raise UsageError(
            f"the remote is on {host}, not github.com; for GitHub Enterprise pass "
            f"--github-url https://{host}/api/v3"
        )
    return DEFAULT_API_URL


def _check_head(root: Path, head: str, base: str, default: str | None) -> None:
    if _git(root, "check-ref-format", "--branch", head).returncode != 0:
        raise UsageError(f"--pr-branch {head!r} is not a valid branch name")
    if head in {base, default}:
        raise UsageError(f"refusing to push to {head}: the pull request's branch must be another")


def _check_base(
    root: Path, base: str, base_tip: str | None, base_commit: str, tip: str, remote: str
) -> None:
    """The pull request must show the run's commits and nothing else."""
    if base_tip is None:
        raise UsageError(f"{remote} has no branch {base}; pass --pr-base BRANCH")
    if not base_commit or _git(root, "cat-file", "-e", f"{base_tip}^{{commit}}").returncode:
        return  # the remote's base is newer than anything fetched here: GitHub will judge
    if _git(root, "merge-base", "--is-ancestor", tip, base_tip).returncode == 0:
        raise UsageError(f"{remote}'s {base} already holds the run's commits")
    if _git(root, "merge-base", "--is-ancestor", base_commit, base_tip).returncode != 0:
        raise UsageError(
            f"the run started from {fmt.short_sha(base_commit)}, which is not on {remote}'s "
            f"{base}: the pull request would carry other commits too; pass --pr-base with the "
            "run's branch"
        )


def _ls_remote(root: Path, url: str, branches: list[str]) -> dict[str, str]:
    refs = [f"refs/heads/{b}" for b in branches]
    done = _git(root, "ls-remote", url, *refs, network=True)
    if done.returncode != 0:
        raise UsageError(f"cannot read the remote {_redact(url)}: {_git_failure(done)}")
    found = {}
    for line in done.stdout.splitlines():
        sha, _, ref = line.partition("\t")
        if ref in refs:
            found[ref.removeprefix("refs/heads/")] = sha
    return found


def _push(
    root: Path, url: str, tip: str, head: str, current: str | None, *, force: bool, remote: str
) -> None:
    """Evolver's own branch is rewritten by every run, so it is forced — but with a lease on
    what was there a moment ago, so that a push made meanwhile is not lost. Any other branch
    only moves forward."""
    args = ["push", "--porcelain"]
    if force:
        args.append(f"--force-with-lease=refs/heads/{head}:{current or ''}")
    done = _git(root, *args, url, f"{tip}:refs/heads/{head}", network=True)
    if done.returncode != 0:
        raise UsageError(f"git push of {head} to {remote} failed: {_git_failure(done)}")


# --- remotes ---------------------------------------------------------------------------------


def parse_slug(slug: str) -> tuple[str, str]:
    """``owner/name`` as given to --github-repo, or a UsageError."""
    owner, sep, name = slug.strip().removesuffix(".git").partition("/")
    if not sep or not _NAME.match(owner) or not _NAME.match(name) or name in {".", ".."}:
        raise UsageError(f"--github-repo {slug!r} is not of the form OWNER/NAME")
    return owner, name


def parse_remote_url(url: str) -> tuple[str, str, str] | None:
    """(host, owner, name) of a GitHub-style remote URL, or None.

    https://github.com/o/r(.git), http(s)://user:token@host/o/r, ssh://git@host(:port)/o/r.git,
    git://host/o/r.git and scp-like git@host:o/r.git — on github.com or an Enterprise host.
    Local paths and file:// URLs are None: they name no GitHub repository.
    """
    url = url.strip()
    scheme = re.match(r"^([A-Za-z][A-Za-z0-9+.-]*)://", url)
    if scheme:
        if scheme.group(1).lower() not in {"https", "http", "ssh", "git", "git+ssh", "ssh+git"}:
            return None
        parts = urlsplit(url)
        host, path = parts.hostname, parts.path
    else:
        # scp-like: [user@]host:path, where no slash comes before the colon (a path would).
        scp = re.match(r"^(?:[^@/]+@)?([^:/]+):(?!/)(.+)$", url)
        if not scp:
            return None
        host, path = scp.group(1), scp.group(2)
    if not host:
        return None
    pieces = [p for p in path.strip("/").split("/") if p]
    if len(pieces) != 2:
        return None
    owner, name = pieces[0], pieces[1].removesuffix(".git")
    if not _NAME.match(owner) or not _NAME.match(name) or name in {".", ".."}:
        return None
    return host.lower(), owner, name


def _redact(url: str) -> str:
    """A URL fit for an error message: no password or token in it."""
    return re.sub(r"://[^/@]+@", "://***@", url)


# --- git -------------------------------------------------------------------------------------


def _git(root: Path, *args: str, network: bool = False) -> subprocess.CompletedProcess[str]:
    # A credential prompt would hang a CI job: failing with git's message is better.
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0"} if network else None
    try:
        return subprocess.run(
            ["git", *args],
            cwd=root,
            capture_output=True,
            text=True,
            env=env,
            timeout=300 if network else 60,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise UsageError(f"git {args[0]} timed out") from None


def _git_failure(done: subprocess.CompletedProcess[str]) -> str:
    """git's reason in one line: its error lines, and the rejections --porcelain reports."""
    lines = [
        line.strip()
        for line in (done.stderr + "\n" + done.stdout).splitlines()
        if line.strip().startswith(("fatal:", "error:", "!", "remote: error", "ERROR"))
    ]
    if not lines:
        lines = [line.strip() for line in done.stderr.splitlines() if line.strip()][-1:]
    return _redact("; ".join(lines) or f"exit status {done.returncode}")
