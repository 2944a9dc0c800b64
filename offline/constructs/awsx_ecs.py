"""Offline models of the awsx package's ECS and ECR components (see :mod:`offline.constructs`).

Each model states what awsx 3.x's ``Construct`` registers, read from the package's TypeScript provider at
pulumi/pulumi-awsx@e60adf3 (the files are named per model). In short:

- ``FargateService`` / ``EC2Service``: with ``taskDefinitionArgs``, a nested ``FargateTaskDefinition`` /
  ``EC2TaskDefinition`` component named after the service; a Fargate service without ``networkConfiguration``
  gets a security group ``<name>-sg`` in the default VPC; then the ``aws.ecs.Service`` named after the component.
- ``FargateTaskDefinition`` / ``EC2TaskDefinition``: a log group, a task role ``<name>-task``, an execution role
  ``<name>-execution`` with the ``AmazonECSTaskExecutionRolePolicy`` attachment, and the task definition, whose
  containers log to that group unless they say otherwise.
- ``ecr.Repository``: the repository and an expire-untagged lifecycle policy, both named in lower case.
- ``ecr.Image``: a ``docker-build`` image, registered only once every input is known (the package builds it in
  an ``apply``, which a preview skips while the repository URL is unknown).

What the plugin learns from invokes the model cannot make (the default VPC and its subnets, a target group's
port, ECR credentials) is :data:`~offline.constructs.UNKNOWN`; so is a task family the package hashes from the
exact bytes its JavaScript serialises.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import Any, Final

from offline.constructs import (
    UNKNOWN,
    Child,
    ComponentModel,
    ConstructContext,
    JsonText,
    Ref,
    is_known,
    is_secret,
    secret,
    unwrap,
)

SOURCE: Final = "pulumi/pulumi-awsx@e60adf3"

SERVICE: Final = "aws:ecs/service:Service"
TASK_DEFINITION: Final = "aws:ecs/taskDefinition:TaskDefinition"
LOG_GROUP: Final = "aws:cloudwatch/logGroup:LogGroup"
ROLE: Final = "aws:iam/role:Role"
ROLE_POLICY_ATTACHMENT: Final = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
SECURITY_GROUP: Final = "aws:ec2/securityGroup:SecurityGroup"
REPOSITORY: Final = "aws:ecr/repository:Repository"
LIFECYCLE_POLICY: Final = "aws:ecr/lifecyclePolicy:LifecyclePolicy"
DOCKER_BUILD_IMAGE: Final = "docker-build:index:Image"

# The inputs each child type declares (pulumi_aws 7.x): the generated SDK constructor the plugin calls copies
# only these from the component's arguments it spreads into them.
SERVICE_INPUTS: Final = frozenset(
    [
        "alarms",
        "availabilityZoneRebalancing",
        "capacityProviderStrategies",
        "cluster",
        "deploymentCircuitBreaker",
        "deploymentConfiguration",
        "deploymentController",
        "deploymentMaximumPercent",
        "deploymentMinimumHealthyPercent",
        "desiredCount",
        "enableEcsManagedTags",
        "enableExecuteCommand",
        "forceDelete",
        "forceNewDeployment",
        "healthCheckGracePeriodSeconds",
        "iamRole",
        "launchType",
        "loadBalancers",
        "name",
        "networkConfiguration",
        "orderedPlacementStrategies",
        "placementConstraints",
        "platformVersion",
        "propagateTags",
        "region",
        "schedulingStrategy",
        "serviceConnectConfiguration",
        "serviceRegistries",
        "sigintRollback",
        "tags",
        "taskDefinition",
        "triggers",
        "volumeConfiguration",
        "vpcLatticeConfigurations",
        "waitForSteadyState",
    ]
)
TASK_DEFINITION_INPUTS: Final = frozenset(
    [
        "containerDefinitions",
        "family",
        "cpu",
        "enableFaultInjection",
        "ephemeralStorage",
        "executionRoleArn",
        "ipcMode",
        "memory",
        "networkMode",
        "pidMode",
        "placementConstraints",
        "proxyConfiguration",
        "region",
        "requiresCompatibilities",
        "runtimePlatform",
        "skipDestroy",
        "tags",
        "taskRoleArn",
        "trackLatest",
        "volumes",
    ]
)
LOG_GROUP_INPUTS: Final = frozenset(
    [
        "deletionProtectionEnabled",
        "kmsKeyId",
        "logGroupClass",
        "name",
        "namePrefix",
        "region",
        "retentionInDays",
        "skipDestroy",
        "tags",
    ]
)
ROLE_INPUTS: Final = frozenset(
    [
        "assumeRolePolicy",
        "description",
        "forceDetachPolicies",
        "inlinePolicies",
        "managedPolicyArns",
        "maxSessionDuration",
        "name",
        "namePrefix",
        "path",
        "permissionsBoundary",
        "tags",
    ]
)
REPOSITORY_INPUTS: Final = frozenset(
    [
        "encryptionConfigurations",
        "forceDelete",
        "imageScanningConfiguration",
        "imageTagMutability",
        "imageTagMutabilityExclusionFilters",
        "name",
        "region",
        "tags",
    ]
)

EXECUTION_ROLE_POLICY_ARN: Final = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
"""The managed policy awsx attaches to a task's execution role by default (awsx/role.ts)."""

