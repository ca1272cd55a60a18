"""`make mutate`: mutation testing (mutmut) of the code that guards people's data.

mutmut names each module after its file's path, while the tests import ``photogallery`` from
FlaskApp/ (pyproject's ``pythonpath``); so the run happens in a staging folder where the package
sits at the top: copies of FlaskApp/photogallery and tests/, and a pyproject.toml whose
pythonpath is ``["."]``. mutmut records which tests call each function and runs only those for
each mutant, on the SQLite stack (tests/mutation/sqlite_only.py).

Prints the surviving mutants (file:line and diff) and ends with ``mutation score: N% (K killed
of M)``. Usage: python tests/mutation/mutate.py [--only GLOB] [--jobs N]
[--stage DIR [--keep | --report-only | --rerun-survivors]]

``--rerun-survivors`` takes the tests as they are now into a kept stage and runs only the mutants
that survived there: tests were added, so a killed mutant stays killed. It refuses when the
mutated modules changed since the stage was made (their mutants would be stale).
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from fnmatch import fnmatch
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "FlaskApp" / "photogallery"

# File under photogallery/ -> the functions mutated there ("*": all of them). A module's other
# functions (renditions, labeling bookkeeping) guard no one's data and would only cost time.
TARGETS: dict[str, list[str]] = {
    "data/photos.py": [
        "get_photo",
        "find_by_sha256",
        "list_photos",
        "_before",
        "_search_query",
        "update_description",
        "delete_photo",
        "add_owner_label",
        "remove_label",
        "_label_row",
        "_replace_terms",
    ],
    "data/users.py": ["*"],
    "services/gallery.py": ["*"],
    "services/auth/accounts.py": ["*"],
    "storage/local.py": ["LocalStore.url", "LocalStore.signature", "LocalStore.verify"],
    "storage/presign.py": ["*"],
    "services/auth/token_verifier.py": ["*"],
    "services/auth/cognito_sign_in.py": ["*"],
    "services/auth/sessions.py": ["*"],  # sessions that end server-side
    "services/auth/sign_in_throttle.py": ["*"],
    "services/auth/passwords.py": ["*"],
    "services/deletions.py": ["*"],  # a deleted photo's objects go, or stay recorded
    "web/csrf.py": ["*"],  # module-level wiring only: mutmut mutates inside functions
    "__init__.py": ["register_extensions"],  # where CSRF is switched on and the API exempted
    "services/consistency.py": ["*"],
}
# The tests that exercise those modules; mutmut then keeps, per function, those that call it.
TESTS = [
    "tests/data/test_photos_data.py",
    "tests/data/test_terms.py",
    "tests/services/auth/test_accounts.py",
    "tests/services/auth/test_cognito_sign_in.py",
    "tests/services/auth/test_passwords.py",
    "tests/services/test_deletions.py",
    "tests/services/test_consistency.py",
    "tests/services/test_consistency_guard.py",
    "tests/services/auth/test_token_verifier.py",
    "tests/services/auth/test_cognito_client.py",
    "tests/services/auth/test_cognito_moto.py",
    "tests/storage/test_local_store.py",
    "tests/storage/test_presign.py",
    "tests/web/test_api.py",
    "tests/web/test_auth.py",
    "tests/web/test_cognito.py",
    "tests/web/test_cognito_rejections.py",
    "tests/web/test_csrf.py",
    "tests/web/test_errors.py",
    "tests/web/test_gallery.py",
    "tests/web/test_media.py",
    "tests/web/test_ownership.py",
    "tests/web/test_sessions.py",
    "tests/web/test_sign_in_throttle.py",
    "tests/web/test_sign_up_rules.py",
    "tests/test_cli.py",
]
KILLED = {"killed", "timeout", "caught by type check"}


def mutant_globs(paths: list[str]) -> list[str]:
    """mutmut's mutant names: <module>.x_<function>__mutmut_N or <module>.xǁ<Class>ǁ<method>…."""
    globs = []
    for path in paths:
        functions = TARGETS[path]
        module = "photogallery." + path.removesuffix(".py").replace("/", ".")
        module = module.removesuffix(".__init__")
        for function in functions:
            if function == "*":
                globs.append(f"{module}.x*")
            elif "." in function:
                cls, method = function.split(".")
                globs.append(f"{module}.xǁ{cls}ǁ{method}__mutmut_*")
            else:
                globs.append(f"{module}.x_{function}__mutmut_*")
    return globs


