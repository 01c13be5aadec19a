"""Minimum versions stay above the published advisories of the libraries that guard requests and tokens."""

from __future__ import annotations

import importlib.metadata
import tomllib

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

from app.settings import PROJECT_ROOT

# package -> (advisory, first fixed release): raise the floor in pyproject.toml when one is added here.
ADVISORIES = [
    ("litestar", "GHSA-83pv-qr33-2vcf / CVE-2024-32982 (static files path traversal)", "2.8.3"),
    ("authlib", "CVE-2025-62706 (JWE zip decompression bomb)", "1.6.5"),
    ("authlib", "CVE-2026-27962 (JWS jwk header injection: forged signatures)", "1.6.9"),
    ("authlib", "CVE-2026-28490 (JWE RSA1_5 padding oracle)", "1.6.9"),
    ("authlib", "CVE-2026-28498 (fail-open OIDC hash binding)", "1.6.9"),
]


def declared_floor(package: str) -> Version:
    """The lower bound pyproject.toml declares for `package`."""
    project = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]
    for line in project["dependencies"]:
        requirement = Requirement(line)
        if requirement.name.lower() == package:
            floors = [Version(spec.version) for spec in requirement.specifier if spec.operator == ">="]
            assert floors, f"{package} needs a >= lower bound in pyproject.toml"
            return max(floors)
    raise AssertionError(f"{package} is not a dependency in pyproject.toml")


@pytest.mark.parametrize(("package", "advisory", "fixed"), ADVISORIES)
def test_the_declared_floor_is_at_or_above_the_fix(package: str, advisory: str, fixed: str) -> None:
    """An install that meets pyproject.toml can never have the vulnerable release."""
    assert declared_floor(package) >= Version(fixed), f"{package}: {advisory} is fixed in {fixed}"


@pytest.mark.parametrize("package", sorted({package for package, _, _ in ADVISORIES}))
def test_the_installed_release_meets_the_declared_floor(package: str) -> None:
    """What runs is what was declared."""
    assert Version(importlib.metadata.version(package)) >= declared_floor(package)
