"""``Bucket``: a private, encrypted, versioned S3 bucket that emits its object events to EventBridge.

All public access is blocked and ACLs are disabled (bucket owner enforced), so access is only what
IAM and the bucket policy grant; the policy also refuses plain HTTP. Versioning protects against
overwrites, and lifecycle rules keep it from costing more over time: old versions and abandoned
multipart uploads expire.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from components.children import tags_input
from components.policies import allow_service_from_source, deny_insecure_transport, policy_document


@dataclass(frozen=True)
class ServiceObjectReader:
    """An AWS service allowed to read the bucket's objects on behalf of one resource only."""

    service: str
    """Service principal, e.g. ``cloudfront.amazonaws.com``."""
    source_arn: Any
    """The one resource it acts for (``aws:SourceArn``), e.g. a CloudFront distribution's ARN."""
    sid: str = "ServiceReadsObjects"
    """Statement id in the bucket policy."""


def bucket_policy(bucket_arn: Any, readers: Sequence[ServiceObjectReader] = ()) -> dict[str, Any]:
    """Resource policy refusing every request not made over TLS, plus ``s3:GetObject`` for each reader."""
    objects = pulumi.Output.concat(bucket_arn, "/*") if isinstance(bucket_arn, pulumi.Output) else f"{bucket_arn}/*"
    grants = [
        allow_service_from_source(reader.sid, reader.service, "s3:GetObject", objects, reader.source_arn)
        for reader in readers
    ]
    return policy_document([deny_insecure_transport("s3:*", [bucket_arn, objects]), *grants])


def lifecycle_rules(
    noncurrent_version_days: int, incomplete_upload_days: int
) -> list[aws.s3.BucketLifecycleConfigurationRuleArgsDict]:
    """Lifecycle rules expiring old object versions and abandoned multipart uploads.

    Raises
    ------
    ValueError
        When a number of days is below 1.
    """
    if noncurrent_version_days < 1 or incomplete_upload_days < 1:
        raise ValueError("lifecycle days must be at least 1")
    return [
        {
            "id": "expire-noncurrent-versions",
            "status": "Enabled",
            "filter": {},
            "noncurrent_version_expiration": {"noncurrent_days": noncurrent_version_days},
        },
        {
            "id": "abort-incomplete-multipart-uploads",
            "status": "Enabled",
            "filter": {},
            "abort_incomplete_multipart_upload": {"days_after_initiation": incomplete_upload_days},
        },
    ]


@dataclass
class BucketArgs:
    """Inputs of :class:`Bucket`."""

    noncurrent_version_days: int = 30
    """Days an overwritten or deleted object version is kept."""
    incomplete_upload_days: int = 7
    """Days before an unfinished multipart upload is aborted."""
    versioning: bool = True
    """Keep object versions; ``False`` suspends versioning and stays visible."""
    eventbridge_notifications: bool = True
    """Send object events to the account's default event bus."""
    sse_algorithm: str = "AES256"
    """Default encryption: SSE-S3 (free); ``aws:kms`` for KMS."""
    force_destroy: bool = False
    """Let ``pulumi destroy`` delete a non-empty bucket (only for throwaway stacks)."""
    bucket_name: pulumi.Input[str] | None = None
    """Physical name, when others must know it before the bucket exists (e.g. an event pattern)."""
    object_readers: Sequence[ServiceObjectReader] = field(default_factory=tuple)
    """AWS services that may read objects for one resource each (e.g. CloudFront through OAC)."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags of the bucket, on top of the provider's default tags."""


class Bucket(pulumi.ComponentResource):
    """A private, encrypted, versioned bucket with lifecycle rules and EventBridge notifications."""

    bucket: aws.s3.Bucket
    arn: pulumi.Output[str]
    name: pulumi.Output[str]

    def __init__(self, name: str, args: BucketArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("orderflow:storage:Bucket", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.bucket = aws.s3.Bucket(
            f"{name}-bucket",
            bucket=args.bucket_name,
            force_destroy=args.force_destroy,
            tags=tags_input(args.tags),
            opts=child,
        )
        public_access_block = aws.s3.BucketPublicAccessBlock(
            f"{name}-public-access-block",
            bucket=self.bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=child,
        )
        aws.s3.BucketOwnershipControls(
            f"{name}-ownership",
            bucket=self.bucket.id,
            rule={"object_ownership": "BucketOwnerEnforced"},
            opts=child,
        )
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-encryption",
            bucket=self.bucket.id,
            rules=[
                {
                    "apply_server_side_encryption_by_default": {"sse_algorithm": args.sse_algorithm},
                    "bucket_key_enabled": args.sse_algorithm == "aws:kms",
                }
            ],
            opts=child,
        )
        versioning = aws.s3.BucketVersioning(
            f"{name}-versioning",
            bucket=self.bucket.id,
            versioning_configuration={"status": "Enabled" if args.versioning else "Suspended"},
            opts=child,
        )
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-lifecycle",
            bucket=self.bucket.id,
            rules=lifecycle_rules(args.noncurrent_version_days, args.incomplete_upload_days),
            # S3 rejects noncurrent-version rules until versioning is configured.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[versioning]),
        )
        aws.s3.BucketPolicy(
            f"{name}-policy",
            bucket=self.bucket.id,
            policy=pulumi.Output.json_dumps(bucket_policy(self.bucket.arn, args.object_readers)),
            # With BlockPublicPolicy on, put the block first so the policy is checked against it.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[public_access_block]),
        )
        aws.s3.BucketNotification(
            f"{name}-notifications",
            bucket=self.bucket.id,
            eventbridge=args.eventbridge_notifications,
            opts=child,
        )
        self.arn = self.bucket.arn
        self.name = self.bucket.bucket
        self.register_outputs({"arn": self.arn, "name": self.name})
