"""Deploy/cloudformation.yaml: cfn-lint clean, the policies that matter, and deployed into moto."""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from SetupScripts import configure_bucket
from tests.deploy.moto_stack import TEMPLATE, UNSUPPORTED_TYPES, load_template, moto_variant
from tests.fixtures.servers import missing

# cfn-lint over the whole template and a stack deployed into moto: not held to the 60 s default.
pytestmark = pytest.mark.timeout(600)

DOMAIN = "photos.example.com"
# Warnings cfn-lint cannot be talked out of: the empty default of PrivateSubnetIds (used only
# when VpcId is set, which the template's Rules require subnets for) fails the Lambda's
# subnet-id pattern. Anything else it reports fails the test.
KNOWN_WARNINGS = {("W1030", ("Parameters", "PrivateSubnetIds", "Default"))}
SETTINGS = {
    "STORAGE", "PHOTOS_BUCKET", "DIRECT_UPLOAD", "MAX_UPLOAD_MB", "AWS_REGION", "LABELER",
    "LABEL_QUEUE", "SQS_QUEUE_URL", "AUTH", "COGNITO_POOL_ID", "COGNITO_CLIENT_ID",
    "COGNITO_DOMAIN", "BASE_URL", "PROXY_COUNT", "DATABASE_HOST", "DATABASE_PORT",
    "DATABASE_DB_NAME", "CLOUDWATCH_LOG_GROUP", "EVENTS_TOPIC_ARN", "LABEL_JOBS_FROM_EVENTS",
    "TRACING", "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_SERVICE_NAME",  # Tracing=otlp (the default)
    "METRICS", "METRICS_NAMESPACE",
}  # fmt: skip
OUTPUTS = {
    "SiteUrl", "BucketName", "QueueUrl", "DeadLetterQueueUrl", "UserPoolId", "UserPoolClientId",
    "CognitoDomain", "SettingsPath", "LoadBalancerDNSName", "DatabaseEndpoint", "EventsTopicArn",
}  # fmt: skip


@pytest.fixture(scope="module")
def template():
    return load_template()


def resources_of(template, type_):
    return {k: v for k, v in template["Resources"].items() if v["Type"] == type_}


# ------------------------------------------------------------------ static checks


def test_cfn_lint_finds_no_errors_and_only_the_known_warnings():
    cfn_lint = shutil.which("cfn-lint", path=str(Path(sys.executable).parent))
    if not cfn_lint:
        missing("cfn-lint", "pip install -r requirements-dev.txt")
    run = subprocess.run(
        [cfn_lint, "--format", "json", str(TEMPLATE)], capture_output=True, text=True, check=False
    )
    matches = json.loads(run.stdout or "[]")
    found = {(m["Rule"]["Id"], tuple(m["Location"]["Path"])) for m in matches}
    assert found <= KNOWN_WARNINGS, run.stdout + run.stderr
    assert run.returncode & 2 == 0, run.stdout + run.stderr  # bit 2: errors


def test_rolling_update_and_creation_wait_for_each_instance_signal(template):
    group = template["Resources"]["WebServerGroup"]
    rolling = group["UpdatePolicy"]["AutoScalingRollingUpdate"]
    assert rolling["WaitOnResourceSignals"] is True
    assert rolling["MaxBatchSize"] == 1 and rolling["MinInstancesInService"] >= 1
    assert rolling["PauseTime"] == "PT20M"
    signal = group["CreationPolicy"]["ResourceSignal"]
    assert signal == {"Count": {"Ref": "DesiredCapacity"}, "Timeout": "PT20M"}
    props = group["Properties"]
    assert props["HealthCheckType"] == "ELB" and props["HealthCheckGracePeriod"] > 0
    assert template["Parameters"]["MaxSize"]["MinValue"] >= 2  # room to roll with one in service


