"""Compliant baselines and one mutation per case for the rules on security-group ingress and ECR image tags.

Imported by ``policy_cases`` once its ``Case``, ``ok``, ``bad`` and ``BASELINES`` exist; its cases run and
count with the others.
"""

from __future__ import annotations

from typing import Any

from policy_cases import BASELINES, Case, bad, ok
from policy_testkit import DELETE, UNKNOWN

SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
SECURITY_GROUP_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
REPOSITORY = "aws:ecr/repository:Repository"

OPEN = "ec2-security-group-no-open-ingress"
TAGS = "ecr-image-tags-immutable"

WEB = {"protocol": "tcp", "fromPort": 443, "toPort": 443, "cidrBlocks": ["0.0.0.0/0"], "ipv6CidrBlocks": ["::/0"]}
ADMIN = {"protocol": "tcp", "fromPort": 22, "toPort": 22, "cidrBlocks": ["10.20.0.0/16"]}
EVERYTHING = {"protocol": "-1", "fromPort": 0, "toPort": 0, "cidrBlocks": ["0.0.0.0/0"], "ipv6CidrBlocks": ["::/0"]}


def ingress(*entries: dict[str, Any]) -> dict[str, Any]:
    """The security group's ``ingress``: the web and admin entries, then ``entries``."""
    return {"ingress": [WEB, ADMIN, *entries]}


BASELINES |= {
    # A web server's group: HTTPS from anywhere, SSH from the office network, everything out.
    SECURITY_GROUP: {"vpcId": "vpc-1", "ingress": [WEB, ADMIN], "egress": [EVERYTHING]},
    SECURITY_GROUP_RULE: {"type": "ingress", "securityGroupId": "sg-1"} | {k: WEB[k] for k in WEB},
    INGRESS_RULE: {
        "securityGroupId": "sg-1",
        "ipProtocol": "tcp",
        "fromPort": 80,
        "toPort": 80,
        "cidrIpv4": "0.0.0.0/0",
    },
    REPOSITORY: {"name": "app", "imageTagMutability": "IMMUTABLE", "imageScanningConfiguration": {"scanOnPush": True}},
}

