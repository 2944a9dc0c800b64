"""No server management: no instances, node groups or provisioned clusters to size and patch."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Final

from pulumi_policy import EnforcementLevel, Severity

from policy_pack._core import Props, ResourceRule

SERVICE: Final = "compute"

# Resource type -> what it is, for the message. Each of them runs on instances someone sizes and patches.
SERVER_TYPES: Final[Mapping[str, str]] = {
    "aws:ec2/instance:Instance": "an EC2 instance",
    "aws:ec2/spotInstanceRequest:SpotInstanceRequest": "an EC2 Spot instance",
    "aws:ec2/spotFleetRequest:SpotFleetRequest": "an EC2 Spot fleet",
    "aws:ec2/fleet:Fleet": "an EC2 fleet",
    "aws:ec2/dedicatedHost:DedicatedHost": "an EC2 dedicated host",
    "aws:autoscaling/group:Group": "an EC2 Auto Scaling group",
    "aws:lightsail/instance:Instance": "a Lightsail instance",
    "aws:eks/nodeGroup:NodeGroup": "an EKS managed node group",
    "aws:emr/cluster:Cluster": "an EMR cluster",
    "aws:elasticbeanstalk/environment:Environment": "an Elastic Beanstalk environment",
    "aws:sagemaker/notebookInstance:NotebookInstance": "a SageMaker notebook instance",
    "aws:dms/replicationInstance:ReplicationInstance": "a DMS replication instance",
    "aws:mq/broker:Broker": "an Amazon MQ broker (a broker on instances; use SQS/SNS/EventBridge)",
    "aws:elasticache/cluster:Cluster": "an ElastiCache node cluster (ElastiCache Serverless exists)",
    "aws:elasticache/replicationGroup:ReplicationGroup": (
        "an ElastiCache replication group (ElastiCache Serverless exists)"
    ),
    "aws:memorydb/cluster:Cluster": "a MemoryDB cluster",
    "aws:opensearch/domain:Domain": "an OpenSearch domain (OpenSearch Serverless exists)",
    "aws:elasticsearch/domain:Domain": "an Elasticsearch domain",
    "aws:msk/cluster:Cluster": "a provisioned MSK cluster (MSK Serverless exists)",
    "aws:redshift/cluster:Cluster": "a provisioned Redshift cluster (Redshift Serverless exists)",
    "aws:docdb/clusterInstance:ClusterInstance": "a DocumentDB instance (DocumentDB Elastic exists)",
    "aws:lambda/capacityProvider:CapacityProvider": "a Lambda capacity provider (Lambda on managed EC2 instances)",
}
ECS_CAPACITY_PROVIDER: Final = "aws:ecs/capacityProvider:CapacityProvider"
ECS_SERVICE: Final = "aws:ecs/service:Service"
RDS_INSTANCE: Final = "aws:rds/instance:Instance"
RDS_CLUSTER: Final = "aws:rds/cluster:Cluster"
RDS_CLUSTER_INSTANCE: Final = "aws:rds/clusterInstance:ClusterInstance"
NEPTUNE_CLUSTER_INSTANCE: Final = "aws:neptune/clusterInstance:ClusterInstance"

SERVERLESS_INSTANCE_CLASS: Final = "db.serverless"


def _no_servers(props: Props, config: Mapping[str, Any], resource_type: str) -> Iterator[str]:
    if resource_type in set(config["allowedTypes"]):
        return
    if resource_type == ECS_CAPACITY_PROVIDER:
        if props.has("autoScalingGroupProvider") or props.has("managedInstancesProvider"):
            yield "the ECS capacity provider runs tasks on EC2 instances: use FARGATE / FARGATE_SPOT"
        return
    yield (
        f"this is {SERVER_TYPES[resource_type]}: servers to size, patch and pay for while idle; "
        "use a managed serverless service"
    )


def _rds_serverless(props: Props, config: Mapping[str, Any], resource_type: str) -> Iterator[str]:
    if resource_type == RDS_INSTANCE:
        yield "an RDS DB instance runs on a provisioned instance class: use Aurora Serverless v2 or DynamoDB"
    elif resource_type in (RDS_CLUSTER_INSTANCE, NEPTUNE_CLUSTER_INSTANCE):
        instance_class = props.text("instanceClass", "")
        if instance_class != SERVERLESS_INSTANCE_CLASS:
            yield f"instanceClass is {instance_class!r}: use {SERVERLESS_INSTANCE_CLASS!r} (Serverless v2)"
    elif props.has("dbClusterInstanceClass"):
        yield "dbClusterInstanceClass makes this a Multi-AZ DB cluster on provisioned instances"


def _ecs_fargate(props: Props, config: Mapping[str, Any], _: str) -> Iterator[str]:
    strategies = props.each("capacityProviderStrategies")
    if strategies:
        providers = [str(strategy.text("capacityProvider", "")) for strategy in strategies]
        others = [provider for provider in providers if provider not in ("FARGATE", "FARGATE_SPOT")]
        if others:
            yield f"capacityProviderStrategies use {', '.join(others)}: only FARGATE and FARGATE_SPOT are serverless"
        return
    launch_type = props.text("launchType", "")
    if launch_type == "":
        yield (
            "neither launchType nor capacityProviderStrategies is set: ECS falls back to the cluster default "
            "or EC2; set launchType 'FARGATE'"
        )
    elif launch_type != "FARGATE":
        yield f"launchType is {launch_type!r}: tasks run on instances you manage; use 'FARGATE'"


RULES: Final = [
    ResourceRule(
        name="compute-no-servers",
        summary=(
            "No server-based compute or provisioned clusters "
            "(EC2, node groups, brokers, provisioned caches, search domains and stream clusters)"
        ),
        anchors=(),
        severity=Severity.HIGH,
        enforcement_level=EnforcementLevel.MANDATORY,
        service=SERVICE,
        resource_types=(*SERVER_TYPES, ECS_CAPACITY_PROVIDER),
        check=_no_servers,
        config={"allowedTypes": {"type": "array", "items": {"type": "string"}, "default": []}},
    ),
    ResourceRule(
        name="rds-serverless-only",
        summary="Relational databases are Aurora/Neptune Serverless v2, never provisioned DB instances",
        anchors=(),
        severity=Severity.HIGH,
        enforcement_level=EnforcementLevel.MANDATORY,
        service=SERVICE,
        resource_types=(RDS_INSTANCE, RDS_CLUSTER, RDS_CLUSTER_INSTANCE, NEPTUNE_CLUSTER_INSTANCE),
        check=_rds_serverless,
    ),
    ResourceRule(
        name="ecs-fargate-only",
        summary="ECS services run on Fargate, not on EC2 container instances",
        anchors=(),
        severity=Severity.HIGH,
        enforcement_level=EnforcementLevel.MANDATORY,
        service=SERVICE,
        resource_types=(ECS_SERVICE,),
        check=_ecs_fargate,
    ),
]
