"""Offline model of pulumi-eks 4.x's ``eks:index:Cluster``.

The model is checked against what the package's provider (``nodejs/eks/cluster/cluster.ts`` with
``servicerole.ts``, ``nodes/securitygroup.ts``, ``nodes/nodegroup.ts``, ``addons/cni-addon.ts``) registers for
default inputs, then one option at a time. One program, whose own component class registers
``eks:index:Cluster`` remotely with the inputs the Python SDK sends (so pulumi_eks need not be installed), runs
through the offline engine to show the children land under the right parents and reach the pack.
"""

from __future__ import annotations

import hashlib
import json
import textwrap
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from pulumi.output import Unknown

from offline.constructs import MODELS, UNKNOWN, Child, ConstructContext, Derived, Ref
from offline.constructs import eks as model
from offline.harness import run_program_dir
from offline.recording import ProgramRun
from orderflow import pulumi_files

REGION = "us-east-1"
TOKEN = "eks:index:Cluster"


def build(inputs: Mapping[str, Any], name: str = "eks", region: str = REGION, **context: Any) -> list[Child]:
    return MODELS[TOKEN].build(inputs, ConstructContext(name=name, program_dir=Path("."), region=region, **context))


def named(children: list[Child], child_type: str, name: str) -> Child:
    return next(child for child in children if child.type == child_type and child.name == name)


def names(children: list[Child], child_type: str) -> list[str]:
    return [child.name for child in children if child.type == child_type]


def counts(children: list[Child]) -> Counter[str]:
    return Counter(child.type.rsplit(":", 1)[-1] for child in children)


def cluster_of(children: list[Child]) -> Mapping[str, Any]:
    return named(children, model.CLUSTER, "eks-eksCluster").inputs


@pytest.fixture(scope="module")
def default_cluster() -> list[Child]:
    return build({"vpcId": "vpc-1", "subnetIds": ["subnet-a", "subnet-b"]})


def test_defaults_register_the_control_plane_addons_and_a_self_managed_node_group(default_cluster: list[Child]) -> None:
    assert counts(default_cluster) == {
        "ServiceRole": 2,
        "Role": 2,
        "RolePolicyAttachment": 4,
        "SecurityGroup": 2,
        "SecurityGroupRule": 6,
        "Cluster": 1,
        "Addon": 3,
        "InstanceProfile": 1,
        "VpcCniAddon": 1,
        "LaunchTemplate": 1,
        "Group": 1,
    }
    assert names(default_cluster, model.ADDON) == ["eks-kube-proxy", "eks-vpc-cni", "eks-coredns"]
    # The default authentication mode (CONFIG_MAP) maps roles in aws-auth: no access entries.
    assert not names(default_cluster, model.ACCESS_ENTRY) and not names(default_cluster, model.OIDC_PROVIDER)
    group = named(default_cluster, model.AUTOSCALING_GROUP, "eks")
    assert group.parent == "" and group.depends_on == ("eks-vpc-cni",)  # nodes join once the CNI is there


def test_service_role_attaches_the_cluster_policy_under_its_component(default_cluster: list[Child]) -> None:
    role = named(default_cluster, model.ROLE, "eks-eksRole-role")
    assert role.parent == "eks-eksRole"
    assert json.loads(role.inputs["assumeRolePolicy"])["Statement"] == [
        {
            "Action": ["sts:AssumeRole", "sts:TagSession"],
            "Effect": "Allow",
            "Principal": {"Service": ["eks.amazonaws.com"]},
        }
    ]
    digest = hashlib.sha1(b"arn:aws:iam::aws:policy/AmazonEKSClusterPolicy", usedforsecurity=False).hexdigest()[:8]
    attachment = named(default_cluster, model.ROLE_POLICY_ATTACHMENT, f"eks-eksRole-{digest}")
    assert attachment.inputs == {
        "policyArn": "arn:aws:iam::aws:policy/AmazonEKSClusterPolicy",
        "role": Ref("eks-eksRole-role", "id"),
    }
    instance_policies = {
        child.inputs["policyArn"].rsplit("/", 1)[1]
        for child in default_cluster
        if child.type == model.ROLE_POLICY_ATTACHMENT and child.parent == "eks-instanceRole"
    }
    assert instance_policies == {
        "AmazonEKSWorkerNodePolicy",
        "AmazonEKS_CNI_Policy",
        "AmazonEC2ContainerRegistryReadOnly",
    }


