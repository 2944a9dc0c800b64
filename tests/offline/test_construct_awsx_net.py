"""Offline models of awsx 3.x's Vpc, DefaultVpc, load balancers, target group attachment and CloudTrail trail.

Each model is checked against what the package's provider (``awsx/ec2/vpc.ts``, ``awsx/lb/*.ts``,
``awsx/cloudtrail/trail.ts``) registers for default inputs, then one option at a time; the layouts of the
default VPC are the ones awsx documents (a private /19 and a public /20 per AZ of a /16). One program runs
through the offline engine to show the children land under the right parents with the right references.
"""

from __future__ import annotations

import json
import textwrap
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from offline.constructs import MODELS, UNKNOWN, Child, ConstructContext, Derived, Ref
from offline.constructs import awsx as model
from offline.harness import run_program_dir
from offline.recording import ProgramRun
from orderflow import pulumi_files

REGION = "us-east-1"


def build(token: str, inputs: Mapping[str, Any], name: str = "vpc") -> list[Child]:
    return MODELS[token].build(inputs, ConstructContext(name=name, program_dir=Path("."), region=REGION))


def of_type(children: list[Child], child_type: str) -> list[Child]:
    return [child for child in children if child.type == child_type]


def named(children: list[Child], child_type: str, name: str) -> Child:
    return next(child for child in children if child.type == child_type and child.name == name)


def counts(children: list[Child]) -> Counter[str]:
    return Counter(child.type.rsplit(":", 1)[-1] for child in children)


# --- Vpc ---------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def default_vpc() -> list[Child]:
    return build("awsx:ec2:Vpc", {})


def test_vpc_defaults_three_azs_private_and_public_subnets_and_a_nat_gateway_per_az(default_vpc: list[Child]) -> None:
    assert counts(default_vpc) == {
        "Vpc": 1,
        "InternetGateway": 1,
        "Subnet": 6,
        "RouteTable": 6,
        "RouteTableAssociation": 6,
        "Route": 6,
        "Eip": 3,
        "NatGateway": 3,
    }
    vpc = default_vpc[0]
    assert (vpc.type, vpc.name, vpc.parent) == (model.VPC, "vpc", "")
    assert vpc.inputs == {"cidrBlock": "10.0.0.0/16", "tags": {"Name": "vpc"}}
    subnets = {child.name: child.inputs for child in of_type(default_vpc, model.SUBNET)}
    assert {name: (inputs["availabilityZone"], inputs["cidrBlock"]) for name, inputs in subnets.items()} == {
        "vpc-private-1": ("us-east-1a", "10.0.0.0/19"),
        "vpc-public-1": ("us-east-1a", "10.0.32.0/20"),
        "vpc-private-2": ("us-east-1b", "10.0.64.0/19"),
        "vpc-public-2": ("us-east-1b", "10.0.96.0/20"),
        "vpc-private-3": ("us-east-1c", "10.0.128.0/19"),
        "vpc-public-3": ("us-east-1c", "10.0.160.0/20"),
    }
    assert (
        subnets["vpc-public-1"]["mapPublicIpOnLaunch"] is True
        and subnets["vpc-private-1"]["mapPublicIpOnLaunch"] is False
    )
    assert subnets["vpc-public-1"]["tags"] == {"Name": "vpc-public-1", "SubnetType": "Public"}
    assert [child.name for child in of_type(default_vpc, model.NAT_GATEWAY)] == ["vpc-1", "vpc-2", "vpc-3"]


def test_vpc_children_come_in_the_packages_order_with_its_parents(default_vpc: list[Child]) -> None:
    first_az = [(child.type.rsplit(":", 1)[-1], child.name, child.parent) for child in default_vpc[:12]]
    subnet, table = "aws:ec2/subnet:Subnet::vpc-public-1", "aws:ec2/routeTable:RouteTable::vpc-public-1"
    assert first_az == [
        ("Vpc", "vpc", ""),
        ("InternetGateway", "vpc", "aws:ec2/vpc:Vpc::vpc"),
        ("Subnet", "vpc-public-1", "aws:ec2/vpc:Vpc::vpc"),
        ("RouteTable", "vpc-public-1", subnet),
        ("RouteTableAssociation", "vpc-public-1", table),
        ("Eip", "vpc-1", subnet),
        ("NatGateway", "vpc-1", subnet),
        ("Route", "vpc-public-1", table),
        ("Subnet", "vpc-private-1", "aws:ec2/vpc:Vpc::vpc"),
        ("RouteTable", "vpc-private-1", "aws:ec2/subnet:Subnet::vpc-private-1"),
        ("RouteTableAssociation", "vpc-private-1", "aws:ec2/routeTable:RouteTable::vpc-private-1"),
        ("Route", "vpc-private-1", "aws:ec2/routeTable:RouteTable::vpc-private-1"),
    ]


