"""A loopback GitHub REST server: the endpoints Evolver uses to publish a pull request, with
GitHub's JSON shapes and status codes, so ``agent.ship.github`` is tested over real HTTP.

    with GitHubServer(repos={"octo/app": bare_repo}) as server:
        github = GitHub(api_url=server.api_url, token=server.token)
        github.create_pull("octo", "app", "title", "body", "evolver/main", "main")
        assert [r["method"] for r in server.requests] == ["POST"]

Endpoints (under ``prefix``, "" for github.com or "/api/v3" for GitHub Enterprise):

    GET   /repos/{owner}/{repo}                  the repository (default_branch)
    GET   /repos/{owner}/{repo}/pulls            state=open|closed|all, head=owner:branch
    POST  /repos/{owner}/{repo}/pulls            201; 422 if that head has an open one already
    PATCH /repos/{owner}/{repo}/pulls/{number}   title, body, base, state

A repository may be backed by a real (bare) git repository: then a pull request's head and base
must be branches there, and ``head.sha`` is the branch's commit, as on GitHub. A wrong token is
401, an unknown repository or path 404. ``fail`` is a queue of statuses answered before the
next requests are served (e.g. ``[502]``), to exercise retries. Every request is recorded in
``server.requests`` as a dict with "method", "path" (without the prefix), "query" (dict),
"headers" (lower-cased names) and "body" (parsed JSON).
"""

from __future__ import annotations

import json
import subprocess
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.loopback import LoopbackServer

Body = dict[str, Any]
DOCS = "https://docs.github.com/rest"
REASONS = {401: "Bad credentials", 404: "Not Found", 422: "Validation Failed"}


@dataclass
class FakeRepo:
    owner: str
    name: str
    default_branch: str = "main"
    git_dir: Path | None = None  # a real repository holding the branches
    pulls: list[Body] = field(default_factory=list)

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"

    def branch_sha(self, branch: str) -> str | None:
        """The branch's commit in the backing repository; a fixed fake sha without one."""
        if self.git_dir is None:
            return "0" * 40
        done = subprocess.run(
            ["git", "rev-parse", "--verify", "--quiet", f"refs/heads/{branch}^{{commit}}"],
            cwd=self.git_dir,
            capture_output=True,
            text=True,
            check=False,
        )
        return done.stdout.strip() if done.returncode == 0 else None


