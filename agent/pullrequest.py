"""One run's result published as a GitHub pull request.

    settings = PullRequestSettings.from_env(remote="origin")
    result = publish(Path("."), report_json_dict, settings)

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

from agent import gitops
from agent.errors import UsageError
from agent.github import DEFAULT_API_URL, GitHub, GitHubError, Pull, marker

OWN_PREFIX = "evolver/"  # branches Evolver may rewrite with a forced push
GITHUB_HOSTS = {"github.com", "www.github.com", "ssh.github.com"}
MAX_BODY = 60_000  # GitHub refuses bodies over 65,536 characters
MAX_REASON = 300  # characters of a rejection's reason in the collapsed table

_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")
_LEVELS = ("low", "medium", "high")
_EVIDENCE = {  # check → heading, in the order a reviewer reads them
    "tests": "Tests",
    "differential": "Differential check on recorded calls",
    "property": "Property check on generated inputs",
    "timing": "Timing",
}


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
            f"{self.pushed_commit[:10]}): {self.url}"
        )


# --- publishing ----------------------------------------------------------------------------


def publishable(report: dict[str, Any]) -> bool:
    """Whether the run left anything to publish (``evolver run --pr`` skips publishing if not)."""
    return bool(report.get("branch")) and any(c.get("commit") for c in _committed(report))


def publish(
    repo_path: Path, report: dict[str, Any], settings: PullRequestSettings
) -> PullRequestResult:
    """Push the run's branch to ``evolver/<base>`` and open or update Evolver's pull request.

    ``report`` is the run's JSON report (``agent/report.py``). UsageError (GitHubError is one)
    when the report has nothing to publish, the remote cannot be worked out, the head branch is
    not Evolver's to write, or GitHub refuses; nothing has been pushed then, unless the error
    says that the push happened.
    """
    branch, commits = _result(report)
    base_commit = str(report.get("base_commit") or "")
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


def _result(report: dict[str, Any]) -> tuple[str, list[str]]:
    """The run's local branch and its commits; a UsageError when there is nothing to publish."""
    branch = report.get("branch")
    commits = [str(c["commit"]) for c in _committed(report) if c.get("commit")]
    if not branch or not commits:
        raise UsageError("the run committed no change: there is nothing to publish")
    return str(branch), commits


