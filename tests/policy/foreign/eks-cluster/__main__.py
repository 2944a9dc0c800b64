"""An EKS cluster whose worker nodes run in the private subnets of a new VPC, reachable through a public endpoint.

``Cluster`` stands in for ``pulumi_eks.Cluster`` (4.x), which this test environment does not install: like it,
it registers the multi-language component ``eks:index:Cluster`` with ``remote=True`` and the camelCase inputs the
SDK sends, so the eks provider plugin (offline, its model) builds the children.
"""

from typing import Any

import pulumi
import pulumi_awsx as awsx


class Cluster(pulumi.ComponentResource):
    """``eks:index:Cluster``, registered as ``pulumi_eks.Cluster`` registers it."""

    kubeconfig: pulumi.Output[Any]

    def __init__(self, name: str, opts: pulumi.ResourceOptions | None = None, **inputs: Any) -> None:
        super().__init__("eks:index:Cluster", name, {**inputs, "kubeconfig": None}, opts, remote=True)


config = pulumi.Config()
min_size = config.get_int("minClusterSize") or 3
max_size = config.get_int("maxClusterSize") or 6
desired_size = config.get_int("desiredClusterSize") or 3
node_instance_type = config.get("eksNodeInstanceType") or "t3.medium"
vpc_network_cidr = config.get("vpcNetworkCidr") or "10.0.0.0/16"

vpc = awsx.ec2.Vpc("eks-vpc", enable_dns_hostnames=True, cidr_block=vpc_network_cidr)

cluster = Cluster(
    "eks-cluster",
    vpcId=vpc.vpc_id,
    # Access entries rather than the aws-auth ConfigMap.
    authenticationMode="API",
    # Load balancers go in the public subnets, nodes in the private ones.
    publicSubnetIds=vpc.public_subnet_ids,
    privateSubnetIds=vpc.private_subnet_ids,
    instanceType=node_instance_type,
    desiredCapacity=desired_size,
    minSize=min_size,
    maxSize=max_size,
    nodeAssociatePublicIpAddress=False,
    endpointPrivateAccess=False,
    endpointPublicAccess=True,
)

pulumi.export("kubeconfig", cluster.kubeconfig)
pulumi.export("vpcId", vpc.vpc_id)
