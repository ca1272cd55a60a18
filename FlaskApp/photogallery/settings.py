"""Settings: read once in the app factory from the environment, an optional app.ini, and overrides.

Every value is taken literally (no ``%`` interpolation), so passwords with ``%o``, ``$``, ``#``,
``;`` or quotes survive. Problems are collected and reported together, each naming its setting.
"""

from __future__ import annotations

import configparser
import ipaddress
import os
import re
import secrets
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import click
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

APP_DIR = Path(__file__).resolve().parent.parent  # FlaskApp/
INI_SECTION = "photos"


class ConfigError(click.ClickException):
    """One or more settings are missing or invalid (a ClickException: the CLI prints it cleanly)."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"The app cannot start; fix these settings:\n{lines}")


@dataclass(frozen=True)
class CognitoSettings:
    """The Cognito app client and where its user pool answers (AUTH includes cognito)."""

    issuer: str
    client_id: str
    client_secret: str = ""
    domain: str = ""
    identity_provider: str = ""
    pool_id: str = ""


@dataclass(frozen=True)
class Settings:
    """Every setting the app uses, validated."""

    secret_key: str
    database_url: str
    storage: str = "local"
    photos_dir: str = ""
    photos_bucket: str = ""
    s3_prefix: str = ""
    s3_endpoint_url: str | None = None
    s3_sse: str = "AES256"
    s3_kms_key_id: str | None = None
    aws_region: str | None = None
    url_expires: int = 3600
    direct_upload: bool = False
    labeler: str = "onnx"
    label_min_confidence: float = 55.0
    label_max_labels: int = 10
    label_queue: str = "inline"
    sqs_queue_url: str = ""
    sqs_endpoint_url: str | None = None
    # Photo events on SNS (issue 13): the topic, a test endpoint, and labels fed by the topic.
    events_topic_arn: str | None = None
    sns_endpoint_url: str | None = None
    label_jobs_from_events: bool = False
    auth: frozenset[str] = frozenset({"local"})
    allow_signup: bool = True
    sign_in_max_failures: int = 5
    sign_in_max_failures_per_address: int = 20
    sign_in_max_failures_per_account: int = 100
    sign_in_lock_minutes: int = 15
    cognito: CognitoSettings | None = None
    base_url: str | None = None
    proxy_count: int = 0
    max_upload_mb: int = 50
    max_image_megapixels: int = 150
    max_image_frames: int = 1000
    max_image_metadata_kb: int = 1024
    decode_budget_megapixels: int = 100
    page_size: int = 48
    log_level: str = "INFO"
    drain_file: str | None = None
    # Logs and metrics (issue 13): see _observability.
    log_format: str = "text"
    metrics: frozenset[str] = frozenset({"prometheus"})
    metrics_allow: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    metrics_token: str = ""
    metrics_namespace: str = "PhotoGallery"
    testing: bool = False
    # Tracing (X-Ray through OpenTelemetry): observability/tracing.py.
    tracing: str = "none"
    otel_endpoint: str = "http://127.0.0.1:4318"
    otel_service_name: str = ""


def load_settings(
    environ: Mapping[str, str], overrides: Mapping[str, object] | None, instance_path: str
) -> Settings:
    """Merge environment, app.ini and overrides; raise ConfigError naming every bad setting."""
    raw = _read_sources(environ, overrides)
    reader = _Reader(raw)
    settings = _build(reader, instance_path)
    if reader.problems:
        raise ConfigError(reader.problems)
    return settings


def _read_sources(environ: Mapping[str, str], overrides: Mapping[str, object] | None) -> dict:
    raw: dict[str, object] = {}
    ini_path = (overrides or {}).get("PHOTOS_CONFIG") or environ.get("PHOTOS_CONFIG")
    default_ini = APP_DIR / "app.ini"
    if ini_path or default_ini.exists():
        raw.update(_read_ini(Path(str(ini_path or default_ini)), explicit=bool(ini_path)))
    raw.update({k: v for k, v in environ.items() if k.isupper()})
    raw.update(overrides or {})
    return raw


def _read_ini(path: Path, *, explicit: bool) -> dict[str, str]:
    """Read ``[photos]`` of an ini file, with ``%`` taken literally."""
    if not path.is_file():
        if explicit:
            raise ConfigError([f"PHOTOS_CONFIG: no file at {path}"])
        return {}
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str.upper  # keys read like the environment variables
    try:
        parser.read(path, encoding="utf-8")
    except configparser.Error as exc:
        raise ConfigError([f"PHOTOS_CONFIG: {path} is not a valid ini file ({exc})"]) from exc
    if not parser.has_section(INI_SECTION):
        raise ConfigError([f"PHOTOS_CONFIG: {path} has no [{INI_SECTION}] section"])
    return dict(parser.items(INI_SECTION))


class _Reader:
    """Typed access to raw values that records problems instead of raising at the first one."""

    def __init__(self, raw: Mapping[str, object]) -> None:
        self.raw = raw
        self.problems: list[str] = []

    def str(self, name: str, default: str = "") -> str:
        value = self.raw.get(name)
        return default if value is None or str(value).strip() == "" else str(value)

    def choice(self, name: str, choices: tuple[str, ...], default: str) -> str:
        value = self.str(name, default).strip().lower()
        if value not in choices:
            self.problems.append(f"{name}: must be one of {', '.join(choices)}; got {value!r}")
        return value

    def int(self, name: str, default: int, low: int, high: int) -> int:
        text = self.str(name, str(default)).strip()
        try:
            value = int(text)
        except ValueError:
            self.problems.append(f"{name}: must be a whole number; got {text!r}")
            return default
        if not low <= value <= high:
            self.problems.append(f"{name}: must be between {low} and {high}; got {value}")
        return value

    def float(self, name: str, default: float, low: float, high: float) -> float:
        text = self.str(name, str(default)).strip()
        try:
            value = float(text)
        except ValueError:
            self.problems.append(f"{name}: must be a number; got {text!r}")
            return default
        if not low <= value <= high:
            self.problems.append(f"{name}: must be between {low} and {high}; got {value}")
        return value

    def bool(self, name: str, default: bool) -> bool:
        value = self.raw.get(name)
        if isinstance(value, bool):
            return value
        text = self.str(name, "true" if default else "false").strip().lower()
        if text in ("1", "true", "yes", "on"):
            return True
        if text in ("0", "false", "no", "off"):
            return False
        self.problems.append(f"{name}: must be true or false; got {text!r}")
        return default

    def require(self, name: str, why: str) -> str:
        value = self.str(name).strip()
        if not value:
            self.problems.append(f"{name}: required {why}")
        return value


def _build(r: _Reader, instance_path: str) -> Settings:
    database_url, embedded_db = _database_url(r, instance_path)
    auth = _auth_modes(r)
    fields = {
        **_storage(r, instance_path),
        **_labels(r),
        **_serving(r),
        **_sign_in(r),
        **_tracing(r),
        **_observability(r),
    }
    fields.update(_events(r, fields["label_queue"]))
    region = _aws_region(r, fields, auth)
    return Settings(
        secret_key=_secret_key(r, instance_path, embedded_db),
        database_url=database_url,
        aws_region=region,
        auth=auth,
        allow_signup=r.bool("ALLOW_SIGNUP", True),
        cognito=_cognito(r, region) if "cognito" in auth else None,
        testing=r.bool("TESTING", False),
        **fields,
    )


def _storage(r: _Reader, instance_path: str) -> dict[str, object]:
    storage = r.choice("STORAGE", ("local", "s3"), "local")
    return {
        "storage": storage,
        "photos_dir": r.str("PHOTOS_DIR", os.path.join(instance_path, "photos")),
        "photos_bucket": r.require("PHOTOS_BUCKET", "when STORAGE=s3") if storage == "s3" else "",
        "s3_prefix": r.str("S3_PREFIX").strip("/"),
        "s3_endpoint_url": r.str("S3_ENDPOINT_URL") or None,
        "s3_sse": _sse(r),
        "s3_kms_key_id": r.str("S3_KMS_KEY_ID") or None,
        "url_expires": r.int("URL_EXPIRES", 3600, 60, 7 * 24 * 3600),
        "direct_upload": _direct_upload(r, storage),
    }


def _labels(r: _Reader) -> dict[str, object]:
    labeler = r.choice("LABELER", ("onnx", "rekognition", "none"), "onnx")
    label_queue = r.choice("LABEL_QUEUE", ("inline", "sqs"), "inline")
    sqs = label_queue == "sqs"
    return {
        "labeler": labeler,
        # The offline model spreads belief over look-alike classes: right answers land at 30-60%.
        "label_min_confidence": r.float(
            "LABEL_MIN_CONFIDENCE", 30.0 if labeler == "onnx" else 55.0, 0.0, 100.0
        ),
        "label_max_labels": r.int("LABEL_MAX_LABELS", 10, 1, 1000),
        "label_queue": label_queue,
        "sqs_queue_url": r.require("SQS_QUEUE_URL", "when LABEL_QUEUE=sqs") if sqs else "",
        "sqs_endpoint_url": r.str("SQS_ENDPOINT_URL") or None,
    }


# A standard topic (FIFO topics cannot deliver to the standard label queue).
_SNS_TOPIC_ARN = re.compile(
    r"arn:aws(-cn|-us-gov|-iso[a-z]*)?:sns:[a-z]{2}(-[a-z]+)+-[0-9]:[0-9]{12}:[A-Za-z0-9_-]{1,256}"
)


def _events(r: _Reader, label_queue: str) -> dict[str, object]:
    """Photo events on SNS (issue 13); the SNS client takes its region from the topic's ARN."""
    topic = r.str("EVENTS_TOPIC_ARN").strip()
    if topic and not _SNS_TOPIC_ARN.fullmatch(topic):
        r.problems.append(
            "EVENTS_TOPIC_ARN: must be a standard SNS topic ARN "
            f"(arn:aws:sns:REGION:ACCOUNT_ID:NAME); got {topic!r}"
        )
    from_events = r.bool("LABEL_JOBS_FROM_EVENTS", False)
    if from_events and not (topic and label_queue == "sqs"):
        r.problems.append(
            "LABEL_JOBS_FROM_EVENTS: needs EVENTS_TOPIC_ARN and LABEL_QUEUE=sqs (the label "
            "queue subscribes to the topic)"
        )
    return {
        "events_topic_arn": topic or None,
        "sns_endpoint_url": r.str("SNS_ENDPOINT_URL") or None,
        "label_jobs_from_events": from_events,
    }