def test_cluster_leaves_the_endpoint_flags_to_eks_and_uses_its_own_security_group(
    default_cluster: list[Child],
) -> None:
    cluster = named(default_cluster, model.CLUSTER, "eks-eksCluster")
    assert cluster.inputs["vpcConfig"] == {
        "subnetIds": ["subnet-a", "subnet-b"],
        "securityGroupIds": [Ref("eks-eksClusterSecurityGroup", "id")],
    }
    assert cluster.inputs["roleArn"] == Ref("eks-eksRole-role", "arn")
    assert cluster.inputs["bootstrapSelfManagedAddons"] is True and "accessConfig" not in cluster.inputs
    assert cluster.inputs["tags"] == {"Name": "eks-eksCluster"}
    # After its role's policy is attached (the plugin waits for the role's resolved output).
    digest = hashlib.sha1(b"arn:aws:iam::aws:policy/AmazonEKSClusterPolicy", usedforsecurity=False).hexdigest()[:8]
    assert cluster.depends_on == (f"eks-eksRole-{digest}",)


def test_security_groups_open_only_what_the_package_opens(default_cluster: list[Child]) -> None:
    rules = {child.name: child.inputs for child in default_cluster if child.type == model.SECURITY_GROUP_RULE}
    node, cluster = Ref("eks-nodeSecurityGroup", "id"), Ref("eks-eksClusterSecurityGroup", "id")
    summary = {
        name: (rule["type"], rule["fromPort"], rule["toPort"], rule["protocol"], rule["securityGroupId"])
        for name, rule in rules.items()
    }
    assert summary == {
        "eks-eksClusterInternetEgressRule": ("egress", 0, 0, "-1", cluster),
        "eks-eksNodeIngressRule": ("ingress", 0, 0, "-1", node),
        "eks-eksNodeClusterIngressRule": ("ingress", 1025, 65535, "tcp", node),
        "eks-eksExtApiServerClusterIngressRule": ("ingress", 443, 443, "tcp", node),
        "eks-eksNodeInternetEgressRule": ("egress", 0, 0, "-1", node),
        "eks-eksClusterIngressRule": ("ingress", 443, 443, "tcp", cluster),
    }
    assert rules["eks-eksNodeIngressRule"]["self"] is True
    assert rules["eks-eksClusterIngressRule"]["sourceSecurityGroupId"] == node
    assert [name for name, rule in rules.items() if "cidrBlocks" in rule] == [
        "eks-eksClusterInternetEgressRule",
        "eks-eksNodeInternetEgressRule",
    ]
    tags = named(default_cluster, model.SECURITY_GROUP, "eks-nodeSecurityGroup").inputs["tags"]
    assert isinstance(tags, Derived) and tags.apply("eks-1234") == {
        "Name": "eks-nodeSecurityGroup",
        "kubernetes.io/cluster/eks-1234": "owned",
    }


