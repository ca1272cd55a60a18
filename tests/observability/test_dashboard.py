"""The stack's CloudWatch dashboard charts every figure the app writes as EMF, in the namespace
the stack gives the app (instances through SSM, the label Lambda through its environment)."""

from __future__ import annotations

import json
import re

from photogallery.observability.emf import EmfSink
from tests.deploy.moto_stack import load_template


def written_metric_names() -> set[str]:
    lines: list[str] = []
    sink = EmfSink("N", lines.append)
    sink.upload(1, 1.0, 1.0)
    sink.labeling(1.0)
    sink.label_failure("LabelerError")
    sink.queue_lag(1.0)
    sink.sign_in_failure()
    directives = [json.loads(line)["_aws"]["CloudWatchMetrics"][0] for line in lines]
    return {metric["Name"] for d in directives for metric in d["Metrics"]}


def test_the_dashboard_charts_every_emf_metric_in_the_apps_namespace():
    resources = load_template()["Resources"]
    body, values = resources["AppDashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    namespace = values["Namespace"]
    stand_ins = {
        "AWS::Region": "us-west-2",
        "Namespace": "NS",
        "QueueName": "q",
        "AppLogGroup": "g",
    }
    widgets = json.loads(re.sub(r"\$\{([^}]+)\}", lambda m: stand_ins[m.group(1)], body))["widgets"]

    charted = set()
    for widget in widgets:
        for row in widget["properties"].get("metrics", []):
            if row[0] == "NS":
                charted.add(row[1])
            elif isinstance(row[0], dict):  # a SEARCH over a dimension
                charted.update(re.findall(r'MetricName="(\w+)"', row[0]["expression"]))
    assert charted == written_metric_names()

    setting = resources["SettingMetricsNamespace"]["Properties"]["Value"]
    lambda_env = resources["LabelFunction"]["Properties"]["Environment"]["Variables"]
    assert setting == lambda_env["METRICS_NAMESPACE"] == namespace
    assert resources["SettingMetrics"]["Properties"]["Value"] == lambda_env["METRICS"] == "emf"
