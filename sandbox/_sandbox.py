"""A private copy of a directory tree, and a way to run commands in it."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path, PurePosixPath
from types import TracebackType

from sandbox import _confine
from sandbox._environment import clean_environment
from sandbox._process import Limits, Result, run_process


class Sandbox:
    """A private directory tree with its own ``work/`` (the copy), ``home/`` and ``tmp/``.

    Commands run with ``work/`` as their directory, ``HOME`` and ``TMPDIR`` pointing at the other
    two, the sandbox's limits, and no network unless ``network=True``. Under bubblewrap this
    tree is the only place they can write, and they cannot see home directories, the other
    sandboxes next to this one, nor the paths in ``hidden`` (the user's real checkout, say),
    but for what they need inside them (the interpreter, ``PYTHONPATH``) and the paths in
    ``readable``, shown read-only wherever they are (another interpreter's environment, say;
    a path named in both stays hidden).

    When commands run as an unprivileged user (bubblewrap as root), the tree belongs to that
    user: the copy is handed over when it is made, files written with :meth:`write_file` are
    too, and so is whatever we put in ``home/`` or ``tmp/`` by other means (a directory from
    ``tempfile.mkdtemp``, an input file), at the start of each command. What commands write
    stays readable to us. The tree is ours to delete: :meth:`remove`, or leave a ``with``
    block.
    """

    def __init__(
        self,
        root: Path,
        *,
        limits: Limits = Limits(),  # noqa: B008 - frozen, so one shared default is safe
        network: bool = False,
        hidden: Sequence[Path] = (),
        readable: Sequence[Path] = (),
    ) -> None:
        """Wrap an existing sandbox directory; :meth:`create` makes a new one."""
        self.root = root
        self.work = root / "work"
        self.home = root / "home"
        self.tmp = root / "tmp"
        self.limits = limits
        self.network = network
        self.hidden = tuple(hidden)
        self.readable = tuple(readable)
        # The uid the tree was last handed to; None until we know.
        self._owner: int | None = None

    @classmethod
    def create(
        cls,
        parent: Path,
        source: Path,
        *,
        name: str | None = None,
        limits: Limits = Limits(),  # noqa: B008 - frozen, so one shared default is safe
        network: bool = False,
        hidden: Sequence[Path] = (),
        readable: Sequence[Path] = (),
    ) -> Sandbox:
        """Make ``parent/<name or a unique name>/`` and copy the directory ``source`` into it.

        ``hidden``: files and directories its commands must not see; ``readable``: what they
        may read even inside those (see the class).
        """
        # Resolve first: ``cp -a`` copies a symlink given as the source as the link itself.
        source = source.resolve(strict=True)
        if not source.is_dir():
            raise NotADirectoryError(f"{source} is not a directory")
        parent.mkdir(parents=True, exist_ok=True)
        parent = parent.resolve()
        if parent.is_relative_to(source):
            raise ValueError(
                f"sandbox parent {parent} is inside {source}: the copy would contain itself"
            )
        if name is None:
            # mkdtemp's own names: nothing that tells code it runs in a sandbox.
            root = Path(tempfile.mkdtemp(dir=parent))
        else:
            if name in ("", ".", "..") or "/" in name:
                raise ValueError(f"sandbox name {name!r} must be a single path component")
            root = parent / name
            root.mkdir(mode=0o700)  # an existing directory is someone else's: never reuse it
        sandbox = cls(root, limits=limits, network=network, hidden=hidden, readable=readable)
        try:
            _copy_tree(source, sandbox.work)
            sandbox.home.mkdir()
            sandbox.tmp.mkdir()
            sandbox._hand_over()
        except BaseException:
            sandbox.remove()
            raise
        return sandbox

    def run(
        self,
        argv: Sequence[str],
        *,
        timeout: float,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        stdin: str | None = None,
        clocked_stdout: bool = False,
    ) -> Result:
        """Run ``argv`` in ``work/`` and wait at most ``timeout`` seconds for it.

        ``cwd`` is relative to ``work/``; the environment is :func:`clean_environment` with
        ``env`` on top; ``clocked_stdout`` as in :func:`run_process`.
        """
        self._hand_over()
        return run_process(
            argv,
            timeout=timeout,
            env=clean_environment(env, home=self.home, tmp=self.tmp),
            cwd=self.work if cwd is None else self.work / cwd,
            stdin=stdin,
            limits=self.limits,
            network=self.network,
            writable=(self.root,),
            # Its neighbours too: other candidates' copies, and whatever else lives there.
            hidden=(self.root.parent, *self.hidden),
            readable=self.readable,
            clocked_stdout=clocked_stdout,
        )

    def write_file(self, relative: str, text: str) -> None:
        """Replace (or create) the file ``work/relative`` with ``text``, in UTF-8.

        Refuses paths that leave ``work/``, including through a symlinked directory. The old
        file is unlinked first, so a hard link or a symlink at that name is replaced rather than
        written through, and only our copy changes. Its permission bits are kept.
        """
        parts = PurePosixPath(relative).parts
        if not parts or PurePosixPath(relative).is_absolute() or ".." in parts:
            raise ValueError(f"{relative!r} is not a path inside the sandbox")
        work = self.work.resolve()
        directory = (work / PurePosixPath(*parts[:-1])).resolve()
        if not directory.is_relative_to(work):
            raise ValueError(f"{relative!r} leads outside the sandbox (through a symlink)")
        current = self._current_owner()
        owner = None if current == os.geteuid() else current
        _make_directories(work, directory, owner)
        path = directory / parts[-1]
        mode = 0o644
        try:
            old = path.lstat()
        except FileNotFoundError:
            pass
        else:
            if stat.S_ISREG(old.st_mode):
                mode = stat.S_IMODE(old.st_mode)
            path.unlink()
        # O_EXCL: if anything reappeared at this name since the unlink, fail rather than follow it.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode)
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            os.fchmod(fd, mode)  # the umask may have cleared bits the old file had
            if owner is not None:
                os.fchown(fd, owner, owner)
            file.write(text)

    @property
    def owner(self) -> int:
        """The uid commands run as on the host, which owns the tree (we do, unless we are root
        and commands run as an unprivileged user)."""
        user = _confine.choose().user
        return os.geteuid() if user is None else user

    def _current_owner(self) -> int:
        if self._owner is None:
            self._owner = self.root.stat().st_uid
        return self._owner

    def _hand_over(self) -> None:
        """Make the tree belong to :attr:`owner`, the user commands run as.

        The whole tree when that user changes (the first time, or when tests switch layers);
        else just ``home/`` and ``tmp/``, the places we put the command's inputs and output
        directories.
        """
        wanted = self.owner
        if self._current_owner() != wanted:
            _give(self.root, wanted)
            self._owner = wanted
            if wanted != os.geteuid():
                # The launcher starts as uid 0 without capabilities, in ``work/``: it must be
                # able to pass through directories that are no longer root's.
                for directory in (self.root, self.work):
                    os.chmod(directory, stat.S_IMODE(directory.stat().st_mode) | 0o711)
        elif wanted != os.geteuid():
            for directory in (self.home, self.tmp):
                _give(directory, wanted)

    def remove(self) -> None:
        """Delete the whole tree, even parts a command made read-only. Safe to call twice."""
        if not os.path.lexists(self.root):
            return
        try:
            shutil.rmtree(self.root)
        except OSError:
            # A command may leave directories read-only or unreadable (chmod 000), which stops
            # even their owner from deleting their entries; open them up and try once more.
            _make_directories_ours(self.root)
            shutil.rmtree(self.root)

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.remove()

    def __repr__(self) -> str:
        return f"Sandbox({str(self.root)!r}, network={self.network})"


# /dev/shm must keep this much free after a sandbox parent is placed there (and at least this
# fraction of its size): it is memory, shared with everything else on the machine.
_SHM_RESERVE = 2 * 1024**3
_SHM_RESERVE_FRACTION = 0.25


def default_parent(*, expected_bytes: int = 0) -> Path:
    """A directory to create sandboxes under: ``/dev/shm`` when it is a writable tmpfs with room
    to spare, else the system temp directory.

    Copying a tree is mostly file creation, which on a memory file system is an order of
    magnitude faster than on a disk-backed ``/tmp`` (``scripts/bench-sandbox`` measures it).
    ``expected_bytes`` is what the caller expects to put there at once (copies times jobs); the
    reserve keeps the rest of the machine's memory for the commands themselves.
    """
    shm = Path("/dev/shm")
    if _is_tmpfs(shm) and os.access(shm, os.W_OK | os.X_OK):
        stats = os.statvfs(shm)
        free = stats.f_bavail * stats.f_frsize
        reserve = max(_SHM_RESERVE, int(stats.f_blocks * stats.f_frsize * _SHM_RESERVE_FRACTION))
        if free >= expected_bytes + reserve:
            return shm
    return Path(tempfile.gettempdir())


def _is_tmpfs(path: Path) -> bool:
    try:
        mounts = Path("/proc/self/mounts").read_text().splitlines()
    except OSError:
        return False
    return any(
        fields[1] == str(path) and fields[2] == "tmpfs"
        for fields in (line.split() for line in mounts)
        if len(fields) > 2
    )


def _make_directories(top: Path, directory: Path, owner: int | None) -> None:
    """``directory`` and any missing directories between it and ``top``, given to ``owner``."""
    missing = []
    while directory != top and not directory.is_dir():
        missing.append(directory)
        directory = directory.parent
    for path in reversed(missing):
        path.mkdir(exist_ok=True)
        if owner is not None:
            os.chown(path, owner, owner, follow_symlinks=False)


def _give(top: Path, owner: int) -> None:
    """Give ``top`` and everything under it to uid and gid ``owner``.

    Commands may have run here: every name is resolved from an open directory and never
    followed, so a symlink or a directory swapped for one cannot make us chown anything
    outside ``top``.
    """
    if os.lstat(top).st_uid != owner:
        os.chown(top, owner, owner, follow_symlinks=False)
    for _, directories, files, fd in os.fwalk(top, follow_symlinks=False):
        for name in (*directories, *files):
            try:
                if os.stat(name, dir_fd=fd, follow_symlinks=False).st_uid != owner:
                    os.chown(name, owner, owner, dir_fd=fd, follow_symlinks=False)
            except FileNotFoundError:
                pass  # gone since it was listed


def _make_directories_ours(root: Path) -> None:
    """Give the owner full access to every directory under ``root``; symlinks are not followed."""
    os.chmod(root, stat.S_IRWXU)
    for directory, subdirectories, _ in os.walk(root):
        for name in subdirectories:  # top-down: each is opened up before walk lists it
            path = os.path.join(directory, name)
            if not os.path.islink(path):
                os.chmod(path, stat.S_IRWXU)


def _copy_tree(source: Path, destination: Path, *, use_cp: bool = True) -> None:
    """Copy ``source`` to the new directory ``destination``: symlinks as symlinks, no hard links
    to the source (a command writing through one would change the original).

    GNU ``cp -a --reflink=auto`` is the fast path: copy-on-write clones on btrfs/XFS, in-kernel
    ``copy_file_range`` elsewhere. ``shutil.copytree`` is the portable fallback.
    """
    cp = shutil.which("cp") if use_cp else None
    if cp is not None:
        done = subprocess.run(
            # --no-preserve=ownership: the copy belongs to us. Inside ``unshare -r`` only our own
            # uid is mapped, and files kept under another owner would be read-only there.
            [cp, "-a", "--reflink=auto", "--no-preserve=ownership", "--", source, destination],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=False,
        )
        if done.returncode == 0:
            return
        # Not GNU cp, or a failure the fallback will report properly; never keep a partial copy.
        shutil.rmtree(destination, ignore_errors=True)
    shutil.copytree(source, destination, symlinks=True)
