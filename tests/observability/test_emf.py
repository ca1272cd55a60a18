"""EMF lines have the structure of CloudWatch's "Specification: Embedded metric format", so
CloudWatch Logs turns each into metrics; an upload through the app writes one."""

from __future__ import annotations

import json
import numbers

import jsonschema
import pytest

from photogallery.observability import metrics
from photogallery.observability.emf import EmfSink
from photogallery.queue.inline import InlineQueue
from tests.conftest import photo_bytes
from tests.observability.recording import recorded_figures

UNITS = [
    "Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes", "Gigabytes",
    "Terabytes", "Bits", "Kilobits", "Megabits", "Gigabits", "Terabits", "Percent", "Count",
    "Bytes/Second", "Kilobytes/Second", "Megabytes/Second", "Gigabytes/Second",
    "Terabytes/Second", "Bits/Second", "Kilobits/Second", "Megabits/Second", "Gigabits/Second",
    "Terabits/Second", "Count/Second", "None",
]  # fmt: skip
NAME = {"type": "string", "minLength": 1, "maxLength": 255}
# The specification's document structure: objects it defines take no other members; the root
# may hold any others (the target members, checked below).
EMF_SCHEMA = {
    "type": "object",
    "required": ["_aws"],
    "properties": {
        "_aws": {
            "type": "object",
            "required": ["Timestamp", "CloudWatchMetrics"],
            "properties": {
                "Timestamp": {"type": "integer", "minimum": 0},
                "CloudWatchMetrics": {
                    "type": "array",
                    "minItems": 1,
                    "items": {
                        "type": "object",
                        "required": ["Namespace", "Dimensions", "Metrics"],
                        "additionalProperties": False,
                        "properties": {
                            "Namespace": {**NAME, "pattern": "[^:]"},
                            "Dimensions": {
                                "type": "array",
                                "minItems": 1,
                                "items": {"type": "array", "maxItems": 30, "items": NAME},
                            },
                            "Metrics": {
                                "type": "array",
                                "minItems": 1,
                                "maxItems": 100,
                                "items": {
                                    "type": "object",
                                    "required": ["Name"],
                                    "additionalProperties": False,
                                    "properties": {
                                        "Name": NAME,
                                        "Unit": {"enum": UNITS},
                                        "StorageResolution": {"enum": [1, 60]},
                                    },
                                },
                            },
                        },
                    },
                },
            },
        }
    },
}


def check_emf(line: str) -> dict:
    """One EMF document, or an AssertionError saying what breaks the specification."""
    assert "\n" not in line  # one log event per line
    document = json.loads(line)
    jsonschema.validate(document, EMF_SCHEMA)
    for directive in document["_aws"]["CloudWatchMetrics"]:
        for metric in directive["Metrics"]:  # every metric's value is a root member, a number
            value = document.get(metric["Name"])
            assert isinstance(value, numbers.Real) and not isinstance(value, bool), metric
        for dimension_set in directive["Dimensions"]:
            for key in dimension_set:  # every dimension's value is a root member, a string
                assert isinstance(document.get(key), str) and document[key], key
    return document


@pytest.fixture
def emf_lines():
    """Figures recorded while the test runs, as the EMF lines they write."""
    lines: list[str] = []
    metrics.configure((EmfSink("PhotoGallery", lines.append),))
    yield lines
    metrics.configure(())


def test_every_figure_the_services_record_is_an_emf_document(emf_lines):
    metrics.upload_done(123_456, 0.25, 0.125)
    metrics.labeling_done(1.5)
    metrics.label_failed(TimeoutError("the labeler took too long"))
    metrics.queue_lag(-1)  # a clock a little ahead of the queue's: never a negative age
    metrics.sign_in_failed()

    documents = [check_emf(line) for line in emf_lines]

    assert [d for d in documents if "Uploads" in d] == [
        {**documents[0], "Uploads": 1, "UploadBytes": 123_456, "UploadLatency": 250.0,
         "RenditionsTime": 125.0}
    ]  # fmt: skip
    assert documents[1]["LabelingLatency"] == 1500.0
    failure = documents[2]
    assert failure["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["Reason"]]
    assert (failure["Reason"], failure["LabelFailures"]) == ("TimeoutError", 1)
    assert "took too long" not in emf_lines[2]  # a reason is a kind, never a message
    assert documents[3]["QueueLag"] == 0
    assert documents[4]["SignInFailures"] == 1


def test_the_checker_refuses_what_the_specification_refuses():
    good = {
        "_aws": {
            "Timestamp": 1,
            "CloudWatchMetrics": [
                {"Namespace": "N", "Dimensions": [["Reason"]], "Metrics": [{"Name": "M"}]}
            ],
        },
        "Reason": "x",
        "M": 1,
    }
    check_emf(json.dumps(good))
    for broken in (
        {**good, "M": "1"},  # a value that is not a number
        {k: v for k, v in good.items() if k != "Reason"},  # a dimension without its value
        {**good, "_aws": {**good["_aws"], "Timestamp": "now"}},
        {**good, "_aws": {"CloudWatchMetrics": good["_aws"]["CloudWatchMetrics"]}},
    ):
        with pytest.raises((AssertionError, jsonschema.ValidationError)):
            check_emf(json.dumps(broken))


@pytest.fixture
def settings(settings):
    """The app of this module's tests writes EMF lines."""
    return {**settings, "METRICS": "emf", "METRICS_NAMESPACE": "Photos/Test"}


@pytest.mark.parametrize("stack", ["sqlite"], indirect=True)
def test_an_upload_through_the_app_writes_its_figures_as_one_emf_line_on_stdout(upload, capsys):
    photo = photo_bytes()
    capsys.readouterr()

    assert upload((photo, "cat.jpg")).status_code == 302

    lines = [line for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    uploads = [d for d in map(check_emf, lines) if "Uploads" in d]
    assert len(uploads) == 1
    assert uploads[0]["UploadBytes"] == len(photo)
    assert uploads[0]["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "Photos/Test"


def test_the_inline_queue_records_how_long_a_job_waited():
    queue = InlineQueue(lambda photo_id: None)
    with recorded_figures() as figures:
        queue.enqueue(1)
        queue.enqueue(2)
        assert queue.drain(timeout=10)

    lags = [lag for (lag,) in figures.of("queue_lag")]
    assert len(lags) == 2 and all(0 <= lag < 5 for lag in lags)