def stage(where: Path, paths: list[str]) -> None:
    """The package at the top of ``where``, the tests beside it, pytest pointed at them."""
    if where.exists() and any(where.iterdir()) and not (where / "pyproject.toml").exists():
        sys.exit(f"{where} is not empty and not an earlier staging folder; not touching it")
    if (where / ".git").exists() or where.resolve() in (ROOT, *ROOT.parents):
        sys.exit(f"{where} is the repository (or holds it); pick an empty --stage folder")
    shutil.rmtree(where, ignore_errors=True)
    junk = shutil.ignore_patterns("__pycache__", "node_modules", "instance", "*.pyc")
    shutil.copytree(PACKAGE, where / "photogallery", ignore=junk)
    shutil.copytree(ROOT / "tests", where / "tests", ignore=junk)
    node_modules = ROOT / "tests" / "oidc" / "node_modules"
    if node_modules.exists():  # the OpenID provider the sign-in tests start; mutmut runs there
        (where / "mutants" / "tests" / "oidc").mkdir(parents=True)
        (where / "mutants" / "tests" / "oidc" / "node_modules").symlink_to(node_modules.resolve())
    pyproject = (ROOT / "pyproject.toml").read_text()
    pyproject = re.sub(r"(?m)^pythonpath = .*$", 'pythonpath = ["."]', pyproject)
    only = [f"photogallery/{path}" for path in paths]
    pyproject += f"""
[tool.mutmut]
source_paths = ["photogallery"]
only_mutate = {json.dumps(only)}
pytest_add_cli_args = ["-p", "tests.mutation.sqlite_only", "-p", "no:cacheprovider"]
pytest_add_cli_args_test_selection = {json.dumps(TESTS)}
use_git_change_detection = false
"""
    (where / "pyproject.toml").write_text(pyproject)


def refresh_tests(where: Path, paths: list[str]) -> None:
    """The repository's tests into a kept stage, if the mutated modules are unchanged."""
    changed = [
        path
        for path in paths
        if (PACKAGE / path).read_bytes() != (where / "photogallery" / path).read_bytes()
    ]
    if changed:
        sys.exit(f"changed since {where} was staged: {', '.join(changed)}; run afresh")
    junk = shutil.ignore_patterns("__pycache__", "node_modules", "instance", "*.pyc")
    for tests in (where / "tests", where / "mutants" / "tests"):
        shutil.copytree(ROOT / "tests", tests, ignore=junk, dirs_exist_ok=True)


def mutmut(where: Path, *args: str) -> None:
    subprocess.run([sys.executable, "-m", "mutmut", *args], cwd=where, check=True)


def statuses(where: Path, paths: list[str], globs: list[str]) -> dict[str, str]:
    """Every mutant in scope and its outcome, from mutmut's records (mutants/<file>.meta)."""
    from mutmut.stats import status_by_exit_code

    found = {}
    for path in paths:
        meta = where / "mutants" / "photogallery" / f"{path}.meta"
        codes = json.loads(meta.read_text())["exit_code_by_key"] if meta.exists() else {}
        for name, code in codes.items():
            if any(fnmatch(name, g) for g in globs):
                found[name] = status_by_exit_code[code]
    return found


def module_file(name: str) -> str:
    """The file under photogallery/ that a mutant's module name points at (a key of TARGETS)."""
    parts = name.partition(".x")[0].split(".")[1:]
    as_module = "/".join(parts) + ".py"
    return as_module if as_module in TARGETS else "/".join([*parts, "__init__.py"])


def diff_of(where: Path, name: str) -> str:
    """mutmut's diff of one mutant's function (read in-process: a subprocess each is slow)."""
    from mutmut.mutation.diff_apply import get_diff_for_mutant

    cwd = Path.cwd()
    os.chdir(where)  # mutmut reads its settings and records from the current folder
    try:
        return get_diff_for_mutant(name, path=Path("photogallery", module_file(name)))
    finally:
        os.chdir(cwd)


def location(name: str, diff: str) -> str:
    """file:line of the mutated line in the repository's copy of the module."""
    mangled = name.partition(".x")[2].split("__mutmut_")[0]  # "_<function>" or "ǁ<Class>ǁ<method>"
    function = mangled.split("ǁ")[-1] if "ǁ" in mangled else mangled[1:]
    path = PACKAGE / module_file(name)
    source = path.read_text()
    lines = source.splitlines()
    node = next(
        (
            n
            for n in ast.walk(ast.parse(source))
            if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) and n.name == function
        ),
        None,
    )
    start, end = (node.lineno, node.end_lineno) if node else (1, len(lines))
    removed = [ln[1:].strip() for ln in diff.splitlines() if ln.startswith("-") and ln[1:2] != "-"]
    for text in removed:
        for number in range(start, end + 1):
            if lines[number - 1].strip() == text:
                return f"{path.relative_to(ROOT)}:{number}"
    return f"{path.relative_to(ROOT)}:{start}"