def _serving(r: _Reader) -> dict[str, object]:
    return {
        "base_url": r.str("BASE_URL").rstrip("/") or None,
        "proxy_count": r.int("PROXY_COUNT", 0, 0, 5),
        "max_upload_mb": r.int("MAX_UPLOAD_MB", 50, 1, 5000),
        "max_image_megapixels": r.int("MAX_IMAGE_MEGAPIXELS", 150, 1, 1000),
        "max_image_frames": r.int("MAX_IMAGE_FRAMES", 1000, 1, 100_000),
        "max_image_metadata_kb": r.int("MAX_IMAGE_METADATA_KB", 1024, 64, 1024 * 1024),
        # Pixels decoded at once per process; see "Photos that cost too much" in the README.
        "decode_budget_megapixels": r.int("DECODE_BUDGET_MEGAPIXELS", 100, 10, 100_000),
        "page_size": r.int("PAGE_SIZE", 48, 1, 500),
        "log_level": r.choice("LOG_LEVEL", ("debug", "info", "warning", "error"), "info").upper(),
        "drain_file": r.str("DRAIN_FILE").strip() or None,
    }


def _sign_in(r: _Reader) -> dict[str, object]:
    """The sign-in throttle (services/auth/sign_in_throttle.py says why these numbers)."""
    return {
        "sign_in_max_failures": r.int("SIGN_IN_MAX_FAILURES", 5, 1, 1000),
        "sign_in_max_failures_per_address": r.int(
            "SIGN_IN_MAX_FAILURES_PER_ADDRESS", 20, 1, 1_000_000
        ),
        "sign_in_max_failures_per_account": r.int(
            "SIGN_IN_MAX_FAILURES_PER_ACCOUNT", 100, 1, 1_000_000
        ),
        "sign_in_lock_minutes": r.int("SIGN_IN_LOCK_MINUTES", 15, 1, 24 * 60),
    }