def _local_tip(root: Path, branch: str, commits: list[str]) -> str:
    found = _git(root, "rev-parse", "--verify", "--quiet", f"refs/heads/{branch}^{{commit}}")
    if found.returncode != 0:
        raise UsageError(f"the run's branch {branch} no longer exists in {root}")
    tip = found.stdout.strip()
    for commit in commits:
        if _git(root, "merge-base", "--is-ancestor", commit, tip).returncode != 0:
            raise UsageError(
                f"branch {branch} no longer holds the run's commit {commit[:10]}; "
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
            f"the run started from {base_commit[:10]}, which is not on {remote}'s {base}: the "
            "pull request would carry other commits too; pass --pr-base with the run's branch"
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


# --- title and body --------------------------------------------------------------------------


def pr_title(report: dict[str, Any]) -> str:
    """``Evolver: 3 verified speedups (up to 12.0×)``."""
    committed = _committed(report)
    speedups = [float(c["speedup"]) for c in committed if _number(c.get("speedup"))]
    if not committed:
        return "Evolver: no verified speedup"
    if len(committed) == 1:
        shown = f" ({speedups[0]:.1f}×)" if speedups else ""
        target = str(committed[0].get("target") or "").rpartition("::")[2]
        where = f" in {target}" if target else ""
        return f"Evolver: 1 verified speedup{where}{shown}"
    best = f" (up to {max(speedups):.1f}×)" if speedups else ""
    return f"Evolver: {len(committed)} verified speedups{best}"


def pr_body(report: dict[str, Any], *, head_branch: str | None = None) -> str:
    """The pull request's Markdown: summary, table, evidence, risk, rejections, notes.

    ``head_branch`` goes into the hidden marker that tells Evolver's pull request from others.
    """
    head = head_branch or str(report.get("branch") or "")
    committed = _committed(report)
    parts = [
        marker(head),
        _summary(report, committed),
        _table(report, committed),
        _verification(committed),
        _risk_section(committed),
        _notes(report),
    ]
    footer = (
        "<sub>Opened by Evolver. Every commit changes one function; review them one by one. "
        f"A new run force-pushes `{head}` and updates this description.</sub>"
    )
    body = _join([*parts, _others(report), footer])
    if len(body) > MAX_BODY:  # the collapsed list of rejections is what can grow without end
        cut = "_The other candidates are left out: the description would be too long._"
        body = _join([*parts, cut, footer])
    return body[:MAX_BODY]


def _summary(report: dict[str, Any], committed: list[dict[str, Any]]) -> str:
    provider = str(report.get("provider") or "unknown")
    model = report.get("model")
    by = f"`{provider}`" + (f" with the model `{model}`" if model else "")
    base = str(report.get("base_commit") or "")[:10] or "an unknown commit"
    count = len(committed)
    changes = f"{count} change" + ("" if count == 1 else "s")
    text = (
        f"Evolver profiled this repository at `{base}`, had {by} propose faster versions of its "
        "hottest functions and verified each in a sandbox: the same behaviour as the original "
        "on recorded and generated calls, the tests passing, and a speedup proven by a 95% "
        f"bootstrap interval. {changes} passed every check, one commit per function."
    )
    run_id = report.get("run_id")
    if run_id:
        text += f" Run `{run_id}`."
    whole = _confirmation(report.get("confirmation"))
    return text + ("\n\n" + whole if whole else "")


def _confirmation(confirmation: Any) -> str:
    if not isinstance(confirmation, dict) or not _number(confirmation.get("speedup")):
        return ""
    speedup = float(confirmation["speedup"])
    if speedup > 1.02:
        verdict = f"{speedup:.2f}× faster"
    elif speedup < 0.98:
        verdict = f"{1 / speedup:.2f}× slower"
    else:
        verdict = f"about as fast ({speedup:.2f}×)"
    benchmarks = confirmation.get("benchmarks") or {}
    how = (
        f"geometric mean of {len(benchmarks)} benchmarks' medians"
        if confirmation.get("method") == "benchmarks"
        else "median wall time"
    )
    text = (
        f"**Whole result:** {verdict} than the base on the repository's own workload "
        f"({_code(str(confirmation.get('what') or 'the workload'))}; {how}"
    )
    runs = confirmation.get("runs")
    if runs:
        text += f", {runs} runs a side, alternating"
    base, result = (
        _float(confirmation.get("base_seconds")),
        _float(confirmation.get("result_seconds")),
    )
    if base is not None and result is not None:
        text += f"; {base:.2f} s → {result:.2f} s"
    return text + ")."


def _table(report: dict[str, Any], committed: list[dict[str, Any]]) -> str:
    shares = {
        str(t.get("target")): t.get("share")
        for t in report.get("targets") or []
        if isinstance(t, dict)
    }
    rows = [
        "| target | change | speedup | 95% interval | first call | profile share | risk |",
        "|---|---|--:|--:|--:|--:|---|",
    ]
    for c in committed:
        target = str(c.get("target") or "")
        share = _float(shares.get(target))
        risk = _risk(c)
        cells = [
            _code(target),
            _cell(str(c.get("summary") or "")),
            _times(c.get("speedup")),
            _interval(c.get("ci")),
            _times(c.get("first_call_speedup")),
            f"{share:.1%}" if share is not None else "–",
            risk[0] if risk else "–",
        ]
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows)


def _verification(committed: list[dict[str, Any]]) -> str:
    sections = ["### How each change was verified"]
    for c in committed:
        commit = str(c.get("commit") or "")[:10]
        heading = f"#### {_code(str(c.get('target') or ''))}: {_text(str(c.get('summary') or ''))}"
        lines = [heading + (f" ({commit})" if commit else "")]
        evidence = c.get("evidence")
        if isinstance(evidence, dict) and evidence:
            known = [k for k in _EVIDENCE if k in evidence]
            for key in known + sorted(k for k in evidence if k not in _EVIDENCE):
                label = _EVIDENCE.get(key, str(key).replace("_", " ").capitalize())
                lines.append(f"- **{label}:** {_text(_sentence(str(evidence[key])))}")
        else:
            lines.append(f"- **Checks passed:** {_text(_sentence(str(c.get('reason') or '')))}")
            if _number(c.get("speedup")):
                lines.append(
                    f"- **Timing:** {_times(c.get('speedup'))} faster (95% interval "
                    f"{_interval(c.get('ci'))}, first calls {_times(c.get('first_call_speedup'))})."
                )
        risk = _risk(c)
        if risk:
            level, reasons = risk
            why = f": {_text('; '.join(reasons))}" if reasons else ""
            lines.append(f"- **Risk:** {level}{why}")
        sections.append("\n".join(lines))
    return "\n\n".join(sections)


