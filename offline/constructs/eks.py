"""Offline models of pulumi-eks's ``eks:index:Cluster`` and ``ManagedNodeGroup`` (see :mod:`offline.constructs`).

The models follow pulumi-eks 4.x (the provider's TypeScript under ``nodejs/eks/`` in pulumi/pulumi-eks, read at
commit 7bf0c1b): ``cluster/cluster.ts`` (``createCore``, ``createCluster``), ``servicerole.ts``,
``nodes/securitygroup.ts``, ``nodes/nodegroup.ts`` (``createNodeGroupV2``, ``createManagedNodeGroup``),
``nodes/instances.ts``, ``nodes/ami.ts``, ``addons/cni-addon.ts`` and ``cluster/authenticationMode.ts``. The
cluster's default node group is a
self-managed one: a launch template and an Auto Scaling group, behind a node security group of its own.

What the package learns through a data source or over the network stays unknown: the default VPC and its
subnets when no ``vpcId`` is given, the recommended AMI (an SSM parameter), the addons' latest versions, the
worker subnets it picks by reading route tables, the OIDC issuer's thumbprint, and every kubeconfig. Not
modelled: the Kubernetes resources the plugin creates through its own ``pulumi:providers:kubernetes`` provider
(the ``aws-auth`` ConfigMap, storage classes, the VPC CNI DaemonSet patch), the vpc-cni addon's merged
``configurationValues`` (left unknown), an instance profile read by ``instanceProfileName``, and EKS Auto
Mode's compute configuration beyond which children it turns off, and ``eks:index:NodeGroupV2`` used on its own
(it is built from the cluster component's outputs, none of which is known offline).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any, Final

from offline.constructs import UNKNOWN, Child, ComponentModel, ConstructContext, Derived, Ref, is_known, unwrap

RELEASE: Final = "pulumi-eks 4.x (pulumi/pulumi-eks@7bf0c1b"

SERVICE_ROLE: Final = "eks:index:ServiceRole"
VPC_CNI_ADDON: Final = "eks:index:VpcCniAddon"
ROLE: Final = "aws:iam/role:Role"
ROLE_POLICY: Final = "aws:iam/rolePolicy:RolePolicy"
ROLE_POLICY_ATTACHMENT: Final = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
INSTANCE_PROFILE: Final = "aws:iam/instanceProfile:InstanceProfile"
OIDC_PROVIDER: Final = "aws:iam/openIdConnectProvider:OpenIdConnectProvider"
SECURITY_GROUP: Final = "aws:ec2/securityGroup:SecurityGroup"
SECURITY_GROUP_RULE: Final = "aws:ec2/securityGroupRule:SecurityGroupRule"
KEY_PAIR: Final = "aws:ec2/keyPair:KeyPair"
LAUNCH_TEMPLATE: Final = "aws:ec2/launchTemplate:LaunchTemplate"
AUTOSCALING_GROUP: Final = "aws:autoscaling/group:Group"
CLUSTER: Final = "aws:eks/cluster:Cluster"
ADDON: Final = "aws:eks/addon:Addon"
ACCESS_ENTRY: Final = "aws:eks/accessEntry:AccessEntry"
ACCESS_POLICY_ASSOCIATION: Final = "aws:eks/accessPolicyAssociation:AccessPolicyAssociation"
FARGATE_PROFILE: Final = "aws:eks/fargateProfile:FargateProfile"

DEFAULT_INSTANCE_TYPE: Final = "t3.medium"
DEFAULT_DESIRED_CAPACITY: Final = 2
DEFAULT_MIN_SIZE: Final = 1
DEFAULT_MAX_SIZE: Final = 2
ANYWHERE: Final = "0.0.0.0/0"

CLUSTER_POLICIES: Final = ("AmazonEKSClusterPolicy",)
AUTO_MODE_CLUSTER_POLICIES: Final = (
    "AmazonEKSComputePolicy",
    "AmazonEKSBlockStoragePolicy",
    "AmazonEKSLoadBalancingPolicy",
    "AmazonEKSNetworkingPolicy",
)
INSTANCE_POLICIES: Final = (
    "AmazonEKSWorkerNodePolicy",
    "AmazonEKS_CNI_Policy",
    "AmazonEC2ContainerRegistryReadOnly",
)
AUTO_MODE_NODE_POLICIES: Final = ("AmazonEKSWorkerNodeMinimalPolicy", "AmazonEC2ContainerRegistryPullOnly")
FARGATE_POLICIES: Final = ("AmazonEKSFargatePodExecutionRolePolicy",)

# The singular node options of the cluster, and the node-group option each one becomes (createCore).
_NODE_OPTIONS: Final = {
    "nodeSubnetIds": "nodeSubnetIds",
    "nodeAssociatePublicIpAddress": "nodeAssociatePublicIpAddress",
    "instanceType": "instanceType",
    "nodePublicKey": "nodePublicKey",
    "nodeRootVolumeEncrypted": "nodeRootVolumeEncrypted",
    "nodeRootVolumeSize": "nodeRootVolumeSize",
    "nodeUserData": "nodeUserData",
    "minSize": "minSize",
    "maxSize": "maxSize",
    "desiredCapacity": "desiredCapacity",
    "nodeAmiId": "amiId",
    "gpu": "gpu",
    "version": "version",
}
# Of those, the ones that may not be combined with nodeGroupOptions.
_EXCLUSIVE_WITH_NODE_GROUP_OPTIONS: Final = (
    "nodeSubnetIds",
    "nodeAssociatePublicIpAddress",
    "instanceType",
    "instanceProfileName",
    "nodePublicKey",
    "nodeRootVolumeSize",
    "nodeUserData",
    "minSize",
    "maxSize",
    "desiredCapacity",
    "nodeAmiId",
    "gpu",
)
_ROOT_VOLUME_OPTIONS: Final = (
    "nodeRootVolumeEncrypted",
    "nodeRootVolumeSize",
    "nodeRootVolumeType",
    "nodeRootVolumeIops",
    "nodeRootVolumeThroughput",
    "nodeRootVolumeDeleteOnTermination",
)


def _value(inputs: Mapping[str, Any], name: str) -> Any:
    """The input ``name`` unwrapped, ``None`` when absent (the SDK sends outputs and unset inputs as null)."""
    return unwrap(inputs.get(name))


def _flag(inputs: Mapping[str, Any], name: str, what: str) -> bool:
    """A boolean that decides which children exist: the plugin needs it known, as does the model."""
    value = _value(inputs, name)
    if not is_known(value):
        raise ValueError(f"{what}: {name} must be known during a preview (the eks provider reads it to plan children)")
    return bool(value)


def _int(value: Any) -> Any:
    # Numbers cross the wire as protobuf doubles; an unknown stays unknown.
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else value


def _partition(region: str) -> str:
    """The ARN partition of ``region`` (the plugin asks ``aws.getPartition``)."""
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def _managed_policy_arn(policy: str, region: str) -> str:
    return f"arn:{_partition(region)}:iam::aws:policy/{policy}"


def _policy_hash(policy: str) -> str:
    """The suffix of an attachment's name: the first 8 hex digits of the SHA-1 of the policy's ``aws`` ARN."""
    return hashlib.sha1(f"arn:aws:iam::aws:policy/{policy}".encode(), usedforsecurity=False).hexdigest()[:8]


def _compact(document: Any) -> str:
    return json.dumps(document, separators=(",", ":"))


def service_role(
    name: str,
    service: str,
    policies: tuple[str, ...],
    region: str,
    *,
    tags: Any = None,
    description: str | None = None,
    assume_actions: tuple[str, ...] = ("sts:AssumeRole",),
) -> list[Child]:
    """An ``eks:index:ServiceRole`` component, its role and one attachment per managed policy (servicerole.ts)."""
    role_key = f"{name}-role"
    assume = {
        "Version": "2012-10-17",
        "Statement": [{"Action": list(assume_actions), "Effect": "Allow", "Principal": {"Service": [service]}}],
    }
    role_inputs: dict[str, Any] = {"assumeRolePolicy": _compact(assume)}
    if description is not None:
        role_inputs["description"] = description
    if tags is not None:
        role_inputs["tags"] = tags
    children = [
        Child(SERVICE_ROLE, name, {"service": service}, custom=False),
        Child(ROLE, role_key, role_inputs, parent=name),
    ]
    children.extend(
        Child(
            ROLE_POLICY_ATTACHMENT,
            f"{name}-{_policy_hash(policy)}",
            {"policyArn": _managed_policy_arn(policy, region), "role": Ref(role_key, "id")},
            parent=name,
        )
        for policy in policies
    )
    return children


def _merged_tags(name_tag: str | None, *layers: Any) -> Any:
    """Tags built as ``{Name, ...layer1, ...layer2}``, unknown while any layer is."""
    merged: dict[str, Any] = {"Name": name_tag} if name_tag else {}
    for layer in layers:
        if layer is None:
            continue
        if not is_known(layer) or not isinstance(layer, Mapping):
            return UNKNOWN
        merged.update(layer)
    return merged


def _addon(name: str, addon: str, cluster: str, tags: Any, options: Mapping[str, Any]) -> Child:
    """An ``aws:eks/addon:Addon`` as the cluster adds kube-proxy and CoreDNS (its latest version is looked up)."""
    inputs: dict[str, Any] = {
        "clusterName": Ref(cluster, "name"),
        "addonName": addon,
        "preserve": True,
        "resolveConflictsOnCreate": options.get("resolveConflictsOnCreate") or "OVERWRITE",
        "resolveConflictsOnUpdate": options.get("resolveConflictsOnUpdate") or "OVERWRITE",
        "addonVersion": options.get("version") or UNKNOWN,
    }
    if tags is not None:
        inputs["tags"] = tags
    if options.get("configurationValues") is not None:
        inputs["configurationValues"] = _compact(options["configurationValues"])
    return Child(ADDON, name, inputs)


def _node_options(inputs: Mapping[str, Any]) -> dict[str, Any]:
    """The default node group's options: ``nodeGroupOptions``, or the cluster's singular node options."""
    group_options = _value(inputs, "nodeGroupOptions")
    if group_options is not None:
        singular = [option for option in _EXCLUSIVE_WITH_NODE_GROUP_OPTIONS if _value(inputs, option) is not None]
        if singular:
            raise ValueError(
                f"eks:index:Cluster: nodeGroupOptions and the singular node option(s) {', '.join(singular)} "
                "are mutually exclusive"
            )
        return {key: unwrap(value) for key, value in dict(group_options).items() if value is not None}
    return {
        option: _value(inputs, cluster_option)
        for cluster_option, option in _NODE_OPTIONS.items()
        if _value(inputs, cluster_option) is not None
    }


def _cluster_subnets(inputs: Mapping[str, Any]) -> Any:
    """``subnetIds``, else the public then the private subnets, else the default VPC's (a data source)."""
    subnets, public, private = (_value(inputs, key) for key in ("subnetIds", "publicSubnetIds", "privateSubnetIds"))
    if subnets is not None and (public is not None or private is not None):
        raise ValueError("eks:index:Cluster: subnetIds and publicSubnetIds/privateSubnetIds are mutually exclusive")
    if subnets is not None:
        return subnets
    if public is not None or private is not None:
        parts = [public or [], private or []]
        return [*parts[0], *parts[1]] if all(is_known(part) for part in parts) else UNKNOWN
    return UNKNOWN if _value(inputs, "vpcId") is None else []


