"""Model responses on disk, so that a rerun of the same requests costs nothing."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import asdict
from pathlib import Path

from agent.providers.chat import Completion


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "evolver" / "responses"


class ResponseCache:
    """One JSON file per request, under a key the caller derives from what it asks."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    @staticmethod
    def key(material: object) -> str:
        """A digest of ``material`` (anything JSON can write)."""
        text = json.dumps(material, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()

    def get(self, key: str) -> Completion | None:
        try:
            data = json.loads((self.directory / f"{key}.json").read_text(encoding="utf-8"))
            return Completion(**data)
        except (OSError, ValueError, TypeError):
            return None

    def put(self, key: str, completion: Completion) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        # Write then rename: a reader never sees half a file, even with parallel runs.
        fd, tmp = tempfile.mkstemp(dir=self.directory, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(asdict(completion), handle)
        os.replace(tmp, self.directory / f"{key}.json")
