#!/usr/bin/env python3
"""Checks what `sam build` made: every function of the template built with
cargo-lambda has its `bootstrap`, an ELF for aarch64 (the template's
Architectures: arm64), no larger than the budget. Prints one line per
function; exits 1 if any fails.

Usage: check_package.py BUILD_DIR TEMPLATE [--max-bytes N]
"""

import argparse
import struct
import sys
from pathlib import Path

import yaml

# 6.0 MB (10^6 bytes) per stripped function: what an arm64 Rust function on
# provided.al2023 should stay within (the zip Lambda loads is smaller still).
MAX_BYTES = 6_000_000
EM_AARCH64 = 183


class _Tags(yaml.SafeLoader):
    """Reads CloudFormation's short-form tags (!Ref, !Sub, …) as plain values."""


_Tags.add_multi_constructor("!", lambda loader, suffix, node: None)


def cargo_lambda_functions(template: Path) -> dict[str, str]:
    """Logical id → binary of every function `sam build` builds with cargo-lambda."""
    resources = yaml.load(template.read_text(), Loader=_Tags)["Resources"]
    return {
        name: r["Metadata"].get("BuildProperties", {}).get("Binary", name)
        for name, r in resources.items()
        if r.get("Type") == "AWS::Serverless::Function"
        and (r.get("Metadata") or {}).get("BuildMethod") == "rust-cargolambda"
    }


def function_variables(template: Path, name: str) -> list[str]:
    """The environment variables the template gives function `name` (Globals' and its own)."""
    t = yaml.load(template.read_text(), Loader=_Tags)
    glob = (((t.get("Globals") or {}).get("Function") or {}).get("Environment") or {}).get("Variables") or {}
    own = ((t["Resources"][name].get("Properties") or {}).get("Environment") or {}).get("Variables") or {}
    return sorted({*glob, *own})


def problem(bootstrap: Path, max_bytes: int) -> str | None:
    """What is wrong with one built bootstrap, or None."""
    if not bootstrap.is_file():
        return "missing"
    head = bootstrap.read_bytes()[:20]
    if len(head) < 20 or head[:4] != b"\x7fELF":
        return "not an ELF file"
    if head[4] != 2 or head[5] != 1:
        return "not a 64-bit little-endian ELF"
    (machine,) = struct.unpack_from("<H", head, 18)
    if machine != EM_AARCH64:
        return f"built for ELF machine {machine}, not aarch64 ({EM_AARCH64})"
    size = bootstrap.stat().st_size
    if size > max_bytes:
        return f"{size:,} bytes, over the budget of {max_bytes:,}"
    return None


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("build_dir", type=Path)
    parser.add_argument("template", type=Path)
    parser.add_argument("--max-bytes", type=int, default=MAX_BYTES)
    args = parser.parse_args(argv)
    functions = cargo_lambda_functions(args.template)
    if not functions:
        print("check_package: the template builds no function with cargo-lambda", file=sys.stderr)
        return 1
    failed = 0
    for name, binary in sorted(functions.items(), key=lambda kv: kv[1]):
        bootstrap = args.build_dir / name / "bootstrap"
        why = problem(bootstrap, args.max_bytes)
        size = bootstrap.stat().st_size if bootstrap.is_file() else 0
        print(f"{binary:<18} {size / 1e6:6.2f} MB  {'ok' if why is None else why}")
        failed += why is not None
    print(f"{len(functions) - failed} of {len(functions)} functions within {args.max_bytes / 1e6:.1f} MB, aarch64")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
