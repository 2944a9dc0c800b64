"""Amazon EC2: IMDSv2 for instance metadata, security groups closed to the internet, EBS storage encrypted at rest.

A security group's ingress is written three ways in ``pulumi_aws``: inline ``ingress`` blocks of a
``SecurityGroup``, a ``SecurityGroupRule`` of type ``ingress``, and a ``vpc.SecurityGroupIngressRule`` (one CIDR
each). The open-ingress rule reads all three the same way: who (a CIDR of the whole internet), which protocol,
which ports.

EBS encryption is a stack rule: a volume is encrypted by its own ``encrypted`` flag, or by the account's default
encryption for its Region (``ebs.EncryptionByDefault``), which the stack may turn on beside it.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from pulumi_policy import EnforcementLevel, Severity

from policy_pack._core import (
    ABSENT,
    BadValueError,
    CannotEvaluateError,
    Finding,
    Props,
    ResourceRule,
    StackRule,
    StackView,
)

INSTANCE: Final = "aws:ec2/instance:Instance"
LAUNCH_TEMPLATE: Final = "aws:ec2/launchTemplate:LaunchTemplate"
LAUNCH_CONFIGURATION: Final = "aws:ec2/launchConfiguration:LaunchConfiguration"
SECURITY_GROUP: Final = "aws:ec2/securityGroup:SecurityGroup"
SECURITY_GROUP_RULE: Final = "aws:ec2/securityGroupRule:SecurityGroupRule"
INGRESS_RULE: Final = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
VOLUME: Final = "aws:ebs/volume:Volume"
ENCRYPTION_BY_DEFAULT: Final = "aws:ebs/encryptionByDefault:EncryptionByDefault"

SERVICE: Final = "ec2"


def _imdsv2_required(props: Props, config: Mapping[str, Any], _: str) -> Iterator[str]:
    if not props.is_set("metadataOptions") and props.is_set("launchTemplate"):
        return  # the instance takes its metadata options from the launch template, checked on its own
    options = props.child("metadataOptions")
    if options.text("httpEndpoint", "enabled") == "disabled":
        return  # no metadata service at all
    tokens = options.text("httpTokens", "optional")
    if tokens != "required":
        unset = "" if options.has("httpTokens") else " (not set: IMDSv1 stays on unless the AMI says otherwise)"
        yield (
            f"metadataOptions.httpTokens is {tokens!r}{unset}: IMDSv1 answers any request from the instance, so an "
            "SSRF bug leaks the role's credentials; set metadataOptions.httpTokens 'required'"
        )


# The protocol names and numbers EC2 accepts for "every protocol", TCP and UDP (IANA numbers 6 and 17).
ALL_PROTOCOLS: Final = frozenset({"-1", "all"})
PROTOCOLS: Final = {"tcp": "TCP", "6": "TCP", "udp": "UDP", "17": "UDP"}
ADMIN_PORTS: Final = {22: "SSH", 3389: "RDP"}
HIGHEST_PORT: Final = 65535


@dataclass(frozen=True)
class Ingress:
    """One ingress permission as EC2 applies it: a protocol (``None``: every protocol) and a port range."""

    where: str
    """How the message names it: ``ingress[0]`` in a group, ``the rule`` for a rule resource."""
    protocol: str | None
    low: int
    high: int

    def open_ports(self, allowed: frozenset[int]) -> list[tuple[int, int]]:
        """The ranges of this permission's ports that are not in ``allowed``."""
        ranges: list[tuple[int, int]] = []
        start = self.low
        for port in sorted(port for port in allowed if self.low <= port <= self.high):
            if port > start:
                ranges.append((start, port - 1))
            start = port + 1
        if start <= self.high:
            ranges.append((start, self.high))
        return ranges


def _ingress(props: Props, where: str, protocol_key: str) -> Ingress | None:
    """The permission ``props`` grants, ``None`` for a protocol without ports this rule leaves alone (ICMP, GRE…).

    Raises
    ------
    CannotEvaluateError
        When the protocol or a port is unknown during preview.
    BadValueError
        When a TCP or UDP permission has no port range (the provider would reject it).
    """
    # A number is accepted too (protocol=-1 in Python): the provider reads it as the string.
    protocol = str(props.get(protocol_key, "")).strip().lower()
    if protocol in ALL_PROTOCOLS:
        return Ingress(where, None, 0, HIGHEST_PORT)
    if protocol not in PROTOCOLS:
        return None  # ICMP (reachability, path MTU discovery) and protocols without ports
    low, high = props.number("fromPort"), props.number("toPort")
    if low is ABSENT or high is ABSENT:
        raise BadValueError(f"{where}: a {PROTOCOLS[protocol]} permission needs fromPort and toPort")
    return Ingress(where, PROTOCOLS[protocol], max(int(low), 0), min(int(high), HIGHEST_PORT))