def test_vpc_routes_public_subnets_to_the_gateway_and_private_ones_to_their_azs_nat(default_vpc: list[Child]) -> None:
    public, private = named(default_vpc, model.ROUTE, "vpc-public-2"), named(default_vpc, model.ROUTE, "vpc-private-2")
    assert public.inputs["gatewayId"] == Ref("aws:ec2/internetGateway:InternetGateway::vpc")
    assert private.inputs["natGatewayId"] == Ref("aws:ec2/natGateway:NatGateway::vpc-2")
    assert public.inputs["destinationCidrBlock"] == private.inputs["destinationCidrBlock"] == "0.0.0.0/0"
    nat = named(default_vpc, model.NAT_GATEWAY, "vpc-2")
    assert nat.inputs["allocationId"] == Ref("aws:ec2/eip:Eip::vpc-2", "allocationId")
    assert nat.inputs["subnetId"] == Ref("aws:ec2/subnet:Subnet::vpc-public-2")
    assert named(default_vpc, model.EIP, "vpc-2").inputs == {"tags": {"Name": "vpc-2"}}


@pytest.mark.parametrize(
    ("strategy", "gateways", "private_target"),
    [("None", [], None), ("Single", ["vpc-1"], "vpc-1"), ("OnePerAz", ["vpc-1", "vpc-2", "vpc-3"], "vpc-3")],
)
def test_vpc_nat_gateway_strategy(strategy: str, gateways: list[str], private_target: str | None) -> None:
    children = build("awsx:ec2:Vpc", {"natGateways": {"strategy": strategy}})
    assert [child.name for child in of_type(children, model.NAT_GATEWAY)] == gateways
    assert [child.name for child in of_type(children, model.EIP)] == gateways
    routes = {child.name for child in of_type(children, model.ROUTE)}
    if private_target is None:
        assert routes == {"vpc-public-1", "vpc-public-2", "vpc-public-3"}
    else:
        route = named(children, model.ROUTE, "vpc-private-3")
        assert route.inputs["natGatewayId"] == Ref(f"aws:ec2/natGateway:NatGateway::{private_target}")


def test_vpc_given_elastic_ips_creates_none() -> None:
    children = build("awsx:ec2:Vpc", {"natGateways": {"strategy": "Single", "elasticIpAllocationIds": ["eipalloc-1"]}})
    assert of_type(children, model.EIP) == []
    assert named(children, model.NAT_GATEWAY, "vpc-1").inputs["allocationId"] == "eipalloc-1"


def test_vpc_two_azs_split_the_block_in_halves() -> None:
    children = build("awsx:ec2:Vpc", {"numberOfAvailabilityZones": 2.0, "cidrBlock": "172.16.0.0/16"})
    subnets = {child.name: child.inputs["cidrBlock"] for child in of_type(children, model.SUBNET)}
    assert subnets == {
        "vpc-private-1": "172.16.0.0/18",
        "vpc-public-1": "172.16.64.0/19",
        "vpc-private-2": "172.16.128.0/18",
        "vpc-public-2": "172.16.192.0/19",
    }
    assert children[0].inputs["cidrBlock"] == "172.16.0.0/16"


def test_vpc_named_zones_are_used_as_given() -> None:
    children = build("awsx:ec2:Vpc", {"availabilityZoneNames": ["eu-west-1b", "eu-west-1c"]})
    assert {child.inputs["availabilityZone"] for child in of_type(children, model.SUBNET)} == {
        "eu-west-1b",
        "eu-west-1c",
    }
    with pytest.raises(ValueError, match="only one of"):
        build("awsx:ec2:Vpc", {"availabilityZoneNames": ["eu-west-1b"], "numberOfAvailabilityZones": 1.0})


