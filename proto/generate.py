"""Compile ``proto/doppel/v1/*.proto`` into the ``extproc.doppel_pb`` package (``make proto``).

protoc writes absolute imports (``from doppel.v1 import privacy_pb2``) that only work with the
output directory on ``sys.path``; the modules are moved into ``extproc/doppel_pb/`` and those
imports made package-relative, so the stubs install with the project. ``--check`` compares a
fresh compilation with the committed files (exit 1 when they differ); the test suite does the
same. Needs grpcio-tools (the ``tools`` extra, pinned: another version writes other code).
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from importlib import resources
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROTO_ROOT = ROOT / "proto"
PROTOS = ("doppel/v1/privacy.proto",)
OUT = ROOT / "extproc" / "doppel_pb"
PACKAGE = "extproc.doppel_pb"

INIT = '''"""Generated from proto/doppel/v1/ by ``make proto`` (proto/generate.py). Do not edit."""
'''


def _relocate(source: str) -> str:
    """Make protoc's ``doppel.v1`` module paths point into :data:`PACKAGE`."""
    source = re.sub(r"^from doppel\.v1 import ", "from . import ", source, flags=re.M)
    return re.sub(r"'doppel\.v1\.(\w+_pb2)'", rf"'{PACKAGE}.\1'", source)


def generate(out: Path) -> list[Path]:
    """Write the package into ``out`` (created if missing); returns the files written."""
    from grpc_tools import protoc

    include = resources.files("grpc_tools") / "_proto"
    out.mkdir(parents=True, exist_ok=True)
    written = [out / "__init__.py"]
    written[0].write_text(INIT)
    with tempfile.TemporaryDirectory() as tmp:
        args = [
            "grpc_tools.protoc",
            f"-I{PROTO_ROOT}",
            f"-I{include}",
            f"--python_out={tmp}",
            f"--pyi_out={tmp}",
            f"--grpc_python_out={tmp}",
            *PROTOS,
        ]
        if protoc.main(args) != 0:
            raise RuntimeError("protoc failed (see its message above)")
        for produced in sorted(Path(tmp).rglob("*.py*")):
            target = out / produced.name
            target.write_text(_relocate(produced.read_text()))
            written.append(target)
    return written


def stale(committed: Path = OUT) -> list[str]:
    """Names of the files that differ between a fresh compilation and ``committed``."""
    with tempfile.TemporaryDirectory() as tmp:
        fresh = {p.name: p.read_bytes() for p in generate(Path(tmp))}
    have = {
        p.name: p.read_bytes()
        for p in committed.iterdir()
        if p.is_file() and p.suffix in (".py", ".pyi")
    }
    return sorted(n for n in fresh.keys() | have.keys() if fresh.get(n) != have.get(n))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--check", action="store_true", help="compare only; exit 1 when stale")
    args = p.parse_args(argv)
    if args.check:
        names = stale()
        if names:
            print(f"stale generated code: {', '.join(names)}; run make proto", file=sys.stderr)
            return 1
        return 0
    for path in generate(OUT):
        print(path.relative_to(ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main())
