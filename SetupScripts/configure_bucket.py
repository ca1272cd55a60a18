"""Set up the photo bucket for STORAGE=s3: private, encrypted, tidy, and open to direct uploads.

    python3 SetupScripts/configure_bucket.py BUCKET --origin https://photos.example.com \\
        [--region us-west-2] [--prefix photos] [--kms-key-id alias/photos] [--endpoint-url URL]

Idempotent; run it with an administrator's credentials (never the instance role's). It sets:
- Block Public Access on: the app hands out presigned URLs, nothing is ever public.
- Default encryption: SSE-S3 (AES256), or SSE-KMS with --kms-key-id (the app asks for the same
  on every upload, so objects are encrypted even if this default is changed later).
- CORS for the site's origin, needed only with DIRECT_UPLOAD=true: browsers POST files straight
  to the bucket (presigned POST) and must read S3's answer. GET needs no CORS rule: images load
  through <img src>, which is not a cross-origin read.
- Lifecycle: abandoned direct uploads under ``incoming/`` expire after a day, and unfinished
  multipart uploads are aborted after a day (their parts are billed but invisible to listings).

The instance role then needs only (on arn:aws:s3:::BUCKET/PREFIX*): s3:GetObject, s3:PutObject,
s3:DeleteObject; on the bucket: s3:ListBucket (`flask storage check`, migration) and
s3:GetBucketLocation; plus kms:GenerateDataKey and kms:Decrypt on the key with SSE-KMS.
"""

from __future__ import annotations

import argparse
from typing import Any

import boto3
from botocore.config import Config

ONE_DAY = 1


def cors_rules(origin: str) -> dict[str, Any]:
    """Browsers on ``origin`` may POST a file to the bucket and read the answer."""
    return {
        "CORSRules": [
            {
                "AllowedOrigins": [origin.rstrip("/")],
                "AllowedMethods": ["POST"],
                "AllowedHeaders": ["*"],
                "ExposeHeaders": ["ETag", "Location"],
                "MaxAgeSeconds": 3600,
            }
        ]
    }


def lifecycle_rules(prefix: str) -> dict[str, Any]:
    """Expire abandoned direct uploads; abort multipart uploads that never completed."""
    return {
        "Rules": [
            {
                "ID": "expire-abandoned-direct-uploads",
                "Filter": {"Prefix": f"{prefix}incoming/"},
                "Status": "Enabled",
                "Expiration": {"Days": ONE_DAY},
            },
            {
                "ID": "abort-incomplete-multipart-uploads",
                "Filter": {"Prefix": prefix},
                "Status": "Enabled",
                "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": ONE_DAY},
            },
        ]
    }


def encryption_rules(kms_key_id: str | None) -> dict[str, Any]:
    default: dict[str, str] = {"SSEAlgorithm": "aws:kms" if kms_key_id else "AES256"}
    if kms_key_id:
        default["KMSMasterKeyID"] = kms_key_id
    return {"Rules": [{"ApplyServerSideEncryptionByDefault": default, "BucketKeyEnabled": True}]}


def configure(
    client: Any, bucket: str, *, origin: str, prefix: str = "", kms_key_id: str | None = None
) -> None:
    """Apply every rule above to ``bucket``."""
    prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
    client.put_public_access_block(
        Bucket=bucket,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    client.put_bucket_encryption(
        Bucket=bucket, ServerSideEncryptionConfiguration=encryption_rules(kms_key_id)
    )
    client.put_bucket_cors(Bucket=bucket, CORSConfiguration=cors_rules(origin))
    client.put_bucket_lifecycle_configuration(
        Bucket=bucket, LifecycleConfiguration=lifecycle_rules(prefix)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bucket")
    parser.add_argument("--origin", required=True, help="the site, e.g. https://photos.example.com")
    parser.add_argument("--region")
    parser.add_argument("--prefix", default="", help="S3_PREFIX, if the app uses one")
    parser.add_argument("--kms-key-id", help="S3_KMS_KEY_ID, for SSE-KMS")
    parser.add_argument("--endpoint-url", help="an S3-compatible server")
    args = parser.parse_args()
    client = boto3.session.Session().client(
        "s3",
        region_name=args.region,
        endpoint_url=args.endpoint_url,
        config=Config(signature_version="s3v4"),
    )
    configure(
        client, args.bucket, origin=args.origin, prefix=args.prefix, kms_key_id=args.kms_key_id
    )
    print(f"bucket {args.bucket}: private, encrypted, CORS for {args.origin}, lifecycle rules set")


if __name__ == "__main__":
    main()