ECS_TASKS_TRUST_POLICY: Final = {
    "Version": "2012-10-17",
    "Statement": [
        {"Action": "sts:AssumeRole", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Effect": "Allow", "Sid": ""}
    ],
}
"""The trust policy of the task and execution roles awsx creates: ECS tasks may assume them (awsx/role.ts)."""

FARGATE_SIZES: Final = (
    (0.25, (0.5, 1, 2)),
    (0.5, tuple(range(1, 5))),
    (1, tuple(range(2, 9))),
    (2, tuple(range(4, 17))),
    (4, tuple(range(8, 31))),
    (8, tuple(range(16, 61))),
    (16, tuple(range(32, 121))),
    (32, (60, 120, 244)),
)
"""``(vCPU, memory GB choices)`` awsx picks a Fargate task size from (awsx/ecs/fargateMemoryAndCpu.ts).

The package's table: AWS's supported sizes
(https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-tasks-services.html#fargate-tasks-size),
except that it allows every whole GB above 4 vCPU where AWS has 4 or 8 GB steps.
"""


def short_hash(text: str) -> str:
    """The package's ``sha1hash``: the first 8 hex digits of the SHA-1 of ``text`` (awsx/utils.ts).

    Parameters
    ----------
    text:
        What is hashed.

    Returns
    -------
    str
        8 lower-case hex digits.
    """
    return hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()[:8]


def plain(value: Any) -> Any:
    """``value`` as the plugin's JavaScript sees it: secrets read through, whole-number floats as integers.

    The wire carries every number as a double; ``JSON.stringify`` writes ``512``, not ``512.0``.
    """
    value = unwrap(value)
    if isinstance(value, Mapping):
        return {key: plain(item) for key, item in value.items() if item is not None}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def fully_known(value: Any) -> bool:
    """Whether ``value`` holds no unknown anywhere (an ``apply`` over it would run during a preview)."""
    value = unwrap(value)
    if isinstance(value, Mapping):
        return all(fully_known(item) for item in value.values())
    if isinstance(value, list | tuple):
        return all(fully_known(item) for item in value)
    return is_known(value)


def pick(inputs: Mapping[str, Any], names: Iterable[str]) -> dict[str, Any]:
    """The inputs among ``names`` that are set, in the inputs' order."""
    wanted = frozenset(names)
    return {key: value for key, value in inputs.items() if key in wanted and value is not None}


def _flag(value: Any) -> Any:
    """A boolean input that defaults to false, or :data:`UNKNOWN`."""
    value = unwrap(value)
    return value if not is_known(value) else value is True


def _mapping(value: Any) -> Mapping[str, Any]:
    value = unwrap(value)
    return value if isinstance(value, Mapping) else {}


# Roles and log group (awsx/role.ts, awsx/cloudwatch/logGroup.ts).


def role_children(
    name: str, role_input: Mapping[str, Any], default_policy_arns: tuple[str, ...], *, key: str, parent: str
) -> tuple[list[Child], Any]:
    """A default role the package creates unless told to skip it or given one, and its policy attachments.

    Parameters
    ----------
    name:
        The role's logical name (``<component>-task`` or ``<component>-execution``).
    role_input:
        The component's ``taskRole`` / ``executionRole`` input: ``skip``, ``roleArn`` or ``args`` (role inputs,
        plus ``policyArns`` replacing the defaults).
    default_policy_arns:
        The managed policies attached when ``args.policyArns`` is not given.
    key, parent:
        The role's handle and its parent's, inside the construct.

    Returns
    -------
    tuple[list[Child], Any]
        The children, and the role ARN the task definition gets (``None`` when skipped).
    """
    if unwrap(role_input.get("skip")) is True:
        return [], None
    if role_input.get("roleArn") is not None:
        return [], role_input["roleArn"]
    args = _mapping(role_input.get("args"))
    trust = args.get("assumeRolePolicy", ECS_TASKS_TRUST_POLICY)
    inputs = pick(args, ROLE_INPUTS)
    # A policy given as an object is serialised by the plugin (JSON.stringify); a string is passed on.
    inputs["assumeRolePolicy"] = trust if isinstance(unwrap(trust), str) else JsonText(plain(trust))
    children = [Child(ROLE, name, inputs, parent=parent, key=key)]
    policy_arns = args.get("policyArns", list(default_policy_arns))
    for policy_arn in unwrap(policy_arns) if isinstance(unwrap(policy_arns), list) else []:
        # Named by a hash of the ARN, so a role's attachments keep their URNs when the list is reordered.
        arn = str(unwrap(policy_arn))
        attachment = {"role": Ref(key, "name"), "policyArn": policy_arn}
        children.append(Child(ROLE_POLICY_ATTACHMENT, f"{name}-{short_hash(arn)}", attachment, parent=parent))
    return children, Ref(key, "arn")


def log_group_children(
    name: str, log_group_input: Mapping[str, Any], context: ConstructContext, *, key: str, parent: str
) -> tuple[list[Child], dict[str, Any] | None]:
    """The log group the package creates for a task's containers, unless skipped or given an existing one.

    Returns
    -------
    tuple[list[Child], dict[str, Any] | None]
        The children, and the ``awslogs`` options every container without a log configuration gets:
        ``awslogs-group`` and ``awslogs-region`` (``None`` when ``skip`` is set).
    """
    if unwrap(log_group_input.get("skip")) is True:
        return [], None
    existing = _mapping(log_group_input.get("existing"))
    if existing:
        arn = unwrap(existing.get("arn"))
        if arn is not None:
            if not is_known(arn):
                return [], {"awslogs-group": UNKNOWN, "awslogs-region": UNKNOWN}
            # arn:aws:logs:<region>:<account>:log-group:<name>
            parts = str(arn).split(":")
            if len(parts) != 7 or parts[2] != "logs" or parts[5] != "log-group":
                raise ValueError(
                    f"logGroup.existing.arn {arn!r} is not a log group ARN (arn:aws:logs:…:log-group:NAME)"
                )
            return [], {"awslogs-group": parts[6], "awslogs-region": parts[3]}
        if existing.get("name") is None:
            raise ValueError("logGroup.existing needs an arn or a name")
        return [], {"awslogs-group": existing["name"], "awslogs-region": existing.get("region", context.region)}
    args = _mapping(log_group_input.get("args"))
    group = Child(LOG_GROUP, name, pick(args, LOG_GROUP_INPUTS), parent=parent, key=key)
    # The plugin asks the log group's provider for its region: the stack's default one.
    return [group], {"awslogs-group": Ref(key, "name"), "awslogs-region": context.region}


# Containers (awsx/ecs/containers.ts).


def task_containers(args: Mapping[str, Any]) -> Any:
    """``container`` or ``containers`` as ``{name: definition}`` (a single container is named by its ``name``).

    Returns
    -------
    Any
        The mapping, or :data:`UNKNOWN` when the containers are not known.

    Raises
    ------
    ValueError
        When neither or both are given (the package refuses it too).
    """
    container, containers = args.get("container"), args.get("containers")
    if (container is None) == (containers is None):
        raise ValueError("taskDefinitionArgs: give exactly one of container or containers")
    if containers is not None:
        return unwrap(containers) if isinstance(unwrap(containers), Mapping) else UNKNOWN
    container = unwrap(container)
    if not isinstance(container, Mapping):
        return UNKNOWN
    container_name = unwrap(container.get("name")) or "container"
    return {container_name: container} if is_known(container_name) else UNKNOWN


def port_mapping(mapping: Mapping[str, Any]) -> dict[str, Any]:
    """A port mapping as the package writes it: a target group's port fills in a missing container or host port.

    The model only has the target group's id, not its port, so that port is unknown here.
    """
    target_group_port = UNKNOWN if mapping.get("targetGroup") is not None else None
    container_port = next(
        (
            port
            for port in (mapping.get("containerPort"), mapping.get("hostPort"), target_group_port)
            if port is not None
        ),
        None,
    )
    host_port = next(
        (
            port
            for port in (mapping.get("hostPort"), target_group_port, mapping.get("containerPort"))
            if port is not None
        ),
        None,
    )
    fields = {
        "name": mapping.get("name"),
        "containerPortRange": mapping.get("containerPortRange"),
        "appProtocol": mapping.get("appProtocol"),
        "containerPort": container_port,
        "hostPort": host_port,
        "protocol": mapping.get("protocol"),
    }
    return {key: value for key, value in fields.items() if value is not None}


def container_definition(container_name: str, container: Any, log_options: Mapping[str, Any] | None) -> Any:
    """One container's definition: its inputs, port mappings rewritten, its name, and ``awslogs`` by default."""
    container = unwrap(container)
    if not isinstance(container, Mapping):
        return UNKNOWN
    definition = dict(container)
    mappings = unwrap(container.get("portMappings"))
    if isinstance(mappings, list):
        definition["portMappings"] = [
            port_mapping(unwrap(item)) if isinstance(unwrap(item), Mapping) else UNKNOWN for item in mappings
        ]
    definition["name"] = container_name
    if definition.get("logConfiguration") is None and log_options is not None:
        definition["logConfiguration"] = {
            "logDriver": "awslogs",
            "options": {**log_options, "awslogs-stream-prefix": container_name},
        }
    return plain(definition)


def container_definitions(containers: Any, log_options: Mapping[str, Any] | None) -> Any:
    """Every container's definition, sorted by container name as the package sorts them (or :data:`UNKNOWN`)."""
    if not isinstance(containers, Mapping):
        return UNKNOWN
    return [container_definition(name, containers[name], log_options) for name in sorted(containers)]


def load_balancers(containers: Any) -> Any:
    """The service's load balancers the package derives from port mappings that name a target group.

    The target group arrives as its id (its ARN in the AWS provider); its port is unknown here.
    """
    if not isinstance(containers, Mapping):
        return UNKNOWN
    found: list[dict[str, Any]] = []
    for container_name, container in containers.items():
        mappings = unwrap(_mapping(container).get("portMappings"))
        for mapping in mappings if isinstance(mappings, list) else []:
            target_group = _mapping(mapping).get("targetGroup")
            if target_group is not None:
                found.append(
                    {"containerName": container_name, "containerPort": UNKNOWN, "targetGroupArn": target_group}
                )
    return found


def fargate_size(definitions: Any) -> tuple[Any, Any]:
    """The task ``(cpu, memory)`` the package picks for containers that do not set the task's size.

    It sums the containers' ``cpu`` and ``memoryReservation`` (else ``memory``), then scans its table by
    memory, then vCPU (the sorts that find its maxima reorder the table it had sorted by price), and takes
    the first size that holds both (awsx/ecs/fargateMemoryAndCpu.ts).

    Returns
    -------
    tuple[Any, Any]
        CPU units and MiB as strings (``("256", "512")`` for containers that ask for nothing), unknown when a
        container's figures are.

    Raises
    ------
    ValueError
        When the containers ask for more than the largest size.
    """
    if not isinstance(definitions, list):
        return UNKNOWN, UNKNOWN
    cpu_units, memory_mb = 0.0, 0.0
    for definition in definitions:
        if not isinstance(definition, Mapping):
            return UNKNOWN, UNKNOWN
        memory = definition.get("memoryReservation") or definition.get("memory")
        cpu = definition.get("cpu")
        if not (is_known(memory) and is_known(cpu)):
            return UNKNOWN, UNKNOWN
        memory_mb += float(memory or 0)
        cpu_units += float(cpu or 0)
    vcpu, gigabytes = cpu_units / 1024, memory_mb / 1024
    sizes = sorted((memory, size_vcpu) for size_vcpu, memories in FARGATE_SIZES for memory in memories)
    for memory, size_vcpu in sizes:
        if size_vcpu >= vcpu and memory >= gigabytes:
            return str(int(size_vcpu * 1024)), str(int(memory * 1024))
    raise ValueError(f"Fargate cannot run {vcpu:g} vCPU and {gigabytes:g} GB in one task")


# Task definitions (awsx/ecs/fargateTaskDefinition.ts, awsx/ecs/ec2TaskDefinition.ts).


def task_definition_children(
    args: Mapping[str, Any], context: ConstructContext, compatibility: str, *, parent: str = ""
) -> list[Child]:
    """The children of a ``FargateTaskDefinition`` (``compatibility="FARGATE"``) or ``EC2TaskDefinition``.

    Parameters
    ----------
    args:
        The task definition component's inputs (a service's ``taskDefinitionArgs``).
    context:
        The construct's context; every child is named after ``context.name``.
    compatibility:
        ``"FARGATE"`` or ``"EC2"``.
    parent:
        The handle of the nested task definition component, ``""`` when the task definition is the component.

    Returns
    -------
    list[Child]
        Log group, task role, execution role and its attachments, then the task definition (handle ``task``).
    """
    name = context.name
    logs, log_options = log_group_children(
        name, _mapping(args.get("logGroup")), context, key="log-group", parent=parent
    )
    task_role, task_role_arn = role_children(
        f"{name}-task", _mapping(args.get("taskRole")), (), key="task-role", parent=parent
    )
    execution_role, execution_role_arn = role_children(
        f"{name}-execution",
        _mapping(args.get("executionRole")),
        (EXECUTION_ROLE_POLICY_ARN,),
        key="execution-role",
        parent=parent,
    )
    definitions = container_definitions(task_containers(args), log_options)
    inputs = pick(args, TASK_DEFINITION_INPUTS)
    if compatibility == "FARGATE":
        cpu, memory = fargate_size(definitions)
        inputs = {"cpu": cpu, "memory": memory, **inputs, "networkMode": "awsvpc"}
    else:
        inputs = {"networkMode": "awsvpc", **inputs}
    inputs |= {"requiresCompatibilities": [compatibility], "taskRoleArn": task_role_arn}
    inputs |= {"executionRoleArn": execution_role_arn}
    # The default family hashes the stack name with the JSON the plugin writes, which holds the log group's
    # name: known only once the group exists, so not reproduced by a pure model.
    inputs["family"] = args.get("family", UNKNOWN)
    document: Any = JsonText(definitions) if definitions is not UNKNOWN else UNKNOWN
    # The plugin's document is secret when a container's inputs hold a secret (an environment value, say).
    inputs["containerDefinitions"] = secret(document) if is_secret(task_containers(args)) else document
    task = Child(TASK_DEFINITION, name, {k: v for k, v in inputs.items() if v is not None}, parent=parent, key="task")
    return [*logs, *task_role, *execution_role, task]


def build_fargate_task_definition(inputs: Mapping[str, Any], context: ConstructContext) -> list[Child]:
    """``awsx:ecs:FargateTaskDefinition``: a Fargate task definition and its log group and roles."""
    return task_definition_children(inputs, context, "FARGATE")


def build_ec2_task_definition(inputs: Mapping[str, Any], context: ConstructContext) -> list[Child]:
    """``awsx:ecs:EC2TaskDefinition``: an EC2 task definition and its log group and roles."""
    return task_definition_children(inputs, context, "EC2")


# Services (awsx/ecs/fargateService.ts, awsx/ecs/ec2Service.ts).


def default_security_group(name: str) -> Child:
    """The security group a Fargate service without ``networkConfiguration`` gets, in the default VPC.

    It lets everything in from anywhere (IPv4 and IPv6, every protocol) and TCP out; the default VPC's id
    comes from an invoke the plugin makes, unknown here.
    """
    everywhere = {"cidrBlocks": ["0.0.0.0/0"], "ipv6CidrBlocks": ["::/0"]}
    return Child(
        SECURITY_GROUP,
        f"{name}-sg",
        {
            "vpcId": UNKNOWN,
            "ingress": [{"fromPort": 0, "toPort": 0, "protocol": "-1", **everywhere}],
            "egress": [{"fromPort": 0, "toPort": 65535, "protocol": "tcp", **everywhere}],
        },
        key="security-group",
    )


def service_children(inputs: Mapping[str, Any], context: ConstructContext, compatibility: str) -> list[Child]:
    """The children of a ``FargateService`` (``compatibility="FARGATE"``) or an ``EC2Service``.

    Raises
    ------
    ValueError
        For the combinations the package refuses: both or neither of ``taskDefinition`` and
        ``taskDefinitionArgs``; ``networkConfiguration`` with ``assignPublicIp`` (Fargate);
        ``capacityProviderStrategies`` with ``useClusterDefaultCapacityProviderStrategy``.
    """
    name, fargate = context.name, compatibility == "FARGATE"
    task_args = inputs.get("taskDefinitionArgs")
    if (inputs.get("taskDefinition") is None) == (task_args is None):
        raise ValueError(f"{name}: give exactly one of taskDefinition or taskDefinitionArgs")
    if fargate and inputs.get("networkConfiguration") is not None and inputs.get("assignPublicIp") is not None:
        raise ValueError(f"{name}: give only one of networkConfiguration or assignPublicIp")
    capacity = inputs.get("capacityProviderStrategies") is not None
    if capacity and unwrap(inputs.get("useClusterDefaultCapacityProviderStrategy")):
        raise ValueError(
            f"{name}: give only one of capacityProviderStrategies or useClusterDefaultCapacityProviderStrategy"
        )
    children: list[Child] = []
    service: dict[str, Any] = {"desiredCount": 1} if fargate else {}
    service |= pick(inputs, SERVICE_INPUTS)
    if task_args is not None:
        component = f"awsx:ecs:{'Fargate' if fargate else 'EC2'}TaskDefinition"
        children.append(Child(component, name, custom=False, key="task-definition"))
        children += task_definition_children(_mapping(task_args), context, compatibility, parent="task-definition")
        service["taskDefinition"] = Ref("task", "arn")
        service.setdefault("loadBalancers", load_balancers(task_containers(_mapping(task_args))))
    if fargate and inputs.get("networkConfiguration") is None:
        children.append(default_security_group(name))
        public = _flag(inputs.get("assignPublicIp"))
        # The default VPC's public subnets with a public IP, else its private ones: an invoke, unknown here.
        service["networkConfiguration"] = {
            "subnets": UNKNOWN,
            "assignPublicIp": public,
            "securityGroups": [Ref("security-group", "id")],
        }
    if not capacity and not unwrap(inputs.get("useClusterDefaultCapacityProviderStrategy")):
        service["launchType"] = compatibility
    go_on = _flag(inputs.get("continueBeforeSteadyState"))
    service["waitForSteadyState"] = UNKNOWN if go_on is UNKNOWN else not go_on
    children.append(Child(SERVICE, name, service, key="service"))
    return children


def build_fargate_service(inputs: Mapping[str, Any], context: ConstructContext) -> list[Child]:
    """``awsx:ecs:FargateService``: its task definition component, default security group and service."""
    return service_children(inputs, context, "FARGATE")


def build_ec2_service(inputs: Mapping[str, Any], context: ConstructContext) -> list[Child]:
    """``awsx:ecs:EC2Service``: its task definition component and service (no network defaults)."""
    return service_children(inputs, context, "EC2")


# ECR (awsx/ecr/repository.ts, awsx/ecr/image.ts, awsx/ecr/auth.ts).


def lifecycle_rule(rule: Mapping[str, Any], priority: int) -> dict[str, Any]:
    """One lifecycle rule as the package writes it: expire images past a count, or older than N days.

    Raises
    ------
    ValueError
        When the rule bounds neither count nor age, or selects tagged images without prefixes.
    """
    status = unwrap(rule.get("tagStatus"))
    if status in ("any", "untagged"):
        selection: dict[str, Any] = {"tagStatus": status}
    else:
        prefixes = rule.get("tagPrefixList")
        if not prefixes:
            raise ValueError("lifecyclePolicy: a tagged rule needs a non-empty tagPrefixList")
        selection = {"tagStatus": "tagged", "tagPrefixList": prefixes}
    if rule.get("maximumNumberOfImages") is not None:
        selection |= {"countType": "imageCountMoreThan", "countNumber": rule["maximumNumberOfImages"]}
    elif rule.get("maximumAgeLimit") is not None:
        selection |= {"countType": "sinceImagePushed", "countNumber": rule["maximumAgeLimit"], "countUnit": "days"}
    else:
        raise ValueError("lifecyclePolicy: a rule needs maximumNumberOfImages or maximumAgeLimit")
    document = {"rulePriority": priority, "description": rule.get("description"), "selection": selection}
    return plain({**document, "action": {"type": "expire"}})


def lifecycle_policy(rules: Any) -> Any:
    """The repository's lifecycle policy document: by default, keep one untagged image.

    Rules selecting ``any`` tag status go last (at most one); priorities count from 1.
    """
    rules = unwrap(rules)
    if rules is None:
        rules = [{"description": "remove untagged images", "tagStatus": "untagged", "maximumNumberOfImages": 1}]
    if not fully_known(rules) or not isinstance(rules, list):
        return UNKNOWN
    rules = [unwrap(rule) for rule in rules]
    last = [rule for rule in rules if rule.get("tagStatus") == "any"]
    if len(last) > 1:
        raise ValueError('lifecyclePolicy: at most one rule may select tagStatus "any"')
    ordered = [rule for rule in rules if rule.get("tagStatus") != "any"] + last
    return {"rules": [lifecycle_rule(rule, priority) for priority, rule in enumerate(ordered, start=1)]}


def build_repository(inputs: Mapping[str, Any], context: ConstructContext) -> list[Child]:
    """``awsx:ecr:Repository``: the repository and its lifecycle policy, named in lower case."""
    name = context.name.lower()
    policy_input = _mapping(inputs.get("lifecyclePolicy"))
    children = [Child(REPOSITORY, name, pick(inputs, REPOSITORY_INPUTS), key="repository")]
    if unwrap(policy_input.get("skip")) is not True:
        policy = {"repository": Ref("repository", "name"), "policy": lifecycle_policy(policy_input.get("rules"))}
        if inputs.get("region") is not None:
            policy["region"] = inputs["region"]
        children.append(Child(LIFECYCLE_POLICY, name, policy, key="lifecycle-policy"))
    return children


def image_name(inputs: Mapping[str, Any], stack: str) -> str:
    """The docker-build image's name: ``imageName``, else ``imageTag``, else a hash of the build and the stack.

    The hash covers the context, the Dockerfile and the build arguments (taken in key order).
    """
    if inputs.get("imageName"):
        return str(inputs["imageName"])
    if inputs.get("imageTag"):
        return str(inputs["imageTag"])
    signature = str(inputs.get("context", "."))
    if inputs.get("dockerfile"):
        signature += f";dockerfile={inputs['dockerfile']}"
    for arg, value in sorted(_mapping(inputs.get("args")).items()):
        signature += f";arg[{arg}]={value}"
    return f"{short_hash(signature + stack)}-container"


def build_image(inputs: Mapping[str, Any], context: ConstructContext) -> list[Child]:
    """``awsx:ecr:Image``: a ``docker-build`` image pushed to the repository, once every input is known.

    The registry credentials come from ``aws.ecr.getAuthorizationToken``: the address is the registry's
    HTTPS endpoint and the user ``AWS``; the token itself is unknown here.
    """
    if not fully_known(inputs):
        return []
    args = plain(inputs)
    url = str(args["repositoryUrl"])
    name = image_name(args, context.stack)
    canonical = f"{url}:{name}"
    cache_from = [{"registry": {"ref": ref}} for ref in args.get("cacheFrom") or [canonical]]
    # The credentials' proxy endpoint: the registry of registryId when given, else the URL's registry.
    registry = url.removeprefix("https://").split("/", 1)[0]
    if args.get("registryId"):
        registry = ".".join([str(args["registryId"]), *registry.split(".")[1:]])
    image = {
        "tags": [canonical],
        "buildArgs": args.get("args"),
        "cacheFrom": cache_from,
        "cacheTo": [{"inline": {}}],
        "context": {"location": args.get("context", ".")},
        "dockerfile": {"location": args["dockerfile"]} if "dockerfile" in args else {},
        "platforms": [args["platform"]] if args.get("platform") else [],
        "target": args.get("target"),
        "push": True,
        "registries": [{"address": f"https://{registry}", "username": "AWS", "password": UNKNOWN}],
    }
    return [Child(DOCKER_BUILD_IMAGE, name, {k: v for k, v in image.items() if v is not None}, key="image")]


MODELS: dict[str, ComponentModel] = {
    "awsx:ecs:FargateService": ComponentModel(
        build_fargate_service, f"awsx 3.x ({SOURCE}: awsx/ecs/fargateService.ts, fargateTaskDefinition.ts)"
    ),
    "awsx:ecs:FargateTaskDefinition": ComponentModel(
        build_fargate_task_definition, f"awsx 3.x ({SOURCE}: awsx/ecs/fargateTaskDefinition.ts, containers.ts)"
    ),
    "awsx:ecs:EC2Service": ComponentModel(
        build_ec2_service, f"awsx 3.x ({SOURCE}: awsx/ecs/ec2Service.ts, ec2TaskDefinition.ts)"
    ),
    "awsx:ecs:EC2TaskDefinition": ComponentModel(
        build_ec2_task_definition, f"awsx 3.x ({SOURCE}: awsx/ecs/ec2TaskDefinition.ts, containers.ts)"
    ),
    "awsx:ecr:Repository": ComponentModel(build_repository, f"awsx 3.x ({SOURCE}: awsx/ecr/repository.ts)"),
    "awsx:ecr:Image": ComponentModel(build_image, f"awsx 3.x ({SOURCE}: awsx/ecr/image.ts, auth.ts)"),
}
"""Component type token → model."""