def test_default_node_group_is_two_t3_medium_on_an_unknown_ami_without_imdsv2(default_cluster: list[Child]) -> None:
    template = named(default_cluster, model.LAUNCH_TEMPLATE, "eks-launchTemplate").inputs
    assert template["instanceType"] == "t3.medium" and template["imageId"] == UNKNOWN
    assert "metadataOptions" not in template and template["blockDeviceMappings"] == []
    assert template["iamInstanceProfile"] == {"name": Ref("eks-instanceProfile", "name")}
    [interface] = template["networkInterfaces"]
    assert interface["associatePublicIpAddress"] == "true"
    assert interface["securityGroups"].apply("sg-1") == ["sg-1"]
    group = named(default_cluster, model.AUTOSCALING_GROUP, "eks").inputs
    assert (group["minSize"], group["desiredCapacity"], group["maxSize"]) == (1, 2, 2)
    assert group["vpcZoneIdentifiers"] == UNKNOWN  # chosen by reading the subnets' route tables
    assert group["launchTemplate"]["name"] == Ref("eks-launchTemplate", "name")
    assert group["tags"].apply("eks-1234")[-1] == {"key": "Name", "value": "eks-1234-worker", "propagateAtLaunch": True}


# --- one option at a time ----------------------------------------------------------------------------------------


def test_endpoint_options_pass_through_to_vpc_config() -> None:
    inputs = {"vpcId": "vpc-1", "endpointPublicAccess": True, "endpointPrivateAccess": False}
    config = cluster_of(build({**inputs, "publicAccessCidrs": ["203.0.113.0/24"]}))["vpcConfig"]
    assert (config["endpointPublicAccess"], config["endpointPrivateAccess"]) == (True, False)
    assert config["publicAccessCidrs"] == ["203.0.113.0/24"]
    with pytest.raises(ValueError, match="publicAccessCidrs can only be set when endpointPublicAccess is true"):
        build({"vpcId": "vpc-1", "endpointPublicAccess": False, "publicAccessCidrs": ["203.0.113.0/24"]})


def test_without_a_vpc_the_default_vpc_and_its_subnets_stay_unknown() -> None:
    children = build({})
    assert cluster_of(children)["vpcConfig"]["subnetIds"] == UNKNOWN
    assert named(children, model.SECURITY_GROUP, "eks-eksClusterSecurityGroup").inputs["vpcId"] == UNKNOWN


def test_public_and_private_subnets_join_for_the_cluster_and_workers_take_the_private_ones() -> None:
    children = build({"vpcId": "vpc-1", "publicSubnetIds": ["pub-1"], "privateSubnetIds": ["priv-1", "priv-2"]})
    assert cluster_of(children)["vpcConfig"]["subnetIds"] == ["pub-1", "priv-1", "priv-2"]
    assert named(children, model.AUTOSCALING_GROUP, "eks").inputs["vpcZoneIdentifiers"] == ["priv-1", "priv-2"]
    with pytest.raises(ValueError, match="mutually exclusive"):
        build({"subnetIds": ["a"], "publicSubnetIds": ["b"]})


def test_node_options_size_the_group_and_choose_the_instance_type_ami_and_public_ip() -> None:
    children = build(
        {
            "instanceType": "m5.large",
            "desiredCapacity": 3.0,
            "minSize": 3.0,
            "maxSize": 6.0,
            "nodeAmiId": "ami-0123",
            "nodeAssociatePublicIpAddress": False,
        }
    )
    template = named(children, model.LAUNCH_TEMPLATE, "eks-launchTemplate").inputs
    assert (template["instanceType"], template["imageId"]) == ("m5.large", "ami-0123")
    assert template["networkInterfaces"][0]["associatePublicIpAddress"] == "false"
    group = named(children, model.AUTOSCALING_GROUP, "eks").inputs
    assert (group["minSize"], group["desiredCapacity"], group["maxSize"]) == (3, 3, 6)


def test_node_group_options_carry_metadata_options_and_exclude_the_singular_ones() -> None:
    options = {"instanceType": "t3.large", "metadataOptions": {"httpTokens": "required", "httpPutResponseHopLimit": 2}}
    template = named(build({"nodeGroupOptions": options}), model.LAUNCH_TEMPLATE, "eks-launchTemplate").inputs
    assert template["metadataOptions"] == {"httpTokens": "required", "httpPutResponseHopLimit": 2}
    assert template["instanceType"] == "t3.large"
    with pytest.raises(ValueError, match="nodeGroupOptions and the singular node option"):
        build({"nodeGroupOptions": options, "minSize": 1})