def _whole_internet(props: Props, keys: tuple[str, ...]) -> tuple[list[str], bool]:
    """The CIDRs under ``keys`` (lists or single values) that cover every address, and whether one is unknown."""
    found: list[str] = []
    unknown = False
    for key in keys:
        try:
            value = props.get(key)
        except CannotEvaluateError:
            unknown = True
            continue
        listed = isinstance(value, Sequence) and not isinstance(value, str)
        paths = [f"{key}.{index}" for index in range(len(value))] if listed else [key]
        for path in paths:
            try:
                cidr = str(props.get(path, "")).strip()
            except CannotEvaluateError:
                unknown = True
                continue
            try:
                if ipaddress.ip_network(cidr, strict=False).prefixlen == 0:
                    found.append(cidr)
            except ValueError:
                continue  # not a CIDR: the provider rejects it
    return found, unknown


def _entries(props: Props, resource_type: str) -> list[tuple[Props, str, str, tuple[str, ...]]]:
    """``(permission, how to name it, protocol key, CIDR keys)`` of each ingress permission of the resource."""
    if resource_type == SECURITY_GROUP:
        return [
            (entry, f"ingress[{index}]", "protocol", ("cidrBlocks", "ipv6CidrBlocks"))
            for index, entry in enumerate(props.each("ingress"))
        ]
    if resource_type == SECURITY_GROUP_RULE:
        if props.text("type", "") != "ingress":
            return []  # egress: what leaves is not a way in
        return [(props, "the rule", "protocol", ("cidrBlocks", "ipv6CidrBlocks"))]
    return [(props, "the rule", "ipProtocol", ("cidrIpv4", "cidrIpv6"))]


def _describe(permission: Ingress, ranges: list[tuple[int, int]]) -> str:
    if permission.protocol is None:
        return "all traffic (protocol -1: every protocol, every port)"
    ports = ", ".join(str(low) if low == high else f"{low}-{high}" for low, high in ranges)
    plural = "s" if len(ranges) > 1 or ranges[0][0] != ranges[0][1] else ""
    admin = [f"{port} {name}" for port, name in ADMIN_PORTS.items() if any(lo <= port <= hi for lo, hi in ranges)]
    remote = f" (remote administration: {', '.join(admin)})" if admin else ""
    return f"{permission.protocol} port{plural} {ports}{remote}"


def _no_open_ingress(props: Props, config: Mapping[str, Any], resource_type: str) -> Iterator[str]:
    # Numbers reach the pack as floats through the engine's config: ports are whole numbers.
    allowed = {
        protocol: frozenset(int(port) for port in config[f"allowed{protocol.title()}Ports"])
        for protocol in PROTOCOLS.values()
    }
    found: list[str] = []
    undecided: list[str] = []
    for entry, where, protocol_key, cidr_keys in _entries(props, resource_type):
        try:
            permission = _ingress(entry, where, protocol_key)
        except CannotEvaluateError:
            undecided.append(f"the port range of {where}")
            continue
        except BadValueError as error:
            found.append(str(error))
            continue
        if permission is None:
            continue
        ranges = permission.open_ports(allowed[permission.protocol]) if permission.protocol else [(0, HIGHEST_PORT)]
        if not ranges:
            continue  # only public ports: a web endpoint
        anywhere, unknown = _whole_internet(entry, cidr_keys)
        if anywhere:
            found.append(
                f"{where} admits {_describe(permission, ranges)} from {', '.join(anywhere)}: anyone on the internet "
                "can reach what listens there and try its credentials or its bugs; admit a known CIDR or a security "
                "group (the load balancer's, a bastion's) instead, reach instances with SSM Session Manager rather "
                "than open SSH or RDP, or list a port meant to be public in allowedTcpPorts/allowedUdpPorts"
            )
        elif unknown:
            undecided.append(f"the source of {where}")
    # A permission whose source is unknown in a preview does not hide an open one known beside it.
    if undecided and not found:
        raise CannotEvaluateError(undecided[0])
    yield from found


