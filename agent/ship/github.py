"""A small typed client for the few GitHub REST endpoints that publishing a pull request needs.

Every path is relative to ``api_url``, so GitHub Enterprise (``https://HOST/api/v3``) works as
github.com does. Failures become a ``GitHubError`` whose message is one line a person can act on;
server errors (5xx) and lost connections are retried a few times first, since GitHub's API
answers 502 now and then under load.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import tenacity

from agent.errors import UsageError

DEFAULT_API_URL = "https://api.github.com"
API_VERSION = "2022-11-28"
USER_AGENT = "evolver"  # GitHub refuses requests without one

MARKER = "<!-- evolver:pr head={head} -->"


def marker(head_branch: str) -> str:
    """The hidden line in the body of the pull request Evolver opened from ``head_branch``."""
    return MARKER.format(head=head_branch)


class GitHubError(UsageError):
    """GitHub refused or failed a request; ``status`` is the HTTP status, None when unreachable.

    A UsageError, so that a command line that ends with exit code 2 and one line on a
    UsageError does the same here without knowing about GitHub.
    """

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(" ".join(message.split()))  # one line, whatever GitHub put in it
        self.status = status


@dataclass(frozen=True)
class Pull:
    """An open or closed pull request, as much of it as Evolver uses."""

    number: int
    url: str  # html_url: the page a person opens
    head: str  # the head branch's name
    base: str  # the base branch's name
    title: str
    body: str
    head_owner: str = ""  # the login owning the head branch (a fork's owner, or the repo's)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Pull:
        try:
            head, base = data["head"], data["base"]
            label = str(head.get("label") or "")
            return cls(
                number=int(data["number"]),
                url=str(data["html_url"]),
                head=str(head["ref"]),
                base=str(base["ref"]),
                title=str(data.get("title") or ""),
                body=str(data.get("body") or ""),  # GitHub sends null for an empty body
                head_owner=label.partition(":")[0] if ":" in label else "",
            )
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise GitHubError(f"GitHub sent a pull request without {error}") from None

    def is_evolvers(self) -> bool:
        """Whether Evolver opened it: its body carries the marker for its own head branch."""
        return marker(self.head) in self.body


class _Retry(Exception):
    """A failure worth another attempt: a 5xx answer or a lost connection."""

    def __init__(self, error: GitHubError) -> None:
        super().__init__(str(error))
        self.error = error


class GitHub:
    """``GitHub(token=...)`` for github.com; ``api_url=`` for GitHub Enterprise or a test server.

    Use it as a context manager, or call ``close()``, to release its connections.
    """

    def __init__(
        self,
        *,
        api_url: str = DEFAULT_API_URL,
        token: str,
        timeout: float = 30.0,
        attempts: int = 4,
        backoff: float = 1.0,
    ) -> None:
        if not token:
            raise GitHubError("no GitHub token: set GITHUB_TOKEN")
        self.api_url = api_url.rstrip("/")
        self._attempts = max(1, attempts)
        self._backoff = backoff
        # The trailing slash makes httpx append each relative path to the whole base path,
        # Enterprise's /api/v3 included.
        self._client = httpx.Client(
            base_url=self.api_url + "/",
            timeout=timeout,
            headers={
                "Authorization": f"Bearer {token}",
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": API_VERSION,
                "User-Agent": USER_AGENT,
            },
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> GitHub:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- the endpoints ---------------------------------------------------------------------

    def default_branch(self, owner: str, repo: str) -> str:
        data = self._request("GET", f"repos/{owner}/{repo}", what=f"repository {owner}/{repo}")
        branch = data.get("default_branch") if isinstance(data, dict) else None
        if not isinstance(branch, str) or not branch:
            raise GitHubError(f"GitHub sent no default branch for {owner}/{repo}")
        return branch

    def open_pulls(self, owner: str, repo: str, head_owner: str, head_branch: str) -> list[Pull]:
        """Every open pull request from ``head_owner:head_branch``, whoever opened it."""
        data = self._request(
            "GET",
            f"repos/{owner}/{repo}/pulls",
            params={"state": "open", "head": f"{head_owner}:{head_branch}", "per_page": "100"},
            what=f"repository {owner}/{repo}",
        )
        if not isinstance(data, list):
            raise GitHubError("GitHub did not answer the list of pull requests with a list")
        # GitHub ignores a malformed head filter instead of refusing it: filter again here.
        pulls = [Pull.from_json(item) for item in data]
        return [p for p in pulls if p.head == head_branch and p.head_owner in ("", head_owner)]

    def find_open_pull(
        self, owner: str, repo: str, head_owner: str, head_branch: str
    ) -> Pull | None:
        """Evolver's own open pull request from ``head_owner:head_branch``, if there is one."""
        own = [p for p in self.open_pulls(owner, repo, head_owner, head_branch) if p.is_evolvers()]
        return min(own, key=lambda p: p.number) if own else None

    def create_pull(
        self,
        owner: str,
        repo: str,
        title: str,
        body: str,
        head: str,
        base: str,
        draft: bool = False,
    ) -> Pull:
        payload = {"title": title, "body": body, "head": head, "base": base, "draft": draft}
        data = self._request(
            "POST", f"repos/{owner}/{repo}/pulls", json=payload, what=f"repository {owner}/{repo}"
        )
        return Pull.from_json(_object(data))

    def update_pull(
        self,
        owner: str,
        repo: str,
        number: int,
        title: str,
        body: str,
        base: str | None = None,
    ) -> Pull:
        payload = {"title": title, "body": body}
        if base is not None:
            payload["base"] = base
        data = self._request(
            "PATCH",
            f"repos/{owner}/{repo}/pulls/{number}",
            json=payload,
            what=f"pull request #{number} in {owner}/{repo}",
        )
        return Pull.from_json(_object(data))

    # --- plumbing --------------------------------------------------------------------------

    def _request(
        self,
        method: str,
        path: str,
        *,
        what: str,
        params: dict[str, str] | None = None,
        json: dict[str, Any] | None = None,
    ) -> Any:
        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception_type(_Retry),
            stop=tenacity.stop_after_attempt(self._attempts),
            wait=tenacity.wait_random_exponential(multiplier=self._backoff, max=8 * self._backoff),
            reraise=True,
        )
        try:
            for attempt in retrying:
                with attempt:
                    return self._once(method, path, what=what, params=params, json=json)
        except _Retry as last:
            tries = f"{self._attempts} attempts" if self._attempts > 1 else "1 attempt"
            raise GitHubError(f"{last.error} after {tries}", last.error.status) from None
        raise AssertionError("unreachable: tenacity either returns or raises")

    def _once(
        self,
        method: str,
        path: str,
        *,
        what: str,
        params: dict[str, str] | None,
        json: dict[str, Any] | None,
    ) -> Any:
        try:
            response = self._client.request(method, path, params=params, json=json)
        except httpx.TransportError as error:
            reason = str(error) or type(error).__name__
            raise _Retry(GitHubError(f"cannot reach GitHub at {self.api_url}: {reason}")) from None
        if response.status_code >= 400:
            refused = _error(response, what)
            if response.status_code >= 500:
                raise _Retry(refused)
            raise refused
        if response.status_code == 204 or not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise GitHubError(
                f"GitHub answered {method} {path} with something that is not JSON "
                f"({response.headers.get('content-type', 'no content type')})",
                response.status_code,
            ) from None


