"""A web server behind an Application Load Balancer, on a two-AZ VPC that shares one NAT gateway."""

import pulumi
import pulumi_aws as aws
import pulumi_awsx as awsx

vpc = awsx.ec2.Vpc(
    "app",
    number_of_availability_zones=2,
    nat_gateways=awsx.ec2.NatGatewayConfigurationArgs(strategy=awsx.ec2.NatGatewayStrategy.SINGLE),
)

alb = awsx.lb.ApplicationLoadBalancer(
    "web",
    subnet_ids=vpc.public_subnet_ids,
    default_target_group=aws.lb.TargetGroupArgs(
        port=80,
        protocol="HTTP",
        target_type="instance",
        health_check=aws.lb.TargetGroupHealthCheckArgs(path="/healthz"),
    ),
)

server_sg = aws.ec2.SecurityGroup(
    "web-server",
    vpc_id=vpc.vpc_id,
    ingress=[aws.ec2.SecurityGroupIngressArgs(protocol="tcp", from_port=80, to_port=80, cidr_blocks=["10.0.0.0/16"])],
    egress=[aws.ec2.SecurityGroupEgressArgs(protocol="-1", from_port=0, to_port=0, cidr_blocks=["0.0.0.0/0"])],
)

ami = aws.ec2.get_ami(
    most_recent=True,
    owners=["amazon"],
    filters=[aws.ec2.GetAmiFilterArgs(name="name", values=["al2023-ami-2023.*-x86_64"])],
)

server = aws.ec2.Instance(
    "web-server",
    ami=ami.id,
    instance_type="t3.micro",
    subnet_id=vpc.private_subnet_ids.apply(lambda ids: ids[0]),
    vpc_security_group_ids=[server_sg.id],
    metadata_options=aws.ec2.InstanceMetadataOptionsArgs(http_tokens="required"),
    user_data="#!/bin/bash\ndnf install -y nginx && systemctl enable --now nginx\n",
)

awsx.lb.TargetGroupAttachment("web-server", target_group=alb.default_target_group, instance=server)

pulumi.export("url", alb.load_balancer.dns_name)