# ---- EBS encryption at rest ----------------------------------------------------------------------------------------

STORAGE_KINDS: Final = {
    INSTANCE: "instance",
    LAUNCH_TEMPLATE: "launch template",
    LAUNCH_CONFIGURATION: "launch configuration",
    VOLUME: "volume",
}
# What a resource without a block for its root device gets: the AMI's snapshot, with the AMI's encryption.
FROM_THE_AMI: Final = "the root volume (no {block}: it is created from the AMI's snapshot, unencrypted unless that is)"


def _named(block: Props, where: str) -> str:
    """``where`` with the block's device name when it is known (``ebsBlockDevices[0] (/dev/sdf)``)."""
    try:
        device = block.get("deviceName", None)
    except CannotEvaluateError:
        device = None
    return f"{where} ({device})" if isinstance(device, str) and device else where


def _ebs_blocks(props: Props, resource_type: str) -> list[tuple[str, Props]]:
    """``(how to name it, block with encrypted/snapshotId)`` of each EBS volume the resource creates.

    Raises
    ------
    CannotEvaluateError
        When a list of devices, or a block, is unknown during preview.
    BadValueError
        When a block is not an object.
    """
    if resource_type == VOLUME:
        return [("the volume", props)]
    if resource_type == LAUNCH_TEMPLATE:
        mappings = [
            (_named(mapping, f"blockDeviceMappings[{index}]"), mapping.child("ebs"))
            for index, mapping in enumerate(props.each("blockDeviceMappings"))
            if mapping.is_set("ebs")  # instance-store (virtualName) and noDevice mappings create no EBS volume
        ]
        # Without an EBS mapping the template leaves every volume to the AMI, the root volume included.
        return mappings or [(FROM_THE_AMI.format(block="blockDeviceMappings"), Props({}))]
    blocks = [
        (_named(block, f"ebsBlockDevices[{index}]"), block) for index, block in enumerate(props.each("ebsBlockDevices"))
    ]
    if props.is_set("rootBlockDevice"):
        blocks.insert(0, ("rootBlockDevice", props.child("rootBlockDevice")))
    elif not (resource_type == INSTANCE and props.is_set("launchTemplate")):
        # An instance that names a launch template takes its root volume from the template, checked on its own.
        blocks.insert(0, (FROM_THE_AMI.format(block="rootBlockDevice"), Props({})))
    return blocks


def unencrypted_volumes(props: Props, resource_type: str) -> tuple[list[str], list[str]]:
    """The EBS volumes a resource creates unencrypted (as the message names each), and those unknown in a preview.

    A volume restored from a snapshot (``snapshotId``) takes the snapshot's encryption, which the program does not
    show: it is left alone, as checkov CKV_AWS_8 leaves it.
    """
    try:
        blocks = _ebs_blocks(props, resource_type)
    except CannotEvaluateError:
        return [], ["the block devices"]
    except BadValueError as error:
        return [str(error)], []
    found: list[str] = []
    undecided: list[str] = []
    for where, block in blocks:
        try:
            if block.is_set("snapshotId") or block.flag("encrypted", False) is True:
                continue
            unset = not block.has("encrypted") and not where.startswith("the root")
            found.append(f"{where} (encrypted not set)" if unset else where)
        except CannotEvaluateError:
            undecided.append(f"the encryption of {where}")
        except BadValueError as error:
            found.append(f"{where}: {error}")
    return found, undecided


def default_encryption(stack: StackView, region: str | None) -> bool | None:
    """Whether an ``ebs.EncryptionByDefault`` of the stack turns default encryption on in ``region``.

    ``None`` when one that could is unknown in a preview. ``enabled`` absent is on (the provider's default); one of
    another Region (its own ``region``, when both are known) does not count.
    """
    unknown = False
    for setting in stack.of_type(ENCRYPTION_BY_DEFAULT):
        try:
            own = setting.props.get("region", None)
            if isinstance(own, str) and region and own != region:
                continue
            if setting.props.flag("enabled", True) is True:
                return True
        except CannotEvaluateError:
            unknown = True
        except BadValueError:
            continue  # the provider rejects it: it turns nothing on
    return None if unknown else False