def test_root_volume_options_add_a_block_device_on_the_amis_unknown_device() -> None:
    template = named(
        build({"nodeRootVolumeSize": 50.0, "nodeRootVolumeEncrypted": True}),
        model.LAUNCH_TEMPLATE,
        "eks-launchTemplate",
    ).inputs
    assert template["blockDeviceMappings"] == [{"deviceName": UNKNOWN, "ebs": {"encrypted": "true", "volumeSize": 50}}]


def test_node_public_key_adds_a_key_pair() -> None:
    children = build({"nodePublicKey": "ssh-ed25519 AAAA"})
    assert named(children, model.KEY_PAIR, "eks-keyPair").inputs == {"publicKey": "ssh-ed25519 AAAA"}
    template = named(children, model.LAUNCH_TEMPLATE, "eks-launchTemplate").inputs
    assert template["keyName"] == Ref("eks-keyPair", "keyName")


def test_skip_default_node_group_drops_the_nodes_their_role_and_coredns_but_keeps_the_node_security_group() -> None:
    children = build({"skipDefaultNodeGroup": True})
    assert not names(children, model.LAUNCH_TEMPLATE) and not names(children, model.AUTOSCALING_GROUP)
    assert not names(children, model.INSTANCE_PROFILE) and "eks-instanceRole" not in names(children, model.SERVICE_ROLE)
    assert names(children, model.ADDON) == ["eks-kube-proxy", "eks-vpc-cni"]
    assert "eks-nodeSecurityGroup" in names(children, model.SECURITY_GROUP)


def test_skip_default_security_groups_makes_the_node_group_its_own_against_the_eks_created_group() -> None:
    children = build({"skipDefaultSecurityGroups": True})
    assert names(children, model.SECURITY_GROUP) == ["eks-nodeSecurityGroup"]
    assert "securityGroupIds" not in cluster_of(children)["vpcConfig"]
    rule = named(children, model.SECURITY_GROUP_RULE, "eks-eksClusterIngressRule").inputs
    # The group EKS creates, read from the cluster's vpcConfig output.
    assert rule["securityGroupId"].apply({"clusterSecurityGroupId": "sg-eks"}) == "sg-eks"


def test_api_authentication_adds_an_access_entry_for_the_node_role_and_the_ones_asked_for() -> None:
    entries = {"admin": {"principalArn": "arn:aws:iam::1:role/admin", "accessPolicies": {"view": {"policyArn": "p"}}}}
    children = build({"authenticationMode": "API", "accessEntries": entries})
    assert cluster_of(children)["accessConfig"] == {
        "authenticationMode": "API",
        "bootstrapClusterCreatorAdminPermissions": True,
    }
    node_entry = named(children, model.ACCESS_ENTRY, "eks-defaultNodeGroupInstanceRole")
    assert node_entry.inputs["principalArn"] == Ref("eks-instanceRole-role", "arn")
    assert node_entry.inputs["type"] == "EC2_LINUX"
    assert names(children, model.ACCESS_ENTRY) == ["eks-defaultNodeGroupInstanceRole", "eks-admin"]
    association = named(children, model.ACCESS_POLICY_ASSOCIATION, "eks-admin-view")
    assert association.parent == "eks-admin" and association.inputs["policyArn"] == "p"


def test_create_oidc_provider_adds_one_whose_issuer_and_thumbprint_stay_unknown() -> None:
    provider = named(build({"createOidcProvider": True}), model.OIDC_PROVIDER, "eks-oidcProvider").inputs
    assert (provider["clientIdLists"], provider["thumbprintLists"]) == (["sts.amazonaws.com"], [UNKNOWN])
    issuer = "https://oidc.eks.us-east-1.amazonaws.com/id/ABC"
    assert provider["url"].apply([{"oidcs": [{"issuer": issuer}]}]) == issuer


