"""Amazon S3: Block Public Access stays on, and buckets keep object versions."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Final

from pulumi_policy import EnforcementLevel, Severity

from policy_pack._core import CannotEvaluateError, Finding, Props, ResourceRule, StackRule, StackView, ref

BUCKET: Final = "aws:s3/bucket:Bucket"
BUCKET_V2: Final = "aws:s3/bucketV2:BucketV2"
BUCKET_VERSIONING: Final = "aws:s3/bucketVersioning:BucketVersioning"
BUCKET_VERSIONING_V2: Final = "aws:s3/bucketVersioningV2:BucketVersioningV2"
PUBLIC_ACCESS_BLOCK: Final = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"

SERVICE: Final = "s3"

_BLOCK_SETTINGS: Final = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")


def _block_public_access(props: Props, config: Mapping[str, Any], _: str) -> Iterator[str]:
    # New buckets block public access by default; this resource replaces that default, and each of
    # its settings defaults to false.
    off = [setting for setting in _BLOCK_SETTINGS if props.flag(setting, False) is not True]
    if off:
        yield f"{', '.join(off)} not true: the bucket can be made public"


def _versioning(stack: StackView, config: Mapping[str, Any]) -> Iterator[Finding]:
    enabled_buckets: set[str] = set()
    for resource in stack.of_type(BUCKET_VERSIONING, BUCKET_VERSIONING_V2):
        targets = ref(stack, resource, "bucket", (BUCKET, BUCKET_V2))
        if targets is None:
            stack.cannot_evaluate(f"bucket of {resource.name}")
            continue
        try:
            enabled = resource.props.text("versioningConfiguration.status", "") == "Enabled"
        except CannotEvaluateError:
            stack.cannot_evaluate(f"versioning status of {resource.name}")
            enabled = True
        if enabled:
            enabled_buckets.update(target.urn for target in targets)
    for bucket in stack.of_type(BUCKET, BUCKET_V2):
        try:
            if bucket.props.flag("versioning.enabled", False) is True:
                continue
        except CannotEvaluateError:
            continue
        if bucket.urn not in enabled_buckets:
            yield Finding(
                f"bucket {bucket.name} has no versioning: an overwrite or delete cannot be undone",
                bucket.urn,
            )


RULES: Final = [
    ResourceRule(
        name="s3-block-public-access",
        summary="S3 Block Public Access settings are all on wherever a bucket declares them",
        anchors=(
            "cdk-nag AwsSolutions-S2",
            "checkov CKV2_AWS_6",
            "checkov CKV_AWS_53, CKV_AWS_54, CKV_AWS_55, CKV_AWS_56",
            "Pulumi BP s3-bucket-public-access-block",
        ),
        severity=Severity.HIGH,
        enforcement_level=EnforcementLevel.MANDATORY,
        service=SERVICE,
        resource_types=(PUBLIC_ACCESS_BLOCK,),
        check=_block_public_access,
    ),
    StackRule(
        name="s3-bucket-versioning",
        summary="S3 buckets keep object versions",
        anchors=("checkov CKV_AWS_21", "cdk-nag S3BucketVersioningEnabled", "Pulumi BP s3-bucket-versioning"),
        severity=Severity.MEDIUM,
        enforcement_level=EnforcementLevel.MANDATORY,
        service=SERVICE,
        resource_types=(BUCKET, BUCKET_V2, BUCKET_VERSIONING, BUCKET_VERSIONING_V2),
        check=_versioning,
    ),
]