# Tracing (X-Ray through OpenTelemetry): observability/tracing.py. Read here too, not only by
# the SDK from the environment, so app.ini (what user-data writes on EC2) can set them.
def _tracing(r: _Reader) -> dict[str, object]:
    tracing = r.choice("TRACING", ("none", "otlp"), "none")
    endpoint = r.str("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318").strip()
    if tracing == "otlp" and not endpoint.startswith(("http://", "https://")):
        r.problems.append(
            "OTEL_EXPORTER_OTLP_ENDPOINT: must be the collector's http:// or https:// address "
            f"(OTLP over HTTP, e.g. http://127.0.0.1:4318); got {endpoint!r}"
        )
    return {
        "tracing": tracing,
        "otel_endpoint": endpoint,
        "otel_service_name": r.str("OTEL_SERVICE_NAME").strip(),
    }


# --- Logs and metrics (issue 13) ---
METRICS_SINKS = ("emf", "prometheus")


def _observability(r: _Reader) -> dict[str, object]:
    """LOG_FORMAT, METRICS and who may read /metrics (photogallery/observability/)."""
    log_format = r.choice("LOG_FORMAT", ("auto", "json", "text"), "auto")
    if log_format == "auto":  # people read a terminal; log shippers read JSON
        log_format = "text" if sys.stderr.isatty() else "json"
    token = r.str("METRICS_TOKEN").strip()
    if token and len(token) < 16:
        r.problems.append("METRICS_TOKEN: too short (under 16 characters); use 32 random ones")
    return {
        "log_format": log_format,
        "metrics": _metrics_sinks(r),
        "metrics_allow": _networks(r, "METRICS_ALLOW", "127.0.0.0/8,::1"),
        "metrics_token": token,
        "metrics_namespace": r.str("METRICS_NAMESPACE", "PhotoGallery").strip(),
    }