def _region(props: Props) -> str | None:
    try:
        region = props.get("region", None)
    except CannotEvaluateError:
        return None
    return region if isinstance(region, str) else None


def _ebs_encrypted(stack: StackView, config: Mapping[str, Any]) -> Iterator[Finding]:
    for node in stack.of_type(*STORAGE_KINDS):
        found, undecided = unencrypted_volumes(node.props, node.type)
        if not found and not undecided:
            continue
        covered = default_encryption(stack, _region(node.props))
        if covered is True:
            continue
        kind = STORAGE_KINDS[node.type]
        if found and covered is False:
            yield Finding(
                f"{kind} {node.name}: {'; '.join(found)} not encrypted at rest, and the stack does not turn on default "
                "EBS encryption: the data, its snapshots and the volumes made from them are readable by anyone who "
                "gets a copy; set encrypted true on each block (rootBlockDevice, ebsBlockDevices, a launch template's "
                "blockDeviceMappings[].ebs.encrypted 'true', a volume's encrypted), or add aws.ebs.EncryptionByDefault "
                "(enabled) for the account and Region, created before the volumes (depends_on); if the account "
                "already encrypts by default outside this stack, waive the rule for this stack with that reason",
                node.urn,
            )
        elif found:
            stack.cannot_evaluate(f"whether aws.ebs.EncryptionByDefault turns on default encryption for {node.name}")
        else:
            stack.cannot_evaluate(f"{', '.join(undecided)} of {node.name}")


RULES: Final = [
    ResourceRule(
        name="ec2-imdsv2-required",
        summary="EC2 instances, launch templates and launch configurations require IMDSv2 (httpTokens 'required')",
        anchors=("checkov CKV_AWS_79", "AWS Security Hub EC2.8", "AWS Security Hub EC2.170"),
        severity=Severity.HIGH,
        enforcement_level=EnforcementLevel.MANDATORY,
        service=SERVICE,
        resource_types=(INSTANCE, LAUNCH_TEMPLATE, LAUNCH_CONFIGURATION),
        check=_imdsv2_required,
    ),
    ResourceRule(
        name="ec2-security-group-no-open-ingress",
        summary=(
            "Security groups admit traffic from the whole internet (0.0.0.0/0, ::/0) only to the public ports "
            "listed in allowedTcpPorts/allowedUdpPorts (80 and 443 by default): never all traffic, SSH or RDP"
        ),
        anchors=(
            "AWS Security Hub EC2.18",
            "AWS Security Hub EC2.19",
            "AWS Security Hub EC2.53",
            "AWS Security Hub EC2.54",
            "CIS AWS Foundations 2.0 5.2",
            "CIS AWS Foundations 2.0 5.3",
            "checkov CKV_AWS_24",
            "checkov CKV_AWS_25",
            "checkov CKV_AWS_277",
        ),
        severity=Severity.HIGH,
        enforcement_level=EnforcementLevel.MANDATORY,
        service=SERVICE,
        resource_types=(SECURITY_GROUP, SECURITY_GROUP_RULE, INGRESS_RULE),
        check=_no_open_ingress,
        config={
            "allowedTcpPorts": {
                "type": "array",
                "items": {"type": "integer", "minimum": 0, "maximum": HIGHEST_PORT},
                "default": [80, 443],
            },
            "allowedUdpPorts": {
                "type": "array",
                "items": {"type": "integer", "minimum": 0, "maximum": HIGHEST_PORT},
                "default": [],
            },
        },
    ),
    StackRule(
        name="ec2-ebs-encrypted",
        summary=(
            "EBS volumes are encrypted at rest: instances' and launch configurations' block devices, launch templates' "
            "mappings and volumes set encrypted, or the stack turns on default EBS encryption"
        ),
        anchors=(
            "AWS Security Hub EC2.3",
            "AWS Security Hub EC2.7",
            "checkov CKV_AWS_3",
            "checkov CKV_AWS_8",
        ),
        severity=Severity.HIGH,
        enforcement_level=EnforcementLevel.MANDATORY,
        service=SERVICE,
        resource_types=(*STORAGE_KINDS, ENCRYPTION_BY_DEFAULT),
        check=_ebs_encrypted,
    ),
]
