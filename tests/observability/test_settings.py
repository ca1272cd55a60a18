"""LOG_FORMAT, METRICS, METRICS_ALLOW, METRICS_TOKEN: read once, and a bad value stops start-up
with a message naming the setting."""

from __future__ import annotations

import io
import ipaddress
import json
import logging
import sys

import pytest

from photogallery import create_app
from photogallery.observability import logs
from photogallery.settings import ConfigError, load_settings


def load(tmp_path, **env):
    return load_settings(env, {"FLASK_SECRET": "s" * 40}, str(tmp_path))


def test_defaults_are_loopback_prometheus_and_text_or_json_by_terminal(tmp_path, monkeypatch):
    settings = load(tmp_path)
    assert settings.metrics == {"prometheus"}
    assert settings.metrics_allow == (
        ipaddress.ip_network("127.0.0.0/8"),
        ipaddress.ip_network("::1"),
    )
    assert settings.metrics_token == ""
    assert settings.log_format == "json"  # pytest's stderr is not a terminal

    monkeypatch.setattr("sys.stderr.isatty", lambda: True)
    assert load(tmp_path).log_format == "text"
    assert load(tmp_path, LOG_FORMAT="json").log_format == "json"


def test_settings_are_read_as_written(tmp_path):
    settings = load(
        tmp_path,
        METRICS="EMF, prometheus",
        METRICS_ALLOW="10.0.0.0/8, 2001:db8::/32,192.0.2.7",
        METRICS_TOKEN="t" * 16,
    )
    assert settings.metrics == {"emf", "prometheus"}
    assert [str(n) for n in settings.metrics_allow] == [
        "10.0.0.0/8",
        "2001:db8::/32",
        "192.0.2.7/32",
    ]
    assert load(tmp_path, METRICS="none", METRICS_ALLOW="none").metrics == frozenset()
    assert load(tmp_path, METRICS_ALLOW="none").metrics_allow == ()


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("LOG_FORMAT", "yaml", "LOG_FORMAT: must be one of auto, json, text; got 'yaml'"),
        ("METRICS", "statsd", "METRICS: must be none, emf, prometheus or emf,prometheus"),
        ("METRICS_ALLOW", "10.0.0.0/8,localhost", "METRICS_ALLOW: 'localhost' is not an address"),
        ("METRICS_ALLOW", "10.0.0.300/8", "METRICS_ALLOW: '10.0.0.300/8' is not an address"),
        ("METRICS_TOKEN", "short", "METRICS_TOKEN: too short"),
    ],
)
def test_a_bad_value_stops_start_up_naming_the_setting(tmp_path, name, value, message):
    with pytest.raises(ConfigError) as refused:
        create_app(
            {"FLASK_SECRET": "s" * 40, "DATABASE_URL": f"sqlite:///{tmp_path}/p.db", name: value}
        )

    assert message in str(refused.value)


def test_json_lines_carry_tracebacks_and_never_break_on_odd_messages():
    record = logging.LogRecord(
        "photogallery.x", logging.ERROR, __file__, 1, "a %s", ('b\n"c',), None
    )
    try:
        raise ValueError("boom")
    except ValueError:
        record.exc_info = sys.exc_info()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.JsonFormatter())
    handler.emit(record)

    [line] = stream.getvalue().splitlines()  # one line, whatever the message holds
    fields = json.loads(line)
    assert fields["message"] == 'a b\n"c' and fields["level"] == "ERROR"
    assert "ValueError: boom" in fields["exception"]