def _metrics_sinks(r: _Reader) -> frozenset[str]:
    names = {n.strip().lower() for n in r.str("METRICS", "prometheus").split(",") if n.strip()}
    if names == {"none"}:
        return frozenset()
    if not names or names - set(METRICS_SINKS):
        r.problems.append(f"METRICS: must be none, emf, prometheus or emf,prometheus; got {names}")
        return frozenset()
    return frozenset(names)


def _networks(r: _Reader, name: str, default: str) -> tuple:
    """Comma-separated addresses or CIDR networks (``10.0.0.0/8,::1``), or none."""
    text = r.str(name, default).strip()
    if text.lower() == "none":  # the token alone opens it
        return ()
    networks = []
    for part in (p.strip() for p in text.split(",") if p.strip()):
        try:
            networks.append(ipaddress.ip_network(part, strict=False))
        except ValueError:
            r.problems.append(f"{name}: {part!r} is not an address or network like 10.0.0.0/8")
    return tuple(networks)


def _aws_region(r: _Reader, fields: dict[str, object], auth: frozenset[str]) -> str | None:
    """The one check that every AWS service in use has a region (never botocore's
    NoRegionError mid-request)."""
    region = r.str("AWS_REGION") or r.str("AWS_DEFAULT_REGION") or None
    needs_region = [
        name
        for name, used in (
            ("STORAGE=s3", fields["storage"] == "s3"),
            ("LABELER=rekognition", fields["labeler"] == "rekognition"),
            ("LABEL_QUEUE=sqs", fields["label_queue"] == "sqs"),
            ("AUTH=cognito", "cognito" in auth and not r.str("COGNITO_ISSUER")),
        )
        if used
    ]
    if needs_region and not region:
        r.problems.append(
            f"AWS_REGION: required by {', '.join(needs_region)} (e.g. us-west-2); "
            "AWS_DEFAULT_REGION is read too"
        )
    return region