def test_vpc_legacy_subnet_specs_place_private_then_public_then_isolated() -> None:
    specs = [{"type": "Public", "cidrMask": 24.0}, {"type": "Private", "cidrMask": 22.0}, {"type": "Isolated"}]
    children = build("awsx:ec2:Vpc", {"subnetSpecs": specs, "natGateways": {"strategy": "None"}})
    subnets = {child.name: child.inputs["cidrBlock"] for child in of_type(children, model.SUBNET)}
    assert [subnets[f"vpc-{kind}-1"] for kind in ("private", "public", "isolated")] == [
        "10.0.0.0/22",
        "10.0.4.0/24",
        "10.0.5.0/24",
    ]
    assert subnets["vpc-private-2"] == "10.0.64.0/22"
    # Isolated subnets get a route table but no route to the internet.
    assert {child.name for child in of_type(children, model.ROUTE)} == {"vpc-public-1", "vpc-public-2", "vpc-public-3"}
    assert len(of_type(children, model.ROUTE_TABLE)) == 9


def test_vpc_auto_strategy_packs_specs_in_order_within_each_az() -> None:
    specs = [
        {"type": "Public", "cidrMask": 24.0},
        {"type": "Private", "cidrMask": 20.0},
        {"type": "Isolated", "name": "db", "size": 256.0},
    ]
    inputs = {"subnetStrategy": "Auto", "subnetSpecs": specs, "numberOfAvailabilityZones": 2.0}
    subnets = {child.name: child.inputs["cidrBlock"] for child in of_type(build("awsx:ec2:Vpc", inputs), model.SUBNET)}
    assert subnets == {
        "vpc-public-1": "10.0.0.0/24",
        "vpc-private-1": "10.0.16.0/20",
        "vpc-db-1": "10.0.32.0/24",
        "vpc-public-2": "10.0.128.0/24",
        "vpc-private-2": "10.0.144.0/20",
        "vpc-db-2": "10.0.160.0/24",
    }


def test_vpc_auto_strategy_without_specs_and_an_ipam_pool_leaves_blocks_unknown() -> None:
    auto = build("awsx:ec2:Vpc", {"subnetStrategy": "Auto"})
    assert named(auto, model.SUBNET, "vpc-public-1").inputs["cidrBlock"] == "10.0.32.0/20"
    ipam = build("awsx:ec2:Vpc", {"subnetStrategy": "Auto", "ipv4IpamPoolId": "ipam-pool-1", "ipv4NetmaskLength": 16.0})
    assert "cidrBlock" not in ipam[0].inputs and ipam[0].inputs["ipv4IpamPoolId"] == "ipam-pool-1"
    assert {child.inputs["cidrBlock"] for child in of_type(ipam, model.SUBNET)} == {UNKNOWN}
    with pytest.raises(ValueError, match="Legacy"):
        build("awsx:ec2:Vpc", {"ipv4IpamPoolId": "ipam-pool-1", "ipv4NetmaskLength": 16.0})


def test_vpc_explicit_cidr_blocks_are_used_as_given() -> None:
    specs = [
        {"type": "Public", "cidrBlocks": ["10.0.0.0/24", "10.0.1.0/24"]},
        {"type": "Private", "cidrBlocks": ["10.0.2.0/24", "10.0.3.0/24"]},
    ]
    children = build(
        "awsx:ec2:Vpc", {"subnetStrategy": "Exact", "subnetSpecs": specs, "numberOfAvailabilityZones": 2.0}
    )
    assert named(children, model.SUBNET, "vpc-private-2").inputs["cidrBlock"] == "10.0.3.0/24"
    with pytest.raises(ValueError, match="AutoMerge"):
        build("awsx:ec2:Vpc", {"subnetStrategy": "AutoMerge", "subnetSpecs": specs, "numberOfAvailabilityZones": 2.0})


def test_vpc_auto_merge_adds_the_default_types_a_program_leaves_out() -> None:
    specs = [{"type": "Public", "tags": {"tier": "edge"}}, {"type": "Isolated", "name": "db", "cidrMask": 24.0}]
    children = build("awsx:ec2:Vpc", {"subnetStrategy": "AutoMerge", "subnetSpecs": specs})
    subnets = {child.name: child.inputs for child in of_type(children, model.SUBNET)}
    assert [name for name in subnets if name.endswith("-1")] == ["vpc-public-1", "vpc-private-1", "vpc-db-1"]
    assert subnets["vpc-public-1"]["tags"]["tier"] == "edge"
    # Private /19 then public /20 as the defaults, then the isolated /24 after them.
    assert [subnets[f"vpc-{kind}-1"]["cidrBlock"] for kind in ("private", "public", "db")] == [
        "10.0.0.0/19",
        "10.0.32.0/20",
        "10.0.48.0/24",
    ]