def _risk_section(committed: list[dict[str, Any]]) -> str:
    risks = [(c, r) for c in committed if (r := _risk(c))]
    if not risks:
        return ""
    level = max((r[0] for _, r in risks), key=_LEVELS.index)
    lines = [f"### Risk: {level}"]
    if level == "low":
        lines.append("Every change is small and of a well-understood kind.")
    else:
        lines.append("Review these first:")
        for c, (lvl, reasons) in risks:
            if lvl == level:
                why = "; ".join(reasons) or "no reason given"
                lines.append(f"- {_code(str(c.get('target') or ''))}: {_text(why)}")
    return "\n".join(lines)


def _others(report: dict[str, Any]) -> str:
    others = [
        c for c in report.get("candidates") or [] if isinstance(c, dict) and not c.get("committed")
    ]
    if not others:
        return ""
    rejected = sum(1 for c in others if c.get("verdict") != "accepted")
    passed = len(others) - rejected
    label = f"{rejected} rejected candidate" + ("" if rejected == 1 else "s")
    if passed:
        label += f", {passed} verified but beaten by a faster one"
    rows = ["| target | candidate | stage | why not |", "|---|---|---|---|"]
    for c in others:
        if c.get("verdict") == "accepted":
            why = f"verified ({_times(c.get('speedup'))}), but another candidate was faster"
        else:
            why = str(c.get("reason") or "")
            why = why if len(why) <= MAX_REASON else why[: MAX_REASON - 1] + "…"
        cells = [
            _code(str(c.get("target") or "")),
            _cell(str(c.get("summary") or "")),
            _cell(str(c.get("stage") or "")),
            _cell(why),
        ]
        rows.append("| " + " | ".join(cells) + " |")
    table = "\n".join(rows)
    return f"<details>\n<summary>{label}</summary>\n\n{table}\n\n</details>"


def _notes(report: dict[str, Any]) -> str:
    notes = [str(n) for n in report.get("notes") or [] if n]
    flaky = [str(t) for t in report.get("flaky_tests") or []]
    if flaky:
        notes.append(
            "flaky tests, deselected when judging: " + ", ".join(_code(t) for t in flaky[:20])
        )
    if not notes:
        return ""
    return "### Notes\n" + "\n".join(f"- {_text(n)}" for n in notes)


# --- helpers -------------------------------------------------------------------------------


def _committed(report: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for c in report.get("candidates") or [] if isinstance(c, dict) and c.get("committed")]


def _risk(candidate: dict[str, Any]) -> tuple[str, list[str]] | None:
    risk = candidate.get("risk")
    if not isinstance(risk, dict) or risk.get("level") not in _LEVELS:
        return None
    reasons = [str(r) for r in risk.get("reasons") or []]
    return str(risk["level"]), reasons


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _float(value: Any) -> float | None:
    return float(value) if _number(value) else None


def _times(value: Any) -> str:
    return f"{float(value):.2f}×" if _number(value) else "–"


def _interval(ci: Any) -> str:
    if isinstance(ci, (list, tuple)) and len(ci) == 2 and all(_number(v) for v in ci):
        return f"{float(ci[0]):.2f}–{float(ci[1]):.2f}×"
    return "–"


def _sentence(text: str) -> str:
    text = text.strip()
    if not text:
        return "–"
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


def _text(text: str) -> str:
    """Plain text for Markdown: ``<locals>`` and the like stay visible instead of being read as
    HTML tags, and nothing runs over onto a new line."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return " ".join(text.split())


def _cell(text: str) -> str:
    """A table cell: a ``|`` would end it, a newline the row."""
    return _text(text).replace("|", "\\|")


def _code(text: str) -> str:
    """Inline code in a table cell or a line; GFM honours ``\\|`` even inside code spans."""
    text = " ".join(text.split()).replace("|", "\\|")
    ticks = "``" if "`" in text else "`"
    pad = " " if ticks == "``" else ""
    return f"{ticks}{pad}{text}{pad}{ticks}" if text else "–"


def _join(parts: list[str]) -> str:
    return "\n\n".join(p for p in parts if p) + "\n"


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
