"""bench/record.py: figures compared with the recorded ones, moves over 20 % flagged."""

import json

import pytest

from bench.record import Figure, moved, report


@pytest.mark.parametrize(
    ("value", "better", "flag"),
    [
        (119, "lower", ""),
        (121, "lower", "MOVED >20% (worse)"),
        (79, "lower", "MOVED >20% (better)"),
        (79, "higher", "MOVED >20% (worse)"),
        (121, "higher", "MOVED >20% (better)"),
        (81, "higher", ""),
    ],
)
def test_a_figure_is_flagged_when_it_moved_more_than_20_percent_either_way(value, better, flag):
    assert moved(Figure("x", value, "ms", better), 100) == flag


def test_report_names_the_moved_figures_and_record_rewrites_only_its_own(tmp_path, capsys):
    path = tmp_path / "figures.json"
    other = {"value": 3.0, "unit": "ms", "better": "lower", "machine": "m", "recorded": "d"}
    path.write_text(json.dumps({"gallery.page": other, "upload.total": dict(other, value=80)}))

    figures = [Figure("upload.total", 60.0, "ms"), Figure("upload.new", 1.0, "ms")]
    assert report(figures, path=path) == ["upload.total"]
    assert "MOVED >20% (better)" in capsys.readouterr().out
    assert json.loads(path.read_text())["upload.total"]["value"] == 80  # not without --record

    report(figures, record=True, path=path)
    saved = json.loads(path.read_text())
    assert saved["gallery.page"] == other
    assert saved["upload.total"]["value"] == 60.0 and saved["upload.new"]["unit"] == "ms"
    assert "cores" in saved["upload.total"]["machine"]