def test_vpc_name_tag_strategy_changes_tags_not_names() -> None:
    children = build("awsx:ec2:Vpc", {"subnetNameTagStrategy": "AvailabilityZone"})
    subnet = named(children, model.SUBNET, "vpc-public-2")
    assert subnet.inputs["tags"]["Name"] == "vpc-public-1b"
    assert model.zone_suffix("us-west-2-lax-1a") == "2-lax-1a" and model.zone_suffix("us-gov-west-1a") == "1a"


def test_vpc_tags_reach_every_child_and_the_vpcs_own_inputs_pass_through() -> None:
    inputs = {"tags": {"team": "net"}, "enableDnsHostnames": True, "instanceTenancy": "default", "region": "eu-west-1"}
    children = build("awsx:ec2:Vpc", inputs)
    assert children[0].inputs == {
        "tags": {"Name": "vpc", "team": "net"},
        "cidrBlock": "10.0.0.0/16",
        "enableDnsHostnames": True,
        "instanceTenancy": "default",
        "region": "eu-west-1",
    }
    assert named(children, model.NAT_GATEWAY, "vpc-1").inputs["tags"] == {"team": "net", "Name": "vpc-1"}
    assert named(children, model.SUBNET, "vpc-private-1").inputs["availabilityZone"] == "eu-west-1a"
    assert {child.inputs.get("region") for child in children} == {"eu-west-1"}


def test_vpc_ipv6_subnet_blocks_derive_from_the_vpcs_block() -> None:
    children = build("awsx:ec2:Vpc", {"assignGeneratedIpv6CidrBlock": True, "natGateways": {"strategy": "None"}})
    block = named(children, model.SUBNET, "vpc-private-2").inputs["ipv6CidrBlock"]
    assert isinstance(block, Derived) and block.ref == Ref("aws:ec2/vpc:Vpc::vpc", "ipv6CidrBlock")
    # Second AZ, second subnet there (public first): index 1 + 1 * 3 zones.
    assert block.apply("2600:1f18:abc:6e00::/56") == "2600:1f18:abc:6e04::/64"
    assert "ipv6CidrBlock" not in named(build("awsx:ec2:Vpc", {}), model.SUBNET, "vpc-private-2").inputs


def test_vpc_endpoints_legacy_and_auto() -> None:
    legacy = build("awsx:ec2:Vpc", {"vpcEndpointSpecs": [{"serviceName": "com.amazonaws.us-east-1.s3"}]})
    endpoint = named(legacy, model.VPC_ENDPOINT, "com.amazonaws.us-east-1.s3")
    assert endpoint.parent == "aws:ec2/vpc:Vpc::vpc" and "routeTableIds" not in endpoint.inputs
    auto_inputs = {
        "vpcEndpointStrategy": "Auto",
        "vpcEndpointSpecs": [
            {"serviceName": "com.amazonaws.us-east-1.s3"},
            {"serviceName": "com.amazonaws.us-east-1.sqs", "vpcEndpointType": "Interface"},
        ],
    }
    auto = build("awsx:ec2:Vpc", auto_inputs)
    gateway = named(auto, model.VPC_ENDPOINT, "com.amazonaws.us-east-1.s3")
    assert len(gateway.inputs["routeTableIds"]) == 6
    interface = named(auto, model.VPC_ENDPOINT, "com.amazonaws.us-east-1.sqs")
    assert interface.inputs["subnetIds"] == [Ref(f"aws:ec2/subnet:Subnet::vpc-private-{n}") for n in (1, 2, 3)]
    assert interface.inputs["privateDnsEnabled"] is True
    rule = named(auto, model.SECURITY_GROUP_RULE, "com.amazonaws.us-east-1.sqs-ingress")
    assert (rule.inputs["fromPort"], rule.inputs["toPort"], rule.inputs["cidrBlocks"]) == (
        443,
        443,
        [Ref("aws:ec2/vpc:Vpc::vpc", "cidrBlock")],
    )
    assert auto[0].inputs["enableDnsHostnames"] is True