def test_load_balancer_drops_bad_headers_redirects_http_and_checks_ready(template):
    res = template["Resources"]
    attributes = {
        a["Key"]: a["Value"] for a in res["LoadBalancer"]["Properties"]["LoadBalancerAttributes"]
    }
    assert attributes["routing.http.drop_invalid_header_fields.enabled"] == "true"
    group = res["TargetGroup"]["Properties"]
    assert (group["HealthCheckPath"], group["Matcher"], group["Port"]) == (
        "/ready",
        {"HttpCode": "200"},
        80,
    )
    group_attributes = {a["Key"]: a["Value"] for a in group["TargetGroupAttributes"]}
    assert int(group_attributes["deregistration_delay.timeout_seconds"]) <= 60
    assert group_attributes["stickiness.enabled"] == "false"
    redirect = res["HttpListener"]["Properties"]["DefaultActions"][0]
    assert redirect["Type"] == "redirect" and redirect["RedirectConfig"]["Protocol"] == "HTTPS"
    https = res["HttpsListener"]["Properties"]
    assert https["Certificates"] == [{"CertificateArn": {"Ref": "CertificateArn"}}]
    assert https["SslPolicy"].startswith("ELBSecurityPolicy-TLS13")


def _ingress_rules(template):
    """(security group logical id, rule) for inline and stand-alone ingress rules."""
    for name, group in resources_of(template, "AWS::EC2::SecurityGroup").items():
        for rule in group["Properties"].get("SecurityGroupIngress", []):
            yield name, rule
    for rule in resources_of(template, "AWS::EC2::SecurityGroupIngress").values():
        yield rule["Properties"]["GroupId"]["Ref"], rule["Properties"]


def test_only_the_load_balancer_is_open_to_the_internet_and_nothing_to_ssh(template):
    rules = list(_ingress_rules(template))
    assert rules
    for group, rule in rules:
        assert not rule["FromPort"] <= 22 <= rule["ToPort"], (group, rule)
        if rule.get("CidrIp") == "0.0.0.0/0" or rule.get("CidrIpv6") == "::/0":
            assert group == "LoadBalancerSecurityGroup" and rule["FromPort"] in (80, 443)
        else:
            assert "SourceSecurityGroupId" in rule, (group, rule)
    chained = {
        (g, r["SourceSecurityGroupId"]["Ref"], r["FromPort"])
        for g, r in rules
        if "SourceSecurityGroupId" in r
    }
    assert ("WebSecurityGroup", "LoadBalancerSecurityGroup", 80) in chained
    assert ("DatabaseSecurityGroup", "WebSecurityGroup", 3306) in chained


def iam_statements(policy_document):
    statements = policy_document["Statement"]
    return statements if isinstance(statements, list) else [statements]


