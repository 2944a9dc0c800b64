"""Amazon S3: Block Public Access stays on (bucket versioning is a stack rule in ``stack``)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Final

from pulumi_policy import EnforcementLevel, Severity

from policy_pack._core import Props, ResourceRule

BUCKET: Final = "aws:s3/bucket:Bucket"
BUCKET_V2: Final = "aws:s3/bucketV2:BucketV2"
BUCKET_VERSIONING: Final = "aws:s3/bucketVersioning:BucketVersioning"
BUCKET_VERSIONING_V2: Final = "aws:s3/bucketVersioningV2:BucketVersioningV2"
PUBLIC_ACCESS_BLOCK: Final = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
BUCKET_POLICY: Final = "aws:s3/bucketPolicy:BucketPolicy"

SERVICE: Final = "s3"

_BLOCK_SETTINGS: Final = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")


def _block_public_access(props: Props, config: Mapping[str, Any], _: str) -> Iterator[str]:
    # New buckets block public access by default; this resource replaces that default, and each of
    # its settings defaults to false.
    off = [setting for setting in _BLOCK_SETTINGS if props.flag(setting, False) is not True]
    if off:
        yield f"{', '.join(off)} not true: the bucket can be made public"


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
]
