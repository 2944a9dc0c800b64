"""Offline models of the awsx package's EC2, load balancer and CloudTrail components (see :mod:`offline.constructs`).

Each model follows awsx 3.11 (the provider's TypeScript under ``awsx/`` in pulumi/pulumi-awsx, read at commit
e60adf3): ``ec2/vpc.ts`` with its subnet allocators (``ec2/subnetDistributorLegacy.ts``,
``ec2/subnetDistributorNew.ts``, ``ec2/subnetNaming.ts``), ``ec2/defaultVpc.ts``, ``lb/applicationLoadBalancer.ts``,
``lb/networkLoadBalancer.ts``, ``lb/targetGroupAttachment.ts`` and ``cloudtrail/trail.ts`` (with ``s3/bucket.ts``,
``cloudwatch/logGroup.ts`` and ``role.ts``). What the package reads through a data source (the default VPC's
subnets, a subnet's VPC, a target group's target type) is not known to a pure model and stays unknown.
"""

from __future__ import annotations

import ipaddress
import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Final

from offline.constructs import UNKNOWN, Child, ComponentModel, ConstructContext, Derived, Ref, is_known, unwrap

RELEASE: Final = "awsx 3.11 (pulumi/pulumi-awsx@e60adf3"

VPC: Final = "aws:ec2/vpc:Vpc"
SUBNET: Final = "aws:ec2/subnet:Subnet"
ROUTE_TABLE: Final = "aws:ec2/routeTable:RouteTable"
ROUTE_TABLE_ASSOCIATION: Final = "aws:ec2/routeTableAssociation:RouteTableAssociation"
ROUTE: Final = "aws:ec2/route:Route"
INTERNET_GATEWAY: Final = "aws:ec2/internetGateway:InternetGateway"
NAT_GATEWAY: Final = "aws:ec2/natGateway:NatGateway"
EIP: Final = "aws:ec2/eip:Eip"
VPC_ENDPOINT: Final = "aws:ec2/vpcEndpoint:VpcEndpoint"
SECURITY_GROUP: Final = "aws:ec2/securityGroup:SecurityGroup"
SECURITY_GROUP_RULE: Final = "aws:ec2/securityGroupRule:SecurityGroupRule"
LOAD_BALANCER: Final = "aws:lb/loadBalancer:LoadBalancer"
TARGET_GROUP: Final = "aws:lb/targetGroup:TargetGroup"
LISTENER: Final = "aws:lb/listener:Listener"
TARGET_GROUP_ATTACHMENT: Final = "aws:lb/targetGroupAttachment:TargetGroupAttachment"
LAMBDA_PERMISSION: Final = "aws:lambda/permission:Permission"
BUCKET: Final = "aws:s3/bucket:Bucket"
BUCKET_POLICY: Final = "aws:s3/bucketPolicy:BucketPolicy"
LOG_GROUP: Final = "aws:cloudwatch/logGroup:LogGroup"
ROLE: Final = "aws:iam/role:Role"
TRAIL: Final = "aws:cloudtrail/trail:Trail"

ANYWHERE: Final = "0.0.0.0/0"
DEFAULT_VPC_CIDR: Final = "10.0.0.0/16"
DEFAULT_AZ_COUNT: Final = 3

# The inputs of aws.ec2.Vpc: the Node SDK keeps only these of the spread component args.
_VPC_INPUTS: Final = (
    "assignGeneratedIpv6CidrBlock",
    "enableDnsHostnames",
    "enableDnsSupport",
    "enableNetworkAddressUsageMetrics",
    "instanceTenancy",
    "ipv4IpamPoolId",
    "ipv4NetmaskLength",
    "ipv6CidrBlock",
    "ipv6CidrBlockNetworkBorderGroup",
    "ipv6IpamPoolId",
    "ipv6NetmaskLength",
    "region",
)
# The inputs of aws.ec2.VpcEndpoint an endpoint spec may carry.
_ENDPOINT_INPUTS: Final = (
    "autoAccept",
    "dnsOptions",
    "ipAddressType",
    "policy",
    "resourceConfigurationArn",
    "serviceRegion",
    "serviceNetworkArn",
    "subnetConfigurations",
    "vpcEndpointType",
)
_TYPE_ORDER: Final = {"public": 0, "private": 1, "isolated": 2}


def key(child_type: str, name: str) -> str:
    """The handle of a child (:attr:`Child.key`): awsx gives a subnet, its route table and more one name."""
    return f"{child_type}::{name}"


def keyed(children: list[Child]) -> list[Child]:
    """``children`` each with its :func:`key`, the handle this module's parents and references use."""
    return [replace(child, key=key(child.type, child.name)) for child in children]


def _set(inputs: Mapping[str, Any], name: str) -> bool:
    return inputs.get(name) is not None


def _object(value: Any) -> dict[str, Any]:
    """An object input as the provider's TypeScript reads it: a number or string given for it has no fields.

    (``natGateways=1`` from a program reads as ``(1).strategy``, undefined: the defaults apply.)
    """
    value = unwrap(value)
    return value if isinstance(value, dict) else {}


def _plain(inputs: Mapping[str, Any], name: str, what: str) -> Any:
    """A value that decides which children exist: the package needs it known, as does the model."""
    value = unwrap(inputs.get(name))
    if not is_known(value):
        raise ValueError(f"{what}: {name} must be known during a preview (the awsx provider reads it to plan children)")
    return value


def _int(value: Any) -> int:
    # Numbers cross the wire as protobuf doubles.
    return int(value)


def _region(inputs: Mapping[str, Any]) -> dict[str, Any]:
    return {"region": inputs["region"]} if _set(inputs, "region") else {}


# --- awsx:ec2:Vpc -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SubnetPlan:
    """One subnet the Vpc component creates, before it becomes children."""

    az: str
    """Availability zone name."""
    az_number: int
    """1-based index of the zone (the ``-1`` in ``vpc-public-1``)."""
    type: str
    """``Public``, ``Private``, ``Isolated`` (``Unused`` ranges are never created)."""
    resource_name: str
    """The logical name of the subnet, its route table, association and route."""
    name_tag: str
    """Its ``Name`` tag (the AZ suffix under ``subnetNameTagStrategy: AvailabilityZone``)."""
    cidr_block: Any
    """IPv4 CIDR, or :data:`UNKNOWN` while the VPC's own block is (an IPAM allocation)."""
    spec: Mapping[str, Any]
    """The subnet spec it comes from (tags, assignIpv6AddressOnCreation)."""


