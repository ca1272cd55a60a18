"""RekognitionLabeler against botocore's Stubber with DetectLabels' documented response shapes."""

import pytest
from boto3.session import Session
from botocore.stub import Stubber

from photogallery.labelers.base import LabelerError
from photogallery.labelers.rekognition import RekognitionLabeler

# Shaped like the DetectLabels example in the Rekognition API reference (image properties off).
RESPONSE = {
    "Labels": [
        {
            "Name": "Cat",
            "Confidence": 97.4,
            "Instances": [
                {
                    "BoundingBox": {"Width": 0.5, "Height": 0.8, "Left": 0.2, "Top": 0.1},
                    "Confidence": 96.9,
                }
            ],
            "Parents": [{"Name": "Pet"}, {"Name": "Animal"}, {"Name": "Mammal"}],
            "Aliases": [{"Name": "Kitty"}],
            "Categories": [{"Name": "Animals and Pets"}],
        },
        {
            "Name": "Sofa",
            "Confidence": 71.0,
            "Instances": [],
            "Parents": [{"Name": "Furniture"}],
            "Aliases": [],
            "Categories": [{"Name": "Home and Indoors"}],
        },
    ],
    "LabelModelVersion": "3.0",
}


@pytest.fixture
def client():
    return Session(aws_access_key_id="x", aws_secret_access_key="y").client(
        "rekognition", region_name="us-west-2"
    )


def test_labels_keep_name_confidence_parents_and_model_version(client):
    labeler = RekognitionLabeler(region="us-west-2", client=client, min_confidence=60, max_labels=7)
    with Stubber(client) as stub:
        stub.add_response(
            "detect_labels",
            RESPONSE,
            {"Image": {"Bytes": b"jpeg"}, "MaxLabels": 7, "MinConfidence": 60},
        )
        result = labeler.detect_labels(b"jpeg", key="u1/abc/preview.jpg")
    assert result.model_version == "rekognition-3.0"
    assert [(lb.name, lb.confidence, lb.parents) for lb in result.labels] == [
        ("Cat", 97.4, ("Pet", "Animal", "Mammal")),
        ("Sofa", 71.0, ("Furniture",)),
    ]


def test_photos_in_s3_are_read_by_rekognition_directly(client):
    labeler = RekognitionLabeler(
        region="us-west-2", client=client, s3_bucket="photos", s3_prefix="prod"
    )
    assert labeler.needs_bytes is False
    with Stubber(client) as stub:
        expected = {
            "Image": {"S3Object": {"Bucket": "photos", "Name": "prod/u1/abc/preview.jpg"}},
            "MaxLabels": 10,
            "MinConfidence": 55.0,
        }
        stub.add_response("detect_labels", RESPONSE, expected)
        assert labeler.detect_labels(None, key="u1/abc/preview.jpg").labels[0].name == "Cat"


@pytest.mark.parametrize(
    ("code", "retryable", "words"),
    [
        ("InvalidImageFormatException", False, "cannot read this image format"),
        ("ImageTooLargeException", False, "larger than Rekognition accepts"),
        ("InvalidS3ObjectException", False, "could not read the photo from S3"),
        ("AccessDeniedException", False, "rekognition:DetectLabels"),
        (
            "ProvisionedThroughputExceededException",
            True,
            "Rekognition failed .ProvisionedThroughputExceededException.$",
        ),
        ("ThrottlingException", True, "Rekognition failed .ThrottlingException.$"),
        ("InternalServerError", True, "Rekognition failed .InternalServerError.$"),
    ],
)
def test_each_error_is_permanent_or_retryable_with_a_reason(client, code, retryable, words):
    labeler = RekognitionLabeler(region="us-west-2", client=client)
    with Stubber(client) as stub:
        stub.add_client_error("detect_labels", service_error_code=code, http_status_code=400)
        with pytest.raises(LabelerError, match=words) as err:
            labeler.detect_labels(b"jpeg")
    assert err.value.retryable is retryable


def test_images_over_five_megabytes_are_refused_before_calling(client):
    labeler = RekognitionLabeler(region="us-west-2", client=client)
    with pytest.raises(LabelerError, match="5 MB") as err:
        labeler.detect_labels(b"x" * (5 * 1024 * 1024 + 1))
    assert err.value.retryable is False


def test_unreachable_endpoint_is_retryable():
    from botocore.config import Config

    client = Session(aws_access_key_id="x", aws_secret_access_key="y").client(
        "rekognition",
        region_name="us-west-2",
        endpoint_url="http://127.0.0.1:9",
        config=Config(retries={"max_attempts": 1}, connect_timeout=1),
    )
    with pytest.raises(LabelerError, match="unreachable") as err:
        RekognitionLabeler(region="us-west-2", client=client).detect_labels(b"jpeg")
    assert err.value.retryable is True
