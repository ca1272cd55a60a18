"""SetupScripts/configure_bucket.py: the bucket rules are valid S3 requests (botocore's model)."""

import boto3
from botocore.stub import Stubber

from SetupScripts.configure_bucket import configure, cors_rules, lifecycle_rules


def test_configure_sends_private_encrypted_cors_and_lifecycle_rules():
    client = boto3.session.Session().client(
        "s3", region_name="us-west-2", aws_access_key_id="a", aws_secret_access_key="b"
    )
    with Stubber(client) as stub:
        stub.add_response("put_public_access_block", {})
        stub.add_response(
            "put_bucket_encryption",
            {},
            {
                "Bucket": "photos",
                "ServerSideEncryptionConfiguration": {
                    "Rules": [
                        {
                            "ApplyServerSideEncryptionByDefault": {
                                "SSEAlgorithm": "aws:kms",
                                "KMSMasterKeyID": "alias/photos",
                            },
                            "BucketKeyEnabled": True,
                        }
                    ]
                },
            },
        )
        stub.add_response(
            "put_bucket_cors",
            {},
            {"Bucket": "photos", "CORSConfiguration": cors_rules("https://photos.example.com")},
        )
        stub.add_response(
            "put_bucket_lifecycle_configuration",
            {},
            {"Bucket": "photos", "LifecycleConfiguration": lifecycle_rules("app/")},
        )

        configure(
            client,
            "photos",
            origin="https://photos.example.com/",
            prefix="/app/",
            kms_key_id="alias/photos",
        )

        stub.assert_no_pending_responses()


def test_cors_allows_only_the_site_to_post_and_lifecycle_expires_only_incoming():
    (cors,) = cors_rules("https://photos.example.com/")["CORSRules"]
    expire, abort = lifecycle_rules("app/")["Rules"]

    assert cors["AllowedOrigins"] == ["https://photos.example.com"]
    assert cors["AllowedMethods"] == ["POST"]
    assert expire["Filter"] == {"Prefix": "app/incoming/"} and expire["Expiration"] == {"Days": 1}
    assert abort["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 1}