def _database_url(r: _Reader, instance_path: str) -> tuple[str, bool]:
    """DATABASE_URL wins; else the course's DATABASE_* parts; else a SQLite file."""
    if url := r.str("DATABASE_URL").strip():
        try:
            make_url(url)
        except ArgumentError:
            r.problems.append("DATABASE_URL: not a valid SQLAlchemy URL (e.g. sqlite:///photos.db)")
        return url, url.startswith("sqlite")
    if host := r.str("DATABASE_HOST").strip():
        user = r.require("DATABASE_USER", "when DATABASE_HOST is set")
        name = r.require("DATABASE_DB_NAME", "when DATABASE_HOST is set")
        # URL.create quotes every part, so any character in the password is safe.
        url = URL.create(
            "mysql+mysqlconnector",
            username=user,
            password=r.str("DATABASE_PASSWORD") or None,
            host=host,
            port=r.int("DATABASE_PORT", 3306, 1, 65535),
            database=name,
            query={"charset": "utf8mb4"},
        )
        return url.render_as_string(hide_password=False), False
    return "sqlite:///" + os.path.join(instance_path, "photos.db"), True


def _secret_key(r: _Reader, instance_path: str, embedded_db: bool) -> str:
    if secret := r.str("FLASK_SECRET"):
        if len(secret) < 16:
            r.problems.append(
                "FLASK_SECRET: too short (under 16 characters); use 32 or more random characters"
            )
        return secret
    if not embedded_db:
        r.problems.append(
            "FLASK_SECRET: required with a shared database, so every instance signs sessions "
            'alike (e.g. python3 -c "import secrets; print(secrets.token_urlsafe(48))")'
        )
        return ""
    return _local_secret(instance_path)


def _local_secret(instance_path: str) -> str:
    """A laptop gets a random secret kept in the instance folder, stable across restarts."""
    path = Path(instance_path) / "secret_key"
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(secret)
    return secret


def _auth_modes(r: _Reader) -> frozenset[str]:
    modes = {m.strip().lower() for m in r.str("AUTH", "local").split(",") if m.strip()}
    unknown = modes - {"local", "cognito"}
    if unknown or not modes:
        r.problems.append(f"AUTH: must be local, cognito or both (local,cognito); got {modes}")
        return frozenset({"local"})
    return frozenset(modes)


def _sse(r: _Reader) -> str:
    value = r.str("S3_SSE", "AES256").strip()
    if value.lower() == "none":
        return ""
    if value not in ("AES256", "aws:kms"):
        r.problems.append(f"S3_SSE: must be AES256, aws:kms or none; got {value!r}")
    return value


def _direct_upload(r: _Reader, storage: str) -> bool:
    """Browsers send photos straight to S3 (presigned POST); needs the bucket's CORS rule."""
    wanted = r.bool("DIRECT_UPLOAD", False)
    if wanted and storage != "s3":
        r.problems.append("DIRECT_UPLOAD: needs STORAGE=s3 (browsers upload straight to S3)")
    return wanted and storage == "s3"


def _cognito(r: _Reader, region: str | None) -> CognitoSettings:
    why = "when AUTH includes cognito"
    pool_id = r.str("COGNITO_POOL_ID").strip()
    issuer = r.str("COGNITO_ISSUER").strip().rstrip("/")
    if not issuer:
        pool_id = r.require("COGNITO_POOL_ID", why + " (or set COGNITO_ISSUER)")
        if pool_id and region:
            issuer = f"https://cognito-idp.{region}.amazonaws.com/{pool_id}"
    return CognitoSettings(
        pool_id=pool_id,
        issuer=issuer,
        client_id=r.require("COGNITO_CLIENT_ID", why),
        client_secret=r.str("COGNITO_CLIENT_SECRET"),
        domain=r.str("COGNITO_DOMAIN").strip().rstrip("/"),
        identity_provider=r.str("COGNITO_IDENTITY_PROVIDER").strip(),
    )