def assert_least_privilege(statement):
    """No Resource "*" except for the actions that have no resource-level ARNs:
    rekognition:DetectLabels, and X-Ray's trace uploads (the CloudWatch agent's)."""
    resources = (
        statement["Resource"]
        if isinstance(statement["Resource"], list)
        else [statement["Resource"]]
    )
    if "*" in resources:
        assert statement["Action"] in (
            "rekognition:DetectLabels",
            ["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
        ), statement
        assert "NoResourceLevelPermissions" in statement["Sid"]
    assert "*" not in json.dumps(statement["Action"]), statement


def test_every_iam_statement_names_its_resources(template):
    roles = resources_of(template, "AWS::IAM::Role")
    assert {"InstanceRole", "LabelFunctionRole"} <= set(roles)
    for role in roles.values():
        for policy in role["Properties"]["Policies"]:
            for statement in iam_statements(policy["PolicyDocument"]):
                assert_least_privilege(statement)
    managed = roles["InstanceRole"]["Properties"]["ManagedPolicyArns"]
    assert managed == [
        {"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/AmazonSSMManagedInstanceCore"}
    ]


POLICY = TEMPLATE.parent / "iam-policy.json"
PLACEHOLDERS = {
    "REGION", "ACCOUNT_ID", "BUCKET", "PREFIX", "RELEASE_OBJECT", "QUEUE_NAME", "TOPIC_NAME",
    "SETTINGS_PATH",
    "DB_SECRET_ARN", "APP_DB_SECRET_ARN", "APP_SECRETS_ARN", "LOG_GROUP",
}  # fmt: skip


def test_by_hand_policy_is_least_privilege_with_documented_placeholders():
    text = POLICY.read_text()
    policy = json.loads(text)
    assert set(policy) == {"Version", "Id", "Statement"} and policy["Version"] == "2012-10-17"
    for statement in iam_statements(policy):
        assert re.fullmatch(r"[A-Za-z0-9]+", statement["Sid"])
        assert_least_privilege(statement)
    used = set(re.findall(r"<([A-Z_]+)>", json.dumps(policy["Statement"])))
    assert used == PLACEHOLDERS
    assert all(f"<{name}>" in policy["Id"] for name in PLACEHOLDERS)  # each one explained


def test_by_hand_policy_grants_what_the_stacks_instance_role_does(template):
    """Same actions as the template's InstanceRole, less signalling a stack that is not there."""

    def actions(statements):
        found = set()
        for statement in statements:
            action = statement["Action"]
            found |= {action} if isinstance(action, str) else set(action)
        return found

    role = template["Resources"]["InstanceRole"]["Properties"]["Policies"][0]["PolicyDocument"]
    by_hand = json.loads(POLICY.read_text())
    assert actions(iam_statements(by_hand)) == actions(iam_statements(role)) - {
        "cloudformation:SignalResource"
    }


def test_label_queue_takes_only_photo_uploaded_raw_from_the_events_topic(template):
    topic = {"Ref": "PhotoEventsTopic"}
    resources = template["Resources"]
    assert resources["PhotoEventsTopic"]["Properties"]["KmsMasterKeyId"] == "alias/aws/sns"
    subscription = resources["LabelQueueEventsSubscription"]["Properties"]
    assert subscription["TopicArn"] == topic
    assert subscription["Endpoint"] == {"Fn::GetAtt": ["LabelQueue", "Arn"]}
    assert subscription["RawMessageDelivery"] is True
    assert subscription["FilterPolicy"] == {"type": ["photo.uploaded"]}
    assert subscription["FilterPolicyScope"] == "MessageAttributes"
    policy = resources["LabelQueuePolicy"]["Properties"]
    assert policy["Queues"] == [{"Ref": "LabelQueue"}]
    (statement,) = policy["PolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Service": "sns.amazonaws.com"}
    assert statement["Action"] == "sqs:SendMessage"
    assert statement["Condition"] == {"ArnEquals": {"aws:SourceArn": topic}}
    for role in ("InstanceRole", "LabelFunctionRole"):
        document = resources[role]["Properties"]["Policies"][0]["PolicyDocument"]
        publishing = [s for s in iam_statements(document) if "sns" in json.dumps(s["Action"])]
        assert [(s["Action"], s["Resource"]) for s in publishing] == [("sns:Publish", topic)]
    variables = resources["LabelFunction"]["Properties"]["Environment"]["Variables"]
    assert variables["EVENTS_TOPIC_ARN"] == topic  # the Lambda publishes photo.labelled


def test_instances_require_imdsv2(template):
    data = template["Resources"]["LaunchTemplate"]["Properties"]["LaunchTemplateData"]
    assert data["MetadataOptions"]["HttpTokens"] == "required"
    assert data["MetadataOptions"]["HttpPutResponseHopLimit"] in (1, 2)


def user_data_script(template) -> str:
    """The launch template's user-data with every ${...} replaced by a sample value."""
    sub = template["Resources"]["LaunchTemplate"]["Properties"]["LaunchTemplateData"]["UserData"]
    text = sub["Fn::Base64"]["Fn::Sub"][0]
    samples = {
        "BundleUri": "s3://releases/photos-1.zip",
        "AWS::StackName": "photos",
        "AWS::Region": "us-east-1",
        "Role": "web,worker",
    }
    return re.sub(
        r"\$\{([^}!]+)\}", lambda m: samples.get(m.group(1), f"arn:aws:x:{m.group(1)}"), text
    )


def _resolve(node, prefix):
    """A bucket property with HasS3Prefix, S3Prefix, DomainName and NoValue resolved."""
    if isinstance(node, list):
        return [_resolve(item, prefix) for item in node]
    if not isinstance(node, dict):
        return node
    if "Fn::If" in node:
        condition, yes, no = node["Fn::If"]
        assert condition == "HasS3Prefix"
        return _resolve(yes if prefix else no, prefix)
    if "Fn::Sub" in node:
        return node["Fn::Sub"].replace("${S3Prefix}", prefix).replace("${DomainName}", DOMAIN)
    if node == {"Ref": "AWS::NoValue"}:
        return None
    return {k: v for k, v in ((k, _resolve(v, prefix)) for k, v in node.items()) if v is not None}


# CloudFormation spells two CORS keys differently from the S3 API.
_CORS_NAMES = {"ExposedHeaders": "ExposeHeaders", "MaxAge": "MaxAgeSeconds"}


@pytest.mark.parametrize("prefix", ["", "photos"])
def test_bucket_rules_are_the_ones_configure_bucket_sets(template, prefix):
    bucket = _resolve(template["Resources"]["PhotosBucket"]["Properties"], prefix)
    block = bucket["PublicAccessBlockConfiguration"]
    assert block == dict.fromkeys(
        ["BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"], True
    )
    assert bucket["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    (encryption,) = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    wanted = configure_bucket.encryption_rules(None)["Rules"][0]
    assert (
        encryption["ServerSideEncryptionByDefault"] == wanted["ApplyServerSideEncryptionByDefault"]
    )
    assert encryption["BucketKeyEnabled"] is wanted["BucketKeyEnabled"]
    cors = [
        {_CORS_NAMES.get(k, k): v for k, v in rule.items()}
        for rule in bucket["CorsConfiguration"]["CorsRules"]
    ]
    assert cors == configure_bucket.cors_rules(f"https://{DOMAIN}")["CORSRules"]
    api_prefix = f"{prefix}/" if prefix else ""
    wanted_rules = configure_bucket.lifecycle_rules(api_prefix)["Rules"]
    assert _lifecycle(bucket["LifecycleConfiguration"]["Rules"]) == _lifecycle(wanted_rules)


def _lifecycle(rules):
    """Lifecycle rules, CloudFormation's or the S3 API's, reduced to what they do."""
    return sorted(
        (
            r.get("ID", r.get("Id")),
            r.get("Status"),
            r.get("Filter", {}).get("Prefix", r.get("Prefix", "")),
            r.get("Expiration", {}).get("Days", r.get("ExpirationInDays")),
            r.get("AbortIncompleteMultipartUpload", {}).get("DaysAfterInitiation"),
        )
        for r in rules
    )


def test_user_data_bootstrap_is_shellcheck_clean(template, tmp_path):
    shellcheck = shutil.which("shellcheck")
    if not shellcheck:
        missing("shellcheck", "apt-get install shellcheck")
    script = tmp_path / "bootstrap.sh"
    script.write_text(user_data_script(template))
    text = script.read_text()
    assert text.startswith("#!/bin/bash\n") and "set -Eeuo pipefail" in text
    names = "BUNDLE_URI SETTINGS_PATH DB_SECRET_ID APP_DB_SECRET_ID APP_SECRETS_ID AWS_REGION"
    for name in [*names.split(), "PHOTOS_ROLE", "CFN_STACK", "CFN_RESOURCE"]:
        assert f"export {name}=" in text
    assert "export CFN_RESOURCE='WebServerGroup'" in text  # the ASG's logical id
    assert "trap signal_failure ERR" in text and "cfn-signal -e 1" in text
    check = subprocess.run(
        [shellcheck, "--shell=bash", str(script)], capture_output=True, text=True
    )
    assert check.returncode == 0, check.stdout + check.stderr


# ------------------------------------------------------------------ deployed into moto


def deploy(server, name, **parameters):
    """Create the moto variant as stack ``name``; its outputs and the removed logical ids."""
    variant, removed = moto_variant(load_template())
    s3 = server.client_for("s3")
    s3.create_bucket(Bucket=f"{name}-releases")
    s3.put_object(Bucket=f"{name}-releases", Key="r/photos-1.zip", Body=b"bundle")
    cert = server.client_for("acm").request_certificate(DomainName=DOMAIN)["CertificateArn"]
    values = {
        "BundleUri": f"s3://{name}-releases/r/photos-1.zip",
        "CertificateArn": cert,
        "DomainName": DOMAIN,
        "CognitoDomainPrefix": f"{name}-photos",
    } | parameters
    cfn = server.client_for("cloudformation")
    cfn.create_stack(
        StackName=name,
        TemplateBody=json.dumps(variant),
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in values.items()],
        Capabilities=["CAPABILITY_IAM"],
    )
    stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE", stack
    physical = {
        r["LogicalResourceId"]: r["PhysicalResourceId"]
        for r in cfn.list_stack_resources(StackName=name)["StackResourceSummaries"]
    }
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
    return outputs, physical, values, removed


@pytest.fixture(scope="module")
def stack(sqs_server):
    """The stack with its defaults: a new VPC, the label worker on the instances."""
    return deploy(sqs_server, "photos")


def test_moto_still_lacks_the_types_the_variant_removes(stack):
    from moto.cloudformation.parsing import get_model_map

    assert not UNSUPPORTED_TYPES & set(get_model_map())
    removed = stack[3]
    assert removed == sorted([
        "AppDatabaseSecret", "AppSecrets", "DatabaseCpuAlarm", "DatabaseStorageAlarm",
        "DeadLetterAlarm", "ErrorRateAlarm", "LabelQueueEventsSubscription", "LabelQueuePolicy",
        "LoginWithAmazonProvider", "PhotosBucketPolicy", "RequestsScalingPolicy",
        "UnhealthyHostsAlarm", "UserPool", "UserPoolClient", "UserPoolDomain",
    ])  # fmt: skip


def test_deployed_stack_has_every_output(stack):
    outputs = stack[0]
    assert set(outputs) >= OUTPUTS
    assert outputs["SiteUrl"] == f"https://{DOMAIN}/"
    assert outputs["SettingsPath"] == "/photos/"


def test_deployed_bucket_is_encrypted(stack, sqs_server):
    # moto's CloudFormation applies only BucketEncryption and Tags of an AWS::S3::Bucket; the
    # public access block, ownership, CORS and lifecycle rules are checked on the template.
    s3 = sqs_server.client_for("s3")
    config = s3.get_bucket_encryption(Bucket=stack[0]["BucketName"])
    rules = config["ServerSideEncryptionConfiguration"]["Rules"]
    assert rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"


def test_deployed_queue_redrives_to_the_dead_letter_queue(stack, sqs_server):
    sqs = sqs_server.client_for("sqs")
    outputs = stack[0]
    attrs = sqs.get_queue_attributes(QueueUrl=outputs["QueueUrl"], AttributeNames=["All"])[
        "Attributes"
    ]
    dlq = sqs.get_queue_attributes(
        QueueUrl=outputs["DeadLetterQueueUrl"], AttributeNames=["QueueArn"]
    )
    redrive = json.loads(attrs["RedrivePolicy"])
    assert redrive["deadLetterTargetArn"] == dlq["Attributes"]["QueueArn"]
    assert int(redrive["maxReceiveCount"]) == 5
    assert int(attrs["VisibilityTimeout"]) >= 120
    assert attrs["SqsManagedSseEnabled"] == "true"


def test_deployed_events_topic_is_encrypted(stack, sqs_server):
    sns = sqs_server.client_for("sns")
    attributes = sns.get_topic_attributes(TopicArn=stack[0]["EventsTopicArn"])["Attributes"]
    assert attributes["KmsMasterKeyId"] == "alias/aws/sns"


def test_deployed_security_groups_are_chained(stack, sqs_server):
    physical = stack[1]
    ec2 = sqs_server.client_for("ec2")

    def sources(logical_id):
        group = ec2.describe_security_groups(GroupIds=[physical[logical_id]])["SecurityGroups"][0]
        return {
            (perm["FromPort"], pair["GroupId"])
            for perm in group["IpPermissions"]
            for pair in perm["UserIdGroupPairs"]
        }

    assert sources("WebSecurityGroup") == {(80, physical["LoadBalancerSecurityGroup"])}
    assert sources("DatabaseSecurityGroup") == {(3306, physical["WebSecurityGroup"])}


def test_deployed_launch_template_boots_the_bundle_with_imdsv2(stack, sqs_server):
    outputs, physical, values, _ = stack
    ec2 = sqs_server.client_for("ec2")
    version = ec2.describe_launch_template_versions(LaunchTemplateId=physical["LaunchTemplate"])
    data = version["LaunchTemplateVersions"][0]["LaunchTemplateData"]
    user_data = base64.b64decode(data["UserData"]).decode()
    assert f"export BUNDLE_URI='{values['BundleUri']}'\n" in user_data
    assert f"export SETTINGS_PATH='{outputs['SettingsPath']}'\n" in user_data
    assert "export PHOTOS_ROLE='web,worker'\n" in user_data
    assert "export CFN_STACK='photos'\n" in user_data
    assert data["MetadataOptions"]["HttpTokens"] == "required"
    assert data["SecurityGroupIds"] == [physical["WebSecurityGroup"]]


def test_deployed_group_spans_both_private_subnets_behind_the_target_group(stack, sqs_server):
    physical = stack[1]
    group = sqs_server.client_for("autoscaling").describe_auto_scaling_groups(
        AutoScalingGroupNames=[physical["WebServerGroup"]]
    )["AutoScalingGroups"][0]
    subnets = set(group["VPCZoneIdentifier"].split(","))
    assert subnets == {physical["PrivateSubnet1"], physical["PrivateSubnet2"]}
    assert group["TargetGroupARNs"] == [physical["TargetGroup"]]
    assert group["HealthCheckType"] == "ELB"
    elb = sqs_server.client_for("elbv2")
    target_group = elb.describe_target_groups(TargetGroupArns=[physical["TargetGroup"]])
    assert target_group["TargetGroups"][0]["HealthCheckPath"] == "/ready"


def test_deployed_settings_are_under_the_stack_path(stack, sqs_server):
    outputs = stack[0]
    ssm = sqs_server.client_for("ssm")
    pages = ssm.get_paginator("get_parameters_by_path").paginate(Path=outputs["SettingsPath"])
    found = {p["Name"].rsplit("/", 1)[1]: p["Value"] for page in pages for p in page["Parameters"]}
    assert set(found) == SETTINGS
    assert found["BASE_URL"] == f"https://{DOMAIN}"
    assert found["PHOTOS_BUCKET"] == outputs["BucketName"]
    assert found["SQS_QUEUE_URL"] == outputs["QueueUrl"]
    assert found["EVENTS_TOPIC_ARN"] == outputs["EventsTopicArn"]
    assert found["LABEL_JOBS_FROM_EVENTS"] == "true"
    assert found["DATABASE_HOST"] == outputs["DatabaseEndpoint"]
    assert (found["STORAGE"], found["LABELER"], found["LABEL_QUEUE"]) == (
        "s3",
        "rekognition",
        "sqs",
    )


def test_lambda_worker_variant_with_a_prefix_deploys_and_is_wired(sqs_server):
    zone = sqs_server.client_for("route53").create_hosted_zone(Name=DOMAIN, CallerReference="t")
    outputs, physical, _, _ = deploy(
        sqs_server,
        "photoslambda",
        LabelWorker="lambda",
        LambdaCodeKey="r/photos-1.zip",
        S3Prefix="photos",
        AlarmEmail="ops@example.com",
        HostedZoneId=zone["HostedZone"]["Id"].rsplit("/", 1)[1],
    )
    function = sqs_server.client_for("lambda").get_function(FunctionName=physical["LabelFunction"])
    config = function["Configuration"]
    assert (config["Runtime"], config["Handler"]) == ("python3.11", "lambda_function.handler")
    assert set(config["VpcConfig"]["SubnetIds"]) == {
        physical["PrivateSubnet1"],
        physical["PrivateSubnet2"],
    }
    mapping = sqs_server.client_for("lambda").get_event_source_mapping(
        UUID=physical["LabelFunctionQueue"]
    )
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    sqs = sqs_server.client_for("sqs")
    queue_arn = sqs.get_queue_attributes(QueueUrl=outputs["QueueUrl"], AttributeNames=["QueueArn"])
    assert mapping["EventSourceArn"] == queue_arn["Attributes"]["QueueArn"]
    ec2 = sqs_server.client_for("ec2")
    version = ec2.describe_launch_template_versions(LaunchTemplateId=physical["LaunchTemplate"])
    user_data = base64.b64decode(
        version["LaunchTemplateVersions"][0]["LaunchTemplateData"]["UserData"]
    )
    assert b"export PHOTOS_ROLE='web'\n" in user_data