def test_addon_options_turn_addons_off_or_pin_their_versions() -> None:
    children = build(
        {
            "kubeProxyAddonOptions": {"enabled": False},
            "corednsAddonOptions": {"version": "v1.11.1-eksbuild.9"},
            "useDefaultVpcCni": True,
        }
    )
    assert names(children, model.ADDON) == ["eks-coredns"]
    assert named(children, model.ADDON, "eks-coredns").inputs["addonVersion"] == "v1.11.1-eksbuild.9"


def test_fargate_replaces_the_node_group_with_a_profile_and_runs_coredns_there() -> None:
    children = build({"fargate": True}, name="web")
    assert not names(children, model.AUTOSCALING_GROUP)
    profile = named(children, model.FARGATE_PROFILE, "web-fargateProfile").inputs
    assert profile["selectors"] == [{"namespace": "default"}, {"namespace": "kube-system"}]
    assert profile["podExecutionRoleArn"] == Ref("web-podExecutionRole-role", "arn")
    coredns = named(children, model.ADDON, "web-coredns")
    assert json.loads(coredns.inputs["configurationValues"]) == {"computeType": "Fargate"}
    assert coredns.depends_on == ("web-fargateProfile",)
    # A name in AWS's reserved "eks" prefix loses its first hyphen.
    assert names(build({"fargate": True}, name="eks-a"), model.FARGATE_PROFILE) == ["eks_afargateProfile"]
    assert names(build({"fargate": True}), model.FARGATE_PROFILE) == ["eksfargateProfile"]


def test_auto_mode_needs_access_entries_and_turns_off_the_default_groups_and_addons() -> None:
    with pytest.raises(ValueError, match="authenticationMode API"):
        build({"autoMode": {"enabled": True}})
    children = build({"autoMode": {"enabled": True}, "authenticationMode": "API"})
    cluster = cluster_of(children)
    assert cluster["bootstrapSelfManagedAddons"] is False
    assert cluster["computeConfig"]["nodeRoleArn"] == Ref("eks-nodeRole-role", "arn")
    assert not names(children, model.SECURITY_GROUP) and not names(children, model.AUTOSCALING_GROUP)
    assert names(children, model.ADDON) == ["eks-coredns"]


def test_a_service_role_passed_in_is_used_by_its_arn() -> None:
    def output(reference: Any, name: str) -> Any:
        return f"arn:aws:iam::1:role/{reference}" if name == "arn" else UNKNOWN

    children = build({"serviceRole": "mine"}, resource_output=output)
    assert "eks-eksRole" not in names(children, model.SERVICE_ROLE)
    assert cluster_of(children)["roleArn"] == "arn:aws:iam::1:role/mine"


def test_an_instance_profile_named_by_the_program_is_read_not_created() -> None:
    children = build({"instanceProfileName": "nodes"})
    assert not names(children, model.INSTANCE_PROFILE)
    template = named(children, model.LAUNCH_TEMPLATE, "eks-launchTemplate").inputs
    assert template["iamInstanceProfile"] == {"name": "nodes"}


def test_a_choice_the_preview_does_not_know_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="skipDefaultNodeGroup must be known during a preview"):
        build({"skipDefaultNodeGroup": UNKNOWN})


def test_the_model_names_the_release_and_sources_it_follows() -> None:
    assert MODELS[TOKEN] is model.MODELS[TOKEN]
    assert MODELS[TOKEN].follows.startswith("pulumi-eks 4.x") and "cluster.ts" in MODELS[TOKEN].follows


# --- ManagedNodeGroup -------------------------------------------------------------------------------------------

MANAGED = "eks:index:ManagedNodeGroup"
ROLE_ARN = "arn:aws:iam::123456789012:role/nodes"


def managed(inputs: Mapping[str, Any]) -> list[Child]:
    return MODELS[MANAGED].build(inputs, ConstructContext(name="workers", program_dir=Path("."), region=REGION))


