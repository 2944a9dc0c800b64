"""A VPC for an application tier: awsx lays out public and private subnets in each availability zone."""

import pulumi
import pulumi_awsx as awsx

config = pulumi.Config()
vpc_network_cidr = config.get("vpcNetworkCidr") or "10.0.0.0/16"

vpc = awsx.ec2.Vpc(
    "vpc",
    cidr_block=vpc_network_cidr,
    enable_dns_hostnames=True,
    tags={"Project": pulumi.get_project()},
)

pulumi.export("vpcId", vpc.vpc_id)
pulumi.export("publicSubnetIds", vpc.public_subnet_ids)
pulumi.export("privateSubnetIds", vpc.private_subnet_ids)
