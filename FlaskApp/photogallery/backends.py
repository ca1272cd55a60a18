"""The one place that builds the backends (storage, labeler, queue, database engine, Cognito
client) from settings, once per process. Free of Flask: services import ``Backends`` from here."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from .data.db import make_engine
from .decode_budget import DecodeBudget
from .events.base import EventPublisher
from .events.local import NoEvents
from .labelers.base import Labeler
from .queue.base import LabelQueue
from .settings import Settings
from .storage.base import Store

if TYPE_CHECKING:
    from .services.auth.cognito_client import CognitoClient

log = logging.getLogger(__name__)


@dataclass
class Backends:
    """What the services work with; built from settings, shared by every request."""

    settings: Settings
    engine: Engine
    store: Store
    labeler: Labeler | None
    queue: LabelQueue
    decode_budget: DecodeBudget  # pixels decoded at once by this process's uploads
    cognito: CognitoClient | None = None  # the Cognito app client, when AUTH includes cognito
    events: EventPublisher = field(default_factory=NoEvents)  # photo events, when a topic is set


def build_store(settings: Settings) -> Store:
    if settings.storage == "s3":
        from .storage.s3 import S3Store  # boto3 only when S3 is used

        return S3Store(
            settings.photos_bucket,
            prefix=settings.s3_prefix,
            region=settings.aws_region or "",  # settings checked it is there
            endpoint_url=settings.s3_endpoint_url,
            url_expires=settings.url_expires,
            sse=settings.s3_sse,
            kms_key_id=settings.s3_kms_key_id,
        )
    from .storage.local import LocalStore

    return LocalStore(
        settings.photos_dir, secret=settings.secret_key, url_expires=settings.url_expires
    )


def build_labeler(settings: Settings) -> Labeler | None:
    if settings.labeler == "none":
        return None
    if settings.labeler == "rekognition":
        from .labelers.rekognition import RekognitionLabeler

        in_s3 = settings.storage == "s3" and not settings.s3_endpoint_url
        return RekognitionLabeler(
            region=settings.aws_region or "",
            min_confidence=settings.label_min_confidence,
            max_labels=settings.label_max_labels,
            # Rekognition reads S3 directly (no download) unless the bucket is not on AWS.
            s3_bucket=settings.photos_bucket if in_s3 else None,
            s3_prefix=settings.s3_prefix,
        )
    from .labelers.onnx import OnnxLabeler

    return OnnxLabeler(
        min_confidence=settings.label_min_confidence, max_labels=settings.label_max_labels
    )


def build_queue(settings: Settings) -> LabelQueue:
    """SQS, or an in-process queue whose handler the app factory binds (see context.py)."""
    if settings.label_queue == "sqs":
        from .queue.sqs import SqsQueue

        return SqsQueue(
            settings.sqs_queue_url,
            region=settings.aws_region or "",
            endpoint_url=settings.sqs_endpoint_url,
        )
    from .queue.inline import InlineQueue

    return InlineQueue()


def build_events(settings: Settings) -> EventPublisher:
    """SNS when EVENTS_TOPIC_ARN is set; otherwise nothing is published."""
    if settings.events_topic_arn is None:
        return NoEvents()
    from .events.sns import SnsPublisher

    return SnsPublisher(settings.events_topic_arn, endpoint_url=settings.sns_endpoint_url)


def build_cognito_client(settings: Settings) -> CognitoClient | None:
    if settings.cognito is None:
        return None
    from .services.auth.cognito_client import CognitoClient

    c = settings.cognito
    return CognitoClient(
        issuer=c.issuer,
        client_id=c.client_id,
        client_secret=c.client_secret,
        domain=c.domain,
        identity_provider=c.identity_provider,
    )


def build_backends(settings: Settings) -> Backends:
    return Backends(
        settings=settings,
        engine=make_engine(settings.database_url),
        store=build_store(settings),
        labeler=build_labeler(settings),
        queue=build_queue(settings),
        decode_budget=DecodeBudget(settings.decode_budget_megapixels * 10**6),
        cognito=build_cognito_client(settings),
        events=build_events(settings),
    )
