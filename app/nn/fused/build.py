"""Compile the fused kernel once (install / image build) and load it at run time.

The build goes to a directory keyed by the torch and Python versions and the source, under
the virtualenv (`<sys.prefix>/var/backprop-playground/fused/<key>`, overridable with
PLAYGROUND_FUSED_DIR), so a new torch or a changed kernel never loads a stale binary and a
read-only install (the Docker image's non-root user) still loads it. Loading never
compiles: Play must not wait ~30 s for gcc; a missing build means the eager path, with
the reason in the run's start record. Build: `python -m app.nn.fused.build`.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import os
import platform
import sys
import time
from pathlib import Path
from types import ModuleType

import torch

SOURCE = Path(__file__).with_name("kernel.cpp")
CFLAGS = ["-O3"]  # portable: no -march=native (an image may run on another CPU)


def key() -> str:
    digest = hashlib.sha256(SOURCE.read_bytes())
    python = f"{sys.implementation.cache_tag} {platform.machine()}"  # the .so's ABI
    digest.update(f"{torch.__version__} {python} {' '.join(CFLAGS)}".encode())
    return digest.hexdigest()[:16]


def module_name() -> str:
    return f"bp_fused_{key()}"


def build_dir() -> Path:
    root = os.environ.get("PLAYGROUND_FUSED_DIR")
    base = Path(root) if root else Path(sys.prefix) / "var" / "backprop-playground" / "fused"
    return base / key()


def library_path() -> Path:
    return build_dir() / f"{module_name()}.so"


@functools.cache
def load() -> tuple[ModuleType | None, str]:
    """(the kernel module, "") or (None, why it is not available)."""
    path = library_path()
    if not path.exists():
        return None, (
            "the fused kernel is not built for this torch and source "
            "(`make install` builds it: python -m app.nn.fused.build)"
        )
    try:
        spec = importlib.util.spec_from_file_location(module_name(), path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    except Exception as exc:  # a broken build must not break training: eager runs
        return None, f"the fused kernel failed to load: {type(exc).__name__}: {exc}"
    return module, ""


def build(verbose: bool = False) -> Path:
    """Compile (ninja + the local C++ compiler) unless already built; return the library."""
    from torch.utils import cpp_extension

    target = build_dir()
    target.mkdir(parents=True, exist_ok=True)
    # cpp_extension runs `ninja` from PATH: the PyPI package's, in this environment.
    bins = [str(Path(sys.executable).parent)]
    try:
        import ninja

        bins.insert(0, str(ninja.BIN_DIR))
    except (ImportError, AttributeError):
        pass
    os.environ["PATH"] = os.pathsep.join([*bins, os.environ.get("PATH", "")])
    cpp_extension.load(
        name=module_name(),
        sources=[str(SOURCE)],
        build_directory=str(target),
        extra_cflags=CFLAGS,
        verbose=verbose,
    )
    load.cache_clear()
    return library_path()


def main() -> None:
    started = time.perf_counter()
    path = build(verbose="-v" in sys.argv)
    module, problem = load()
    if module is None:
        raise SystemExit(problem)
    print(f"fused kernel: {path} ({time.perf_counter() - started:.1f} s)")


if __name__ == "__main__":
    main()