class GitHubServer(LoopbackServer):
    """A GitHub API on 127.0.0.1, served from a background thread."""

    def __init__(
        self,
        repos: dict[str, Path | None] | None = None,
        *,
        token: str = "ghs_test_token",
        login: str = "github-actions[bot]",
        prefix: str = "",
        default_branch: str = "main",
    ) -> None:
        super().__init__()
        self.token = token
        self.login = login  # whom the token belongs to: the author of the pulls it opens
        self.prefix = prefix.rstrip("/")
        self.repos: dict[str, FakeRepo] = {}
        for full_name, git_dir in (repos or {"octo/app": None}).items():
            owner, _, name = full_name.partition("/")
            self.repos[full_name] = FakeRepo(owner, name, default_branch, git_dir)
        self.fail: list[int] = []
        self.requests: list[Body] = []
        self._numbers = iter(range(1, 10_000))
        self._lock = threading.Lock()

    @property
    def api_url(self) -> str:
        return self.url + self.prefix

    def handler(self) -> type[BaseHTTPRequestHandler]:
        return _Handler

    # --- for the tests ---------------------------------------------------------------------

    def add_pull(
        self, full_name: str, head: str, base: str = "main", *, title: str = "", body: str = "",
        user: str = "someone", state: str = "open",
    ) -> Body:  # fmt: skip
        """A pull request opened by someone else (no request is recorded)."""
        with self._lock:
            return self._new_pull(
                self.repos[full_name], title, body, head, base, False, user, state
            )

    def pulls(self, full_name: str) -> list[Body]:
        with self._lock:
            repo = self.repos[full_name]
            return [self._fresh(repo, p) for p in repo.pulls]

    def calls(self, method: str | None = None) -> list[Body]:
        """The recorded requests, those with ``method`` only if given."""
        with self._lock:
            return [r for r in self.requests if method is None or r["method"] == method]

    # --- the API ---------------------------------------------------------------------------

    def handle(self, method: str, path: str, query: dict[str, str], body: Body) -> tuple[int, Any]:
        """(status, JSON payload) for one authorised request; the lock is held."""
        parts = path.strip("/").split("/")
        if len(parts) < 3 or parts[0] != "repos":
            return _error(404)
        repo = self.repos.get(f"{parts[1]}/{parts[2]}")
        if repo is None:
            return _error(404)
        rest = parts[3:]
        if method == "GET" and not rest:
            return 200, self._repo_json(repo)
        if rest == ["pulls"] and method == "GET":
            return 200, self._list(repo, query)
        if rest == ["pulls"] and method == "POST":
            return self._create(repo, body)
        if len(rest) == 2 and rest[0] == "pulls" and rest[1].isdigit() and method == "PATCH":
            return self._update(repo, int(rest[1]), body)
        return _error(404)

    def _repo_json(self, repo: FakeRepo) -> Body:
        return {
            "id": abs(hash(repo.full_name)) % 10**8,
            "name": repo.name,
            "full_name": repo.full_name,
            "owner": {"login": repo.owner, "type": "Organization"},
            "private": False,
            "html_url": f"{self.url}/{repo.full_name}",
            "default_branch": repo.default_branch,
        }

    def _list(self, repo: FakeRepo, query: dict[str, str]) -> list[Body]:
        state = query.get("state", "open")
        head = query.get("head")
        found = []
        for pull in repo.pulls:
            if state != "all" and pull["state"] != state:
                continue
            # GitHub filters on "user:ref-name"; a head without the user matches nothing.
            if head is not None and pull["head"]["label"] != head:
                continue
            found.append(self._fresh(repo, pull))
        per_page = int(query.get("per_page", "30"))
        return found[:per_page]

    def _create(self, repo: FakeRepo, body: Body) -> tuple[int, Any]:
        title, head, base = body.get("title"), body.get("head"), body.get("base")
        if not title or not head or not base:
            missing = [k for k in ("title", "head", "base") if not body.get(k)]
            return _error(422, [{"resource": "PullRequest", "code": "missing_field",
                                 "field": missing[0]}])  # fmt: skip
        owner, _, branch = str(head).rpartition(":")
        if owner and owner != repo.owner:
            return _error(422, [{"resource": "PullRequest", "field": "head", "code": "invalid"}])
        if repo.branch_sha(branch) is None:
            return _error(422, [{"resource": "PullRequest", "field": "head", "code": "invalid"}])
        if repo.branch_sha(str(base)) is None:
            return _error(422, [{"resource": "PullRequest", "field": "base", "code": "invalid"}])
        label = f"{repo.owner}:{branch}"
        if any(p["state"] == "open" and p["head"]["label"] == label for p in repo.pulls):
            message = f"A pull request already exists for {label}."
            return _error(422, [{"resource": "PullRequest", "code": "custom", "message": message}])
        pull = self._new_pull(
            repo, str(title), str(body.get("body") or ""), branch, str(base),
            bool(body.get("draft")), self.login, "open",
        )  # fmt: skip
        return 201, self._fresh(repo, pull)

    def _update(self, repo: FakeRepo, number: int, body: Body) -> tuple[int, Any]:
        pull = next((p for p in repo.pulls if p["number"] == number), None)
        if pull is None:
            return _error(404)
        if "base" in body and repo.branch_sha(str(body["base"])) is None:
            return _error(422, [{"resource": "PullRequest", "field": "base", "code": "invalid"}])
        for key in ("title", "body", "state"):
            if key in body:
                pull[key] = body[key]
        if "base" in body:
            pull["base"] = {**pull["base"], "ref": body["base"], "label": body["base"]}
        return 200, self._fresh(repo, pull)

    def _new_pull(
        self, repo: FakeRepo, title: str, body: str, head: str, base: str, draft: bool,
        user: str, state: str,
    ) -> Body:  # fmt: skip
        number = next(self._numbers)
        pull: Body = {
            "url": f"{self.api_url}/repos/{repo.full_name}/pulls/{number}",
            "id": 1000 + number,
            "number": number,
            "html_url": f"{self.url}/{repo.full_name}/pull/{number}",
            "state": state,
            "title": title,
            "body": body or None,  # GitHub's null for an empty description
            "draft": draft,
            "user": {"login": user},
            "head": {"ref": head, "label": f"{repo.owner}:{head}", "sha": ""},
            "base": {"ref": base, "label": f"{repo.owner}:{base}", "sha": ""},
        }
        repo.pulls.append(pull)
        return pull

    def _fresh(self, repo: FakeRepo, pull: Body) -> Body:
        """The pull as GitHub shows it now: the head's sha follows its branch."""
        shown = json.loads(json.dumps(pull))
        shown["head"]["sha"] = repo.branch_sha(pull["head"]["ref"]) or ""
        shown["base"]["sha"] = repo.branch_sha(pull["base"]["ref"]) or ""
        return shown


def _error(status: int, errors: list[Body] | None = None) -> tuple[int, Body]:
    payload: Body = {"message": REASONS.get(status, "Error"), "documentation_url": DOCS}
    if errors:
        payload["errors"] = errors
    payload["status"] = str(status)
    return status, payload


class _Handler(BaseHTTPRequestHandler):
    server_state: GitHubServer
    timeout = 10  # never let a stuck connection hold a handler thread forever

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep the test output quiet

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PATCH(self) -> None:
        self._serve()

    def _serve(self) -> None:
        state = self.server_state
        url = urlsplit(self.path)
        query = {key: values[-1] for key, values in parse_qs(url.query).items()}
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            body = {"_raw": raw.decode("utf-8", "replace")}
        headers = {key.lower(): value for key, value in self.headers.items()}
        path = url.path
        with state._lock:
            inside = not state.prefix or path == state.prefix or path.startswith(state.prefix + "/")
            path = path[len(state.prefix) :] if inside else path
            state.requests.append(
                {"method": self.command, "path": path, "query": query, "headers": headers,
                 "body": body, "prefixed": inside}
            )  # fmt: skip
            if not inside:
                status, payload = _error(404)
            elif state.fail:
                status = state.fail.pop(0)
                payload = {"message": "Server Error", "status": str(status)}
            elif headers.get("authorization") not in (
                f"Bearer {state.token}",
                f"token {state.token}",
            ):
                status, payload = _error(401)
            else:
                status, payload = state.handle(self.command, path, query, body)
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
