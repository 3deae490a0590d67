"""A work folder's warehouse versions, and the one atomic step that makes one current.

    <workdir>/famlink.duckdb      -> versions/<run>.duckdb   (a symbolic link: the current one)
    <workdir>/versions/<run>.duckdb                          (one warehouse per run)
    <workdir>/runs.sqlite                                    (linkage.publish.registry)
    <workdir>/run.lock                                       (held by the run under way)

A run starts from a copy of the current version (what it needs of the past: the person and
family ids it must keep, the saved model), builds in its own file and becomes current when
`publish` replaces the link, in one rename. Readers open the stable path read-only: one that
opened it before keeps its version, whole, for as long as it holds it (a file deleted while open
lives on until closed); one that opens it after gets the new one; and none of them shares a file
with the run's writer, so neither waits for the other. A run killed at any point leaves the link
as it was: nothing of it is published, not even its id history, and the next run starts from the
same current version as it did.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import shutil
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

from linkage.publish.registry import Registry, now
from linkage.warehouse import connect

LOG = logging.getLogger("famlink.publish")
WAREHOUSE = "famlink.duckdb"
Progress = Callable[[str], None]


class RunInProgress(RuntimeError):
    """Another run of the same work folder holds its lock."""


class PublishError(RuntimeError):
    """A run that cannot be published (unknown, not held, older than the current one)."""


def _private_dir(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True, mode=0o700)


def _fsync_dir(path: Path) -> None:
    """Make a rename in `path` durable: a power cut after publishing must not bring back the
    old link."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Workdir:
    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.versions = self.root / "versions"
        self.current_path = self.root / WAREHOUSE
        self.registry = Registry(self.root / "runs.sqlite")

    def version_path(self, run_id: str) -> Path:
        return self.versions / f"{run_id}.duckdb"

    def current_run(self) -> str | None:
        """The run whose version the stable path opens (None before the first publish)."""
        if not self.current_path.is_symlink():
            return None
        return Path(os.readlink(self.current_path)).stem

    @contextlib.contextmanager
    def exclusive(self) -> Iterator[None]:
        """Hold the work folder's run lock: one run at a time. The operating system releases
        it when the process ends, however it ends, so a killed run never blocks the next."""
        _private_dir(self.root)
        with open(self.root / "run.lock", "a+") as fh:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise RunInProgress(
                    f"{self.root}: another run is under way (it holds {self.root / 'run.lock'}); "
                    f"one run at a time builds a work folder") from None
            fh.seek(0)
            fh.truncate()
            fh.write(str(os.getpid()))
            fh.flush()
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def reconcile(self) -> None:
        """Under the lock, before a run: settle what earlier runs left. A warehouse file from
        before versions (a plain famlink.duckdb) becomes the first version; a run found
        `building` was killed: `abandoned`, its partial file deleted; and the run the link
        points to is `published` even if its process died between the rename and the
        registry (the rename is what publishes)."""
        _private_dir(self.versions)
        if self.current_path.exists() and not self.current_path.is_symlink():
            self._adopt_plain_warehouse()
        current = self.current_run()
        for run in self.registry.runs("building"):
            if run.run_id == current:
                self.registry.update(run.run_id, status="published", finished_at=now(),
                                     published_at=now())
            else:
                self._remove_files(run.run_id)
                self.registry.update(run.run_id, status="abandoned", finished_at=now(),
                                     error="the run stopped before it finished (killed?)")

    def _adopt_plain_warehouse(self) -> None:
        # named by its time, as runs are, so that run ids sort in time
        run_id = datetime.fromtimestamp(self.current_path.stat().st_mtime).strftime(
            "%Y%m%dT%H%M%S") + "-adopted"
        target = self.version_path(run_id)
        if self.current_path.with_name(WAREHOUSE + ".wal").exists():
            # fold what the log holds into the file: runs copy the file alone
            con = connect(self.current_path)
            con.execute("CHECKPOINT")
            con.close()
        os.replace(self.current_path, target)
        target.chmod(0o400)  # published: never written again, readable by its owner only
        self.registry.add(run_id, target.name, os.getpid())
        self._point_to(run_id)
        self.registry.update(run_id, status="published", finished_at=now(), published_at=now(),
                             reason="a warehouse from before versioned runs, adopted as is")

    def new_run_id(self) -> str:
        base = datetime.now().strftime("%Y%m%dT%H%M%S")
        run_id, n = base, 1
        while self.registry.get(run_id) or self.version_path(run_id).exists():
            n += 1
            run_id = f"{base}-{n}"
        return run_id

    def begin(self, progress: Progress | None = None) -> tuple[str, Path]:
        """Register a new run and make its warehouse: a copy of the current version, or a new
        file for the first run. Call under `exclusive`, after `reconcile`."""
        run_id = self.new_run_id()
        path = self.version_path(run_id)
        current = self.current_run()
        self.registry.add(run_id, path.name, os.getpid(), base=current)
        if current is not None:
            if progress:
                progress(f"copying the current version ({current}) to start from")
            shutil.copyfile(self.version_path(current), path)
            path.chmod(0o600)
        return run_id, path

    def _point_to(self, run_id: str) -> None:
        """Replace the link in one rename, then make the rename durable."""
        temporary = self.root / f".{WAREHOUSE}.{os.getpid()}.link"
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()
        temporary.symlink_to(Path(self.versions.name) / f"{run_id}.duckdb")
        os.replace(temporary, self.current_path)
        _fsync_dir(self.root)

    def publish(self, run_id: str, keep: int, by: str | None = None, reason: str | None = None,
                progress: Progress | None = None) -> list[str]:
        """Make `run_id`'s version current (it is never written again: read-only on disk),
        then delete published versions beyond the newest `keep`; returns the runs removed."""
        path = self.version_path(run_id)
        path.chmod(0o400)
        if progress:
            progress(f"publishing {run_id}")
        self._point_to(run_id)
        if progress:  # the rename is done: from here on the run is published
            progress(f"{run_id} is current")
        self.registry.update(run_id, status="published", finished_at=now(), published_at=now(),
                             published_by=by, reason=reason)
        try:
            return self.prune(keep)
        except OSError as exc:  # an old version left on disk is no reason to fail a run
            LOG.warning("could not remove old versions (%s): the next run tries again",
                        type(exc).__name__)
            return []

    def accept(self, run_id: str, keep: int, by: str, reason: str) -> list[str]:
        """Publish a held run: an analyst looked at the failed gates and accepts it."""
        run = self.registry.get(run_id)
        if run is None:
            raise PublishError(f"no run {run_id} in {self.root} (see `famlink runs`)")
        if run.status != "held":
            raise PublishError(f"run {run_id} is {run.status}; only a held run is published "
                               f"by hand")
        if self._older_than_current(run_id):
            raise PublishError(f"run {run_id} is older than the current version "
                               f"({self.current_run()}): publishing it would go back in time")
        if run.base != self.current_run():
            raise PublishError(f"run {run_id} was built from {run.base or 'nothing'}, not from "
                               f"the current version ({self.current_run()}): what that "
                               f"version added (ids, history) is not in it; run again")
        if not by.strip() or not reason.strip():
            raise PublishError("publishing a held run needs --by (your name) and --reason")
        return self.publish(run_id, keep, by.strip(), reason.strip())

    def _older_than_current(self, run_id: str) -> bool:
        """Whether `run_id` started before the current version's run."""
        current = self.current_run()
        order = [r.run_id for r in self.registry.runs()]  # newest first
        return current in order and order.index(run_id) > order.index(current)

    def hold(self, run_id: str) -> None:
        self.registry.update(run_id, status="held", finished_at=now())

    def fail(self, run_id: str, error: str) -> None:
        """A run whose step raised: its partial version deleted, its error kept. A run the
        link already names was published (the rename is what publishes: something raised
        after it, in the registry or the pruning): it stays, as published."""
        if self.current_run() == run_id:
            self.registry.update(run_id, status="published", finished_at=now(),
                                 published_at=now())
            return
        self._remove_files(run_id)
        self.registry.update(run_id, status="failed", finished_at=now(), error=error)

    def prune(self, keep: int) -> list[str]:
        """Delete the versions of published runs beyond the newest `keep` (never the current
        one), and those of held runs older than the current one (never to be published)."""
        current = self.current_run()
        published = [r.run_id for r in self.registry.runs("published")]
        old = [r for r in published[keep:] if r != current]
        # held runs that can no longer be published: older than the current version, or
        # built from another
        old += [r.run_id for r in self.registry.runs("held")
                if self._older_than_current(r.run_id) or r.base != current]
        for run_id in old:
            self._remove_files(run_id)
            self.registry.update(run_id, status="removed")
        return old

    def _remove_files(self, run_id: str) -> None:
        path = self.version_path(run_id)
        for file in (path, path.with_name(path.name + ".wal")):
            with contextlib.suppress(FileNotFoundError):
                file.unlink()
