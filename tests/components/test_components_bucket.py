"""Bucket: private, owner-enforced, encrypted, versioned, TLS-only, tidied by lifecycle, emitting events."""

from __future__ import annotations

import json
from typing import Any

from components.bucket import Bucket, BucketArgs, ServiceObjectReader
from tests.components.conftest import ACCOUNT, PARTITION, TAGS, Built, build

DISTRIBUTION_ARN = f"arn:{PARTITION}:cloudfront::{ACCOUNT}:distribution/E123"


def test_defaults() -> None:
    built = build(lambda: Bucket("files", BucketArgs(tags=TAGS)))

    assert built.component.type == "orderflow:storage:Bucket"
    assert built.kinds() == {
        ("aws:s3/bucket:Bucket", "files-bucket"),
        ("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "files-public-access-block"),
        ("aws:s3/bucketOwnershipControls:BucketOwnershipControls", "files-ownership"),
        ("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", "files-encryption"),
        ("aws:s3/bucketVersioning:BucketVersioning", "files-versioning"),
        ("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "files-lifecycle"),
        ("aws:s3/bucketPolicy:BucketPolicy", "files-policy"),
        ("aws:s3/bucketNotification:BucketNotification", "files-notifications"),
    }
    bucket_id = built.child("files-bucket").id
    assert built.inputs("files-bucket") == {"forceDestroy": False}
    assert built.inputs("files-public-access-block") == {
        "bucket": bucket_id,
        "blockPublicAcls": True,
        "blockPublicPolicy": True,
        "ignorePublicAcls": True,
        "restrictPublicBuckets": True,
    }
    assert built.inputs("files-ownership") == {"bucket": bucket_id, "rule": {"objectOwnership": "BucketOwnerEnforced"}}
    assert built.inputs("files-encryption") == {
        "bucket": bucket_id,
        "rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}, "bucketKeyEnabled": False}],
    }
    assert built.inputs("files-versioning") == {"bucket": bucket_id, "versioningConfiguration": {"status": "Enabled"}}
    assert built.inputs("files-lifecycle") == {
        "bucket": bucket_id,
        "rules": [
            {
                "id": "expire-noncurrent-versions",
                "status": "Enabled",
                "filter": {},
                "noncurrentVersionExpiration": {"noncurrentDays": 30},
            },
            {
                "id": "abort-incomplete-multipart-uploads",
                "status": "Enabled",
                "filter": {},
                "abortIncompleteMultipartUpload": {"daysAfterInitiation": 7},
            },
        ],
    }
    assert built.child("files-versioning").urn in built.child("files-lifecycle").dependencies
    assert built.inputs("files-notifications") == {"bucket": bucket_id, "eventbridge": True}


def policy(built: Built) -> dict[str, Any]:
    inputs = built.inputs("files-policy")
    assert inputs["bucket"] == built.child("files-bucket").id
    return dict(json.loads(inputs["policy"]))


def test_defaults_the_policy_refuses_plain_http_and_waits_for_the_public_access_block() -> None:
    built = build(lambda: Bucket("files", BucketArgs(tags=TAGS)))

    bucket_arn = built.child("files-bucket").outputs["arn"]
    assert policy(built) == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [bucket_arn, f"{bucket_arn}/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        ],
    }
    assert built.child("files-public-access-block").urn in built.child("files-policy").dependencies


def test_a_service_reader_may_get_objects_for_its_one_resource() -> None:
    reader = ServiceObjectReader("cloudfront.amazonaws.com", DISTRIBUTION_ARN)
    built = build(lambda: Bucket("files", BucketArgs(object_readers=[reader], tags=TAGS)))

    bucket_arn = built.child("files-bucket").outputs["arn"]
    assert policy(built)["Statement"][1] == {
        "Sid": "ServiceReadsObjects",
        "Effect": "Allow",
        "Principal": {"Service": "cloudfront.amazonaws.com"},
        "Action": "s3:GetObject",
        "Resource": f"{bucket_arn}/*",
        "Condition": {"ArnEquals": {"aws:SourceArn": DISTRIBUTION_ARN}},
    }


def test_opt_outs_unversioned_without_events_and_destroyable() -> None:
    args = BucketArgs(versioning=False, eventbridge_notifications=False, force_destroy=True, tags=TAGS)
    built = build(lambda: Bucket("files", args))

    assert built.inputs("files-versioning")["versioningConfiguration"] == {"status": "Suspended"}
    assert built.inputs("files-notifications")["eventbridge"] is False
    assert built.inputs("files-bucket")["forceDestroy"] is True


def test_kms_encryption_uses_a_bucket_key() -> None:
    built = build(lambda: Bucket("files", BucketArgs(sse_algorithm="aws:kms", tags=TAGS)))

    assert built.inputs("files-encryption")["rules"] == [
        {"applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms"}, "bucketKeyEnabled": True}
    ]


def test_a_planned_name_is_the_physical_name() -> None:
    built = build(lambda: Bucket("files", BucketArgs(bucket_name="probe-test-files-123", tags=TAGS)))

    assert built.inputs("files-bucket")["bucket"] == "probe-test-files-123"
