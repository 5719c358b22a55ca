"""Git, read-only towards the user's checkout.

The working tree, index, current branch and stash of the user's repository are never touched:
snapshots are exported with a private index file, and the result branch is built with plumbing
(blobs, trees and commits written to the object store) and created in one atomic ``update-ref``
at the very end. An interrupted run leaves at most unreachable objects, which git collects.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import git

from agent.errors import UsageError

_AUTHOR = {
    "GIT_AUTHOR_NAME": "Evolver",
    "GIT_AUTHOR_EMAIL": "evolver@localhost",
    "GIT_COMMITTER_NAME": "Evolver",
    "GIT_COMMITTER_EMAIL": "evolver@localhost",
}
_NO_BRANCH = "0" * 40


def open_repo(path: Path) -> git.Repo:
    """The repository at ``path`` (its top level), or a UsageError saying why not."""
    if not path.is_dir():
        raise UsageError(f"{path} is not a directory")
    try:
        repo = git.Repo(path, search_parent_directories=False)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        raise UsageError(f"{path} is not a git repository") from None
    if repo.bare:
        raise UsageError(f"{path} is a bare repository; point evolver at a checkout")
    try:
        _ = repo.head.commit
    except ValueError:
        raise UsageError(f"{path} has no commits yet") from None
    return repo


def resolve(repo: git.Repo, rev: str) -> str:
    """The commit ``rev`` names (a branch, tag or sha), or a UsageError."""
    try:
        return str(repo.commit(rev).hexsha)
    except (git.BadName, ValueError, git.GitCommandError):
        raise UsageError(f"{rev!r} names no commit in {repo.working_dir}") from None


def read_file(repo: git.Repo, commit: str, path: str) -> str | None:
    """The text of ``path`` at ``commit``, or ``None`` if it does not exist there."""
    try:
        blob = repo.commit(commit).tree / path
    except KeyError:
        return None
    if blob.type != "blob":
        return None
    data: bytes = blob.data_stream.read()
    return data.decode("utf-8")


def export_tree(repo: git.Repo, commit: str, dest: Path) -> None:
    """Write the files of ``commit`` into ``dest`` without touching the user's index."""
    dest.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="evolver-index-") as tmp:
        env = {"GIT_INDEX_FILE": os.path.join(tmp, "index")}
        repo.git.read_tree(commit, env=env)
        repo.git.checkout_index("--all", f"--prefix={dest}{os.sep}", env=env)


def check_new_branch(repo: git.Repo, name: str) -> None:
    try:
        repo.git.check_ref_format("--branch", name)
    except git.GitCommandError:
        raise UsageError(f"--branch {name!r} is not a valid branch name") from None
    if f"refs/heads/{name}" in {ref.path for ref in repo.references}:
        raise UsageError(f"branch {name!r} already exists; choose another --branch")


@dataclass
class ResultBranch:
    """Commits stacked on ``base`` with plumbing; the branch appears only on ``publish``."""

    repo: git.Repo
    name: str
    base: str
    tip: str = field(init=False)

    def __post_init__(self) -> None:
        self.tip = self.base

    def commit(self, files: dict[str, str], message: str) -> str:
        """Commit ``files`` (path → new text) on top of the current tip; return the sha."""
        with tempfile.TemporaryDirectory(prefix="evolver-index-") as tmp:
            env = {"GIT_INDEX_FILE": os.path.join(tmp, "index"), **_AUTHOR}
            self.repo.git.read_tree(self.tip, env=env)
            for path, text in files.items():
                blob_file = Path(tmp) / "blob"
                blob_file.write_text(text, encoding="utf-8")
                sha = self.repo.git.hash_object("-w", str(blob_file))
                self.repo.git.update_index(
                    "--add", "--cacheinfo", f"{self._mode(path)},{sha},{path}", env=env
                )
            tree = self.repo.git.write_tree(env=env)
            self.tip = self.repo.git.commit_tree(tree, "-p", self.tip, "-m", message, env=env)
        return self.tip

    def publish(self) -> str | None:
        """Create the branch at the tip (only if anything was committed); its name or None."""
        if self.tip == self.base:
            return None
        self.repo.git.update_ref(f"refs/heads/{self.name}", self.tip, _NO_BRANCH)
        return self.name

    def _mode(self, path: str) -> str:
        try:
            return f"{(self.repo.commit(self.tip).tree / path).mode:o}"
        except KeyError:
            return "100644"


