"""awsx 3.x's ECS and ECR components, modelled offline: each model's children for default inputs, one
mutation per option modelled, and a program run through the offline engine (update and first preview).

The expected names (``<name>-execution-9a42f520``, lower-case ECR children) are the ones public awsx stacks show.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest

from offline.constructs import MODELS, UNKNOWN, Child, ConstructContext, JsonText, Ref, secret, unwrap
from offline.constructs import awsx_ecs as ecs
from offline.harness import run_program_dir
from offline.recording import ProgramRun
from orderflow import pulumi_files

CONTEXT = ConstructContext(name="web", program_dir=Path("/program"), region="eu-west-1", stack="dev")
SECRET = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", "value": "hunter2"}
LOG_GROUP_OPTIONS = {"awslogs-group": Ref("log-group", "name"), "awslogs-region": "eu-west-1"}


def fargate(**task_args: Any) -> dict[str, Any]:
    """FargateService inputs: one container running nginx, plus ``task_args`` in ``taskDefinitionArgs``."""
    return {"taskDefinitionArgs": {"container": {"name": "app", "image": "nginx:1.27"}, **task_args}}


def shape(children: list[Child]) -> list[tuple[str, str, str]]:
    return [(child.type, child.name, child.parent) for child in children]


def by_type(children: list[Child], type_: str) -> Child:
    (child,) = [child for child in children if child.type == type_]
    return child


def containers(children: list[Child]) -> Any:
    document = unwrap(by_type(children, ecs.TASK_DEFINITION).inputs["containerDefinitions"])
    return document.value if isinstance(document, JsonText) else document


# FargateService / FargateTaskDefinition


def test_fargate_service_registers_a_task_definition_component_a_default_security_group_and_the_service() -> None:
    children = ecs.build_fargate_service(fargate(), CONTEXT)
    assert shape(children) == [
        ("awsx:ecs:FargateTaskDefinition", "web", ""),
        (ecs.LOG_GROUP, "web", "task-definition"),
        (ecs.ROLE, "web-task", "task-definition"),
        (ecs.ROLE, "web-execution", "task-definition"),
        (ecs.ROLE_POLICY_ATTACHMENT, "web-execution-9a42f520", "task-definition"),
        (ecs.TASK_DEFINITION, "web", "task-definition"),
        (ecs.SECURITY_GROUP, "web-sg", ""),
        (ecs.SERVICE, "web", ""),
    ]
    assert children[0].custom is False and all(child.custom for child in children[1:])
    assert len({child.key or child.name for child in children}) == len(children)


def test_fargate_service_defaults() -> None:
    service = by_type(ecs.build_fargate_service(fargate(), CONTEXT), ecs.SERVICE).inputs
    assert service == {
        "desiredCount": 1,
        "taskDefinition": Ref("task", "arn"),
        "loadBalancers": [],
        "networkConfiguration": {
            "subnets": UNKNOWN,
            "assignPublicIp": False,
            "securityGroups": [Ref("security-group", "id")],
        },
        "launchType": "FARGATE",
        "waitForSteadyState": True,
    }


def test_fargate_default_security_group_is_open_to_the_world() -> None:
    group = by_type(ecs.build_fargate_service(fargate(), CONTEXT), ecs.SECURITY_GROUP).inputs
    assert group["vpcId"] == UNKNOWN
    assert group["ingress"] == [
        {"fromPort": 0, "toPort": 0, "protocol": "-1", "cidrBlocks": ["0.0.0.0/0"], "ipv6CidrBlocks": ["::/0"]}
    ]
    assert group["egress"][0]["protocol"] == "tcp" and group["egress"][0]["toPort"] == 65535


def test_fargate_task_definition_defaults() -> None:
    children = ecs.build_fargate_task_definition(fargate()["taskDefinitionArgs"], CONTEXT)
    assert [child.parent for child in children] == [""] * 5
    task = by_type(children, ecs.TASK_DEFINITION).inputs
    assert (task["cpu"], task["memory"], task["networkMode"]) == ("256", "512", "awsvpc")
    assert task["requiresCompatibilities"] == ["FARGATE"] and task["family"] == UNKNOWN
    assert isinstance(task["containerDefinitions"], JsonText)  # not secret: no container input is
    assert (task["taskRoleArn"], task["executionRoleArn"]) == (Ref("task-role", "arn"), Ref("execution-role", "arn"))
    assert containers(children) == [
        {
            "name": "app",
            "image": "nginx:1.27",
            "logConfiguration": {
                "logDriver": "awslogs",
                "options": {**LOG_GROUP_OPTIONS, "awslogs-stream-prefix": "app"},
            },
        }
    ]


def test_roles_trust_ecs_tasks_and_the_execution_role_gets_the_managed_policy() -> None:
    children = ecs.build_fargate_task_definition(fargate()["taskDefinitionArgs"], CONTEXT)
    roles = [child for child in children if child.type == ecs.ROLE]
    for role in roles:
        trust = role.inputs["assumeRolePolicy"].value
        assert trust["Statement"][0]["Principal"] == {"Service": "ecs-tasks.amazonaws.com"}
    attachment = by_type(children, ecs.ROLE_POLICY_ATTACHMENT).inputs
    assert attachment == {
        "role": Ref("execution-role", "name"),
        "policyArn": "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy",
    }


def test_a_service_without_a_task_definition_or_with_both_is_refused() -> None:
    with pytest.raises(ValueError, match="exactly one of taskDefinition or taskDefinitionArgs"):
        ecs.build_fargate_service({}, CONTEXT)
    with pytest.raises(ValueError, match="exactly one"):
        ecs.build_fargate_service({**fargate(), "taskDefinition": "arn:td"}, CONTEXT)
    with pytest.raises(ValueError, match="networkConfiguration or assignPublicIp"):
        ecs.build_fargate_service({**fargate(), "networkConfiguration": {}, "assignPublicIp": True}, CONTEXT)
    with pytest.raises(ValueError, match="exactly one of container or containers"):
        ecs.build_fargate_service({"taskDefinitionArgs": {}}, CONTEXT)


def test_service_options() -> None:
    existing = ecs.build_fargate_service({"taskDefinition": "arn:aws:ecs:td/app:1", "cluster": "c"}, CONTEXT)
    assert shape(existing) == [(ecs.SECURITY_GROUP, "web-sg", ""), (ecs.SERVICE, "web", "")]
    service = existing[-1].inputs
    assert service["taskDefinition"] == "arn:aws:ecs:td/app:1" and service["cluster"] == "c"
    assert "loadBalancers" not in service

    network = {"subnets": ["subnet-1"], "securityGroups": ["sg-1"]}
    given = ecs.build_fargate_service({**fargate(), "networkConfiguration": network}, CONTEXT)
    assert ecs.SECURITY_GROUP not in {child.type for child in given}
    assert by_type(given, ecs.SERVICE).inputs["networkConfiguration"] == network

    public = by_type(ecs.build_fargate_service({**fargate(), "assignPublicIp": True}, CONTEXT), ecs.SERVICE)
    assert public.inputs["networkConfiguration"]["assignPublicIp"] is True and "assignPublicIp" not in public.inputs

    options = {"desiredCount": 3.0, "continueBeforeSteadyState": True, "capacityProviderStrategies": [{"base": 1}]}
    service = by_type(ecs.build_fargate_service({**fargate(), **options}, CONTEXT), ecs.SERVICE).inputs
    assert service["desiredCount"] == 3.0 and service["waitForSteadyState"] is False
    assert "launchType" not in service and "continueBeforeSteadyState" not in service
    not_yet = by_type(
        ecs.build_fargate_service({**fargate(), "continueBeforeSteadyState": UNKNOWN}, CONTEXT), ecs.SERVICE
    )
    assert not_yet.inputs["waitForSteadyState"] == UNKNOWN
    default_strategy = {**fargate(), "useClusterDefaultCapacityProviderStrategy": True}
    assert "launchType" not in by_type(ecs.build_fargate_service(default_strategy, CONTEXT), ecs.SERVICE).inputs


def test_containers_are_sorted_by_name_and_keep_their_own_log_configuration() -> None:
    own = {"logDriver": "awsfirelens"}
    args = {"containers": {"zeta": {"image": "b"}, "alpha": {"image": "a", "logConfiguration": own}}}
    definitions = containers(ecs.build_fargate_task_definition(args, CONTEXT))
    assert [definition["name"] for definition in definitions] == ["alpha", "zeta"]
    assert definitions[0]["logConfiguration"] == own
    assert definitions[1]["logConfiguration"]["options"]["awslogs-stream-prefix"] == "zeta"
    unnamed = containers(ecs.build_fargate_task_definition({"container": {"image": "a"}}, CONTEXT))
    assert unnamed[0]["name"] == "container"


def test_log_group_options() -> None:
    skipped = ecs.build_fargate_task_definition(fargate(logGroup={"skip": True})["taskDefinitionArgs"], CONTEXT)
    assert ecs.LOG_GROUP not in {child.type for child in skipped}
    assert "logConfiguration" not in containers(skipped)[0]

    kept = ecs.build_fargate_task_definition(
        fargate(logGroup={"args": {"retentionInDays": 14.0}})["taskDefinitionArgs"], CONTEXT
    )
    assert by_type(kept, ecs.LOG_GROUP).inputs == {"retentionInDays": 14.0}

    arn = "arn:aws:logs:us-west-2:123456789012:log-group:shared"
    by_arn = ecs.build_fargate_task_definition(
        fargate(logGroup={"existing": {"arn": arn}})["taskDefinitionArgs"], CONTEXT
    )
    assert ecs.LOG_GROUP not in {child.type for child in by_arn}
    options = containers(by_arn)[0]["logConfiguration"]["options"]
    assert (options["awslogs-group"], options["awslogs-region"]) == ("shared", "us-west-2")

    by_name = ecs.build_fargate_task_definition(
        fargate(logGroup={"existing": {"name": "ops"}})["taskDefinitionArgs"], CONTEXT
    )
    options = containers(by_name)[0]["logConfiguration"]["options"]
    assert (options["awslogs-group"], options["awslogs-region"]) == ("ops", "eu-west-1")
    with pytest.raises(ValueError, match="not a log group ARN"):
        ecs.build_fargate_task_definition(
            fargate(logGroup={"existing": {"arn": "arn:aws:s3:::b"}})["taskDefinitionArgs"], CONTEXT
        )


def test_role_options() -> None:
    args = fargate(
        taskRole={"skip": True},
        executionRole={"args": {"policyArns": ["arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"], "path": "/ecs/"}},
    )["taskDefinitionArgs"]
    children = ecs.build_fargate_task_definition(args, CONTEXT)
    assert [child.name for child in children if child.type in (ecs.ROLE, ecs.ROLE_POLICY_ATTACHMENT)] == [
        "web-execution",
        "web-execution-12982bae",
    ]
    assert by_type(children, ecs.ROLE).inputs["path"] == "/ecs/"
    task = by_type(children, ecs.TASK_DEFINITION).inputs
    assert "taskRoleArn" not in task

    given = fargate(executionRole={"roleArn": "arn:aws:iam::1:role/x"})["taskDefinitionArgs"]
    task = by_type(ecs.build_fargate_task_definition(given, CONTEXT), ecs.TASK_DEFINITION).inputs
    assert task["executionRoleArn"] == "arn:aws:iam::1:role/x"


@pytest.mark.parametrize(
    ("sizes", "expected"),
    [
        ([{"cpu": 512.0, "memory": 128.0}], ("512", "1024")),
        ([{"cpu": 256, "memory": 512}, {"cpu": 256, "memoryReservation": 1024, "memory": 4096}], ("512", "2048")),
        ([{"cpu": 4096}], ("4096", "8192")),
        ([{"memory": 3072}], ("512", "3072")),
        ([{"cpu": UNKNOWN}], (UNKNOWN, UNKNOWN)),
    ],
)
def test_fargate_task_size_is_the_first_that_holds_the_containers(
    sizes: list[dict[str, Any]], expected: tuple[str, str]
) -> None:
    args = {"containers": {f"c{index}": {"image": "i", **size} for index, size in enumerate(sizes)}}
    task = by_type(ecs.build_fargate_task_definition(args, CONTEXT), ecs.TASK_DEFINITION).inputs
    assert (task["cpu"], task["memory"]) == expected


def test_an_explicit_task_size_is_kept_and_too_large_a_task_is_refused() -> None:
    task = by_type(
        ecs.build_fargate_task_definition(fargate(cpu="1024")["taskDefinitionArgs"], CONTEXT), ecs.TASK_DEFINITION
    )
    assert (task.inputs["cpu"], task.inputs["memory"]) == ("1024", "512")
    with pytest.raises(ValueError, match="Fargate cannot run 64 vCPU"):
        ecs.build_fargate_task_definition({"container": {"image": "i", "cpu": 65536}}, CONTEXT)


def test_container_definition_keeps_environment_secrets_and_numbers_as_the_plugin_writes_them() -> None:
    container = {
        "name": "app",
        "image": UNKNOWN,
        "cpu": 256.0,
        "environment": [{"name": "DB_PASSWORD", "value": SECRET}, {"name": "MODE", "value": "prod"}],
        "secrets": [{"name": "TOKEN", "valueFrom": "arn:aws:secretsmanager:eu-west-1:1:secret:t"}],
        "portMappings": [{"containerPort": 8080.0}],
    }
    children = ecs.build_fargate_task_definition({"container": container}, CONTEXT)
    document = by_type(children, ecs.TASK_DEFINITION).inputs["containerDefinitions"]
    assert document == secret(JsonText(containers(children)))
    (definition,) = unwrap(document).value
    assert definition["image"] == UNKNOWN and definition["cpu"] == 256
    assert definition["environment"][0] == {"name": "DB_PASSWORD", "value": "hunter2"}
    assert definition["secrets"] == container["secrets"]
    assert definition["portMappings"] == [{"containerPort": 8080, "hostPort": 8080}]


def test_a_container_not_known_yet_leaves_the_definitions_unknown() -> None:
    children = ecs.build_fargate_task_definition({"container": UNKNOWN}, CONTEXT)
    task = by_type(children, ecs.TASK_DEFINITION).inputs
    assert task["containerDefinitions"] == UNKNOWN and task["cpu"] == UNKNOWN


def test_a_target_group_in_a_port_mapping_gives_the_service_its_load_balancer() -> None:
    mapping = {"containerPort": 80.0, "targetGroup": "arn:aws:elasticloadbalancing:tg/web"}
    inputs = fargate(container={"name": "app", "image": "nginx", "portMappings": [mapping]})
    children = ecs.build_fargate_service(inputs, CONTEXT)
    assert containers(children)[0]["portMappings"] == [{"containerPort": 80, "hostPort": UNKNOWN}]
    assert by_type(children, ecs.SERVICE).inputs["loadBalancers"] == [
        {"containerName": "app", "containerPort": UNKNOWN, "targetGroupArn": "arn:aws:elasticloadbalancing:tg/web"}
    ]
    given = [{"targetGroupArn": "arn:tg", "containerName": "app", "containerPort": 80}]
    service = by_type(ecs.build_fargate_service({**inputs, "loadBalancers": given}, CONTEXT), ecs.SERVICE)
    assert service.inputs["loadBalancers"] == given


# EC2Service / EC2TaskDefinition


def test_ec2_service_has_no_network_defaults_and_runs_on_ec2() -> None:
    children = ecs.build_ec2_service(fargate(), CONTEXT)
    assert (children[0].type, children[0].name) == ("awsx:ecs:EC2TaskDefinition", "web")
    assert ecs.SECURITY_GROUP not in {child.type for child in children}
    service = by_type(children, ecs.SERVICE).inputs
    assert service["launchType"] == "EC2" and "desiredCount" not in service and "networkConfiguration" not in service


def test_ec2_task_definition_lets_the_network_mode_be_chosen_and_sets_no_size() -> None:
    task = by_type(ecs.build_ec2_task_definition(fargate()["taskDefinitionArgs"], CONTEXT), ecs.TASK_DEFINITION).inputs
    assert (task["networkMode"], task["requiresCompatibilities"]) == ("awsvpc", ["EC2"])
    assert "cpu" not in task and "memory" not in task
    bridge = fargate(networkMode="bridge", family="app")["taskDefinitionArgs"]
    task = by_type(ecs.build_ec2_task_definition(bridge, CONTEXT), ecs.TASK_DEFINITION).inputs
    assert (task["networkMode"], task["family"]) == ("bridge", "app")


# ECR


def test_repository_is_lower_case_with_an_expire_untagged_lifecycle_policy() -> None:
    children = ecs.build_repository({"forceDelete": True}, ConstructContext("AppRepo", Path("."), "us-east-1"))
    assert shape(children) == [(ecs.REPOSITORY, "apprepo", ""), (ecs.LIFECYCLE_POLICY, "apprepo", "")]
    assert children[0].inputs == {"forceDelete": True}
    assert children[1].inputs == {
        "repository": Ref("repository", "name"),
        "policy": {
            "rules": [
                {
                    "rulePriority": 1,
                    "description": "remove untagged images",
                    "selection": {"tagStatus": "untagged", "countType": "imageCountMoreThan", "countNumber": 1},
                    "action": {"type": "expire"},
                }
            ]
        },
    }


def test_repository_lifecycle_options() -> None:
    assert len(ecs.build_repository({"lifecyclePolicy": {"skip": True}}, CONTEXT)) == 1
    rules = [
        {"tagStatus": "any", "maximumNumberOfImages": 50.0},
        {"tagStatus": "tagged", "tagPrefixList": ["v"], "maximumAgeLimit": 90.0},
    ]
    inputs = {"lifecyclePolicy": {"rules": rules}, "region": "us-west-2"}
    policy = ecs.build_repository(inputs, CONTEXT)[1].inputs
    assert policy["region"] == "us-west-2"
    first, last = policy["policy"]["rules"]
    assert (first["rulePriority"], first["selection"]["tagStatus"], first["selection"]["countUnit"]) == (
        1,
        "tagged",
        "days",
    )
    assert (last["rulePriority"], last["selection"]) == (
        2,
        {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 50},
    )
    with pytest.raises(ValueError, match='at most one rule may select tagStatus "any"'):
        ecs.build_repository({"lifecyclePolicy": {"rules": [rules[0], rules[0]]}}, CONTEXT)
    with pytest.raises(ValueError, match="tagPrefixList"):
        ecs.build_repository({"lifecyclePolicy": {"rules": [{"tagStatus": "tagged", "maximumAgeLimit": 1}]}}, CONTEXT)
    unknown = ecs.build_repository({"lifecyclePolicy": {"rules": UNKNOWN}}, CONTEXT)[1].inputs
    assert unknown["policy"] == UNKNOWN


def test_image_is_built_only_once_its_inputs_are_known() -> None:
    assert ecs.build_image({"repositoryUrl": UNKNOWN, "context": "./app"}, CONTEXT) == []
    url = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/web-1a2b3c4"
    inputs = {"repositoryUrl": url, "context": "./app", "dockerfile": "Dockerfile.prod", "args": {"B": "2", "A": "1"}}
    (image,) = ecs.build_image({**inputs, "platform": "linux/arm64"}, CONTEXT)
    assert (image.type, image.name) == ("docker-build:index:Image", "fa0d94fe-container")
    assert image.inputs["tags"] == [f"{url}:fa0d94fe-container"]
    assert image.inputs["cacheFrom"] == [{"registry": {"ref": f"{url}:fa0d94fe-container"}}]
    assert image.inputs["dockerfile"] == {"location": "Dockerfile.prod"} and image.inputs["push"] is True
    assert image.inputs["platforms"] == ["linux/arm64"]
    assert image.inputs["registries"] == [
        {"address": "https://123456789012.dkr.ecr.eu-west-1.amazonaws.com", "username": "AWS", "password": UNKNOWN}
    ]
    (other,) = ecs.build_image({"repositoryUrl": url, "registryId": "210987654321"}, CONTEXT)
    assert other.name == "77f076b3-container"
    assert other.inputs["registries"][0]["address"] == "https://210987654321.dkr.ecr.eu-west-1.amazonaws.com"
    (tagged,) = ecs.build_image({"repositoryUrl": url, "imageTag": "v1", "cacheFrom": ["a:b"]}, CONTEXT)
    assert tagged.name == "v1" and tagged.inputs["cacheFrom"] == [{"registry": {"ref": "a:b"}}]
    assert tagged.inputs["context"] == {"location": "."} and tagged.inputs["dockerfile"] == {}


def test_every_awsx_ecs_and_ecr_component_has_a_model() -> None:
    tokens = {"FargateService", "FargateTaskDefinition", "EC2Service", "EC2TaskDefinition"}
    expected = {f"awsx:ecs:{token}" for token in tokens} | {"awsx:ecr:Repository", "awsx:ecr:Image"}
    assert expected <= set(MODELS) and all("awsx 3.x" in MODELS[token].follows for token in expected)


# Through the offline engine

PROGRAM = """
import pulumi
import pulumi_aws as aws
import pulumi_awsx as awsx

