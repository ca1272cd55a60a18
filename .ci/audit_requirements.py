#!/usr/bin/env python3
"""pip-audit over what requirements.txt installs: its pins and everything they pull in.

    python .ci/audit_requirements.py [requirements.txt]

The pins alone miss the dependencies they bring (python-jose brings ecdsa, rsa and pyasn1), and
pip-audit's own resolver would build a throw-away venv (compiling uWSGI) on every run. So the
versions come from this environment (CI installs requirements-dev.txt, which includes the file),
and pip-audit checks that exact list without resolving.

Exit 1 when a package has a known vulnerability that is not accepted below. When pip-audit cannot
reach its database (PyPI's JSON API, or OSV), it reports every package as "not found" and says
"No known vulnerabilities found"; this script says NOT AUDITED instead and exits 0, so a network
without that API does not fail CI while nobody mistakes it for a clean result (AUDIT_REQUIRED=1
makes it exit 3).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

# Accepted, each with why; pip-audit matches these against every advisory's id and aliases.
ACCEPTED = {
    # ecdsa's Minerva timing attack on signing (CVE-2024-23342, also PYSEC-2026-1325): no fixed
    # release exists. python-jose requires ecdsa, but with its cryptography extra installed it
    # uses cryptography for EC keys, and we only verify RS256 id tokens (never sign with EC):
    # services/auth/token_verifier.py, tests/services/auth/test_token_verifier.py.
    "GHSA-wj6h-64fc-37mp": "ecdsa Minerva: no fix; ecdsa is not used (RS256 via cryptography)",
    "CVE-2024-23342": "ecdsa Minerva: no fix; ecdsa is not used (RS256 via cryptography)",
    "PYSEC-2026-1325": "ecdsa Minerva: no fix; ecdsa is not used (RS256 via cryptography)",
}


def pins(requirements: Path) -> list[Requirement]:
    """The requirements of a pinned file (comments, options and includes skipped)."""
    found = []
    for line in requirements.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            found.append(Requirement(line))
    return found


def closure(top: list[Requirement]) -> dict[str, str]:
    """Every distribution the requirements pull in (with their extras), name → version: the
    pinned version for the pins, the installed one for what they bring."""
    versions: dict[str, str] = {}
    todo = [(req, {"extra": extra}) for req in top for extra in (req.extras or {""})]
    for req in top:
        (pinned,) = (spec.version for spec in req.specifier if spec.operator == "==")
        versions[canonicalize_name(req.name)] = pinned
    seen: set[tuple[str, str]] = set()
    while todo:
        req, env = todo.pop()
        name = canonicalize_name(req.name)
        if (name, env["extra"]) in seen or (req.marker and not req.marker.evaluate(env)):
            continue
        seen.add((name, env["extra"]))
        try:
            dist = metadata.distribution(req.name)
        except metadata.PackageNotFoundError:
            sys.exit(f"{req.name} is not installed: pip install -r requirements-dev.txt first")
        versions.setdefault(name, dist.version)
        for extra in {"", *req.extras}:
            for dep in map(Requirement, dist.requires or []):
                todo.append((dep, {"extra": extra}))
    return versions


def audit(versions: dict[str, str]) -> dict:
    """pip-audit's JSON report for exactly these versions."""
    with tempfile.NamedTemporaryFile("w", suffix=".txt") as listed:
        listed.write("".join(f"{name}=={version}\n" for name, version in sorted(versions.items())))
        listed.flush()
        command = [sys.executable, "-m", "pip_audit", "-r", listed.name, "--no-deps"]
        command += ["--disable-pip", "--format", "json", "--progress-spinner", "off"]
        for accepted in ACCEPTED:
            command += ["--ignore-vuln", accepted]
        done = subprocess.run(command, capture_output=True, text=True)
    try:
        return json.loads(done.stdout)
    except json.JSONDecodeError:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return {"dependencies": [], "error": re.sub(r"\s+", " ", last)[:300]}


def verdict(report: dict, expected: int) -> tuple[int, list[str]]:
    """The exit status and the lines to print for a pip-audit JSON report."""
    lines, vulnerable, skipped = [], [], []
    for dep in report.get("dependencies", []):
        if "skip_reason" in dep:
            skipped.append(dep["name"])
        for vuln in dep.get("vulns", []):
            fixed = ", ".join(vuln.get("fix_versions") or []) or "no fixed release"
            vulnerable.append(f"  {dep['name']} {dep['version']}: {vuln['id']} (fixed in {fixed})")
    if vulnerable:
        lines += ["pip-audit: known vulnerabilities in pinned requirements:", *vulnerable]
        lines.append("bump the pin to a fixed version, or accept it in .ci/audit_requirements.py")
    audited = len(report.get("dependencies", [])) - len(skipped)
    if "error" in report or (skipped and audited == 0):
        why = report.get("error") or "every package came back 'not found on PyPI'"
        lines.append(
            f"pip-audit: NOT AUDITED: its vulnerability database did not answer ({why}); "
            f"none of the {expected} packages was checked. Run `make audit` where pypi.org's "
            "JSON API (https://pypi.org/pypi/<name>/<version>/json) is reachable."
        )
        status = 3 if os.environ.get("AUDIT_REQUIRED") == "1" else 0
        return (1 if vulnerable else status), lines
    if skipped:
        lines.append(f"pip-audit: not audited (not found): {', '.join(sorted(skipped))}")
    if not vulnerable:
        lines.append(f"pip-audit: {audited} packages audited, no known vulnerabilities")
    return (1 if vulnerable else 0), lines


def main() -> int:
    requirements = Path(sys.argv[1] if len(sys.argv) > 1 else "requirements.txt")
    versions = closure(pins(requirements))
    status, lines = verdict(audit(versions), len(versions))
    print("\n".join(lines), file=sys.stderr if status else sys.stdout)
    return status


if __name__ == "__main__":
    sys.exit(main())
