"""Deploy Deploy/cloudformation.yaml into moto's CloudFormation, minus what moto cannot create.

moto skips resource types it does not model and then fails on anything that references them,
so the template sent to it has those resources removed and every reference to them replaced by
a stand-in string. Both lists below are explicit: the report names them, and a moto upgrade
that starts supporting one shows up as a test to update, not a silent change.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

from cfnlint.decode import decode

TEMPLATE = Path(__file__).resolve().parents[2] / "Deploy" / "cloudformation.yaml"

# Resource types moto 5.2's CloudFormation does not create (moto.cloudformation.parsing has no
# model for them).
UNSUPPORTED_TYPES = frozenset(
    {
        "AWS::Cognito::UserPool",
        "AWS::Cognito::UserPoolDomain",
        "AWS::Cognito::UserPoolClient",
        "AWS::Cognito::UserPoolIdentityProvider",
        "AWS::SecretsManager::Secret",
        "AWS::S3::BucketPolicy",
        "AWS::AutoScaling::ScalingPolicy",
        "AWS::CloudWatch::Alarm",
        "AWS::SNS::Subscription",
        "AWS::SQS::QueuePolicy",
    }
)
# Attributes of supported types that moto cannot answer: (logical id, attribute).
UNSUPPORTED_ATTRIBUTES = frozenset({("Database", "MasterUserSecret.SecretArn")})


def load_template() -> dict[str, Any]:
    """The template as plain data, with !Ref/!GetAtt/!Sub in their long JSON form."""
    template, problems = decode(str(TEMPLATE))
    assert not problems, problems
    return json.loads(json.dumps(template))


def stand_in(logical_id: str, attribute: str | None = None) -> str:
    """What a reference to something moto cannot create becomes (ARN-shaped, recognisable)."""
    name = f"{logical_id}-{attribute}" if attribute else logical_id
    return f"arn:aws:moto-unsupported:us-east-1:123456789012:{name.replace('.', '-')}"


def _replace(node: Any, gone: set[str]) -> Any:
    """``node`` with every Ref, GetAtt and ${...} of a removed resource or attribute replaced."""
    if isinstance(node, list):
        return [_replace(item, gone) for item in node]
    if not isinstance(node, dict):
        return node
    if set(node) == {"Ref"} and node["Ref"] in gone:
        return stand_in(node["Ref"])
    if set(node) == {"Fn::GetAtt"}:
        name, attribute = node["Fn::GetAtt"]
        if name in gone or (name, attribute) in UNSUPPORTED_ATTRIBUTES:
            return stand_in(name, attribute)
    if set(node) == {"Fn::Sub"}:
        return {"Fn::Sub": _replace_in_sub(node["Fn::Sub"], gone)}
    return {key: _replace(value, gone) for key, value in node.items()}


def _replace_in_sub(sub: Any, gone: set[str]) -> Any:
    """Fn::Sub's string (and variable map) with ${Gone} and ${Gone.Attr} replaced."""
    if isinstance(sub, list):
        return [_replace_in_sub(sub[0], gone), _replace(sub[1], gone)]

    def swap(match: re.Match) -> str:
        name, _, attribute = match.group(1).partition(".")
        if name in gone or (name, attribute) in UNSUPPORTED_ATTRIBUTES:
            return stand_in(name, attribute or None)
        return match.group(0)

    return re.sub(r"\$\{([A-Za-z0-9]+(?:\.[A-Za-z0-9.]+)?)\}", swap, sub)


def moto_variant(template: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """A copy of ``template`` moto can deploy, and the logical ids that were removed."""
    resources = template["Resources"]
    gone = {name for name, body in resources.items() if body["Type"] in UNSUPPORTED_TYPES}
    variant = copy.deepcopy(template)
    variant["Resources"] = {
        name: _replace(body, gone) for name, body in resources.items() if name not in gone
    }
    for body in variant["Resources"].values():
        depends = body.pop("DependsOn", [])
        kept = [d for d in ([depends] if isinstance(depends, str) else depends) if d not in gone]
        if kept:
            body["DependsOn"] = kept
    variant["Outputs"] = _replace(template.get("Outputs", {}), gone)
    variant.pop("Rules", None)  # moto does not evaluate Rules
    return variant, sorted(gone)
