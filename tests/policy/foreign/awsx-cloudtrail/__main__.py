"""An audit trail for every region of the account: awsx creates the bucket, its policy and the log group."""

import pulumi
import pulumi_awsx as awsx

trail = awsx.cloudtrail.Trail(
    "audit",
    is_multi_region_trail=True,
    include_global_service_events=True,
    enable_log_file_validation=True,
    cloud_watch_logs_group=awsx.awsx.OptionalLogGroupArgs(
        enable=True,
        args=awsx.awsx.LogGroupArgs(retention_in_days=365),
    ),
)

pulumi.export("bucketName", trail.bucket.apply(lambda bucket: bucket.bucket if bucket else None))