def test_vpc_nat_gateways_need_public_and_private_subnets() -> None:
    public_only = {"subnetSpecs": [{"type": "Public"}]}
    with pytest.raises(ValueError, match="set natGateways"):
        build("awsx:ec2:Vpc", public_only)
    children = build("awsx:ec2:Vpc", {**public_only, "natGateways": {"strategy": "None"}})
    # A lone public spec still takes the public default size (/20) at the start of each AZ's /18.
    assert {child.inputs["cidrBlock"] for child in of_type(children, model.SUBNET)} == {
        "10.0.0.0/20",
        "10.0.64.0/20",
        "10.0.128.0/20",
    }


def test_vpc_needs_the_values_that_shape_it_known() -> None:
    with pytest.raises(ValueError, match="numberOfAvailabilityZones must be known"):
        build("awsx:ec2:Vpc", {"numberOfAvailabilityZones": UNKNOWN})


def test_default_vpc_only_reads() -> None:
    assert build("awsx:ec2:DefaultVpc", {}, "default") == []


# --- load balancers ----------------------------------------------------------------------------------------------


def test_alb_defaults_an_open_security_group_and_an_http_listener_forwarding_to_an_ip_target_group() -> None:
    children = build("awsx:lb:ApplicationLoadBalancer", {}, "web")
    assert [(child.type, child.name) for child in children] == [
        (model.SECURITY_GROUP, "web"),
        (model.LOAD_BALANCER, "web"),
        (model.TARGET_GROUP, "web"),
        (model.LISTENER, "web-0"),
    ]
    group, balancer, target, listener = children
    assert group.inputs["ingress"] == [
        {"fromPort": 0, "toPort": 0, "protocol": "-1", "cidrBlocks": ["0.0.0.0/0"], "ipv6CidrBlocks": ["::/0"]}
    ]
    assert group.inputs["egress"][0]["protocol"] == "tcp" and group.inputs["egress"][0]["toPort"] == 65535
    assert balancer.inputs == {
        "subnets": UNKNOWN,
        "securityGroups": [Ref("aws:ec2/securityGroup:SecurityGroup::web")],
        "loadBalancerType": "application",
    }
    assert target.inputs == {"vpcId": UNKNOWN, "targetType": "ip", "port": 80, "protocol": "HTTP"}
    assert listener.inputs == {
        "defaultActions": [{"type": "forward", "targetGroupArn": Ref("aws:lb/targetGroup:TargetGroup::web", "arn")}],
        "port": 80,
        "protocol": "HTTP",
        "loadBalancerArn": Ref("aws:lb/loadBalancer:LoadBalancer::web", "arn"),
    }


def test_alb_listener_sets_the_target_groups_port_and_protocol_too() -> None:
    listener = {"port": 443.0, "certificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/abc"}
    children = build("awsx:lb:ApplicationLoadBalancer", {"listener": listener}, "web")
    made = named(children, model.LISTENER, "web-0").inputs
    assert (made["port"], made["protocol"], made["certificateArn"]) == (443.0, "HTTPS", listener["certificateArn"])
    assert named(children, model.TARGET_GROUP, "web").inputs["protocol"] == "HTTPS"


def test_alb_listeners_each_keep_their_own_actions_and_one_alone_leaves_the_target_group_bare() -> None:
    redirect = {"type": "redirect", "redirect": {"protocol": "HTTPS", "port": "443", "statusCode": "HTTP_301"}}
    listeners = [{"port": 80.0, "defaultActions": [redirect]}, {"protocol": "HTTPS", "certificateArn": "arn:cert"}]
    children = build("awsx:lb:ApplicationLoadBalancer", {"listeners": listeners}, "web")
    first, second = named(children, model.LISTENER, "web-0"), named(children, model.LISTENER, "web-1")
    assert (first.inputs["protocol"], first.inputs["defaultActions"]) == ("HTTP", [redirect])
    assert (second.inputs["port"], second.inputs["defaultActions"][0]["type"]) == (443, "forward")
    assert named(children, model.TARGET_GROUP, "web").inputs["port"] == 80.0
    alone = build("awsx:lb:ApplicationLoadBalancer", {"listeners": [{"port": 8080.0}]}, "web")
    assert named(alone, model.TARGET_GROUP, "web").inputs == {"vpcId": UNKNOWN, "targetType": "ip"}


