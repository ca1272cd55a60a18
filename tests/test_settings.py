"""Settings: every source, every character, and one clear message naming each bad setting."""

import logging

import pytest
from sqlalchemy.engine import make_url

from photogallery import create_app
from photogallery.settings import ConfigError, load_settings

NASTY = "p%o%%s$HOME#;=\"'&x"


def load(env=None, overrides=None, tmp_path="/tmp/instance"):
    return load_settings(env or {}, overrides, str(tmp_path))


def test_defaults_serve_a_laptop_without_aws(tmp_path):
    s = load(tmp_path=tmp_path)
    assert s.database_url.startswith("sqlite:///") and s.storage == "local"
    assert s.labeler == "onnx" and s.label_queue == "inline" and s.auth == {"local"}
    assert s.max_upload_mb == 50
    assert (tmp_path / "secret_key").exists() and load(tmp_path=tmp_path).secret_key == s.secret_key


def test_course_database_settings_build_a_mysql_url_with_any_password_character(tmp_path):
    env = {
        "DATABASE_HOST": "db.example.internal",
        "DATABASE_USER": "photos",
        "DATABASE_PASSWORD": NASTY,
        "DATABASE_DB_NAME": "photos",
        "FLASK_SECRET": "s" * 40,
    }
    url = make_url(load(env, tmp_path=tmp_path).database_url)
    assert url.drivername == "mysql+mysqlconnector"
    assert url.password == NASTY and url.host == "db.example.internal" and url.port == 3306


def test_ini_file_values_are_taken_literally(tmp_path):
    ini = tmp_path / "app.ini"
    ini.write_text(f"[photos]\nflask_secret = {NASTY}-long-enough-secret\nmax_upload_mb = 20\n")
    s = load({"PHOTOS_CONFIG": str(ini)}, tmp_path=tmp_path)
    assert s.secret_key == f"{NASTY}-long-enough-secret" and s.max_upload_mb == 20


def test_environment_overrides_ini_and_overrides_win(tmp_path):
    ini = tmp_path / "app.ini"
    ini.write_text("[photos]\nMAX_UPLOAD_MB = 20\nPAGE_SIZE = 10\n")
    s = load({"PHOTOS_CONFIG": str(ini), "MAX_UPLOAD_MB": "30"}, {"PAGE_SIZE": 5}, tmp_path)
    assert s.max_upload_mb == 30 and s.page_size == 5


def test_every_bad_setting_is_named_in_one_message(tmp_path):
    env = {"STORAGE": "s3", "MAX_UPLOAD_MB": "lots", "LABELER": "magic", "LABEL_QUEUE": "sqs"}
    with pytest.raises(ConfigError) as err:
        load(env, tmp_path=tmp_path)
    message = str(err.value)
    for name in ("PHOTOS_BUCKET", "AWS_REGION", "MAX_UPLOAD_MB", "LABELER", "SQS_QUEUE_URL"):
        assert name in message
    assert len(err.value.problems) == 5


def test_sign_in_throttle_settings_default_and_are_checked_by_name(tmp_path):
    s = load(tmp_path=tmp_path)
    assert (s.sign_in_max_failures, s.sign_in_max_failures_per_address) == (5, 20)
    assert (s.sign_in_max_failures_per_account, s.sign_in_lock_minutes) == (100, 15)
    env = {
        "SIGN_IN_MAX_FAILURES": "0",
        "SIGN_IN_MAX_FAILURES_PER_ADDRESS": "many",
        "SIGN_IN_MAX_FAILURES_PER_ACCOUNT": "-1",
        "SIGN_IN_LOCK_MINUTES": "1441",
    }
    with pytest.raises(ConfigError) as err:
        load(env, tmp_path=tmp_path)
    assert [p.split(":")[0] for p in err.value.problems] == list(env)


def test_shared_database_requires_flask_secret(tmp_path):
    env = {"DATABASE_URL": "mysql+mysqlconnector://u:p@db/photos"}
    with pytest.raises(ConfigError, match="FLASK_SECRET: required with a shared database"):
        load(env, tmp_path=tmp_path)


def test_a_short_flask_secret_is_refused_by_name(tmp_path):
    with pytest.raises(ConfigError, match="FLASK_SECRET: too short"):
        load({"FLASK_SECRET": "s" * 15}, tmp_path=tmp_path)
    assert load({"FLASK_SECRET": "s" * 16}, tmp_path=tmp_path).secret_key == "s" * 16