def test_managed_node_group_defaults_to_two_nodes_of_the_clusters_version_without_a_launch_template() -> None:
    [group] = managed({"cluster": "urn:pulumi:dev::p::eks:index:Cluster::eks", "nodeRoleArn": ROLE_ARN})
    assert (group.type, group.name) == (model.NODE_GROUP, "workers")
    assert group.inputs == {
        "version": UNKNOWN,
        "clusterName": UNKNOWN,
        "nodeRoleArn": ROLE_ARN,
        "scalingConfig": {"desiredSize": 2, "minSize": 1, "maxSize": 2},
        "subnetIds": UNKNOWN,
    }


def test_managed_node_group_passes_its_node_group_inputs_on() -> None:
    inputs = {
        "nodeRoleArn": ROLE_ARN,
        "clusterName": "prod",
        "subnetIds": ["subnet-a"],
        "instanceTypes": ["m6i.large"],
        "capacityType": "SPOT",
        "scalingConfig": {"desiredSize": 4.0, "minSize": 2.0, "maxSize": 8.0},
    }
    [group] = managed(inputs)
    assert group.inputs["instanceTypes"] == ["m6i.large"] and group.inputs["capacityType"] == "SPOT"
    assert (group.inputs["clusterName"], group.inputs["subnetIds"]) == ("prod", ["subnet-a"])
    assert group.inputs["scalingConfig"] == {"desiredSize": 4, "minSize": 2, "maxSize": 8}


def test_managed_node_group_writes_a_launch_template_for_imdsv2() -> None:
    template, group = managed({"nodeRoleArn": ROLE_ARN, "enableIMDSv2": True, "diskSize": 50.0})
    assert (template.type, template.name) == (model.LAUNCH_TEMPLATE, "workers-launchTemplate")
    assert template.inputs["metadataOptions"] == {
        "httpTokens": "required",
        "httpPutResponseHopLimit": 2,
        "httpEndpoint": "enabled",
    }
    assert template.inputs["blockDeviceMappings"] == [{"deviceName": UNKNOWN, "ebs": {"volumeSize": 50}}]
    assert "diskSize" not in group.inputs and group.inputs["launchTemplate"]["id"] == Ref(template.name, "id")
    optional, _ = managed({"nodeRoleArn": ROLE_ARN, "enableIMDSv2": False})
    assert optional.inputs["metadataOptions"]["httpTokens"] == "optional"


def test_managed_node_group_with_its_own_ami_drops_the_version_for_user_data() -> None:
    template, group = managed({"nodeRoleArn": ROLE_ARN, "amiId": "ami-0123", "version": "1.31"})
    assert template.inputs["imageId"] == "ami-0123" and template.inputs["userData"] == UNKNOWN
    assert "version" not in group.inputs


def test_managed_node_group_with_efa_adds_a_cluster_placement_group() -> None:
    inputs = {"nodeRoleArn": ROLE_ARN, "enableEfaSupport": True, "placementGroupAvailabilityZone": "us-east-1a"}
    placement, template, group = managed(inputs)
    assert (placement.type, placement.inputs) == (model.PLACEMENT_GROUP, {"strategy": "cluster"})
    assert template.inputs["placement"] == {"groupName": Ref(placement.key, "name")}
    assert group.inputs["subnetIds"] == UNKNOWN
    with pytest.raises(ValueError, match="placementGroupAvailabilityZone"):
        managed({"nodeRoleArn": ROLE_ARN, "enableEfaSupport": True})


def test_managed_node_group_needs_a_role() -> None:
    with pytest.raises(ValueError, match="nodeRole or nodeRoleArn is required"):
        managed({})


# --- through the offline engine ----------------------------------------------------------------------------------