def test_alb_default_target_group_options() -> None:
    port = build("awsx:lb:ApplicationLoadBalancer", {"defaultTargetGroupPort": 8080.0}, "web")
    assert (
        named(port, model.TARGET_GROUP, "web").inputs["port"]
        == named(port, model.LISTENER, "web-0").inputs["port"]
        == 8080.0
    )
    given = {"port": 3000.0, "protocol": "HTTP", "healthCheck": {"path": "/health"}}
    custom = build("awsx:lb:ApplicationLoadBalancer", {"defaultTargetGroup": given}, "web")
    assert named(custom, model.TARGET_GROUP, "web").inputs["healthCheck"] == {"path": "/health"}
    assert named(custom, model.LISTENER, "web-0").inputs["port"] == 80
    with pytest.raises(ValueError, match="only one of defaultTargetGroup"):
        build("awsx:lb:ApplicationLoadBalancer", {"defaultTargetGroup": given, "defaultTargetGroupPort": 1.0}, "web")


@pytest.mark.parametrize(
    ("inputs", "groups"),
    [
        ({"defaultSecurityGroup": {"skip": True}}, None),
        ({"defaultSecurityGroup": {"securityGroupId": "sg-123"}}, ["sg-123"]),
        ({"securityGroups": ["sg-456"]}, ["sg-456"]),
    ],
)
def test_alb_security_group_options_create_none(inputs: dict[str, Any], groups: list[str] | None) -> None:
    children = build("awsx:lb:ApplicationLoadBalancer", inputs, "web")
    assert of_type(children, model.SECURITY_GROUP) == []
    assert named(children, model.LOAD_BALANCER, "web").inputs.get("securityGroups") == groups


def test_alb_subnets_pass_through_and_other_arguments_reach_the_load_balancer() -> None:
    inputs = {
        "subnetIds": ["subnet-1", "subnet-2"],
        "internal": True,
        "accessLogs": {"bucket": "logs", "enabled": True},
    }
    balancer = named(build("awsx:lb:ApplicationLoadBalancer", inputs, "web"), model.LOAD_BALANCER, "web")
    assert balancer.inputs["subnets"] == ["subnet-1", "subnet-2"] and balancer.inputs["internal"] is True
    assert balancer.inputs["accessLogs"] == {"bucket": "logs", "enabled": True}
    with pytest.raises(ValueError, match="only one of subnets"):
        build("awsx:lb:ApplicationLoadBalancer", {"subnetIds": ["a"], "subnets": ["b"]}, "web")


def test_nlb_defaults_tcp_on_port_80_without_security_group() -> None:
    children = build("awsx:lb:NetworkLoadBalancer", {"subnetIds": ["subnet-1"]}, "net")
    assert [child.type for child in children] == [model.LOAD_BALANCER, model.TARGET_GROUP, model.LISTENER]
    balancer, target, listener = children
    assert balancer.inputs == {
        "subnets": ["subnet-1"],
        "loadBalancerType": "network",
        "enableHttp2": False,
        "idleTimeout": 0,
    }
    assert (target.inputs["protocol"], target.inputs["port"]) == ("TCP", 80)
    assert (listener.name, listener.inputs["protocol"], listener.inputs["port"]) == ("net-0", "TCP", 80)


def test_nlb_listener_and_target_port_options() -> None:
    tls = {"port": 443.0, "protocol": "TLS", "certificateArn": "arn:cert"}
    children = build("awsx:lb:NetworkLoadBalancer", {"listener": tls, "defaultTargetGroupPort": 8443.0}, "net")
    assert named(children, model.LISTENER, "net-0").inputs["protocol"] == "TLS"
    assert named(children, model.TARGET_GROUP, "net").inputs["port"] == 8443.0
    two = build(
        "awsx:lb:NetworkLoadBalancer", {"listeners": [{"port": 22.0}, {"port": 53.0, "protocol": "UDP"}]}, "net"
    )
    assert [(c.name, c.inputs["port"], c.inputs["protocol"]) for c in of_type(two, model.LISTENER)] == [
        ("net-0", 22.0, "TCP"),
        ("net-1", 53.0, "UDP"),
    ]


