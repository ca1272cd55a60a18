"""With PROMETHEUS_MULTIPROC_DIR (Deploy/bin/photos-web sets it for uWSGI), /metrics adds up the
figures of every worker process, not only those of the one that answers."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

APP_DIR = Path(__file__).resolve().parents[2] / "FlaskApp"
# Only the observability modules: the package's __init__ (the Flask app) costs seconds a process.
PRELUDE = f"""
import sys, types
package = types.ModuleType("photogallery")
package.__path__ = [{str(APP_DIR / "photogallery")!r}]
sys.modules["photogallery"] = package
"""
WORKER = """
from photogallery.observability import metrics
metrics.configure_sinks(frozenset({"prometheus"}), "N")
metrics.upload_done(1000, 0.5, 0.1)
metrics.label_failed(TimeoutError())
"""
EXPOSITION = """
import sys
from photogallery.observability.prometheus import shared_sink
sys.stdout.write(shared_sink().exposition()[0].decode())
"""


def run(code: str, env: dict[str, str]) -> str:
    done = subprocess.run(
        [sys.executable, "-c", PRELUDE + code], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_figures_of_worker_processes_add_up_at_metrics(tmp_path):
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    for _worker in range(2):
        run(WORKER, env)

    text = run(EXPOSITION, env)  # a third process, which recorded nothing itself

    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }
    assert samples[("photos_uploads_total", ())] == 2
    assert samples[("photos_upload_bytes_sum", ())] == 2000
    assert samples[("photos_label_failures_total", (("reason", "TimeoutError"),))] == 2