def availability_zones(inputs: Mapping[str, Any], region: str) -> list[str]:
    """The zones the VPC spans: ``availabilityZoneNames``, or the region's first N (3 unless told).

    The package asks ``aws.getAvailabilityZones`` and keeps the first ``numberOfAvailabilityZones``; the model
    takes the zones lettered ``a``, ``b``, ``c``… as the offline engine's answer to that data source does.
    """
    if _set(inputs, "availabilityZoneNames"):
        if _set(inputs, "numberOfAvailabilityZones"):
            raise ValueError("awsx:ec2:Vpc: only one of availabilityZoneNames and numberOfAvailabilityZones")
        return [str(zone) for zone in _plain(inputs, "availabilityZoneNames", "awsx:ec2:Vpc")]
    count = _int(_plain(inputs, "numberOfAvailabilityZones", "awsx:ec2:Vpc") or DEFAULT_AZ_COUNT)
    zone_region = str(inputs["region"]) if _set(inputs, "region") else region
    return [f"{zone_region}{chr(ord('a') + index)}" for index in range(count)]


def vpc_cidr_block(inputs: Mapping[str, Any]) -> Any:
    """The VPC's IPv4 block: the one given, none with an IPAM pool (``None``), else ``10.0.0.0/16``."""
    if _set(inputs, "cidrBlock"):
        return unwrap(inputs["cidrBlock"])
    if _set(inputs, "ipv4IpamPoolId"):
        return None
    return DEFAULT_VPC_CIDR


def zone_suffix(zone: str) -> str:
    """A zone's name less its region's words: ``us-east-1a`` → ``1a``, ``us-west-2-lax-1a`` → ``2-lax-1a``.

    A name of another shape is kept whole (still unique).
    """
    parts = zone.split("-")
    words = 0
    while words < len(parts) and parts[words].isalpha():
        words += 1
    return "-".join(parts[words:]) if len(parts[0]) == 2 and 2 <= words < len(parts) else zone


def _subnet_name(vpc_name: str, spec: Mapping[str, Any], az_number: int, az: str, strategy: str) -> str:
    spec_name = spec.get("name") or str(spec["type"]).lower()
    suffix = zone_suffix(az) if strategy == "AvailabilityZone" else str(az_number)
    return f"{vpc_name}-{spec_name}-{suffix}"