def _vpc_config(inputs: Mapping[str, Any], security_group: Any) -> dict[str, Any]:
    """The cluster's ``vpcConfig``: the endpoint flags are passed only when set (EKS then defaults them)."""
    config: dict[str, Any] = {"subnetIds": _cluster_subnets(inputs)}
    if security_group is not None:
        config["securityGroupIds"] = [security_group]
    for option in ("endpointPrivateAccess", "endpointPublicAccess"):
        if inputs.get(option) is not None:
            config[option] = inputs[option]
    cidrs = inputs.get("publicAccessCidrs")
    if cidrs is not None:
        public = _value(inputs, "endpointPublicAccess")
        if public is False and unwrap(cidrs):
            raise ValueError("eks:index:Cluster: publicAccessCidrs can only be set when endpointPublicAccess is true")
        config["publicAccessCidrs"] = cidrs
    return config


def _node_security_group(
    name: str, vpc_id: Any, cluster_sg: Any, cluster: str, tags: Any
) -> tuple[list[Child], str, str]:
    """The node security group, its four rules and the cluster's ingress rule from it (nodes/securitygroup.ts)."""
    group = f"{name}-nodeSecurityGroup"
    node_sg = Ref(group, "id")

    def tagged(cluster_name: Any) -> Any:
        return _merged_tags(group, {f"kubernetes.io/cluster/{cluster_name}": "owned"}, tags)

    def rule(role: str, description: str, kind: str, ports: tuple[int, int], protocol: str, **peer: Any) -> Child:
        rule_inputs = {
            "description": description,
            "type": kind,
            "fromPort": ports[0],
            "toPort": ports[1],
            "protocol": protocol,
            "securityGroupId": peer.pop("group", node_sg),
            **peer,
        }
        return Child(SECURITY_GROUP_RULE, f"{name}-{role}", rule_inputs)

    children = [
        Child(
            SECURITY_GROUP,
            group,
            {"vpcId": vpc_id, "revokeRulesOnDelete": True, "tags": Derived(Ref(cluster, "name"), tagged)},
        ),
        rule("eksNodeIngressRule", "Allow nodes to communicate with each other", "ingress", (0, 0), "-1", self=True),
        rule(
            "eksNodeClusterIngressRule",
            "Allow worker Kubelets and pods to receive communication from the cluster control plane",
            "ingress",
            (1025, 65535),
            "tcp",
            sourceSecurityGroupId=cluster_sg,
        ),
        rule(
            "eksExtApiServerClusterIngressRule",
            "Allow pods running extension API servers on port 443 to receive communication from cluster control plane",
            "ingress",
            (443, 443),
            "tcp",
            sourceSecurityGroupId=cluster_sg,
        ),
        rule("eksNodeInternetEgressRule", "Allow internet access.", "egress", (0, 0), "-1", cidrBlocks=[ANYWHERE]),
        rule(
            "eksClusterIngressRule",
            "Allow pods to communicate with the cluster API Server",
            "ingress",
            (443, 443),
            "tcp",
            group=cluster_sg,
            sourceSecurityGroupId=node_sg,
        ),
    ]
    return children, group, f"{name}-eksClusterIngressRule"