def test_rekognition_labels_require_aws_region(tmp_path):
    with pytest.raises(ConfigError, match="AWS_REGION: required by LABELER=rekognition"):
        load({"LABELER": "rekognition"}, tmp_path=tmp_path)
    env = {"LABELER": "rekognition", "AWS_REGION": "us-west-2"}
    assert load(env, tmp_path=tmp_path).aws_region == "us-west-2"


def test_aws_default_region_is_accepted(tmp_path):
    env = {"STORAGE": "s3", "PHOTOS_BUCKET": "b", "AWS_DEFAULT_REGION": "eu-west-1"}
    assert load(env, tmp_path=tmp_path).aws_region == "eu-west-1"


def test_cognito_issuer_is_derived_from_region_and_pool(tmp_path):
    env = {
        "AUTH": "local,cognito",
        "AWS_REGION": "us-west-2",
        "COGNITO_POOL_ID": "us-west-2_abc",
        "COGNITO_CLIENT_ID": "cid",
        "COGNITO_DOMAIN": "https://x.auth.us-west-2.amazoncognito.com",
    }
    s = load(env, tmp_path=tmp_path)
    assert s.auth == {"local", "cognito"}
    assert s.cognito.issuer == "https://cognito-idp.us-west-2.amazonaws.com/us-west-2_abc"


def test_missing_explicit_config_file_is_reported(tmp_path):
    with pytest.raises(ConfigError, match="PHOTOS_CONFIG: no file"):
        load({"PHOTOS_CONFIG": str(tmp_path / "nope.ini")}, tmp_path=tmp_path)


def test_create_app_refuses_to_start_on_bad_settings(tmp_path):
    with pytest.raises(ConfigError, match="PAGE_SIZE"):
        create_app({"PAGE_SIZE": "0", "DATABASE_URL": f"sqlite:///{tmp_path}/x.db"})


def test_direct_upload_needs_s3(tmp_path):
    with pytest.raises(ConfigError, match="DIRECT_UPLOAD: needs STORAGE=s3"):
        load({"DIRECT_UPLOAD": "true"}, tmp_path=tmp_path)
    s3 = {"STORAGE": "s3", "PHOTOS_BUCKET": "b", "AWS_REGION": "us-west-2", "DIRECT_UPLOAD": "1"}
    assert load(s3, tmp_path=tmp_path).direct_upload is True


@pytest.mark.parametrize(
    ("kind", "env"),
    [
        ("STORAGE=s3", {"STORAGE": "s3", "PHOTOS_BUCKET": "b"}),
        ("LABELER=rekognition", {"LABELER": "rekognition"}),
        ("LABEL_QUEUE=sqs", {"LABEL_QUEUE": "sqs", "SQS_QUEUE_URL": "http://q"}),
        ("AUTH=cognito", {"AUTH": "cognito", "COGNITO_POOL_ID": "p", "COGNITO_CLIENT_ID": "c"}),
    ],
)
def test_every_aws_service_in_use_needs_a_region_at_start_up(tmp_path, kind, env):
    with pytest.raises(ConfigError, match=f"AWS_REGION: required by {kind}"):
        load(env, tmp_path=tmp_path)
    assert load({**env, "AWS_DEFAULT_REGION": "eu-west-1"}, tmp_path=tmp_path).aws_region


@pytest.mark.parametrize("stack", ["sqlite"], indirect=True)
def test_log_lines_to_a_file_carry_no_colour_codes(make_app, caplog):
    make_app()  # stderr is not a terminal under pytest
    with caplog.at_level(logging.INFO, logger="werkzeug"):
        logging.getLogger("werkzeug").info("\x1b[33mPress CTRL+C\x1b[0m %s", "\x1b[1m200\x1b[0m")
    assert caplog.records[-1].getMessage() == "Press CTRL+C 200"


def test_image_limits_and_the_decode_budget_have_defaults_and_are_checked(tmp_path):
    s = load(tmp_path=tmp_path)
    assert (s.max_image_frames, s.max_image_metadata_kb, s.decode_budget_megapixels) == (
        1000,
        1024,
        100,
    )
    env = {
        "MAX_IMAGE_FRAMES": "0",
        "MAX_IMAGE_METADATA_KB": "lots",
        "DECODE_BUDGET_MEGAPIXELS": "-5",
    }
    with pytest.raises(ConfigError) as err:
        load(env, tmp_path=tmp_path)
    assert [p.split(":")[0] for p in err.value.problems] == [
        "MAX_IMAGE_FRAMES",
        "MAX_IMAGE_METADATA_KB",
        "DECODE_BUDGET_MEGAPIXELS",
    ]