cluster = aws.ecs.Cluster("cluster")
awsx.ecs.FargateService(
    "web",
    cluster=cluster.arn,
    assign_public_ip=True,
    task_definition_args=awsx.ecs.FargateServiceTaskDefinitionArgs(
        container=awsx.ecs.TaskDefinitionContainerDefinitionArgs(
            name="app",
            image="nginx:1.27",
            cpu=512,
            memory=128,
            environment=[awsx.ecs.TaskDefinitionKeyValuePairArgs(name="API_TOKEN", value="t0k3n-literal")],
            port_mappings=[awsx.ecs.TaskDefinitionPortMappingArgs(container_port=80)],
        )
    ),
)
"""


def record(tmp_path: Path, *, first_preview: bool) -> dict[str, Any]:
    tmp_path.mkdir(exist_ok=True)
    (tmp_path / "Pulumi.yaml").write_text("name: probe\nruntime: python\n")
    (tmp_path / "__main__.py").write_text(textwrap.dedent(PROGRAM).lstrip())
    run: ProgramRun = run_program_dir(tmp_path, files=pulumi_files, first_preview=first_preview)
    return {record.urn.rsplit("::", 2)[-2] + "::" + record.name: record for record in run.resources}


def test_the_offline_engine_registers_the_fargate_service_children_under_their_components(tmp_path: Path) -> None:
    records = record(tmp_path, first_preview=False)
    nested = "awsx:ecs:FargateService$awsx:ecs:FargateTaskDefinition"
    task = records[f"{nested}$aws:ecs/taskDefinition:TaskDefinition::web"]
    group = records[f"{nested}$aws:cloudwatch/logGroup:LogGroup::web"]
    component = records["awsx:ecs:FargateService$awsx:ecs:FargateTaskDefinition::web"]
    assert (
        task.parent == group.parent == component.urn and component.parent == records["awsx:ecs:FargateService::web"].urn
    )
    assert f"{nested}$aws:iam/rolePolicyAttachment:RolePolicyAttachment::web-execution-9a42f520" in records
    (definition,) = json.loads(task.inputs["containerDefinitions"])
    assert definition["logConfiguration"]["options"]["awslogs-group"] == group.outputs["name"]
    assert definition["environment"] == [{"name": "API_TOKEN", "value": "t0k3n-literal"}]
    assert (task.inputs["cpu"], task.inputs["memory"]) == ("512", "1024")
    group_id = records["awsx:ecs:FargateService$aws:ec2/securityGroup:SecurityGroup::web-sg"].id
    service = records["awsx:ecs:FargateService$aws:ecs/service:Service::web"]
    assert service.inputs["networkConfiguration"]["securityGroups"] == [group_id]
    assert service.inputs["networkConfiguration"]["assignPublicIp"] is True


def test_a_first_preview_keeps_what_is_known_in_the_container_definitions(tmp_path: Path) -> None:
    records = record(tmp_path, first_preview=True)
    nested = "awsx:ecs:FargateService$awsx:ecs:FargateTaskDefinition"
    task, group = (
        records[f"{nested}$aws:ecs/taskDefinition:TaskDefinition::web"],
        records[f"{nested}$aws:cloudwatch/logGroup:LogGroup::web"],
    )
    (definition,) = json.loads(task.inputs_struct["containerDefinitions"])
    # The log group's auto-name is known in a preview (the provider's Check writes it), its ARN is not.
    assert definition["logConfiguration"]["options"]["awslogs-group"] == group.outputs["name"] != UNKNOWN
    assert definition["logConfiguration"]["logDriver"] == "awslogs" and definition["image"] == "nginx:1.27"
