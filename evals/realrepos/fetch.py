"""Pinned sdists: downloaded by hash, cached by hash, unpacked into fresh git repositories."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

from evals.realrepos.manifest import WORKLOAD_FILE, RepoSpec

BRANCH = "main"
# One author and date for every commit: the same sdist always gives the same commit id.
_GIT_ENV = {
    "GIT_AUTHOR_NAME": "evolver-realrepos",
    "GIT_AUTHOR_EMAIL": "realrepos@evolver.invalid",
    "GIT_AUTHOR_DATE": "2000-01-01T00:00:00+00:00",
    "GIT_COMMITTER_NAME": "evolver-realrepos",
    "GIT_COMMITTER_EMAIL": "realrepos@evolver.invalid",
    "GIT_COMMITTER_DATE": "2000-01-01T00:00:00+00:00",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
}
_PIP_TIMEOUT = 600.0


class FetchError(RuntimeError):
    """An sdist could not be had, or is not the one pinned."""


def default_cache() -> Path:
    root = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(root) / "evolver" / "realrepos"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def cached_sdist(spec: RepoSpec, cache: Path) -> Path | None:
    """The sdist in ``cache/<sha256>/``, when it is there and its hash is the pinned one."""
    folder = cache / spec.sha256
    found = sorted(folder.glob("*.tar.gz")) if folder.is_dir() else []
    for path in found:
        if path.is_file() and not path.is_symlink() and sha256_of(path) == spec.sha256:
            return path
    return None


def fetch_sdist(spec: RepoSpec, cache: Path, python: str) -> Path:
    """The pinned sdist, from the cache or else from the package index with pip (source only,
    no dependencies, the hash required), then kept in the cache under its hash."""
    found = cached_sdist(spec, cache)
    if found is not None:
        return found
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache, prefix="download-") as scratch:
        folder = Path(scratch)
        requirements = folder / "requirements.txt"
        requirements.write_text(spec.requirement + "\n", encoding="utf-8")
        downloads = folder / "files"
        _pip_download(python, requirements, downloads, spec)
        files = sorted(downloads.iterdir())
        if len(files) != 1 or not files[0].name.endswith(".tar.gz"):
            names = ", ".join(path.name for path in files) or "nothing"
            raise FetchError(f"{spec.name}: pip downloaded {names}, not one .tar.gz")
        if sha256_of(files[0]) != spec.sha256:  # pip checked it; so do we
            raise FetchError(f"{spec.name}: {files[0].name} does not have the pinned sha256")
        final = cache / spec.sha256
        final.mkdir(exist_ok=True)
        destination = final / files[0].name
        os.replace(files[0], destination)
    return destination


def _pip_download(python: str, requirements: Path, into: Path, spec: RepoSpec) -> None:
    argv = [
        python, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
        "--require-hashes", "-r", str(requirements), "-d", str(into),
        "--disable-pip-version-check", "--quiet",
    ]  # fmt: skip
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=_PIP_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise FetchError(f"{spec.name}: pip download took over {_PIP_TIMEOUT:.0f}s") from None
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise FetchError(f"{spec.name}: pip download failed ({done.returncode}): {last}")


def make_repo(spec: RepoSpec, sdist: Path, repo: Path) -> str:
    """``repo``: a new git repository holding the sdist's tree and the workload script, in one
    commit on ``main``; returns the commit's id (the same for the same sdist and workload)."""
    if repo.exists():
        shutil.rmtree(repo)
    repo.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=repo.parent, prefix=f".{spec.name}-") as scratch:
        top = _extract(sdist, Path(scratch))
        top.rename(repo)
    (repo / WORKLOAD_FILE).write_text(spec.workload, encoding="utf-8")
    git(repo, "init", "-q", "-b", BRANCH)
    git(repo, "add", "-A")
    message = f"{spec.project} {spec.version} (sdist sha256 {spec.sha256[:12]}) and {WORKLOAD_FILE}"
    git(repo, "-c", "commit.gpgsign=false", "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD")


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", *args],
        cwd=repo,
        env={**os.environ, **_GIT_ENV},
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise FetchError(f"git {' '.join(args)} in {repo}: {done.stderr.strip()[:300]}")
    return done.stdout.strip()


def _extract(sdist: Path, into: Path) -> Path:
    """The sdist's one top-level directory, unpacked under ``into``; members that would land
    outside it, links and devices are refused (an sdist is somebody else's archive)."""
    with tarfile.open(sdist, "r:gz") as archive:
        members = archive.getmembers()
        tops = {Path(member.name).parts[0] for member in members if member.name not in ("", ".")}
        if len(tops) != 1:
            raise FetchError(f"{sdist.name}: expected one top-level directory, found {len(tops)}")
        for member in members:
            _check_member(member, sdist)
        archive.extractall(into, members=members, filter="data")
    top = into / tops.pop()
    if not top.is_dir():
        raise FetchError(f"{sdist.name}: its top-level entry is not a directory")
    return top


def _check_member(member: tarfile.TarInfo, sdist: Path) -> None:
    parts = Path(member.name).parts
    if member.name.startswith("/") or ".." in parts:
        raise FetchError(f"{sdist.name}: member {member.name!r} leaves the archive's directory")
    if not (member.isfile() or member.isdir()):
        raise FetchError(f"{sdist.name}: member {member.name!r} is neither a file nor a directory")
