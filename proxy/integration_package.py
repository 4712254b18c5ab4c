"""An integration folder's Python, imported as a package of its own.

An integration may ship Python beside its manifest: the `hooks:` module, the `sandbox:`
simulator, and whatever those import from the same folder. The folder is no package of
this project and need not have an `__init__.py` (a drop-in folder holds a manifest and
nothing else). Loading each file by its path would give every file a module name of its
own and no parent, so a hooks file could not import its sibling, and two users of one file
would each run a copy of it.

Here the folder is imported once as the package `yamcp_integrations.<name>` (a namespace
package when it has no `__init__.py`) and its files as that package's modules: inside an
integration `from . import mustachio` and `from .simulator import ...` work, and the
registry, the sandbox and the tests share one copy of each module. Importing again from the
same folder answers the modules already imported; an integration of the same name from
another folder (a test's copy) replaces them.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from importlib.machinery import ModuleSpec
from pathlib import Path
from types import ModuleType

ROOT = "yamcp_integrations"


def package_name(integration: str) -> str:
    """The package an integration's folder is imported as."""
    return f"{ROOT}.{integration}"


def load_package(integration: str, folder: Path) -> ModuleType:
    """The integration's folder as the package `yamcp_integrations.<integration>`."""
    root = _root()
    name = package_name(integration)
    folder = folder.resolve()
    module = sys.modules.get(name)
    if module is not None and list(module.__path__) == [str(folder)]:
        return module
    _forget(name)
    init = folder / "__init__.py"
    if init.is_file():
        spec = importlib.util.spec_from_file_location(
            name, init, submodule_search_locations=[str(folder)]
        )
        assert spec is not None and spec.loader is not None
    else:
        spec = ModuleSpec(name, None, is_package=True)
        spec.submodule_search_locations = [str(folder)]
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        if spec.loader is not None:
            spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    setattr(root, integration, module)
    return module


def load_module(integration: str, folder: Path, module: str) -> ModuleType:
    """The module `module` ("hooks", "simulator.app") of the integration in `folder`.
    An error its code raises while it is imported propagates."""
    package = load_package(integration, folder)
    return importlib.import_module(f"{package.__name__}.{module}")


def load_file(integration: str, folder: Path, file: Path) -> ModuleType:
    """The module that `file`, a Python file inside `folder`, is in the integration's package."""
    parts = list(file.resolve().relative_to(folder.resolve()).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    if not parts:
        return load_package(integration, folder)
    return load_module(integration, folder, ".".join(parts))


def _root() -> ModuleType:
    """The parent of every integration package: a package with no folder of its own."""
    root = sys.modules.get(ROOT)
    if root is None:
        spec = ModuleSpec(ROOT, None, is_package=True)
        spec.submodule_search_locations = []
        root = importlib.util.module_from_spec(spec)
        sys.modules[ROOT] = root
    return root


def _forget(name: str) -> None:
    """Drop a package and its modules from `sys.modules` (imported from another folder)."""
    for loaded in [n for n in sys.modules if n == name or n.startswith(name + ".")]:
        del sys.modules[loaded]