LOG_CALLS = {"debug", "info", "warning", "error", "exception", "critical"}


def log_lines(path: Path) -> set[int]:
    """Lines of ``path`` inside a ``log.<level>(...)`` call: text that reaches only the log."""
    lines: set[int] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        func = getattr(node, "func", None)
        if (
            isinstance(node, ast.Call)
            and isinstance(func, ast.Attribute)
            and func.attr in LOG_CALLS
            and isinstance(func.value, ast.Name)
            and func.value.id in {"log", "logger"}
        ):
            lines.update(range(node.lineno, (node.end_lineno or node.lineno) + 1))
    return lines


def report(where: Path, found: dict[str, str], seconds: float | None) -> None:
    """Survivors with their diffs, then the score over the mutants that a test could kill.

    A survivor that changes only a line of a logging call is equivalent (no behaviour a test
    should pin changes): it is listed apart and left out of the score, as mutation scores do.
    """
    checked = {name: status for name, status in found.items() if status != "not checked"}
    survivors, equivalent = [], []
    for name in sorted(n for n, status in checked.items() if status not in KILLED):
        diff = "\n".join(diff_of(where, name).splitlines()[2:])  # past the ---/+++ lines
        where_in_repo = location(name, diff)
        path, _, line = where_in_repo.rpartition(":")
        is_log = int(line) in log_lines(ROOT / path)
        (equivalent if is_log else survivors).append((name, where_in_repo, diff))
    print(f"\n{len(survivors)} mutants not killed:\n")
    for name, where_in_repo, diff in survivors:
        print(f"{where_in_repo}  {name}  ({found[name]})\n{diff}\n")
    print(f"{len(equivalent)} equivalent mutants (log text only; not scored):")
    for name, where_in_repo, _ in equivalent:
        print(f"  {where_in_repo}  {name}")
    left_out = {name for name, _, _ in equivalent}
    per_module: dict[str, Counter] = defaultdict(Counter)
    for name, status in checked.items():
        if name in left_out:
            continue
        module = name.partition(".x")[0]
        per_module[module]["all"] += 1
        per_module[module]["killed"] += status in KILLED
    print("per module:")
    for module, count in sorted(per_module.items()):
        killed, total = count["killed"], count["all"]
        print(f"  {module}: {percent(killed, total)} ({killed} of {total})")
    if seconds is not None:
        print(f"run time: {seconds / 60:.1f} min")
    if len(checked) < len(found):  # an interrupted run, reported with --report-only
        print(f"not checked (left out of the score): {len(found) - len(checked)}")
    killed = sum(c["killed"] for c in per_module.values())
    total = sum(c["all"] for c in per_module.values())
    print(f"mutation score: {percent(killed, total)} ({killed} killed of {total})")


def percent(part: int, whole: int) -> str:
    return f"{100 * part // whole if whole else 0}%"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--stage", type=Path, help="staging folder (default: a temporary one)")
    parser.add_argument("--keep", action="store_true", help="keep the staging folder")
    parser.add_argument("--report-only", action="store_true", help="report a kept --stage again")
    parser.add_argument(
        "--rerun-survivors", action="store_true", help="today's tests on a kept --stage's survivors"
    )
    parser.add_argument(
        "--only", default="*", help="files under photogallery/ to mutate, a glob: 'services/*'"
    )
    args = parser.parse_args()
    if (args.report_only or args.rerun_survivors) and not args.stage:
        parser.error("--report-only and --rerun-survivors need the --stage of an earlier run")
    where = args.stage or Path(tempfile.mkdtemp(prefix="photogallery-mutation-"))
    paths = [path for path in TARGETS if fnmatch(path, args.only)]
    globs = mutant_globs(paths)
    started = time.monotonic()
    if args.rerun_survivors:
        refresh_tests(where, paths)
        found = statuses(where, paths, globs)
        survivors = [n for n, status in found.items() if status not in KILLED | {"not checked"}]
        print(f"rerunning {len(survivors)} survivors with today's tests")
        if survivors:
            mutmut(where, "run", "--max-children", str(args.jobs), *survivors)
    elif not args.report_only:
        stage(where, paths)
        mutmut(where, "run", "--max-children", str(args.jobs), *globs)
    seconds = None if args.report_only else time.monotonic() - started
    try:
        report(where, statuses(where, paths, globs), seconds)
    finally:
        if not (args.keep or args.report_only or args.rerun_survivors):
            shutil.rmtree(where, ignore_errors=True)


if __name__ == "__main__":
    main()