def _normalised_specs(specs: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Specs with ``size`` turned into ``cidrMask`` (a /N block holds 2**(32-N) addresses)."""
    normalised: list[dict[str, Any]] = []
    for spec in specs:
        plain = {name: unwrap(value) for name, value in spec.items() if value is not None}
        if "cidrMask" not in plain and "size" in plain:
            plain["cidrMask"] = 32 - int(math.log2(int(plain["size"])))
        if "cidrMask" in plain:
            plain["cidrMask"] = _int(plain["cidrMask"])
        normalised.append(plain)
    return normalised


def _block(address: int, prefix: int) -> ipaddress.IPv4Network:
    return ipaddress.IPv4Network((address, prefix), strict=False)


def _offset_block(cidr: str, new_bits: int, index: int) -> str:
    """``cidr`` split into 2**new_bits blocks, the ``index``-th, counted from the address as written."""
    prefix = ipaddress.IPv4Interface(cidr).network.prefixlen + new_bits
    if prefix > 32:
        raise ValueError(f"awsx:ec2:Vpc: {cidr} has no room for {new_bits} more bits")
    return _nth_block(cidr, prefix, index)


def _nth_block(start: str, prefix: int, index: int) -> str:
    """The ``index``-th /prefix block counted from ``start``'s address as written (not masked)."""
    address = int(ipaddress.IPv4Interface(start).ip) + 2 ** (32 - prefix) * index
    return f"{ipaddress.IPv4Address(address)}/{prefix}"


def _overlap(first: str, second: str) -> bool:
    (low1, high1), (low2, high2) = _range(first), _range(second)
    return low1 <= high2 and low2 <= high1


def _range(cidr: str) -> tuple[int, int]:
    network = ipaddress.IPv4Interface(cidr).network
    return int(network.network_address), int(network.broadcast_address)


def _after(previous: str, prefix: int) -> str:
    """The first block of size /prefix wholly after the block ``previous`` ends in."""
    last = _range(previous)[1]
    following = int(_block(last, prefix).broadcast_address) + 1
    return f"{ipaddress.IPv4Address(following)}/{prefix}"


def _plan(
    vpc_name: str, spec: Mapping[str, Any], zones: Sequence[str], az_index: int, name_tags: str, block: Any
) -> SubnetPlan:
    zone = zones[az_index]
    return SubnetPlan(
        az=zone,
        az_number=az_index + 1,
        type=str(spec["type"]),
        resource_name=_subnet_name(vpc_name, spec, az_index + 1, zone, "Legacy"),
        name_tag=_subnet_name(vpc_name, spec, az_index + 1, zone, name_tags),
        cidr_block=block,
        spec=spec,
    )


def legacy_subnets(
    vpc_name: str, cidr: str, zones: Sequence[str], specs: Sequence[Mapping[str, Any]] | None, strategy: str
) -> list[SubnetPlan]:
    """The ``Legacy`` allocator (awsx's default): each AZ a power-of-two share of the VPC, then its subnets.

    Without specs: a private half of the AZ's block and a public quarter (``10.0.0.0/19`` and ``10.0.32.0/20``
    for the first of three AZs of a /16). With specs: private subnets first (/19 or larger), then public (/20),
    then isolated (/24), each moved past the previous one where they would overlap.
    """
    az_bits = (len(zones) - 1).bit_length()
    az_bases = [_offset_block(cidr, az_bits, index) for index in range(len(zones))]
    plans: list[SubnetPlan] = []

    def plan(index: int, spec: Mapping[str, Any], block: str) -> SubnetPlan:
        # This allocator writes each type in its canonical spelling.
        return _plan(vpc_name, {**spec, "type": str(spec["type"]).capitalize()}, zones, index, strategy, block)

    if specs is None:
        private = [plan(i, {"type": "Private"}, _offset_block(az_bases[i], 1, 0)) for i in range(len(zones))]
        public = [
            plan(i, {"type": "Public"}, _offset_block(_offset_block(private[i].cidr_block, 0, 1), 1, 0))
            for i in range(len(zones))
        ]
        return private + public

    base_prefix = ipaddress.IPv4Interface(az_bases[0]).network.prefixlen
    spare_bits = 0 if len(specs) == 1 else 1
    minimums = {"private": 19, "public": 20, "isolated": 24}
    for index in range(len(zones)):
        current = f"{ipaddress.IPv4Address(_range(az_bases[index])[0] - 1)}/32"
        made: dict[str, list[SubnetPlan]] = {"private": [], "public": [], "isolated": []}
        for kind, after in (("private", ()), ("public", ("private",)), ("isolated", ("public", "private"))):
            # Each kind starts at the block after the last subnet of the kind before it, or at the AZ's base.
            earlier = next((made[other][-1].cidr_block for other in after if made[other]), None)
            start = _offset_block(earlier, 0, 1) if earlier else az_bases[index]
            for number, spec in enumerate(spec for spec in specs if str(spec["type"]).lower() == kind):
                mask = spec.get("cidrMask") or max(base_prefix + spare_bits, minimums[kind])
                candidate = _nth_block(start, mask, number)
                if _overlap(current, candidate):
                    candidate = _after(current, mask)
                made[kind].append(plan(index, spec, candidate))
                current = candidate
        plans += made["private"] + made["public"] + made["isolated"]
    return plans


def auto_subnets(
    vpc_name: str,
    cidr: Any,
    zones: Sequence[str],
    specs: Sequence[Mapping[str, Any]] | None,
    az_cidr_mask: int | None,
    strategy: str,
    *,
    merge: bool,
) -> list[SubnetPlan]:
    """The ``Auto`` (and ``AutoMerge``) allocator: each AZ a block, its subnets packed in the order given.

    Without specs each AZ gets a private /(AZ+1) and a public /(AZ+2), both within the first /16; ``AutoMerge``
    adds those defaults for the types a program's specs leave out. While the VPC's block is unknown (IPAM),
    so is each subnet's.
    """
    bare = [{"type": "Private"}, {"type": "Public"}]
    layout = _merged(specs or [], bare) if merge else list(specs if specs is not None else bare)
    blocks: dict[tuple[int, int], str] = {}
    if cidr is not None and is_known(cidr):
        vpc_network = ipaddress.IPv4Network(cidr, strict=False)
        az_prefix = az_cidr_mask or vpc_network.prefixlen + (math.ceil(math.log2(len(zones))) if zones else 0)
        defaults = [{"type": spec["type"], "cidrMask": max(az_prefix, 16) + i + 1} for i, spec in enumerate(bare)]
        sized = _merged(specs or [], defaults) if merge else list(specs if specs is not None else defaults)
        subnet_prefix = az_prefix + (math.ceil(math.log2(len(sized))) if sized else 0)
        az_block = _block(int(vpc_network.network_address), az_prefix)
        for az_index in range(len(zones)):
            previous: str | None = None
            for spec_index, spec in enumerate(sized):
                mask = spec.get("cidrMask") or subnet_prefix
                block = str(_block(int(az_block.network_address), mask)) if previous is None else _after(previous, mask)
                blocks[az_index, spec_index] = previous = block
            az_block = _block(int(az_block.broadcast_address) + 1, az_prefix)
    return [
        _plan(vpc_name, spec, zones, az_index, strategy, blocks.get((az_index, spec_index), UNKNOWN))
        for az_index in range(len(zones))
        for spec_index, spec in enumerate(layout)
    ]


def _merged(user: Sequence[Mapping[str, Any]], defaults: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """``AutoMerge``: an unnamed spec of a default type overrides that default; the rest are added after."""
    overrides: dict[str, Mapping[str, Any]] = {}
    extra: list[dict[str, Any]] = []
    default_types = {str(spec["type"]).lower() for spec in defaults}
    for spec in user:
        kind = str(spec["type"]).lower()
        if kind in default_types and "name" not in spec:
            overrides[kind] = spec
        else:
            extra.append(dict(spec))
    return [{**spec, **overrides.get(str(spec["type"]).lower(), {})} for spec in defaults] + extra


def explicit_subnets(
    vpc_name: str, zones: Sequence[str], specs: Sequence[Mapping[str, Any]], strategy: str
) -> list[SubnetPlan]:
    """Specs that each list one ``cidrBlocks`` entry per AZ: those blocks, as given."""
    return [
        _plan(vpc_name, spec, zones, az_index, strategy, spec["cidrBlocks"][az_index])
        for az_index in range(len(zones))
        for spec in specs
    ]


def subnet_plans(inputs: Mapping[str, Any], vpc_name: str, zones: Sequence[str]) -> list[SubnetPlan]:
    """The subnets for the component's ``subnetStrategy`` (``Legacy`` unless told) and ``subnetSpecs``."""
    strategy = str(_plain(inputs, "subnetStrategy", "awsx:ec2:Vpc") or "Legacy")
    name_tags = str(_plain(inputs, "subnetNameTagStrategy", "awsx:ec2:Vpc") or "Legacy")
    raw_specs = _plain(inputs, "subnetSpecs", "awsx:ec2:Vpc")
    specs = _normalised_specs(raw_specs) if raw_specs is not None else None
    cidr = vpc_cidr_block(inputs)
    az_mask = _int(inputs["availabilityZoneCidrMask"]) if _set(inputs, "availabilityZoneCidrMask") else None
    if specs is None or strategy == "Legacy":
        if strategy in ("Auto", "AutoMerge") and specs is None:
            return auto_subnets(vpc_name, cidr, zones, None, az_mask, name_tags, merge=strategy == "AutoMerge")
        if cidr is None or not is_known(cidr):
            raise ValueError('awsx:ec2:Vpc: subnetStrategy "Legacy" needs a known cidrBlock; use "Auto"')
        return legacy_subnets(vpc_name, cidr, zones, specs, name_tags)
    if any("cidrBlocks" in spec for spec in specs):
        if strategy == "AutoMerge":
            raise ValueError('awsx:ec2:Vpc: subnetStrategy "AutoMerge" takes no cidrBlocks; use "Auto" or "Exact"')
        return explicit_subnets(vpc_name, zones, specs, name_tags)
    return auto_subnets(vpc_name, cidr, zones, specs, az_mask, name_tags, merge=strategy == "AutoMerge")


def nat_gateway_wanted(strategy: str, made: int, az_index: int) -> bool:
    """Whether the public subnet of AZ ``az_index`` hosts a NAT gateway: one per AZ, a single one, or none."""
    kind = strategy.lower()
    if kind == "none":
        return False
    if kind == "single":
        return made < 1
    if kind == "oneperaz":
        return made < az_index + 1
    raise ValueError(f"awsx:ec2:Vpc: unknown NAT gateway strategy {strategy!r}")


def check_nat_gateway_strategy(strategy: str, plans: Sequence[SubnetPlan]) -> None:
    """Refuse what the package refuses: NAT gateways need public subnets to sit in and others to serve.

    Raises
    ------
    ValueError
        For ``OnePerAz`` or ``Single`` without both a public and a private or isolated subnet.
    """
    if strategy.lower() not in ("oneperaz", "single"):
        return
    kinds = {plan.type.lower() for plan in plans}
    if "public" not in kinds or not kinds & {"private", "isolated"}:
        raise ValueError(
            f"awsx:ec2:Vpc: NAT gateway strategy {strategy!r} needs public subnets to host the gateways and private "
            "or isolated subnets to route through them; set natGateways.strategy 'None' or add the subnets"
        )


def _ipv6_subnet_block(index: int) -> Callable[[Any], str]:
    """The /64 the package carves from the VPC's /56 for the ``index``-th subnet: the low byte of its 4th hextet."""

    def carve(vpc_block: Any) -> str:
        address = ipaddress.IPv6Address(str(vpc_block).partition("/")[0])
        hextets = address.exploded.split(":")
        fourth = (int(hextets[3], 16) & 0xFF00) | index
        head = ":".join(format(int(part, 16), "x") for part in hextets[:3])
        return f"{head}:{fourth:x}::/64"

    return carve


def build_vpc(inputs: Mapping[str, Any], context: ConstructContext) -> list[Child]:
    """``awsx:ec2:Vpc``: a VPC with subnets, route tables, an internet gateway and NAT gateways (``ec2/vpc.ts``).

    Children: the VPC, its internet gateway, then per AZ and subnet (public first) the subnet, its route table,
    their association, an Elastic IP and NAT gateway in public subnets as the NAT strategy asks, and the route to
    the internet (gateway or NAT); then any VPC endpoints.

    Parameters
    ----------
    inputs:
        The component's wire inputs (``cidrBlock``, ``numberOfAvailabilityZones``, ``natGateways``,
        ``subnetSpecs``, ``subnetStrategy``, ``vpcEndpointSpecs``, ``tags``…).
    context:
        The component's name and the stack's region (which names the zones).

    Returns
    -------
    list[Child]
        In the package's registration order; a subnet, its route table, association and route share a name.
    """
    name = context.name
    zones = availability_zones(inputs, context.region)
    nat = _object(inputs.get("natGateways"))
    nat_strategy = str(unwrap(nat.get("strategy")) or "OnePerAz")
    allocation_ids = list(unwrap(nat.get("elasticIpAllocationIds")) or [])
    endpoint_strategy = str(_plain(inputs, "vpcEndpointStrategy", "awsx:ec2:Vpc") or "Legacy")
    endpoint_specs = [unwrap(spec) for spec in unwrap(inputs.get("vpcEndpointSpecs")) or []]
    tags = unwrap(inputs.get("tags")) or {}
    shared_tags = {"Name": name, **tags}
    region = _region(inputs)
    plans = subnet_plans(inputs, name, zones)
    check_nat_gateway_strategy(nat_strategy, plans)

    vpc_inputs = {field: inputs[field] for field in _VPC_INPUTS if _set(inputs, field)}
    if endpoint_strategy == "Auto" and any(
        _endpoint_type(spec) == "interface" and spec.get("privateDnsEnabled") in (None, True) for spec in endpoint_specs
    ):
        vpc_inputs.setdefault("enableDnsHostnames", True)
        vpc_inputs.setdefault("enableDnsSupport", True)
    cidr = vpc_cidr_block(inputs)
    if cidr is not None:
        vpc_inputs["cidrBlock"] = cidr
    vpc_inputs["tags"] = shared_tags
    vpc = key(VPC, name)
    children = [
        Child(VPC, name, vpc_inputs),
        Child(
            INTERNET_GATEWAY,
            name,
            {**region, "vpcId": Ref(vpc), "tags": shared_tags},
            parent=vpc,
            depends_on=(vpc,),
        ),
    ]
    assign_default = unwrap(inputs.get("assignGeneratedIpv6CidrBlock")) or False
    nat_names: list[str] = []
    route_tables: list[str] = []
    made_subnets: list[tuple[str, SubnetPlan]] = []
    for az_index, zone in enumerate(zones):
        here = [plan for plan in plans if plan.az == zone and plan.type.lower() != "unused"]
        here.sort(key=lambda plan: _TYPE_ORDER.get(plan.type.lower(), 2))
        for position, plan in enumerate(here):
            kind = plan.type.lower()
            subnet, table = key(SUBNET, plan.resource_name), key(ROUTE_TABLE, plan.resource_name)
            assign = plan.spec.get("assignIpv6AddressOnCreation")
            assign = assign_default if assign is None else assign
            subnet_inputs: dict[str, Any] = {
                **region,
                "vpcId": Ref(vpc),
                "availabilityZone": zone,
                "mapPublicIpOnLaunch": kind == "public",
                "cidrBlock": plan.cidr_block,
                "assignIpv6AddressOnCreation": assign,
                "tags": {
                    **shared_tags,
                    **(plan.spec.get("tags") or {}),
                    "Name": plan.name_tag,
                    "SubnetType": plan.type,
                },
            }
            if assign is True:
                block_index = az_index + position * len(zones)
                subnet_inputs["ipv6CidrBlock"] = Derived(Ref(vpc, "ipv6CidrBlock"), _ipv6_subnet_block(block_index))
            children.append(Child(SUBNET, plan.resource_name, subnet_inputs, parent=vpc, depends_on=(vpc,)))
            made_subnets.append((subnet, plan))
            table_tags = {**shared_tags, "Name": plan.name_tag, "SubnetType": plan.type}
            children.append(
                Child(
                    ROUTE_TABLE,
                    plan.resource_name,
                    {**region, "vpcId": Ref(vpc), "tags": table_tags},
                    parent=subnet,
                    depends_on=(subnet,),
                )
            )
            route_tables.append(table)
            children.append(
                Child(
                    ROUTE_TABLE_ASSOCIATION,
                    plan.resource_name,
                    {**region, "routeTableId": Ref(table), "subnetId": Ref(subnet)},
                    parent=table,
                    depends_on=(table,),
                )
            )
            if kind == "public" and nat_gateway_wanted(nat_strategy, len(nat_names), az_index):
                gateway = f"{name}-{az_index + 1}"
                gateway_tags = {**tags, "Name": gateway}
                if allocation_ids:
                    allocation: Any = allocation_ids[az_index]
                else:
                    children.append(
                        Child(EIP, gateway, {**region, "tags": gateway_tags}, parent=subnet, depends_on=(subnet,))
                    )
                    allocation = Ref(key(EIP, gateway), "allocationId")
                children.append(
                    Child(
                        NAT_GATEWAY,
                        gateway,
                        {**region, "subnetId": Ref(subnet), "allocationId": allocation, "tags": gateway_tags},
                        parent=subnet,
                        depends_on=(subnet,),
                    )
                )
                nat_names.append(key(NAT_GATEWAY, gateway))
            target: dict[str, Any] | None = None
            if kind == "public":
                target = {"gatewayId": Ref(key(INTERNET_GATEWAY, name))}
            elif kind == "private" and nat_strategy.lower() != "none":
                gateway = nat_names[0] if nat_strategy.lower() == "single" else nat_names[az_index]
                target = {"natGatewayId": Ref(gateway)}
            if target is not None:
                children.append(
                    Child(
                        ROUTE,
                        plan.resource_name,
                        {**region, "routeTableId": Ref(table), **target, "destinationCidrBlock": ANYWHERE},
                        parent=table,
                        depends_on=(table,),
                    )
                )
    for spec in endpoint_specs:
        children += vpc_endpoint(spec, endpoint_strategy, inputs, vpc, shared_tags, zones, made_subnets, route_tables)
    return keyed(children)


def _endpoint_type(spec: Mapping[str, Any]) -> str | None:
    kind = unwrap(spec.get("vpcEndpointType"))
    if kind is None:
        return "gateway"
    return str(kind).lower() if is_known(kind) else None


def vpc_endpoint(
    spec: Mapping[str, Any],
    strategy: str,
    inputs: Mapping[str, Any],
    vpc: str,
    shared_tags: Mapping[str, Any],
    zones: Sequence[str],
    subnets: Sequence[tuple[str, SubnetPlan]],
    route_tables: Sequence[str],
) -> list[Child]:
    """One ``vpcEndpointSpecs`` entry: the endpoint, named after its service, under the VPC.

    Under ``vpcEndpointStrategy: Auto`` an interface endpoint without subnets takes one generated subnet per AZ
    (private first), private DNS on, and a security group admitting HTTPS from the VPC's block; a gateway
    endpoint without route tables takes all of the VPC's.
    """
    service = str(spec["serviceName"])
    kind = _endpoint_type(spec)
    region = {"region": spec["region"]} if spec.get("region") is not None else _region(inputs)
    endpoint: dict[str, Any] = {name: spec[name] for name in _ENDPOINT_INPUTS if spec.get(name) is not None}
    children: list[Child] = []
    for name in ("subnetIds", "securityGroupIds", "routeTableIds", "privateDnsEnabled"):
        if spec.get(name) is not None:
            endpoint[name] = spec[name]
    if strategy == "Auto" and kind == "interface":
        if spec.get("subnetIds") is None and spec.get("subnetConfigurations") is None:
            endpoint["subnetIds"] = [
                Ref(subnet) for zone in zones for subnet in [_preferred_subnet(subnets, zone)] if subnet is not None
            ]
        endpoint.setdefault("privateDnsEnabled", True)
        if spec.get("securityGroupIds") is None:
            group = key(SECURITY_GROUP, f"{service}-sg")
            children.append(
                Child(
                    SECURITY_GROUP,
                    f"{service}-sg",
                    {**region, "vpcId": Ref(vpc), "tags": {**shared_tags, **(spec.get("tags") or {})}},
                    parent=vpc,
                    depends_on=(vpc,),
                )
            )
            rule: dict[str, Any] = {
                **region,
                "type": "ingress",
                "securityGroupId": Ref(group),
                "protocol": "tcp",
                "fromPort": 443,
                "toPort": 443,
                "cidrBlocks": [Ref(vpc, "cidrBlock")],
            }
            if str(spec.get("ipAddressType", "")).lower() in ("ipv6", "dualstack"):
                rule["ipv6CidrBlocks"] = [Ref(vpc, "ipv6CidrBlock")]
            children.append(Child(SECURITY_GROUP_RULE, f"{service}-ingress", rule, parent=vpc, depends_on=(group,)))
            endpoint["securityGroupIds"] = [Ref(group)]
    if strategy == "Auto" and kind == "gateway" and spec.get("routeTableIds") is None:
        endpoint["routeTableIds"] = [Ref(table) for table in route_tables]
    endpoint.update(
        {**region, "serviceName": service, "tags": {**shared_tags, **(spec.get("tags") or {})}, "vpcId": Ref(vpc)}
    )
    children.append(Child(VPC_ENDPOINT, service, endpoint, parent=vpc, depends_on=(vpc,)))
    return children


def _preferred_subnet(subnets: Sequence[tuple[str, SubnetPlan]], zone: str) -> str | None:
    for kind in ("private", "isolated", "public"):
        for subnet, plan in subnets:
            if plan.az == zone and plan.type.lower() == kind:
                return subnet
    return None


def build_default_vpc(inputs: Mapping[str, Any], context: ConstructContext) -> list[Child]:
    """``awsx:ec2:DefaultVpc``: no children (``ec2/defaultVpc.ts``, ``ec2/getDefaultVpc.ts``).

    The component only reads the account's default VPC and its subnets through data sources
    (``ec2.getVpc(default=true)``, ``ec2.getSubnets``, ``ec2.getSubnet``), which record no resource.
    """
    return []


# --- awsx:lb -----------------------------------------------------------------------------------------------------


def _lb_subnets(inputs: Mapping[str, Any], component: str) -> tuple[dict[str, Any], Any]:
    """The load balancer's ``subnets`` input and the VPC its target group is in.

    ``subnets`` (resources, on the wire their ids) and ``subnetIds`` are the subnets; the VPC is read from the
    first subnet, which the model does not see. With neither (nor ``subnetMappings``) the package reads the
    default VPC's public subnets through data sources: unknown here.
    """
    given = [name for name in ("subnets", "subnetIds", "subnetMappings") if _set(inputs, name)]
    if len(given) > 1:
        raise ValueError(f"{component}: only one of subnets, subnetIds or subnetMappings")
    if given and given[0] != "subnetMappings":
        return {"subnets": inputs[given[0]]}, UNKNOWN
    if given:
        return {}, UNKNOWN
    return {"subnets": UNKNOWN}, UNKNOWN


def _load_balancer_args(inputs: Mapping[str, Any], own: Sequence[str]) -> dict[str, Any]:
    return {name: value for name, value in inputs.items() if name not in own and value is not None}


def listener_port_and_protocol(listener: Mapping[str, Any] | None, default_port: Any = None) -> dict[str, Any]:
    """An ALB listener's port and protocol: each derived from the other (443 is HTTPS), else 80 over HTTP."""
    if listener:
        port, protocol = listener.get("port"), listener.get("protocol")
        if port and protocol:
            return {"port": port, "protocol": protocol}
        if port:
            return {
                "port": port,
                "protocol": ("HTTPS" if unwrap(port) == 443 else "HTTP") if is_known(port) else UNKNOWN,
            }
        if protocol:
            derived = (443 if unwrap(protocol) == "HTTPS" else 80) if is_known(protocol) else UNKNOWN
            return {"protocol": protocol, "port": derived}
    return {"port": default_port if default_port is not None else 80, "protocol": "HTTP"}


def _alb_default_protocol(inputs: Mapping[str, Any]) -> dict[str, Any]:
    """The port and protocol of the default target group (and of a lone ``listener``).

    A single entry in ``listeners`` gives none (the target group is left to AWS's defaults); several give the
    first one's.
    """
    listener = unwrap(inputs.get("listener"))
    listeners = unwrap(inputs.get("listeners"))
    if listeners is not None:
        if len(listeners) == 1:
            return {}
        listener = listeners[0] if listeners else None
    return listener_port_and_protocol(listener, unwrap(inputs.get("defaultTargetGroupPort")))


_ALB_OWN: Final = (
    "subnetIds",
    "subnets",
    "defaultTargetGroup",
    "defaultTargetGroupPort",
    "defaultSecurityGroup",
    "listener",
    "listeners",
)


def default_security_group_rules() -> dict[str, Any]:
    """The rules of the security group awsx gives an ALB by default: all traffic in, any TCP port out."""
    everywhere = {"cidrBlocks": [ANYWHERE], "ipv6CidrBlocks": ["::/0"]}
    return {
        "ingress": [{"fromPort": 0, "toPort": 0, "protocol": "-1", **everywhere}],
        "egress": [{"fromPort": 0, "toPort": 65535, "protocol": "tcp", **everywhere}],
    }


def _listeners(
    name: str,
    inputs: Mapping[str, Any],
    defaults: Mapping[str, Any],
    per_listener: Callable[[Mapping[str, Any]], Mapping[str, Any]],
    lb: str,
    group: str,
) -> list[Child]:
    """The listeners: one from ``listener`` (or the defaults), else one per ``listeners`` entry, each forwarding."""
    actions = [{"type": "forward", "targetGroupArn": Ref(group, "arn")}]
    listener = unwrap(inputs.get("listener"))
    listeners = unwrap(inputs.get("listeners"))
    if listener is not None and listeners is not None:
        raise ValueError("only one of listener and listeners")
    if listeners is not None:
        made = [{"defaultActions": actions, **per_listener(unwrap(args)), **unwrap(args)} for args in listeners]
    else:
        made = [{"defaultActions": actions, **defaults, **(listener or {})}]
    return [
        Child(LISTENER, f"{name}-{index}", {**args, "loadBalancerArn": Ref(lb, "arn")})
        for index, args in enumerate(made)
    ]


def build_application_load_balancer(inputs: Mapping[str, Any], context: ConstructContext) -> list[Child]:
    """``awsx:lb:ApplicationLoadBalancer``: an ALB, a target group and listeners (``lb/applicationLoadBalancer.ts``).

    Children: an open security group unless told otherwise, the load balancer, a default target group (IP targets,
    port 80 over HTTP) and listeners forwarding to it.

    Parameters
    ----------
    inputs:
        Wire inputs: ``listener``/``listeners``, ``defaultTargetGroup``/``defaultTargetGroupPort``,
        ``defaultSecurityGroup``, ``subnets``/``subnetIds`` and any ``aws.lb.LoadBalancer`` argument.
    context:
        The component's name: every child is named after it, listeners ``<name>-<index>``.
    """
    name = context.name
    if _set(inputs, "defaultTargetGroup") and _set(inputs, "defaultTargetGroupPort"):
        raise ValueError("awsx:lb:ApplicationLoadBalancer: only one of defaultTargetGroup and defaultTargetGroupPort")
    subnets, vpc_id = _lb_subnets(inputs, "awsx:lb:ApplicationLoadBalancer")
    lb_args = {**_load_balancer_args(inputs, _ALB_OWN), **subnets}
    children: list[Child] = []
    security = _object(inputs.get("defaultSecurityGroup"))
    if not _set(lb_args, "securityGroups") and not unwrap(security.get("skip")):
        if security.get("securityGroupId") is not None:
            lb_args["securityGroups"] = [security["securityGroupId"]]
        else:
            group_args = unwrap(security.get("args")) or {"vpcId": vpc_id, **default_security_group_rules()}
            children.append(Child(SECURITY_GROUP, name, group_args))
            lb_args["securityGroups"] = [Ref(key(SECURITY_GROUP, name))]
    lb_args["loadBalancerType"] = "application"
    lb, group = key(LOAD_BALANCER, name), key(TARGET_GROUP, name)
    children.append(Child(LOAD_BALANCER, name, lb_args))
    defaults = _alb_default_protocol(inputs)
    target_group = {"vpcId": vpc_id, "targetType": "ip", **defaults, **_object(inputs.get("defaultTargetGroup"))}
    children.append(Child(TARGET_GROUP, name, target_group))
    return keyed(children + _listeners(name, inputs, defaults, listener_port_and_protocol, lb, group))


_NLB_OWN: Final = ("subnetIds", "subnets", "defaultTargetGroup", "defaultTargetGroupPort", "listener", "listeners")


def build_network_load_balancer(inputs: Mapping[str, Any], context: ConstructContext) -> list[Child]:
    """``awsx:lb:NetworkLoadBalancer``: an NLB, a TCP target group, listeners (``lb/networkLoadBalancer.ts``).

    Children: the load balancer, a default TCP target group on port 80 (or ``defaultTargetGroupPort``) and TCP
    listeners on port 80 forwarding to it; no security group.
    """
    name = context.name
    if _set(inputs, "defaultTargetGroup") and _set(inputs, "defaultTargetGroupPort"):
        raise ValueError("awsx:lb:NetworkLoadBalancer: only one of defaultTargetGroup and defaultTargetGroupPort")
    subnets, vpc_id = _lb_subnets(inputs, "awsx:lb:NetworkLoadBalancer")
    lb_args = {
        **_load_balancer_args(inputs, _NLB_OWN),
        **subnets,
        "loadBalancerType": "network",
        "enableHttp2": False,
        "idleTimeout": 0,
    }
    lb, group = key(LOAD_BALANCER, name), key(TARGET_GROUP, name)
    port = inputs.get("defaultTargetGroupPort")
    target_group = {
        "vpcId": vpc_id,
        "protocol": "TCP",
        "port": port if port is not None else 80,
        **(unwrap(inputs.get("defaultTargetGroup")) or {}),
    }
    tcp = {"protocol": "TCP", "port": 80}
    return keyed(
        [
            Child(LOAD_BALANCER, name, lb_args),
            Child(TARGET_GROUP, name, target_group),
            *_listeners(name, inputs, tcp, lambda _: tcp, lb, group),
        ]
    )


def build_target_group_attachment(inputs: Mapping[str, Any], context: ConstructContext) -> list[Child]:
    """``awsx:lb:TargetGroupAttachment``: a Lambda permission, the attachment (``lb/targetGroupAttachment.ts``).

    A target group passed as a resource arrives as its id, which for ``aws.lb.TargetGroup`` is its ARN. An
    instance's target id is its id or private IP depending on the group's target type, which the model does not
    see: unknown, as is a function resource's ARN.
    """
    name = context.name
    groups = [field for field in ("targetGroup", "targetGroupArn") if _set(inputs, field)]
    targets = [field for field in ("instance", "instanceId", "lambda", "lambdaArn") if _set(inputs, field)]
    if len(groups) != 1:
        raise ValueError("awsx:lb:TargetGroupAttachment: exactly one of targetGroup and targetGroupArn")
    if len(targets) != 1:
        raise ValueError("awsx:lb:TargetGroupAttachment: exactly one of instance, instanceId, lambda and lambdaArn")
    group_arn = inputs[groups[0]]
    target = targets[0]
    attachment: dict[str, Any]
    if target in ("instance", "instanceId"):
        attachment = {"targetId": UNKNOWN, "availabilityZone": UNKNOWN}
    else:
        attachment = {"targetId": inputs["lambdaArn"] if target == "lambdaArn" else UNKNOWN}
    children: list[Child] = []
    depends: tuple[str, ...] = ()
    if target in ("lambda", "lambdaArn"):
        permission = {
            "action": "lambda:InvokeFunction",
            "function": inputs[target],
            "principal": "elasticloadbalancing.amazonaws.com",
            "sourceArn": group_arn,
        }
        children.append(Child(LAMBDA_PERMISSION, name, permission))
        depends = (key(LAMBDA_PERMISSION, name),)
    children.append(
        Child(TARGET_GROUP_ATTACHMENT, name, {**attachment, "targetGroupArn": group_arn}, depends_on=depends)
    )
    return keyed(children)


# --- awsx:cloudtrail:Trail ---------------------------------------------------------------------------------------

CLOUDTRAIL: Final = "cloudtrail.amazonaws.com"


def cloudtrail_bucket_policy(bucket_arn: str) -> dict[str, Any]:
    """The bucket policy awsx writes for a trail (what the CloudTrail user guide asks of a trail's bucket).

    CloudTrail may read the bucket's ACL and put objects with the ``bucket-owner-full-control`` ACL.
    """
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AWSCloudTrailAclCheck",
                "Effect": "Allow",
                "Principal": {"Service": CLOUDTRAIL},
                "Action": ["s3:GetBucketAcl"],
                "Resource": [bucket_arn],
            },
            {
                "Sid": "AWSCloudTrailWrite",
                "Effect": "Allow",
                "Principal": {"Service": CLOUDTRAIL},
                "Action": ["s3:PutObject"],
                "Resource": [f"{bucket_arn}/*"],
                "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control"}},
            },
        ],
    }


