"""The workflow modules' code objects, loaded once per worker process and executed afresh in every sandbox.

The Temporal sandbox imports an incident's workflow module, ``workflows.base`` and the mechanics and
procedures under it afresh for every new workflow run (its first workflow task), so that no module
state is shared between runs and every module-level access goes through the sandbox's restrictions.
Executing those modules again is what the sandbox is for; *finding and loading* their code again is
not: each import looked the file up on ``sys.path``, read its ``__pycache__`` file and unmarshalled
the code, about a quarter of a C1's sandbox set-up (docs/benchmarks.md, issue 19).

:func:`install` puts a finder first on ``sys.meta_path`` that, for the ``workflows`` package and its
subpackages only, hands importlib a fresh module spec whose loader returns the code object compiled or
read the first time. Code objects are immutable, so sharing them between sandboxes shares no state:
each run still gets new module objects, new globals, new classes, and the sandbox's restricted
``datetime``, ``random``, ... proxies, exactly as before. It also means a worker runs the workflow code
it started with, even if the files change under it (as the registered workflow classes already did).
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from types import CodeType, ModuleType


class _CachedLoader(importlib.machinery.SourceFileLoader):
    """A source loader whose ``get_code`` is read once per process (per file)."""

    _code: dict[str, CodeType] = {}
    _lock = threading.Lock()

    def get_code(self, fullname: str) -> CodeType:
        path = self.get_filename(fullname)
        code = self._code.get(path)
        if code is None:
            loaded = super().get_code(fullname)
            assert loaded is not None, path
            with self._lock:
                code = self._code.setdefault(path, loaded)
        return code


class WorkflowCodeFinder:
    """``sys.meta_path`` finder for ``package`` and its submodules: the file found once, its code cached."""

    def __init__(self, package: str) -> None:
        self.package = package
        self._found: dict[str, tuple[str, list[str] | None] | None] = {}

    def _ours(self, fullname: str) -> bool:
        return fullname == self.package or fullname.startswith(self.package + ".")

    def find_spec(self, fullname: str, path: Sequence[str] | None = None,
                  target: ModuleType | None = None) -> importlib.machinery.ModuleSpec | None:
        if not self._ours(fullname):
            return None
        if fullname not in self._found:
            spec = importlib.machinery.PathFinder.find_spec(fullname, path)
            if spec is None or not isinstance(spec.loader, importlib.machinery.SourceFileLoader) or not spec.origin:
                self._found[fullname] = None  # not a plain source module: importlib's own finders take it
            else:
                locations = list(spec.submodule_search_locations) if spec.submodule_search_locations is not None else None
                self._found[fullname] = (spec.origin, locations)
        found = self._found[fullname]
        if found is None:
            return None
        origin, locations = found
        # a new spec every time (importlib marks a spec while its module initialises); the loader holds no state
        return importlib.util.spec_from_file_location(
            fullname, origin, loader=_CachedLoader(fullname, origin), submodule_search_locations=locations)


def install(package: str = "workflows") -> WorkflowCodeFinder:
    """Put the finder for ``package`` first on ``sys.meta_path`` (once per process); returns it."""
    for f in sys.meta_path:
        if isinstance(f, WorkflowCodeFinder) and f.package == package:
            return f
    finder = WorkflowCodeFinder(package)
    sys.meta_path.insert(0, finder)
    return finder


def cached_files() -> list[Path]:
    """The files whose code this process has cached (for tests and the benchmark)."""
    return sorted(Path(p) for p in _CachedLoader._code)