def _block_devices(options: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The launch template's root volume: only when a root-volume option is set (the default AL2023 nodes).

    Its device name comes from the AMI (``aws.ec2.getAmi``), unknown here.
    """
    settings = {option: options.get(option) for option in _ROOT_VOLUME_OPTIONS}
    if all(value is None for value in settings.values()):
        return []
    ebs: dict[str, Any] = {}
    for option, field_name in (
        ("nodeRootVolumeEncrypted", "encrypted"),
        ("nodeRootVolumeDeleteOnTermination", "deleteOnTermination"),
    ):
        if settings[option] is not None:
            ebs[field_name] = "true" if settings[option] else "false"
    for option, field_name in (
        ("nodeRootVolumeSize", "volumeSize"),
        ("nodeRootVolumeType", "volumeType"),
        ("nodeRootVolumeIops", "iops"),
        ("nodeRootVolumeThroughput", "throughput"),
    ):
        if settings[option] is not None:
            ebs[field_name] = _int(settings[option])
    return [{"deviceName": UNKNOWN, "ebs": ebs}]


def _default_node_group(
    name: str,
    options: Mapping[str, Any],
    *,
    instance_profile: Any,
    node_sg: str,
    ingress_rule: str,
    worker_subnets: Any,
    cluster: str,
    after: tuple[str, ...],
) -> list[Child]:
    """The self-managed default node group: a launch template and an Auto Scaling group (createNodeGroupV2)."""
    if options.get("amiId") is not None and options.get("gpu"):
        raise ValueError("eks:index:Cluster: amiId and gpu are mutually exclusive")
    children: list[Child] = []
    key_name = options.get("keyName")
    if options.get("nodePublicKey") is not None:
        if key_name is not None:
            raise ValueError("eks:index:Cluster: nodePublicKey and keyName are mutually exclusive")
        children.append(Child(KEY_PAIR, f"{name}-keyPair", {"publicKey": options["nodePublicKey"]}))
        key_name = Ref(f"{name}-keyPair", "keyName")
    extra_groups = list(options.get("extraNodeSecurityGroupIds") or [])
    public_ip = options.get("nodeAssociatePublicIpAddress")
    template: dict[str, Any] = {
        "imageId": options.get("amiId") or UNKNOWN,  # else the recommended AMI, read from an SSM parameter
        "instanceType": options.get("instanceType") or DEFAULT_INSTANCE_TYPE,
        "iamInstanceProfile": {"name": instance_profile},
        "blockDeviceMappings": _block_devices(options),
        "networkInterfaces": [
            {
                "associatePublicIpAddress": "false" if public_ip is False else "true",
                # The plugin also waits for the cluster's ingress rule (the template depends on it).
                "securityGroups": Derived(Ref(node_sg, "id"), lambda group: [group, *extra_groups]),
            }
        ],
        "userData": UNKNOWN,  # built from the cluster's endpoint and certificate
    }
    if key_name is not None:
        template["keyName"] = key_name
    if options.get("spotPrice") is not None:
        template["instanceMarketOptions"] = {"marketType": "spot", "spotOptions": {"maxPrice": options["spotPrice"]}}
    if options.get("metadataOptions") is not None:
        template["metadataOptions"] = options["metadataOptions"]
    if options.get("launchTemplateTagSpecifications") is not None:
        template["tagSpecifications"] = options["launchTemplateTagSpecifications"]
    if options.get("enableDetailedMonitoring") is not None:
        template["monitoring"] = {"enabled": options["enableDetailedMonitoring"]}
    launch_template = f"{name}-launchTemplate"
    children.append(Child(LAUNCH_TEMPLATE, launch_template, template, depends_on=(ingress_rule,)))
    extra_tags = options.get("autoScalingGroupTags") or {}

    def group_tags(cluster_name: Any) -> list[dict[str, Any]]:
        tags = [{"key": key, "value": value, "propagateAtLaunch": True} for key, value in dict(extra_tags).items()]
        tags.append({"value": "owned", "key": f"kubernetes.io/cluster/{cluster_name}", "propagateAtLaunch": True})
        tags.append({"key": "Name", "value": f"{cluster_name}-worker", "propagateAtLaunch": True})
        return tags

    group: dict[str, Any] = {
        "minSize": _int(options.get("minSize", DEFAULT_MIN_SIZE)),
        "maxSize": _int(options.get("maxSize", DEFAULT_MAX_SIZE)),
        "desiredCapacity": _int(options.get("desiredCapacity", DEFAULT_DESIRED_CAPACITY)),
        "launchTemplate": {
            "name": Ref(launch_template, "name"),
            "version": Derived(Ref(launch_template, "latestVersion"), lambda version: str(_int(version))),
        },
        "vpcZoneIdentifiers": worker_subnets,
        "instanceRefresh": {
            "strategy": "Rolling",
            "preferences": {"minHealthyPercentage": _int(options.get("minRefreshPercentage", 50))},
        },
        "tags": Derived(Ref(cluster, "name"), group_tags),
    }
    if options.get("defaultInstanceWarmup") is not None:
        group["defaultInstanceWarmup"] = _int(options["defaultInstanceWarmup"])
    children.append(Child(AUTOSCALING_GROUP, name, group, depends_on=after))
    return children


def _access_entries(name: str, cluster: str, entries: Mapping[str, Any]) -> list[Child]:
    """One access entry per item, and one policy association per access policy (authenticationMode.ts)."""
    children: list[Child] = []
    for entry_name, raw in entries.items():
        entry = dict(unwrap(raw) or {})
        entry_inputs: dict[str, Any] = {"clusterName": Ref(cluster, "name"), "principalArn": entry.get("principalArn")}
        for field_name in ("type", "kubernetesGroups", "tags"):
            if entry.get(field_name) is not None:
                entry_inputs[field_name] = entry[field_name]
        if entry.get("username") is not None:
            entry_inputs["userName"] = entry["username"]
        entry_key = f"{name}-{entry_name}"
        children.append(Child(ACCESS_ENTRY, entry_key, entry_inputs, depends_on=(cluster,)))
        for association_name, association in dict(unwrap(entry.get("accessPolicies")) or {}).items():
            association = dict(unwrap(association) or {})
            children.append(
                Child(
                    ACCESS_POLICY_ASSOCIATION,
                    f"{entry_key}-{association_name}",
                    {
                        "accessScope": association.get("accessScope"),
                        "principalArn": entry.get("principalArn"),
                        "policyArn": association.get("policyArn"),
                        "clusterName": Ref(cluster, "name"),
                    },
                    parent=entry_key,
                    depends_on=(entry_key,),
                )
            )
    return children


def build_cluster(inputs: Mapping[str, Any], context: ConstructContext) -> list[Child]:
    """The children pulumi-eks registers for an ``eks:index:Cluster`` (cluster/cluster.ts ``createCluster``)."""
    name, region, what = context.name, context.region, "eks:index:Cluster"
    if _value(inputs, "instanceRole") is not None and _value(inputs, "instanceRoles") is not None:
        raise ValueError(f"{what}: instanceRole and instanceRoles are mutually exclusive")
    auto_mode = bool(unwrap(dict(_value(inputs, "autoMode") or {}).get("enabled")))
    authentication_mode = _value(inputs, "authenticationMode")
    if auto_mode and authentication_mode not in ("API", "API_AND_CONFIG_MAP"):
        raise ValueError(f"{what}: EKS Auto Mode needs authenticationMode API or API_AND_CONFIG_MAP")
    options = _node_options(inputs)
    tags = inputs.get("tags")
    fargate = _value(inputs, "fargate")
    skip_asked = _flag(inputs, "skipDefaultNodeGroup", what)
    skip_node_group = skip_asked or bool(fargate) or auto_mode
    skip_security_groups = (
        _flag(inputs, "skipDefaultSecurityGroups", what)
        if inputs.get("skipDefaultSecurityGroups") is not None
        else auto_mode
    )
    vpc_id = inputs["vpcId"] if inputs.get("vpcId") is not None else UNKNOWN  # else the default VPC's id
    children: list[Child] = []

    # The control plane's role, unless the program passes one.
    service_role_input = inputs.get("serviceRole")
    if service_role_input is None:
        policies = CLUSTER_POLICIES + (AUTO_MODE_CLUSTER_POLICIES if auto_mode else ())
        children += service_role(
            f"{name}-eksRole",
            "eks.amazonaws.com",
            policies,
            region,
            tags=tags,
            description="Allows EKS to manage clusters on your behalf.",
            assume_actions=("sts:AssumeRole", "sts:TagSession"),
        )
        role_arn: Any = Ref(f"{name}-eksRole-role", "arn")
    else:
        role_arn = context.resource_output(unwrap(service_role_input), "arn")

    # The control plane's security group, unless passed in or skipped.
    cluster_sg_input = inputs.get("clusterSecurityGroup")
    cluster_sg: Any = None
    if cluster_sg_input is not None:
        cluster_sg = context.resource_output(unwrap(cluster_sg_input), "id")
    elif not skip_security_groups:
        group = f"{name}-eksClusterSecurityGroup"
        children.append(
            Child(
                SECURITY_GROUP,
                group,
                {
                    "vpcId": vpc_id,
                    "revokeRulesOnDelete": True,
                    "tags": _merged_tags(group, inputs.get("clusterSecurityGroupTags"), tags),
                },
            )
        )
        children.append(
            Child(
                SECURITY_GROUP_RULE,
                f"{name}-eksClusterInternetEgressRule",
                {
                    "description": "Allow internet access.",
                    "type": "egress",
                    "fromPort": 0,
                    "toPort": 0,
                    "protocol": "-1",
                    "cidrBlocks": [ANYWHERE],
                    "securityGroupId": Ref(group, "id"),
                },
            )
        )
        cluster_sg = Ref(group, "id")

    node_role = f"{name}-nodeRole"
    if auto_mode and dict(_value(inputs, "autoMode") or {}).get("createNodeRole") is not False:
        children += service_role(node_role, "ec2.amazonaws.com", AUTO_MODE_NODE_POLICIES, region, tags=tags)

    cluster = f"{name}-eksCluster"
    cluster_inputs: dict[str, Any] = {
        "roleArn": role_arn,
        "bootstrapSelfManagedAddons": False
        if auto_mode
        else (inputs["bootstrapSelfManagedAddons"] if inputs.get("bootstrapSelfManagedAddons") is not None else True),
        "vpcConfig": _vpc_config(inputs, cluster_sg),
        "tags": _merged_tags(cluster, inputs.get("clusterTags"), tags),
    }
    for option in ("name", "version", "enabledClusterLogTypes", "upgradePolicy", "deletionProtection"):
        if inputs.get(option) is not None:
            cluster_inputs[option] = inputs[option]
    if inputs.get("encryptionConfigKeyArn") is not None:
        cluster_inputs["encryptionConfig"] = {
            "provider": {"keyArn": inputs["encryptionConfigKeyArn"]},
            "resources": ["secrets"],
        }
    ip_family = _value(inputs, "ipFamily")
    if inputs.get("kubernetesServiceIpAddressRange") is not None or ip_family is not None or auto_mode:
        network: dict[str, Any] = {"ipFamily": ip_family or "ipv4"}
        if (ip_family or "ipv4") == "ipv4" and inputs.get("kubernetesServiceIpAddressRange") is not None:
            network["serviceIpv4Cidr"] = inputs["kubernetesServiceIpAddressRange"]
        if auto_mode:
            network["elasticLoadBalancing"] = {"enabled": True}
        cluster_inputs["kubernetesNetworkConfig"] = network
    if auto_mode:
        compute = {
            "enabled": True,
            "nodePools": ["general-purpose", "system"],
            **dict(unwrap(dict(_value(inputs, "autoMode") or {}).get("computeConfig")) or {}),
        }
        if "nodeRoleArn" not in compute:
            has_node_role = any(child.name == f"{node_role}-role" for child in children)
            compute["nodeRoleArn"] = Ref(f"{node_role}-role", "arn") if has_node_role else None
        cluster_inputs["computeConfig"] = {key: value for key, value in compute.items() if value is not None}
        cluster_inputs["storageConfig"] = {"blockStorage": {"enabled": True}}
    if authentication_mode is not None:
        cluster_inputs["accessConfig"] = {
            "authenticationMode": authentication_mode,
            "bootstrapClusterCreatorAdminPermissions": True,
        }
    role_children = tuple(child.name for child in children if child.type == ROLE_POLICY_ATTACHMENT)
    children.append(Child(CLUSTER, cluster, cluster_inputs, depends_on=role_children))

    kube_proxy = dict(_value(inputs, "kubeProxyAddonOptions") or {})
    if kube_proxy.get("enabled", not auto_mode):
        children.append(_addon(f"{name}-kube-proxy", "kube-proxy", cluster, tags, kube_proxy))

    # The nodes' role and instance profile.
    instance_role = _value(inputs, "instanceRole")
    instance_profile_child = f"{name}-instanceProfile"
    # A profile named by the program is read (InstanceProfile.get), not created.
    profile_given = _value(inputs, "instanceProfileName") or options.get("instanceProfileName")
    instance_role_arn: Any = None
    create_instance_role = _value(inputs, "createInstanceRole")
    if _value(inputs, "instanceRoles") is None and instance_role is not None:
        instance_role_arn = context.resource_output(instance_role, "arn")
        if not skip_node_group and profile_given is None:
            children.append(
                Child(INSTANCE_PROFILE, instance_profile_child, {"role": context.resource_output(instance_role, "id")})
            )
    elif _value(inputs, "instanceRoles") is None and (
        create_instance_role or (not skip_asked and create_instance_role is None)
    ):
        role = f"{name}-instanceRole"
        children += service_role(role, "ec2.amazonaws.com", INSTANCE_POLICIES, region, tags=tags)
        instance_role_arn = Ref(f"{role}-role", "arn")
        if inputs.get("customInstanceRolePolicy") is not None:
            children.append(
                Child(
                    ROLE_POLICY,
                    f"{name}-EKSWorkerCustomPolicy",
                    {"role": Ref(f"{role}-role", "id"), "policy": inputs["customInstanceRolePolicy"]},
                )
            )
        if profile_given is None:
            children.append(Child(INSTANCE_PROFILE, instance_profile_child, {"role": Ref(f"{role}-role", "id")}))

    if authentication_mode in ("API", "API_AND_CONFIG_MAP"):
        entries: dict[str, Any] = {}
        if instance_role_arn is not None:
            entries["defaultNodeGroupInstanceRole"] = {"principalArn": instance_role_arn, "type": "EC2_LINUX"}
        entries.update(dict(_value(inputs, "accessEntries") or {}))
        children += _access_entries(name, cluster, entries)

    use_default_cni = _value(inputs, "useDefaultVpcCni")
    if (not use_default_cni) if use_default_cni is not None else not auto_mode:
        cni = dict(_value(inputs, "vpcCniOptions") or {})
        addon_name = f"{name}-vpc-cni"
        children.append(Child(VPC_CNI_ADDON, addon_name, {"clusterName": Ref(cluster, "name")}, custom=False))
        addon: dict[str, Any] = {
            "clusterName": Ref(cluster, "name"),
            "addonVersion": cni.get("addonVersion") or UNKNOWN,
            "addonName": "vpc-cni",
            "resolveConflictsOnCreate": cni.get("resolveConflictsOnCreate") or "OVERWRITE",
            "resolveConflictsOnUpdate": cni.get("resolveConflictsOnUpdate") or "OVERWRITE",
            "preserve": True,
            "configurationValues": UNKNOWN,  # the plugin merges its environment defaults in: not modelled
        }
        if cni.get("serviceAccountRoleArn") is not None:
            addon["serviceAccountRoleArn"] = cni["serviceAccountRoleArn"]
        if tags is not None:
            addon["tags"] = tags
        children.append(Child(ADDON, addon_name, addon, parent=addon_name, key=f"{ADDON}::{addon_name}"))

    fargate_profile = None
    if fargate:
        children += _fargate(name, fargate, cluster, region, tags)
        fargate_profile = children[-1].name

    coredns = dict(_value(inputs, "corednsAddonOptions") or {})
    explicit = coredns.get("enabled") is True or coredns.get("configurationValues") is not None
    if explicit or ((fargate or not skip_asked or auto_mode) and coredns.get("enabled", True)):
        if fargate:
            given = dict(coredns.get("configurationValues") or {})
            coredns["configurationValues"] = {"computeType": "Fargate", **given}
        child = _addon(f"{name}-coredns", "coredns", cluster, tags, coredns)
        children.append(Child(child.type, child.name, child.inputs, depends_on=tuple(filter(None, [fargate_profile]))))

    if _flag(inputs, "createOidcProvider", what):
        children.append(
            Child(
                OIDC_PROVIDER,
                f"{name}-oidcProvider",
                {
                    "clientIdLists": ["sts.amazonaws.com"],
                    "url": Derived(Ref(cluster, "identities"), _oidc_issuer),
                    "thumbprintLists": [UNKNOWN],  # fetched from the issuer's certificate chain
                },
                depends_on=(cluster,),
            )
        )

    node_sg = ingress_rule = None
    if not skip_security_groups or not skip_node_group:
        # Without a group of its own, the one EKS creates for the cluster.
        security_group_of_cluster = (
            cluster_sg
            if cluster_sg is not None
            else Derived(Ref(cluster, "vpcConfig"), lambda config: config.get("clusterSecurityGroupId") or UNKNOWN)
        )
        node_tags = _merged_tags(None, inputs.get("nodeSecurityGroupTags"), tags)
        group_children, node_sg, ingress_rule = _node_security_group(
            name, vpc_id, security_group_of_cluster, cluster, node_tags
        )
        children += group_children

    if not skip_node_group and node_sg is not None and ingress_rule is not None:
        if not any(child.name == instance_profile_child for child in children):
            profile_name: Any = profile_given
            if profile_name is None:
                raise ValueError(f"{what}: the default node group needs an instanceRole or instanceProfileName")
        else:
            profile_name = Ref(instance_profile_child, "name")
        children += _default_node_group(
            name,
            options,
            instance_profile=profile_name,
            node_sg=node_sg,
            ingress_rule=ingress_rule,
            worker_subnets=_worker_subnets(inputs, options),
            cluster=cluster,
            after=tuple(child.name for child in children if child.type == VPC_CNI_ADDON),
        )
    return children


def _oidc_issuer(identities: Any) -> Any:
    """The issuer URL in a cluster's ``identities`` output (``identities[0].oidcs[0].issuer``)."""
    try:
        return identities[0]["oidcs"][0]["issuer"]
    except (IndexError, KeyError, TypeError):
        return UNKNOWN


def _worker_subnets(inputs: Mapping[str, Any], options: Mapping[str, Any]) -> Any:
    """``nodeSubnetIds``, else the private subnets, else the public ones; else the plugin reads route tables."""
    for source in (options.get("nodeSubnetIds"), _value(inputs, "privateSubnetIds"), _value(inputs, "publicSubnetIds")):
        if source is not None:
            return source
    return UNKNOWN


def _fargate(name: str, fargate: Any, cluster: str, region: str, tags: Any) -> list[Child]:
    """A Fargate profile (and its pod execution role unless given) for ``fargate`` (cluster.ts)."""
    settings = dict(fargate) if isinstance(fargate, Mapping) else {}
    children: list[Child] = []
    role_arn = settings.get("podExecutionRoleArn")
    if role_arn is None:
        role = f"{name}-podExecutionRole"
        children += service_role(role, "eks-fargate-pods.amazonaws.com", FARGATE_POLICIES, region, tags=tags)
        role_arn = Ref(f"{role}-role", "arn")
    selectors = settings.get("selectors") or [{"namespace": "default"}, {"namespace": "kube-system"}]
    # A name starting "eks-" (reserved by AWS) loses that hyphen.
    profile = (
        f"{name.replace('-', '_', 1)}fargateProfile"
        if name == "eks" or name.lower().startswith("eks-")
        else f"{name}-fargateProfile"
    )
    inputs = {
        "clusterName": Ref(cluster, "name"),
        "podExecutionRoleArn": role_arn,
        "selectors": selectors,
        "subnetIds": UNKNOWN,  # the private ones of the cluster's subnets, found by reading route tables
    }
    children.append(Child(FARGATE_PROFILE, profile, inputs))
    return children


# --- eks:index:ManagedNodeGroup ------------------------------------------------------------------------------------

NODE_GROUP: Final = "aws:eks/nodeGroup:NodeGroup"
PLACEMENT_GROUP: Final = "aws:ec2/placementGroup:PlacementGroup"
_USER_DATA_OPTIONS: Final = ("bootstrapExtraArgs", "kubeletExtraArgs", "bottlerocketSettings", "nodeadmExtraOptions")
# Any of these makes the plugin write a launch template for the managed node group.
_CUSTOM_LAUNCH_TEMPLATE_OPTIONS: Final = (*_USER_DATA_OPTIONS, "enableIMDSv2", "userData", "amiId", "enableEfaSupport")
# The inputs of aws.eks.NodeGroup the component passes on as given (the Node SDK drops the rest).
_NODE_GROUP_INPUTS: Final = (
    "capacityType",
    "diskSize",
    "forceUpdateVersion",
    "instanceTypes",
    "labels",
    "nodeGroupName",
    "nodeGroupNamePrefix",
    "releaseVersion",
    "remoteAccess",
    "tags",
    "taints",
    "version",
)


def _managed_launch_template(name: str, inputs: Mapping[str, Any], placement_group: str | None) -> Child:
    """The launch template the plugin writes for custom user data, an AMI, IMDSv2 or EFA (nodegroup.ts)."""
    custom_user_data = any(inputs.get(option) is not None for option in (*_USER_DATA_OPTIONS, "userData", "amiId"))
    template: dict[str, Any] = {}
    if inputs.get("diskSize") is not None:
        # /dev/xvda on Amazon Linux, /dev/xvdb on Bottlerocket: the OS is not modelled.
        template["blockDeviceMappings"] = [{"deviceName": UNKNOWN, "ebs": {"volumeSize": _int(inputs["diskSize"])}}]
    if custom_user_data:
        template["userData"] = UNKNOWN  # built from the cluster's endpoint and certificate
        template["imageId"] = inputs.get("amiId") or UNKNOWN  # else the recommended AMI (an SSM parameter)
    enable_imdsv2 = inputs.get("enableIMDSv2")
    if enable_imdsv2 is not None:
        template["metadataOptions"] = {
            "httpTokens": "required" if unwrap(enable_imdsv2) else "optional",
            "httpPutResponseHopLimit": 2,
            "httpEndpoint": "enabled",
        }
    if placement_group is not None:
        template["placement"] = {"groupName": Ref(placement_group, "name")}
    if _value(inputs, "enableEfaSupport"):
        template["networkInterfaces"] = UNKNOWN  # sized from the instance types' EFA limits (a data source)
    return Child(LAUNCH_TEMPLATE, f"{name}-launchTemplate", template)


def build_managed_node_group(inputs: Mapping[str, Any], context: ConstructContext) -> list[Child]:
    """The children pulumi-eks registers for an ``eks:index:ManagedNodeGroup`` (``createManagedNodeGroup``).

    What the plugin reads from the ``cluster`` it is given (its name, version and subnets) is an output of
    another component, unknown offline unless the program passes ``clusterName``/``subnetIds`` itself.
    """
    name, what = context.name, "eks:index:ManagedNodeGroup"
    if inputs.get("nodeRole") is not None and inputs.get("nodeRoleArn") is not None:
        raise ValueError(f"{what}: nodeRole and nodeRoleArn are mutually exclusive")
    if inputs.get("amiId") is not None and any(inputs.get(option) is not None for option in ("gpu", "amiType")):
        raise ValueError(f"{what}: amiId may not be combined with gpu or amiType")
    if inputs.get("launchTemplate") is not None and any(
        inputs.get(option) is not None for option in _CUSTOM_LAUNCH_TEMPLATE_OPTIONS
    ):
        raise ValueError(f"{what}: a launchTemplate of your own excludes {', '.join(_CUSTOM_LAUNCH_TEMPLATE_OPTIONS)}")
    if inputs.get("nodeRoleArn") is not None:
        role_arn = inputs["nodeRoleArn"]
    elif inputs.get("nodeRole") is not None:
        role_arn = context.resource_output(unwrap(inputs["nodeRole"]), "arn")
    else:
        raise ValueError(f"{what}: a nodeRole or nodeRoleArn is required")
    efa = _flag(inputs, "enableEfaSupport", what)
    if efa and inputs.get("placementGroupAvailabilityZone") is None:
        raise ValueError(f"{what}: enableEfaSupport needs placementGroupAvailabilityZone")
    children: list[Child] = []
    placement_group = None
    if efa:
        group_inputs: dict[str, Any] = {"strategy": "cluster"}
        if inputs.get("tags") is not None:
            group_inputs["tags"] = inputs["tags"]
        children.append(Child(PLACEMENT_GROUP, name, group_inputs, key=f"{PLACEMENT_GROUP}::{name}"))
        placement_group = f"{PLACEMENT_GROUP}::{name}"
    node_group: dict[str, Any] = {
        option: inputs[option] for option in _NODE_GROUP_INPUTS if inputs.get(option) is not None
    }
    if "version" not in node_group and inputs.get("launchTemplate") is None:
        node_group["version"] = UNKNOWN  # the cluster's version
    if inputs.get("amiType") is not None:
        node_group["amiType"] = inputs["amiType"]
    custom_user_data = any(inputs.get(option) is not None for option in (*_USER_DATA_OPTIONS, "userData", "amiId"))
    if custom_user_data:
        # The AMI and its version come from the launch template's user data.
        for option in ("version", "releaseVersion", "amiType"):
            node_group.pop(option, None)
    elif inputs.get("amiType") is None and inputs.get("operatingSystem") is not None:
        node_group["amiType"] = UNKNOWN  # chosen from the OS, GPU and the instance types' architecture
    if any(inputs.get(option) is not None for option in _CUSTOM_LAUNCH_TEMPLATE_OPTIONS):
        template = _managed_launch_template(name, inputs, placement_group)
        children.append(template)
        node_group.pop("diskSize", None)
        node_group["launchTemplate"] = {
            "id": Ref(template.name, "id"),
            "version": Derived(Ref(template.name, "latestVersion"), lambda version: str(_int(version))),
        }
    elif inputs.get("launchTemplate") is not None:
        node_group["launchTemplate"] = inputs["launchTemplate"]
    scaling = dict(_value(inputs, "scalingConfig") or {})
    node_group.update(
        {
            "clusterName": inputs["clusterName"] if inputs.get("clusterName") is not None else UNKNOWN,
            "nodeRoleArn": role_arn,
            "scalingConfig": {
                "desiredSize": _int(scaling.get("desiredSize", DEFAULT_DESIRED_CAPACITY)),
                "minSize": _int(scaling.get("minSize", DEFAULT_MIN_SIZE)),
                "maxSize": _int(scaling.get("maxSize", DEFAULT_MAX_SIZE)),
            },
            # The cluster's subnets (unknown offline), narrowed to the placement zone with EFA.
            "subnetIds": inputs["subnetIds"] if inputs.get("subnetIds") is not None and not efa else UNKNOWN,
        }
    )
    children.append(Child(NODE_GROUP, name, node_group, key=f"{NODE_GROUP}::{name}"))
    return children


MODELS: dict[str, ComponentModel] = {
    "eks:index:Cluster": ComponentModel(
        build_cluster,
        f"{RELEASE}: nodejs/eks/cluster/cluster.ts, servicerole.ts, nodes/securitygroup.ts, nodes/nodegroup.ts "
        "createNodeGroupV2, addons/cni-addon.ts, cluster/authenticationMode.ts; Kubernetes resources (the k8s "
        "provider, aws-auth ConfigMap, storage classes) not modelled)",
    ),
    "eks:index:ManagedNodeGroup": ComponentModel(
        build_managed_node_group,
        f"{RELEASE}: nodejs/eks/nodes/nodegroup.ts createManagedNodeGroup, createMNGCustomLaunchTemplate; what it "
        "reads from the cluster component stays unknown)",
    ),
}
"""Component type token → model."""