def _compact(document: Any) -> str:
    # JSON.stringify's layout.
    return json.dumps(document, separators=(",", ":"))


def cloudtrail_logs_role_policy(log_group_arn: str) -> str:
    """The inline policy of the trail's role: create streams and put events in the trail's own log streams."""
    account = log_group_arn.split(":")[4]
    streams = f"{log_group_arn}:log-stream:{account}_CloudTrail_*"
    return _compact(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Action": ["logs:CreateLogStream"], "Resource": [streams]},
                {"Effect": "Allow", "Action": ["logs:PutLogEvents"], "Resource": [streams]},
            ],
        }
    )


def _existing_bucket(existing: Mapping[str, Any]) -> tuple[Any, Any]:
    """(name, ARN) of an existing bucket, each derived from the other as the package does."""
    arn, bucket = unwrap(existing.get("arn")), unwrap(existing.get("name"))
    if arn:
        return (str(arn).split(":", 5)[-1] if is_known(arn) else UNKNOWN), arn
    if bucket:
        # The package builds this ARN without the "s3" service (arn:aws:::name); kept as it is.
        return bucket, (f"arn:aws:::{bucket}" if is_known(bucket) else UNKNOWN)
    raise ValueError("awsx:cloudtrail:Trail: s3Bucket.existing needs a name or an arn")


