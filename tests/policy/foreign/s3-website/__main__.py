"""An AWS Python Pulumi program: a static website in an S3 bucket."""

import json
import mimetypes
import os

import pulumi
import pulumi_aws as aws

config = pulumi.Config()
index_document = config.get("indexDocument") or "index.html"
site_dir = "www"

# The bucket is public on purpose: it serves the website. The tag waives the versioning rule for it.
site_bucket = aws.s3.Bucket(
    "site-bucket",
    tags={"policy:waive:s3-bucket-versioning": "generated content, rebuilt from git on every deploy"},
)

website = aws.s3.BucketWebsiteConfiguration(
    "site-website",
    bucket=site_bucket.id,
    index_document={"suffix": index_document},
)

ownership = aws.s3.BucketOwnershipControls(
    "ownership-controls",
    bucket=site_bucket.id,
    rule={"object_ownership": "ObjectWriter"},
)

public_access_block = aws.s3.BucketPublicAccessBlock(
    "public-access-block",
    bucket=site_bucket.id,
    block_public_acls=False,
    block_public_policy=False,
    ignore_public_acls=False,
    restrict_public_buckets=False,
)

for file in os.listdir(site_dir):
    filepath = os.path.join(site_dir, file)
    mime_type, _ = mimetypes.guess_type(filepath)
    aws.s3.BucketObject(
        file,
        bucket=site_bucket.id,
        source=pulumi.FileAsset(filepath),
        content_type=mime_type,
    )


def public_read_policy_for_bucket(bucket_name):
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": "*",
                    "Action": ["s3:GetObject"],
                    "Resource": [f"arn:aws:s3:::{bucket_name}/*"],
                }
            ],
        }
    )


bucket_policy = aws.s3.BucketPolicy(
    "bucket-policy",
    bucket=site_bucket.id,
    policy=site_bucket.id.apply(public_read_policy_for_bucket),
    opts=pulumi.ResourceOptions(depends_on=[public_access_block]),
)

pulumi.export("bucket_name", site_bucket.id)
pulumi.export("website_url", website.website_endpoint)
