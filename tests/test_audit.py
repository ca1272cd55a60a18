"""`make audit` (.ci/audit_requirements.py): pip-audit over the pins and what they pull in, and
a clear word when its vulnerability database cannot be reached (offline tests of the verdict)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def audit():
    spec = importlib.util.spec_from_file_location("audit", ROOT / ".ci/audit_requirements.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_audit_covers_what_the_pins_pull_in_at_their_pinned_versions(audit):
    versions = audit.closure(audit.pins(ROOT / "requirements.txt"))

    assert versions["python-jose"] == "3.5.0" and versions["flask"] == "3.1.3"
    # python-jose's own dependencies, and its cryptography extra's.
    assert {"ecdsa", "rsa", "pyasn1", "cryptography", "cffi"} <= versions.keys()
    assert "pytest" not in versions  # a test-only extra of python-jose, not installed by us


def test_a_known_vulnerability_fails_naming_the_package_and_the_fix(audit):
    report = {
        "dependencies": [
            {"name": "werkzeug", "version": "3.0.0", "vulns": [
                {"id": "GHSA-xxxx", "fix_versions": ["3.0.6"], "aliases": []}]},
            {"name": "flask", "version": "3.1.3", "vulns": []},
        ]
    }  # fmt: skip

    status, lines = audit.verdict(report, 2)

    assert status == 1
    assert "  werkzeug 3.0.0: GHSA-xxxx (fixed in 3.0.6)" in lines


def test_an_unreachable_database_says_not_audited_instead_of_clean(audit, monkeypatch):
    # What pip-audit prints when pypi.org's JSON API answers 404 to everything: no vulns, exit 0.
    report = {"dependencies": [{"name": "flask", "skip_reason": "Dependency not found on PyPI"}]}

    status, lines = audit.verdict(report, 41)
    monkeypatch.setenv("AUDIT_REQUIRED", "1")
    required, _ = audit.verdict({"dependencies": [], "error": "ConnectionError: no DNS"}, 41)

    assert status == 0 and "NOT AUDITED" in lines[0] and "none of the 41 packages" in lines[0]
    assert "no known vulnerabilities" not in " ".join(lines)
    assert required == 3


def test_a_clean_report_counts_the_packages_audited(audit):
    report = {"dependencies": [{"name": "flask", "version": "3.1.3", "vulns": []}]}

    assert audit.verdict(report, 1) == (
        0,
        ["pip-audit: 1 packages audited, no known vulnerabilities"],
    )