def _object(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise GitHubError("GitHub did not answer with a pull request")
    return data


def _error(response: httpx.Response, what: str) -> GitHubError:
    """The one line for an error answer: what GitHub said, and what it most likely means."""
    status = response.status_code
    said = _message(response)
    shown = f"{status} {said}" if said else f"{status} {response.reason_phrase}"
    if status == 401:
        text = f"GitHub refused the token ({shown})"
    elif status == 403 and "rate limit" in said.lower():
        text = f"GitHub's rate limit is exhausted ({shown})"
    elif status == 403:
        text = (
            f"GitHub denied the token access to {what} ({shown}); it needs contents: write "
            "and pull-requests: write"
        )
    elif status == 404:
        text = f"GitHub found no {what}, or the token cannot see it ({shown})"
    elif status == 422:
        text = f"GitHub rejected the request ({shown})"
    elif status >= 500:
        text = f"GitHub failed ({shown})"
    else:
        text = f"GitHub answered {shown}"
    return GitHubError(text, status)


def _message(response: httpx.Response) -> str:
    """GitHub's ``message``, with the details of a 422's ``errors`` after it."""
    try:
        data = response.json()
    except ValueError:
        return ""
    if not isinstance(data, dict):
        return ""
    message = str(data.get("message") or "")
    details = []
    for item in data.get("errors") or []:
        if isinstance(item, dict):
            detail = item.get("message") or " ".join(
                str(item[key]) for key in ("resource", "field", "code") if item.get(key)
            )
            details.append(str(detail))
        elif isinstance(item, str):
            details.append(item)
    return ": ".join(part for part in (message, "; ".join(details)) if part)