def test_target_group_attachment_for_a_function_grants_elb_the_invoke_first() -> None:
    arn = "arn:aws:lambda:us-east-1:123456789012:function:api"
    group = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/api/1"
    children = build("awsx:lb:TargetGroupAttachment", {"targetGroupArn": group, "lambdaArn": arn}, "api")
    permission, attachment = children
    assert permission.inputs == {
        "action": "lambda:InvokeFunction",
        "function": arn,
        "principal": "elasticloadbalancing.amazonaws.com",
        "sourceArn": group,
    }
    assert attachment.inputs == {"targetId": arn, "targetGroupArn": group}
    assert attachment.depends_on == ("aws:lambda/permission:Permission::api",)


def test_target_group_attachment_for_an_instance_leaves_the_target_to_the_group_type() -> None:
    children = build("awsx:lb:TargetGroupAttachment", {"targetGroup": "arn:tg", "instance": "i-123"}, "web")
    assert [child.type for child in children] == [model.TARGET_GROUP_ATTACHMENT]
    assert children[0].inputs == {"targetId": UNKNOWN, "availabilityZone": UNKNOWN, "targetGroupArn": "arn:tg"}
    with pytest.raises(ValueError, match="exactly one of instance"):
        build("awsx:lb:TargetGroupAttachment", {"targetGroup": "arn:tg"}, "web")


# --- Trail -------------------------------------------------------------------------------------------------------


def test_trail_defaults_a_bucket_with_cloudtrails_policy_then_the_trail() -> None:
    children = build("awsx:cloudtrail:Trail", {"enableLogFileValidation": True}, "audit")
    assert [(child.type, child.name) for child in children] == [
        (model.BUCKET, "audit"),
        (model.BUCKET_POLICY, "audit"),
        (model.TRAIL, "audit"),
    ]
    bucket, policy, trail = children
    assert bucket.inputs == {"forceDestroy": True}
    document = policy.inputs["policy"]
    assert isinstance(document, Derived) and document.ref == Ref("aws:s3/bucket:Bucket::audit", "arn")
    statements = document.apply("arn:aws:s3:::audit-1")["Statement"]
    assert [s["Resource"] for s in statements] == [["arn:aws:s3:::audit-1"], ["arn:aws:s3:::audit-1/*"]]
    assert {s["Principal"]["Service"] for s in statements} == {"cloudtrail.amazonaws.com"}
    assert trail.inputs == {
        "enableLogFileValidation": True,
        "s3BucketName": Ref("aws:s3/bucket:Bucket::audit", "bucket"),
    }
    assert trail.depends_on == ("aws:s3/bucketPolicy:BucketPolicy::audit",)


def test_trail_with_logs_adds_a_log_group_and_a_role_cloudtrail_assumes() -> None:
    children = build(
        "awsx:cloudtrail:Trail", {"cloudWatchLogsGroup": {"enable": True, "args": {"retentionInDays": 90.0}}}, "audit"
    )
    assert [child.type for child in children] == [
        model.BUCKET,
        model.BUCKET_POLICY,
        model.LOG_GROUP,
        model.ROLE,
        model.TRAIL,
    ]
    assert children[2].inputs == {"retentionInDays": 90.0}
    role = children[3].inputs
    assert json.loads(role["assumeRolePolicy"])["Statement"][0]["Principal"] == {"Service": "cloudtrail.amazonaws.com"}
    inline = role["inlinePolicies"][0]["policy"]
    written = json.loads(inline.apply("arn:aws:logs:us-east-1:123456789012:log-group:audit-1"))
    assert written["Statement"][1]["Resource"] == [
        "arn:aws:logs:us-east-1:123456789012:log-group:audit-1:log-stream:123456789012_CloudTrail_*"
    ]
    trail = children[4].inputs
    assert trail["cloudWatchLogsGroupArn"] == Ref("aws:cloudwatch/logGroup:LogGroup::audit", "arn", suffix=":*")
    assert trail["cloudWatchLogsRoleArn"] == Ref("aws:iam/role:Role::audit", "arn")


def test_trail_into_an_existing_bucket_creates_only_its_policy() -> None:
    children = build("awsx:cloudtrail:Trail", {"s3Bucket": {"existing": {"name": "org-trail"}}}, "audit")
    assert [child.type for child in children] == [model.BUCKET_POLICY, model.TRAIL]
    assert children[0].inputs["bucket"] == "org-trail" and children[1].inputs["s3BucketName"] == "org-trail"
    # The package builds this ARN without the s3 service; the model keeps what it does.
    assert children[0].inputs["policy"]["Statement"][0]["Resource"] == ["arn:aws:::org-trail"]


