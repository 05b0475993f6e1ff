"""Finds, loads and checks libnncore.so, once per process.

Order (the first library that loads and has the right major version wins):

1. ``NNCORE_LIBRARY`` — a file, or a directory holding ``libnncore.so``. When it is set, it is the
   only place looked at: an explicit choice that does not work is an error, never a silent
   fallback to another copy.
2. The copy bundled inside this package (``nncore/libnncore.so``, put there by ``make build``).
3. The build tree, when this package runs from a source checkout (``build/lib``, then SwiftPM's
   ``.build/shipped/release``).
4. The system: the dynamic linker's search (``libnncore.so.<major>``, ``libnncore.so``) and the
   usual prefixes.

The error, when nothing works, lists every path tried and why each failed.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os
import threading
from pathlib import Path

from . import _capi
from ._errors import LibraryError

_PACKAGE_DIR = Path(__file__).resolve().parent
_NAMES = (f"libnncore.so.{_capi.VERSION_MAJOR}", "libnncore.so")

_lock = threading.Lock()
_library: ctypes.CDLL | None = None
_library_path: str | None = None


def _repository_root() -> Path | None:
    """The source checkout this package sits in (bindings/python/nncore), if any."""
    for parent in _PACKAGE_DIR.parents:
        if (parent / "api" / "nncore.toml").is_file() and (parent / "bindings" / "python").is_dir():
            return parent
    return None


def candidates() -> list[tuple[str, str]]:
    """(where, path) pairs in the order they are tried."""
    explicit = os.environ.get("NNCORE_LIBRARY")
    if explicit:
        path = Path(explicit)
        if path.is_dir():
            return [("NNCORE_LIBRARY", str(path / name)) for name in _NAMES]
        return [("NNCORE_LIBRARY", explicit)]
    found: list[tuple[str, str]] = []
    found += [("bundled", str(_PACKAGE_DIR / name)) for name in ("libnncore.so",) + _NAMES[:1]]
    root = _repository_root()
    if root is not None:
        found += [("build tree", str(root / "build" / "lib" / name)) for name in _NAMES]
        found.append(("build tree", str(root / ".build" / "shipped" / "release" / "libnncore.so")))
    found += [("system", name) for name in _NAMES]
    system = ctypes.util.find_library("nncore")
    if system and system not in _NAMES:
        found.append(("system", system))
    for prefix in ("/usr/local/lib", "/usr/lib", "/usr/lib64"):
        found.append(("system", f"{prefix}/{_NAMES[0]}"))
    unique, seen = [], set()
    for where, path in found:
        if path not in seen:
            seen.add(path)
            unique.append((where, path))
    return unique


def _try(path: str) -> tuple[ctypes.CDLL | None, str]:
    """Loads one candidate; (library, "") or (None, why not)."""
    if os.sep in path and not os.path.exists(path):
        return None, "no such file"
    try:
        library = ctypes.CDLL(path)
    except OSError as error:
        return None, str(error)
    try:
        number = int(ctypes.CFUNCTYPE(ctypes.c_uint32)(("nn_version_number", library))())
    except AttributeError:
        return None, "not an nncore library (no nn_version_number)"
    major, minor, patch = number // 10000, number // 100 % 100, number % 100
    if major != _capi.VERSION_MAJOR:
        return None, (f"version {major}.{minor}.{patch}, but this package needs major version "
                      f"{_capi.VERSION_MAJOR}")
    if number < _capi.VERSION_NUMBER:
        return None, (f"version {major}.{minor}.{patch} is older than this package's "
                      f"{_capi.VERSION_MAJOR}.{_capi.VERSION_MINOR}.{_capi.VERSION_PATCH}")
    try:
        _capi.bind(library)
    except AttributeError as error:
        return None, f"a function is missing: {error}"
    return library, ""


def load() -> ctypes.CDLL:
    """The bound library, loading it on first use; raises ``nncore.LibraryError`` if none works."""
    global _library, _library_path
    if _library is not None:
        return _library
    with _lock:
        if _library is not None:
            return _library
        tried = []
        for where, path in candidates():
            library, reason = _try(path)
            if library is not None:
                resolved = path
                if os.sep not in path:
                    resolved = _resolved_path(library) or path
                _library_path = resolved
                _library = library
                return library
            tried.append(f"  {where}: {path}: {reason}")
        raise LibraryError(
            "cannot load libnncore.so (nncore's C library). Tried, in order:\n" + "\n".join(tried) +
            "\nBuild it with `make build` in the nncore checkout and reinstall the package "
            "(`pip install ./bindings/python`), or point NNCORE_LIBRARY at libnncore.so.")


def _resolved_path(library: ctypes.CDLL) -> str | None:
    """The file the dynamic linker chose for a bare soname (via dladdr)."""
    try:
        class DlInfo(ctypes.Structure):
            _fields_ = [("dli_fname", ctypes.c_char_p), ("dli_fbase", ctypes.c_void_p),
                        ("dli_sname", ctypes.c_char_p), ("dli_saddr", ctypes.c_void_p)]
        libdl = ctypes.CDLL(None)
        dladdr = libdl.dladdr
        dladdr.argtypes = [ctypes.c_void_p, ctypes.POINTER(DlInfo)]
        info = DlInfo()
        address = ctypes.cast(library.nn_version_number, ctypes.c_void_p).value
        if dladdr(address, ctypes.byref(info)) and info.dli_fname:
            return os.fsdecode(info.dli_fname)
    except (AttributeError, OSError):
        pass
    return None


def library_path() -> str:
    """The path of the libnncore.so this process uses (loading it if needed)."""
    load()
    assert _library_path is not None
    return _library_path