def is_ancestor(repo: git.Repo, commit: str, tip: str) -> bool:
    """Whether ``commit`` is in ``tip``'s history (False for an unknown commit, too)."""
    try:
        repo.git.merge_base("--is-ancestor", commit, tip)
    except git.GitCommandError:
        return False
    return True


def checked_out_at(repo: git.Repo, branch: str) -> str | None:
    """The worktree where ``branch`` is checked out, if any (the main one included)."""
    ref = f"refs/heads/{branch}"
    worktree = None
    for line in repo.git.worktree("list", "--porcelain").splitlines():
        if line.startswith("worktree "):
            worktree = line.removeprefix("worktree ")
        elif line == f"branch {ref}":
            return worktree
    return None


def branch_tip(repo: git.Repo, branch: str) -> str:
    try:
        return str(repo.git.rev_parse("--verify", "--quiet", f"refs/heads/{branch}^{{commit}}"))
    except git.GitCommandError:
        raise UsageError(f"no branch {branch!r} in {repo.working_dir}") from None


def check_movable(repo: git.Repo, branch: str) -> None:
    """Evolver may move ``branch`` only where no checkout would be left behind by it."""
    branch_tip(repo, branch)
    where = checked_out_at(repo, branch)
    if where is not None:
        raise UsageError(
            f"branch {branch!r} is checked out in {where}; Evolver never moves a branch under "
            "a checkout: use a clone with a detached HEAD (git switch --detach), or revert there"
        )


class BranchMoved(Exception):
    """The branch moved while Evolver worked on it; nothing was changed."""


def on_branch(repo: git.Repo, branch: str, *commands: tuple[str, ...]) -> str:
    """Run git ``commands`` (each an argv after ``git``, e.g. ``("revert", "--no-edit", sha)``)
    in a private worktree at ``branch``'s tip, then move the branch to the result in one
    compare-and-swap ``update-ref``. Returns the new tip; raises ``BranchMoved`` when someone
    moved the branch meanwhile, and ``git.GitCommandError`` when a command fails (a conflict):
    either way the branch is left as it was."""
    check_movable(repo, branch)
    old = branch_tip(repo, branch)
    with tempfile.TemporaryDirectory(prefix="evolver-worktree-") as tmp:
        path = os.path.join(tmp, "tree")
        repo.git.worktree("add", "--detach", "--quiet", path, old)
        try:
            work = git.Repo(path)
            for argv in commands:
                work.git.execute(["git", *argv], env={**os.environ, **_AUTHOR})
            new = str(work.git.rev_parse("HEAD"))
        finally:
            repo.git.worktree("remove", "--force", path)
            repo.git.worktree("prune")
    try:
        repo.git.update_ref(f"refs/heads/{branch}", new, old)
    except git.GitCommandError:
        raise BranchMoved(f"branch {branch!r} moved while Evolver worked on it") from None
    return new


def push(repo: git.Repo, remote: str, branch: str) -> None:
    """Push ``branch`` to ``remote`` (no force: the remote must not have moved either)."""
    try:
        repo.git.push("--quiet", remote, f"refs/heads/{branch}:refs/heads/{branch}")
    except git.GitCommandError as error:
        lines = str(error.stderr).strip().splitlines() or ["push failed"]
        raise UsageError(f"git push {remote} {branch}: {lines[-1].strip()}") from None