PROGRAM = """
import pulumi


class Cluster(pulumi.ComponentResource):
    # As pulumi_eks.Cluster: a multi-language component, built by the eks provider plugin.
    kubeconfig: pulumi.Output[str]

    def __init__(self, name, props, opts=None):
        super().__init__("eks:index:Cluster", name, {**props, "kubeconfig": None}, opts, remote=True)


cluster = Cluster("eks", {
    "vpcId": "vpc-0123", "subnetIds": ["subnet-a", "subnet-b"], "authenticationMode": "API",
    "endpointPublicAccess": True, "endpointPrivateAccess": False, "desiredCapacity": 3, "minSize": 3, "maxSize": 6,
})
pulumi.export("kubeconfig", cluster.kubeconfig)


class ManagedNodeGroup(pulumi.ComponentResource):
    # As pulumi_eks.ManagedNodeGroup.
    def __init__(self, name, props, opts=None):
        super().__init__("eks:index:ManagedNodeGroup", name, {**props, "nodeGroup": None}, opts, remote=True)


ManagedNodeGroup("workers", {"cluster": cluster, "nodeRoleArn": "arn:aws:iam::1:role/nodes", "enableIMDSv2": True})
"""


def run(tmp_path: Path, *, first_preview: bool) -> ProgramRun:
    tmp_path.mkdir(exist_ok=True)
    (tmp_path / "Pulumi.yaml").write_text("name: probe\nruntime: python\n")
    (tmp_path / "__main__.py").write_text(textwrap.dedent(PROGRAM).lstrip())
    return run_program_dir(tmp_path, files=pulumi_files, first_preview=first_preview)


def test_engine_registers_the_cluster_children_under_their_parents(tmp_path: Path) -> None:
    recorded = run(tmp_path, first_preview=False)
    component = recorded.named("eks", TOKEN)
    assert component.type == TOKEN and component.remote
    by_name = {(resource.type, resource.name): resource for resource in recorded.resources}
    cluster = by_name[(model.CLUSTER, "eks-eksCluster")]
    assert cluster.parent == component.urn
    assert cluster.inputs["vpcConfig"]["endpointPublicAccess"] is True
    security_group = by_name[(model.SECURITY_GROUP, "eks-eksClusterSecurityGroup")]
    assert cluster.inputs["vpcConfig"]["securityGroupIds"] == [security_group.id]
    role = by_name[(model.ROLE, "eks-eksRole-role")]
    assert role.parent == by_name[(model.SERVICE_ROLE, "eks-eksRole")].urn
    assert cluster.inputs["roleArn"] == role.outputs["arn"]
    addon = by_name[(model.ADDON, "eks-vpc-cni")]
    assert addon.parent == by_name[(model.VPC_CNI_ADDON, "eks-vpc-cni")].urn
    group = by_name[(model.AUTOSCALING_GROUP, "eks")]
    assert (group.inputs["minSize"], group.inputs["desiredCapacity"], group.inputs["maxSize"]) == (3, 3, 6)
    managed_group = by_name[(model.NODE_GROUP, "workers")]
    assert managed_group.parent == recorded.named("workers", MANAGED).urn
    assert managed_group.inputs["launchTemplate"]["id"] == by_name[(model.LAUNCH_TEMPLATE, "workers-launchTemplate")].id
    template = by_name[(model.LAUNCH_TEMPLATE, "eks-launchTemplate")]
    assert template.inputs["networkInterfaces"][0]["securityGroups"] == [
        by_name[(model.SECURITY_GROUP, "eks-nodeSecurityGroup")].id
    ]


def test_first_preview_leaves_outputs_of_new_children_unknown(tmp_path: Path) -> None:
    recorded = run(tmp_path, first_preview=True)
    by_name = {(resource.type, resource.name): resource for resource in recorded.resources}
    cluster = by_name[(model.CLUSTER, "eks-eksCluster")]
    assert isinstance(cluster.inputs["roleArn"], Unknown)
    [group] = cluster.inputs["vpcConfig"]["securityGroupIds"]
    assert isinstance(group, Unknown)
