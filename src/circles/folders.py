"""Result folders written all or nothing: built in a hidden sibling, swapped into place when
complete, guarded by a lock against a second writer, and sealed with a manifest that readers
verify."""

from __future__ import annotations

import ctypes
import errno
import hashlib
import json
import os
import shutil
import sys
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

from filelock import FileLock, Timeout

from circles._version import __version__
from circles.errors import InputError
from circles.messages import say

MANIFEST = "manifest.json"
MAX_NAME_BYTES = 255  # a file or folder name on common file systems
DISK_FULL = (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC))


@contextmanager
def result_folder(final: str | Path, command: str, inputs: Sequence[Path] = ()) -> Iterator[Path]:
    """Write a result folder all or nothing.

    Yields a hidden empty folder beside ``final`` to write into. When the block ends without
    an error, a manifest is written and the folder takes the place of ``final`` in one step;
    an earlier result stays whole until then, and files in it that no circles command wrote
    (a planner's own table, say) are carried over. On an error nothing under ``final``
    changes. Leftovers of killed runs are cleaned first.

    Parameters
    ----------
    final
        The result folder.
    command
        The command writing it (recorded in the manifest).
    inputs
        The files read (recorded in the manifest; none may lie where an output goes).

    Raises
    ------
    InputError
        Another run is writing the same folder, the folder cannot be written, a name is too
        long, or the disk is full.
    """
    final = Path(final)
    check_name(final)
    _make_parent(final)
    lock = FileLock(final.parent / f".{final.name}.lock", timeout=0)
    try:
        lock.acquire()
    except Timeout:
        raise InputError(say("run_folder_locked", folder=final)) from None
    try:
        _recover(final)
        tmp = final.parent / f".{final.name}.partial-{uuid.uuid4().hex[:8]}"
        try:
            tmp.mkdir()
            yield tmp
            _refuse_overwriting_inputs(tmp, final, inputs)
            write_manifest(tmp, command, inputs)
            _carry_foreign(final, tmp)
            _swap(tmp, final)
        except Exception as exc:
            if _disk_full(exc, final.parent):
                raise _os_error(final, OSError(errno.ENOSPC, "disk full")) from None
            if isinstance(exc, OSError):
                raise _os_error(final, exc) from None
            raise
        finally:
            shutil.rmtree(tmp, ignore_errors=True)  # after a swap: the previous result
    finally:
        lock.release()


def _refuse_overwriting_inputs(tmp: Path, final: Path, inputs: Sequence[Path]) -> None:
    """Refuse a result in which an output would take the place of an input file."""
    refuse_overwriting(final, [p.relative_to(tmp) for p in tmp.rglob("*")], inputs)


def refuse_overwriting(final: Path, names: Sequence[str | Path], inputs: Sequence[Path]) -> None:
    """Refuse to write ``names`` into ``final`` when one of them is an input file.

    Raises
    ------
    InputError
        Naming the output that would replace an input.
    """
    protected = {Path(p).resolve() for p in inputs}
    for name in names:
        target = Path(final) / name
        if target.resolve() in protected:
            raise InputError(say("run_overwrite_input", target=target))


def check_name(path: Path) -> None:
    """Refuse a path whose last part is longer than a file system allows."""
    if len(path.name.encode("utf-8")) > MAX_NAME_BYTES - 24:  # room for the hidden prefixes
        n = len(path.name.encode("utf-8"))
        raise InputError(say("run_folder_name_long", path=path, n=n, limit=MAX_NAME_BYTES))


def safe_name(text: str, limit: int = 120) -> str:
    """A file or folder name made from text (a district, a community): path separators and
    control characters replaced, and shortened with a hash suffix when too long."""
    clean = "".join("_" if c in '/\\:*?"<>|' or ord(c) < 32 else c for c in text).strip(". ")
    clean = clean or "_"
    if len(clean.encode("utf-8")) <= limit:
        return clean
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:10]
    cut = clean.encode("utf-8")[: limit - 11].decode("utf-8", errors="ignore")
    return f"{cut}-{digest}"


def _make_parent(final: Path) -> None:
    """The folder that will hold the result, created if needed and checked to be writable."""
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        msg = say("run_cannot_create_out", folder=final, reason=exc.strerror)
        raise InputError(msg) from None
    if final.exists() and not final.is_dir():
        raise InputError(say("run_exists_not_folder", folder=final))
    if not os.access(final.parent, os.W_OK | os.X_OK):
        raise InputError(say("run_not_writable", folder=final.parent))


def _os_error(final: Path, exc: OSError) -> InputError:
    """A clear message for a failed write; the earlier result is untouched."""
    if exc.errno in DISK_FULL:
        return InputError(say("run_disk_full", folder=final))
    return InputError(say("run_cannot_write", folder=final, reason=exc))


