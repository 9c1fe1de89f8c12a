"""scripts/check_package.py, on bootstraps made up here: what `make package`
accepts and refuses after `sam build`."""

import struct
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

import check_package  # noqa: E402


def elf(machine: int, size: int = 64, bits: int = 2) -> bytes:
    head = b"\x7fELF" + bytes([bits, 1, 1, 0]) + bytes(8) + struct.pack("<HH", 2, machine)
    return head + bytes(max(0, size - len(head)))


def build(tmp_path: Path, name: str, content: bytes) -> Path:
    d = tmp_path / name
    d.mkdir(parents=True)
    (d / "bootstrap").write_bytes(content)
    return d / "bootstrap"


def test_the_template_s_cargo_lambda_functions_are_every_function():
    functions = check_package.cargo_lambda_functions(ROOT / "template.yaml")
    assert len(functions) == len(list((ROOT / "functions" / "src" / "bin").glob("*.rs")))
    assert functions["OnImagePushFunction"] == "on-image-push"


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (elf(183), None),
        (elf(62), "not aarch64"),
        (elf(183, bits=1), "not a 64-bit"),
        (b"#!/bin/sh\n", "not an ELF"),
        (elf(183, size=101), "over the budget"),
    ],
)
def test_a_bootstrap_must_be_an_aarch64_elf_within_the_budget(tmp_path, content, why):
    found = check_package.problem(build(tmp_path, "F", content), max_bytes=100)
    assert found is None if why is None else why in found


def test_a_missing_bootstrap_fails_the_whole_check(tmp_path, capsys):
    template = tmp_path / "template.yaml"
    template.write_text(
        "Resources:\n"
        "  A:\n    Type: AWS::Serverless::Function\n    Metadata: {BuildMethod: rust-cargolambda, BuildProperties: {Binary: a}}\n"
        "  B:\n    Type: AWS::Serverless::Function\n    Metadata: {BuildMethod: rust-cargolambda, BuildProperties: {Binary: b}}\n"
        "    Properties: {Role: !Ref X}\n"
    )
    build(tmp_path / "build", "A", elf(183))
    assert check_package.main([str(tmp_path / "build"), str(template)]) == 1
    out = capsys.readouterr().out
    assert "a " in out and "missing" in out and "1 of 2 functions" in out
    build(tmp_path / "build", "B", elf(183))
    assert check_package.main([str(tmp_path / "build"), str(template)]) == 0