def test_every_model_names_the_release_and_source_it_follows() -> None:
    for token in model.MODELS:
        assert MODELS[token] is model.MODELS[token]
        assert model.MODELS[token].follows.startswith("awsx 3.11") and ".ts" in model.MODELS[token].follows


# --- through the offline engine ----------------------------------------------------------------------------------

PROGRAM = """
import pulumi
import pulumi_awsx as awsx

vpc = awsx.ec2.Vpc("vpc", number_of_availability_zones=2, nat_gateways={"strategy": "Single"})
lb = awsx.lb.ApplicationLoadBalancer("web", subnet_ids=vpc.public_subnet_ids)
trail = awsx.cloudtrail.Trail("audit", cloud_watch_logs_group={"enable": True})
"""


def run(tmp_path: Path, *, first_preview: bool) -> ProgramRun:
    tmp_path.mkdir(exist_ok=True)
    (tmp_path / "Pulumi.yaml").write_text("name: probe\nruntime: python\n")
    (tmp_path / "__main__.py").write_text(textwrap.dedent(PROGRAM).lstrip())
    return run_program_dir(tmp_path, files=pulumi_files, first_preview=first_preview)


def test_engine_registers_the_vpc_and_load_balancer_children_under_their_parents(tmp_path: Path) -> None:
    recorded = run(tmp_path, first_preview=False)
    by_key = {(record.type, record.name): record for record in recorded.resources}
    subnet, table = by_key[model.SUBNET, "vpc-public-1"], by_key[model.ROUTE_TABLE, "vpc-public-1"]
    nat, eip = by_key[model.NAT_GATEWAY, "vpc-1"], by_key[model.EIP, "vpc-1"]
    assert nat.parent == eip.parent == subnet.urn and table.parent == subnet.urn
    assert nat.urn.endswith("::awsx:ec2:Vpc$aws:ec2/vpc:Vpc$aws:ec2/subnet:Subnet$aws:ec2/natGateway:NatGateway::vpc-1")
    assert nat.inputs["subnetId"] == subnet.id and eip.urn in nat.dependencies
    private_route = by_key[model.ROUTE, "vpc-private-2"]
    assert (
        private_route.inputs["natGatewayId"] == nat.id
        and private_route.parent == by_key[model.ROUTE_TABLE, "vpc-private-2"].urn
    )
    listener = by_key[model.LISTENER, "web-0"]
    assert listener.parent == by_key["awsx:lb:ApplicationLoadBalancer", "web"].urn
    assert (listener.inputs["port"], listener.inputs["protocol"]) == (80, "HTTP")
    assert Counter(record.type for record in recorded.resources)[model.SUBNET] == 4


def test_engine_writes_the_trails_policies_from_its_bucket_and_log_group(tmp_path: Path) -> None:
    recorded = run(tmp_path, first_preview=False)
    by_type = {record.type: record for record in recorded.resources if record.name == "audit"}
    bucket, log_group = by_type[model.BUCKET], by_type[model.LOG_GROUP]
    policy = by_type[model.BUCKET_POLICY].inputs["policy"]
    assert policy == model.cloudtrail_bucket_policy(bucket.outputs["arn"])
    trail = by_type[model.TRAIL].inputs
    assert trail["cloudWatchLogsGroupArn"] == f"{log_group.outputs['arn']}:*"
    assert trail["s3BucketName"] == bucket.outputs["bucket"]
    assert trail["cloudWatchLogsRoleArn"] == by_type[model.ROLE].outputs["arn"]
    inline = json.loads(by_type[model.ROLE].inputs["inlinePolicies"][0]["policy"])
    assert inline["Statement"][0]["Resource"][0].startswith(f"{log_group.outputs['arn']}:log-stream:")


def test_engine_first_preview_leaves_references_unknown(tmp_path: Path) -> None:
    recorded = run(tmp_path, first_preview=True)
    nat = next(record for record in recorded.resources if record.type == model.NAT_GATEWAY)
    assert nat.inputs_struct["subnetId"] == nat.inputs_struct["allocationId"] == UNKNOWN
    policy = next(record for record in recorded.resources if record.type == model.BUCKET_POLICY)
    assert policy.inputs_struct["policy"] == UNKNOWN