def build_trail(inputs: Mapping[str, Any], context: ConstructContext) -> list[Child]:
    """``awsx:cloudtrail:Trail``: a trail with its bucket and, if asked, its log group (``cloudtrail/trail.ts``).

    Children: a bucket (unless an existing one is named) with the policy CloudTrail needs, a log group and the
    role CloudTrail writes to it with when ``cloudWatchLogsGroup.enable``, then the trail.

    Parameters
    ----------
    inputs:
        ``s3Bucket`` (``args`` or ``existing``), ``cloudWatchLogsGroup`` (``enable``, ``args`` or ``existing``)
        and any ``aws.cloudtrail.Trail`` argument, passed to the trail as given.
    context:
        The component's name, which every child takes.
    """
    name = context.name
    bucket_inputs = unwrap(inputs.get("s3Bucket")) or {}
    logs_inputs = unwrap(inputs.get("cloudWatchLogsGroup")) or {}
    trail_args = {
        field: value
        for field, value in inputs.items()
        if field not in ("s3Bucket", "cloudWatchLogsGroup") and value is not None
    }
    children: list[Child] = []
    bucket = key(BUCKET, name)
    if bucket_inputs.get("existing") is not None:
        if bucket_inputs.get("args") is not None:
            raise ValueError("awsx:cloudtrail:Trail: s3Bucket takes args or existing, not both")
        bucket_name, bucket_arn = _existing_bucket(unwrap(bucket_inputs["existing"]))
        policy: Any = cloudtrail_bucket_policy(bucket_arn) if is_known(bucket_arn) else UNKNOWN
        policy_depends: tuple[str, ...] = ()
    else:
        children.append(Child(BUCKET, name, {"forceDestroy": True, **(unwrap(bucket_inputs.get("args")) or {})}))
        bucket_name, policy = Ref(bucket, "bucket"), Derived(Ref(bucket, "arn"), cloudtrail_bucket_policy)
        policy_depends = (bucket,)
    children.append(Child(BUCKET_POLICY, name, {"bucket": bucket_name, "policy": policy}, depends_on=policy_depends))
    trail_args["s3BucketName"] = bucket_name
    if unwrap(logs_inputs.get("enable")):
        existing = unwrap(logs_inputs.get("existing"))
        if existing is not None:
            arn = unwrap(existing.get("arn"))
            # A log group named but not by ARN gets its ARN from the caller's account: not known to the model.
            trail_args["cloudWatchLogsGroupArn"] = f"{arn}:*" if arn and is_known(arn) else UNKNOWN
        else:
            log_group = key(LOG_GROUP, name)
            children.append(Child(LOG_GROUP, name, dict(unwrap(logs_inputs.get("args")) or {})))
            assume = {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "AllowAssumeRole",
                        "Effect": "Allow",
                        "Principal": {"Service": CLOUDTRAIL},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
            role_inputs = {
                "assumeRolePolicy": _compact(assume),
                "inlinePolicies": [{"policy": Derived(Ref(log_group, "arn"), cloudtrail_logs_role_policy)}],
            }
            children.append(Child(ROLE, name, role_inputs))
            trail_args["cloudWatchLogsGroupArn"] = Ref(log_group, "arn", suffix=":*")
            trail_args["cloudWatchLogsRoleArn"] = Ref(key(ROLE, name), "arn")
    children.append(Child(TRAIL, name, trail_args, depends_on=(key(BUCKET_POLICY, name),)))
    return keyed(children)


MODELS: dict[str, ComponentModel] = {
    "awsx:ec2:Vpc": ComponentModel(build_vpc, f"{RELEASE}: awsx/ec2/vpc.ts, subnetDistributor*.ts)"),
    "awsx:ec2:DefaultVpc": ComponentModel(build_default_vpc, f"{RELEASE}: awsx/ec2/defaultVpc.ts)"),
    "awsx:lb:ApplicationLoadBalancer": ComponentModel(
        build_application_load_balancer, f"{RELEASE}: awsx/lb/applicationLoadBalancer.ts)"
    ),
    "awsx:lb:NetworkLoadBalancer": ComponentModel(
        build_network_load_balancer, f"{RELEASE}: awsx/lb/networkLoadBalancer.ts)"
    ),
    "awsx:lb:TargetGroupAttachment": ComponentModel(
        build_target_group_attachment, f"{RELEASE}: awsx/lb/targetGroupAttachment.ts)"
    ),
    "awsx:cloudtrail:Trail": ComponentModel(build_trail, f"{RELEASE}: awsx/cloudtrail/trail.ts)"),
}
"""Component type token → model."""