def _disk_full(exc: BaseException, folder: Path) -> bool:
    """Whether a failed write ran out of space (writers report it in their own ways: an
    ``ENOSPC`` OSError, or GDAL/SQLite's "database or disk is full")."""
    if isinstance(exc, OSError) and exc.errno in DISK_FULL:
        return True
    text = str(exc).lower()
    if "no space left" in text or "disk is full" in text:
        return True
    try:
        return shutil.disk_usage(folder).free < 1 << 20
    except OSError:
        return False


def _recover(final: Path) -> None:
    """Clean leftovers of killed runs; restore a previous result caught between two renames."""
    old = sorted(final.parent.glob(f".{_glob(final.name)}.old-*"))
    if old and not final.exists():
        old.pop().rename(final)
    for leftover in [*old, *final.parent.glob(f".{_glob(final.name)}.partial-*")]:
        shutil.rmtree(leftover, ignore_errors=True)


def _glob(name: str) -> str:
    """``name`` with glob characters escaped."""
    return "".join(f"[{c}]" if c in "*?[]" else c for c in name)


def _carry_foreign(final: Path, tmp: Path) -> None:
    """Copy into the new folder what the previous one holds that its manifest does not list."""
    if not final.is_dir():
        return
    ours = {name.split("/")[0] for name in read_manifest(final).get("files", {})} | {MANIFEST}
    for item in final.iterdir():
        if item.name in ours or (tmp / item.name).exists():
            continue
        if item.is_dir():
            shutil.copytree(item, tmp / item.name, symlinks=True)
        else:
            shutil.copy2(item, tmp / item.name, follow_symlinks=False)


def swap_into_place(new: Path, final: Path) -> None:
    """Put the complete folder ``new`` at ``final`` in one step; the previous one is removed."""
    _swap(new, final)
    shutil.rmtree(new, ignore_errors=True)  # now the previous result, if there was one


def _swap(tmp: Path, final: Path) -> None:
    """Put ``tmp`` in the place of ``final`` in one step; ``tmp`` then holds the previous one."""
    if not final.exists():
        tmp.rename(final)
        return
    if _exchange(tmp, final):
        return
    old = final.parent / f".{final.name}.old-{uuid.uuid4().hex[:8]}"
    final.rename(old)  # a crash here is repaired by _recover on the next run
    tmp.rename(final)
    old.rename(tmp)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux renameat2 RENAME_EXCHANGE); False where unsupported."""
    if not sys.platform.startswith("linux"):
        return False
    libc = ctypes.CDLL(None, use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is None:
        return False
    at_fdcwd, rename_exchange = -100, 2
    done = renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange)
    if done == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP):
        return False
    raise OSError(code, os.strerror(code), str(b))


def write_manifest(folder: Path, command: str, inputs: Sequence[Path]) -> None:
    """List every file of ``folder`` with its size and SHA-256, the circles version, the
    command and its inputs."""
    files = {
        p.relative_to(folder).as_posix(): {"size": p.stat().st_size, "sha256": _sha256(p)}
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }
    manifest = {
        "circles_version": __version__,
        "command": command,
        "written": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "files": files,
        "inputs": [_input(Path(p)) for p in inputs],
    }
    text = json.dumps(manifest, ensure_ascii=False, indent=1) + "\n"
    (folder / MANIFEST).write_text(text, encoding="utf-8")


def _input(path: Path) -> dict:
    """An input's path, size and modification time (as far as it can be read)."""
    try:
        stat = path.stat()
    except OSError:
        return {"path": str(path)}
    mtime = datetime.fromtimestamp(stat.st_mtime, timezone.utc).isoformat(timespec="seconds")
    return {"path": str(path), "size": stat.st_size, "modified": mtime}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_manifest(folder: Path) -> dict:
    """The manifest of a result folder (empty when missing or unreadable)."""
    try:
        return json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def verify_folder(folder: str | Path, required: Sequence[str] = ()) -> dict:
    """Check a result folder against its manifest before reading it.

    Returns
    -------
    dict
        The manifest.

    Raises
    ------
    InputError
        No manifest, a file missing, or a file whose size or content differs from what was
        written (an interrupted or mixed folder).
    """
    folder = Path(folder)
    manifest = read_manifest(folder)
    again = say("run_write_again")
    if not manifest.get("files"):
        raise InputError(say("run_no_manifest", folder=folder, manifest=MANIFEST, again=again))
    for name in required:
        if name not in manifest["files"]:
            raise InputError(say("run_not_in_folder", folder=folder, name=name, again=again))
    for name, entry in manifest["files"].items():
        path = folder / name
        if not path.is_file():
            raise InputError(say("run_file_missing", folder=folder, name=name, again=again))
        if path.stat().st_size != entry["size"] or _sha256(path) != entry["sha256"]:
            raise InputError(say("run_file_differs", folder=folder, name=name, again=again))
    return manifest