NETWORK_CASES: list[Case] = [
    # ---- security groups: inline ingress
    ok(OPEN, SECURITY_GROUP),
    ok(OPEN, SECURITY_GROUP, "no-inline-rules", {"ingress": DELETE}),
    bad(OPEN, SECURITY_GROUP, "ssh-from-anywhere", {"ingress.1.cidrBlocks": ["0.0.0.0/0"]}, "TCP port 22 (remote"),
    bad(
        OPEN,
        SECURITY_GROUP,
        "rdp-from-anywhere-ipv6",
        ingress({"protocol": "tcp", "fromPort": 3389, "toPort": 3389, "ipv6CidrBlocks": ["::/0"]}),
        "ingress[2] admits TCP port 3389 (remote administration: 3389 RDP) from ::/0",
    ),
    bad(OPEN, SECURITY_GROUP, "all-traffic", ingress(EVERYTHING), "all traffic (protocol -1"),
    bad(
        OPEN,
        SECURITY_GROUP,
        "every-tcp-port",
        ingress({"protocol": "tcp", "fromPort": 0, "toPort": 65535, "cidrBlocks": ["0.0.0.0/0"]}),
        "TCP ports 0-79, 81-442, 444-65535 (remote administration: 22 SSH, 3389 RDP)",
    ),
    bad(
        OPEN,
        SECURITY_GROUP,
        "app-port-from-anywhere",
        ingress({"protocol": "tcp", "fromPort": 8080, "toPort": 8080, "cidrBlocks": ["0.0.0.0/0"]}),
        "TCP port 8080 from 0.0.0.0/0",
    ),
    ok(
        OPEN,
        SECURITY_GROUP,
        "app-port-allowed-by-config",
        ingress({"protocol": "tcp", "fromPort": 8080, "toPort": 8080, "cidrBlocks": ["0.0.0.0/0"]}),
        config={"allowedTcpPorts": [80, 443, 8080]},
    ),
    bad(
        OPEN,
        SECURITY_GROUP,
        "https-no-longer-allowed-by-config",
        {},
        "TCP port 443 from 0.0.0.0/0, ::/0",
        config={"allowedTcpPorts": [80]},
    ),
    bad(
        OPEN,
        SECURITY_GROUP,
        "udp-port-from-anywhere",
        ingress({"protocol": "udp", "fromPort": 53, "toPort": 53, "cidrBlocks": ["0.0.0.0/0"]}),
        "UDP port 53",
    ),
    ok(
        OPEN,
        SECURITY_GROUP,
        "udp-port-allowed-by-config",
        ingress({"protocol": "17", "fromPort": 443, "toPort": 443, "cidrBlocks": ["0.0.0.0/0"]}),
        config={"allowedUdpPorts": [443]},
    ),
    bad(
        OPEN,
        SECURITY_GROUP,
        "protocol-number-and-non-canonical-cidr",
        ingress({"protocol": "6", "fromPort": 5432, "toPort": 5432, "ipv6CidrBlocks": ["::0/0"]}),
        "TCP port 5432 from ::0/0",
    ),
    ok(
        OPEN,
        SECURITY_GROUP,
        "icmp-from-anywhere",
        ingress({"protocol": "icmp", "fromPort": -1, "toPort": -1, "cidrBlocks": ["0.0.0.0/0"]}),
    ),
    ok(
        OPEN,
        SECURITY_GROUP,
        "ssh-from-a-group",
        ingress({"protocol": "tcp", "fromPort": 22, "toPort": 22, "securityGroups": ["sg-bastion"]}),
    ),
    ok(OPEN, SECURITY_GROUP, "all-traffic-within-the-group", ingress({"protocol": "-1", "fromPort": 0, "self": True})),
    bad(
        OPEN,
        SECURITY_GROUP,
        "open-entry-beside-one-unknown-in-preview",
        ingress({**ADMIN, "cidrBlocks": UNKNOWN}, {**ADMIN, "cidrBlocks": ["0.0.0.0/0"]}),
        "ingress[3] admits TCP port 22",
    ),
    bad(
        OPEN,
        SECURITY_GROUP,
        "tcp-without-ports",
        ingress({"protocol": "tcp", "cidrBlocks": ["0.0.0.0/0"]}),
        "ingress[2]: a TCP permission needs fromPort and toPort",
    ),
    # ---- security groups: SecurityGroupRule
    ok(OPEN, SECURITY_GROUP_RULE),
    bad(OPEN, SECURITY_GROUP_RULE, "ssh-rule", {"fromPort": 22, "toPort": 22}, "the rule admits TCP port 22"),
    bad(OPEN, SECURITY_GROUP_RULE, "all-protocol-name", {"protocol": "all"}, "all traffic"),
    ok(OPEN, SECURITY_GROUP_RULE, "egress-everywhere", {"type": "egress", "protocol": "-1"}),
    bad(OPEN, SECURITY_GROUP_RULE, "protocol-as-a-number", {"protocol": -1}, "the rule admits all traffic"),
    ok(
        OPEN,
        SECURITY_GROUP_RULE,
        "ssh-from-a-group",
        {"fromPort": 22, "toPort": 22, "cidrBlocks": DELETE, "ipv6CidrBlocks": DELETE, "sourceSecurityGroupId": "sg-2"},
    ),
    # ---- security groups: vpc.SecurityGroupIngressRule
    ok(OPEN, INGRESS_RULE),
    bad(
        OPEN,
        INGRESS_RULE,
        "all-traffic-ipv6",
        {"ipProtocol": "-1", "fromPort": DELETE, "toPort": DELETE, "cidrIpv4": DELETE, "cidrIpv6": "::/0"},
        "the rule admits all traffic (protocol -1: every protocol, every port) from ::/0",
    ),
    bad(OPEN, INGRESS_RULE, "ssh-range", {"fromPort": 20, "toPort": 23}, "TCP ports 20-23 (remote administration"),
    ok(OPEN, INGRESS_RULE, "ssh-from-a-cidr", {"fromPort": 22, "toPort": 22, "cidrIpv4": "203.0.113.0/24"}),
    ok(
        OPEN,
        INGRESS_RULE,
        "ssh-from-a-prefix-list",
        {"fromPort": 22, "toPort": 22, "cidrIpv4": DELETE, "prefixListId": "pl-0123456789abcdef0"},
    ),
    # ---- ecr image tags
    ok(TAGS, REPOSITORY),
    ok(
        TAGS,
        REPOSITORY,
        "immutable-but-latest",
        {
            "imageTagMutability": "IMMUTABLE_WITH_EXCLUSION",
            "imageTagMutabilityExclusionFilters": [{"filter": "latest", "filterType": "WILDCARD"}],
        },
    ),
    bad(TAGS, REPOSITORY, "mutable-by-default", {"imageTagMutability": DELETE}, "'MUTABLE' (the default)"),
    bad(TAGS, REPOSITORY, "mutable", {"imageTagMutability": "MUTABLE"}, "imageTagMutability is 'MUTABLE':"),
    bad(
        TAGS,
        REPOSITORY,
        "mutable-with-exclusion",
        {"imageTagMutability": "MUTABLE_WITH_EXCLUSION"},
        "imageTagMutability is 'MUTABLE_WITH_EXCLUSION'",
    ),
]
