"""Stack rules: checks that correlate several resources (failure paths, alarms, ceilings, roles).

References between resources are matched on their values (ARNs, names, URLs) when those are known,
and on the engine's property dependencies when they are not (during preview most ARNs are unknown,
but the engine still records which resource each input came from).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Final

from pulumi_policy import EnforcementLevel, Severity

from policy_pack._core import (
    ABSENT,
    BadValueError,
    CannotEvaluateError,
    Finding,
    IdentityFn,
    Node,
    StackRule,
    StackView,
    generic_identity,
    lambda_identity,
    node_identities,
)
from policy_pack.apigateway import HTTP_STAGE, REST_METHOD_SETTINGS, REST_STAGE
from policy_pack.eventbridge import TARGET
from policy_pack.iot import IOT_AUTHORIZER, TOPIC_RULE
from policy_pack.lambda_ import (
    EVENT_INVOKE_CONFIG,
    EVENT_SOURCE_MAPPING,
    FUNCTION,
    LAMBDA_DEFAULT_TIMEOUT_SECONDS,
    PERMISSION,
)
from policy_pack.logs import ALARM_METRICS_FOR_DLQ, LOG_GROUP, METRIC_ALARM
from policy_pack.s3 import BUCKET, BUCKET_V2, BUCKET_VERSIONING, BUCKET_VERSIONING_V2
from policy_pack.sns import SUBSCRIPTION
from policy_pack.sqs import DEFAULT_RETENTION_SECONDS, DEFAULT_VISIBILITY_TIMEOUT_SECONDS, QUEUE, REDRIVE_POLICY
from policy_pack.stepfunctions import STATE_MACHINE, failure_queue_urls

SERVICE: Final = "stack"

# Principals whose invocations are asynchronous (serverless-rules ES1007 uses the same set).
ASYNC_PRINCIPAL: Final = re.compile(r"^(events|iot|s3|sns)\.amazonaws\.com(\.cn)?$")


# ---- reading references --------------------------------------------------------------------------


def _json_ref(stack: StackView, node: Node, prop: str, key: str, types: tuple[str, ...]) -> list[Node] | None:
    """Resources named by ``key`` inside the JSON document held in ``node``'s property ``prop``.

    Returns ``[]`` when the property is absent or malformed (a resource rule reports that), ``None``
    when it is unknown and no dependency tells the target.
    """
    try:
        document = node.props.json(prop)
    except CannotEvaluateError:
        return stack.resolve_value(node, prop, None, types, generic_identity)
    except BadValueError:
        return []
    if document is ABSENT:
        return []
    value = document.get(key) if isinstance(document, Mapping) else None
    if not isinstance(value, str):
        return []
    return stack.resolve_value(node, prop, value, types, generic_identity)


def _is_set(node: Node, path: str) -> bool:
    """Whether ``node`` sets ``path`` (a value that is unknown during preview is set)."""
    try:
        return node.props.has(path)
    except CannotEvaluateError:
        return True


def _ref(
    stack: StackView, node: Node, path: str, types: tuple[str, ...], identity: IdentityFn = generic_identity
) -> list[Node] | None:
    """Resources named by ``node``'s property ``path`` (``[]`` when it is absent)."""
    try:
        if not node.props.has(path):
            return []
    except CannotEvaluateError:
        pass
    return stack.resolve(node, path, types, identity)


@dataclass(frozen=True)
class DeadLetterLink:
    """``dlq`` receives what ``source`` (a queue, target, subscription, function…) fails to process."""

    dlq: Node
    source: Node
    via: str


def dead_letter_links(stack: StackView) -> list[DeadLetterLink]:
    """Every SQS queue the stack uses as a dead-letter queue or failure destination, and for what."""
    return _dead_letter_links(stack)[0]


def _dead_letter_links(stack: StackView) -> tuple[list[DeadLetterLink], set[str]]:
    """The dead-letter links, and the queues a state machine whose definition is unknown depends on."""
    links: list[DeadLetterLink] = []
    undecided: set[str] = set()

    def add(source: Node, via: str, targets: list[Node] | None) -> None:
        if targets is None:
            stack.cannot_evaluate(f"{via} of {source.name}")
            return
        links.extend(DeadLetterLink(target, source, via) for target in targets)

    for queue in stack.of_type(QUEUE):
        add(queue, "redrivePolicy", _json_ref(stack, queue, "redrivePolicy", "deadLetterTargetArn", (QUEUE,)))
    for policy in stack.of_type(REDRIVE_POLICY):
        for source in _ref(stack, policy, "queueUrl", (QUEUE,)) or [policy]:
            add(source, "redrivePolicy", _json_ref(stack, policy, "redrivePolicy", "deadLetterTargetArn", (QUEUE,)))
    for subscription in stack.of_type(SUBSCRIPTION):
        targets = _json_ref(stack, subscription, "redrivePolicy", "deadLetterTargetArn", (QUEUE,))
        add(subscription, "redrivePolicy", targets)
    for function in stack.of_type(FUNCTION):
        add(function, "deadLetterConfig.targetArn", _ref(stack, function, "deadLetterConfig.targetArn", (QUEUE,)))
    for target in stack.of_type(TARGET):
        add(target, "deadLetterConfig.arn", _ref(stack, target, "deadLetterConfig.arn", (QUEUE,)))
    for config in stack.of_type(EVENT_INVOKE_CONFIG):
        path = "destinationConfig.onFailure.destination"
        add(config, path, _ref(stack, config, path, (QUEUE,)))
    for mapping in stack.of_type(EVENT_SOURCE_MAPPING):
        path = "destinationConfig.onFailure.destinationArn"
        add(mapping, path, _ref(stack, mapping, path, (QUEUE,)))
    for rule in stack.of_type(TOPIC_RULE):
        add(rule, "errorAction.sqs.queueUrl", _ref(stack, rule, "errorAction.sqs.queueUrl", (QUEUE,)))
    for machine in stack.of_type(STATE_MACHINE):
        try:
            definition = machine.props.json("definition")
        except CannotEvaluateError:
            undecided |= machine.property_dependencies.get("definition", frozenset())
            continue
        except BadValueError:
            continue
        for url in failure_queue_urls(definition):
            add(
                machine,
                "definition (Catch path)",
                stack.resolve_value(machine, "definition", url, (QUEUE,), generic_identity),
            )
    return links, undecided


# ---- SQS ---------------------------------------------------------------------------------------------


def _redrive(stack: StackView, config: Mapping[str, Any]) -> Iterator[Finding]:
    links, undecided = _dead_letter_links(stack)
    dead_letter_queues = {link.dlq.urn for link in links}
    redriven = {link.source.urn for link in links if link.via == "redrivePolicy"}
    for queue in stack.of_type(QUEUE):
        if queue.urn in dead_letter_queues or queue.urn in redriven:
            continue
        if not _is_set(queue, "redrivePolicy") and queue.urn in undecided:
            # A state machine whose definition is unknown uses it: it may be that workflow's failure queue.
            stack.cannot_evaluate(f"whether {queue.name} is a workflow's failure queue")
        elif not _is_set(queue, "redrivePolicy"):
            yield Finding(
                f"queue {queue.name} has no redrive policy: a message that keeps failing is retried until it "
                "expires; add a dead-letter queue (queues that are themselves DLQs are exempt)",
                queue.urn,
            )


def _visibility(stack: StackView, config: Mapping[str, Any]) -> Iterator[Finding]:
    multiplier = config["multiplier"]
    for mapping in stack.of_type(EVENT_SOURCE_MAPPING):
        queues = _ref(stack, mapping, "eventSourceArn", (QUEUE,))
        if not queues:
            if queues is None:
                stack.cannot_evaluate(f"event source of {mapping.name}")
            continue  # not a queue of this stack
        functions = _ref(stack, mapping, "functionName", (FUNCTION,), lambda_identity)
        if functions is None:
            stack.cannot_evaluate(f"function of {mapping.name}")
            continue
        for queue in queues:
            for function in functions:
                try:
                    visibility = queue.props.number("visibilityTimeoutSeconds", DEFAULT_VISIBILITY_TIMEOUT_SECONDS)
                    timeout = function.props.number("timeout", LAMBDA_DEFAULT_TIMEOUT_SECONDS)
                except CannotEvaluateError:
                    stack.cannot_evaluate(f"visibility timeout of {queue.name} or timeout of {function.name}")
                    continue
                if visibility < multiplier * timeout:
                    yield Finding(
                        f"queue {queue.name} has a visibility timeout of {visibility:g} s, under {multiplier:g} x the "
                        f"{timeout:g} s timeout of its consumer {function.name}: messages reappear while still "
                        f"being processed; make it at least {multiplier * timeout:g} s",
                        queue.urn,
                    )


def _dlq_retention(stack: StackView, config: Mapping[str, Any]) -> Iterator[Finding]:
    seen: set[tuple[str, str]] = set()
    for link in dead_letter_links(stack):
        if link.source.type != QUEUE or (link.dlq.urn, link.source.urn) in seen:
            continue
        seen.add((link.dlq.urn, link.source.urn))
        try:
            dlq_retention = link.dlq.props.number("messageRetentionSeconds", DEFAULT_RETENTION_SECONDS)
            source_retention = link.source.props.number("messageRetentionSeconds", DEFAULT_RETENTION_SECONDS)
        except CannotEvaluateError:
            stack.cannot_evaluate(f"message retention of {link.dlq.name} or {link.source.name}")
            continue
        if dlq_retention < source_retention:
            yield Finding(
                f"dead-letter queue {link.dlq.name} keeps messages {dlq_retention:g} s, less than its source "
                f"{link.source.name} ({source_retention:g} s): a standard queue's message keeps its original "
                "enqueue time, so it can expire in the DLQ before anyone looks",
                link.dlq.urn,
            )


def _alarm_targets(alarm: Node) -> set[str]:
    """Keys of the queues ``alarm`` watches on an SQS metric that shows messages arriving.

    Queue names from the ``QueueName`` dimension (as identity keys), or, when the dimension is unknown,
    the URNs the dimensions depend on.
    """
    targets: set[str] = set()
    metrics = [(alarm.props, "dimensions")] + [
        (query.child("metric"), "metricQueries") for query in alarm.props.each("metricQueries")
    ]
    for metric, dependency_key in metrics:
        try:
            namespace = metric.text("namespace", "")
            metric_name = metric.text("metricName", "")
            queue_name = metric.get("dimensions.QueueName")
        except CannotEvaluateError:
            namespace, metric_name, queue_name = "AWS/SQS", "", None
        if namespace != "AWS/SQS" or (metric_name and metric_name not in ALARM_METRICS_FOR_DLQ):
            continue
        if isinstance(queue_name, str):
            targets |= generic_identity(queue_name)
        elif queue_name is None:
            targets |= alarm.property_dependencies.get(dependency_key, frozenset())
    return targets


def _dlq_alarmed(stack: StackView, config: Mapping[str, Any]) -> Iterator[Finding]:
    alarms = stack.of_type(METRIC_ALARM)
    if not alarms and not config["requireAlarms"]:
        return
    watched: set[str] = set()
    for alarm in alarms:
        watched |= _alarm_targets(alarm)
    dead_letter_queues = {link.dlq.urn: link.dlq for link in dead_letter_links(stack)}
    for dlq in dead_letter_queues.values():
        if not (watched & (node_identities(dlq, generic_identity) | {dlq.urn})):
            yield Finding(
                f"dead-letter queue {dlq.name} has no CloudWatch alarm on ApproximateNumberOfMessagesVisible: "
                "failed messages pile up unnoticed",
                dlq.urn,
            )


# ---- Lambda ------------------------------------------------------------------------------------------


def _function_keys(stack: StackView, node: Node, path: str) -> frozenset[str] | None:
    """Keys identifying the function ``node``'s property ``path`` names (``None``: unknown)."""
    try:
        value = node.props.text(path, "")
    except CannotEvaluateError:
        value = None
    resolved = stack.resolve_value(node, path, value, (FUNCTION,), lambda_identity)
    keys: set[str] = set()
    if isinstance(value, str) and value:
        keys |= lambda_identity(value)
    for function in resolved or []:
        keys |= _own_keys(function)
    return frozenset(keys) if keys else None


def _own_keys(function: Node) -> frozenset[str]:
    return node_identities(function, lambda_identity) | {function.urn}


def _function_for(stack: StackView, keys: frozenset[str]) -> Node | None:
    index = stack.identity_index((FUNCTION,), lambda_identity)
    for key in sorted(keys):
        if key in stack.by_urn and stack.by_urn[key].type == FUNCTION:
            return stack.by_urn[key]
        if index.get(key):
            return index[key][0]
    return None


def _async_failure_destination(stack: StackView, config: Mapping[str, Any]) -> Iterator[Finding]:
    configs: list[tuple[frozenset[str], Node]] = []
    for invoke_config in stack.of_type(EVENT_INVOKE_CONFIG):
        keys = _function_keys(stack, invoke_config, "functionName")
        if keys is None:
            stack.cannot_evaluate(f"function of {invoke_config.name}")
            continue
        configs.append((keys, invoke_config))
    reported: set[str] = set()
    for permission in stack.of_type(PERMISSION):
        try:
            principal = permission.props.text("principal", "")
        except CannotEvaluateError:
            stack.cannot_evaluate(f"principal of {permission.name}")
            continue
        if not ASYNC_PRINCIPAL.match(principal) or _is_iot_authorizer(stack, permission):
            continue
        keys = _function_keys(stack, permission, "function")
        if keys is None:
            stack.cannot_evaluate(f"function of {permission.name}")
            continue
        function = _function_for(stack, keys)
        subject = function.name if function is not None else sorted(keys)[0]
        if subject in reported:
            continue
        has_destination = any(
            keys & config_keys and _is_set(invoke_config, "destinationConfig.onFailure.destination")
            for config_keys, invoke_config in configs
        )
        has_dlq = function is not None and _is_set(function, "deadLetterConfig.targetArn")
        if has_destination or (has_dlq and config["acceptDeadLetterQueue"]):
            continue
        reported.add(subject)
        hint = " (it has a DLQ, but an on-failure destination keeps the error context)" if has_dlq else ""
        yield Finding(
            f"function {subject} is invoked asynchronously by {principal} but has no event invoke config with an "
            f"on-failure destination{hint}: events that fail every retry are lost",
            function.urn if function is not None else permission.urn,
        )


def _is_iot_authorizer(stack: StackView, permission: Node) -> bool:
    """Whether a permission lets an IoT custom authorizer call the function (a synchronous call)."""
    try:
        source = permission.props.text("sourceArn", "")
    except CannotEvaluateError:
        source = None
    if isinstance(source, str) and source:
        return source.startswith("arn:") and ":iot:" in source and ":authorizer/" in source
    deps = permission.property_dependencies.get("sourceArn", frozenset())
    return any(stack.by_urn[urn].type == IOT_AUTHORIZER for urn in deps if urn in stack.by_urn)


def _single_principal(stack: StackView, config: Mapping[str, Any]) -> Iterator[Finding]:
    principals: dict[str, set[str]] = defaultdict(set)
    subjects: dict[str, Node | None] = {}
    for permission in stack.of_type(PERMISSION):
        try:
            principal = permission.props.text("principal", "")
        except CannotEvaluateError:
            continue
        keys = _function_keys(stack, permission, "function")
        if keys is None or not principal:
            continue
        function = _function_for(stack, keys)
        subject = function.urn if function is not None else sorted(keys)[0]
        principals[subject].add(principal)
        subjects[subject] = function
    for subject, found in principals.items():
        if len(found) > 1:
            function = subjects[subject]
            yield Finding(
                f"function {function.name if function else subject} may be invoked by {', '.join(sorted(found))}: "
                "keep one trigger per function so each stays single-purpose",
                function.urn if function else None,
            )


def _read_str(node: Node, path: str) -> str | None:
    """A string property, ``None`` when it is absent or unknown."""
    try:
        value = node.props.text(path, None)
    except CannotEvaluateError:
        return None
    return value if isinstance(value, str) else None


def _log_group_retention(stack: StackView, config: Mapping[str, Any]) -> Iterator[Finding]:
    by_name: dict[str, list[Node]] = defaultdict(list)
    by_function_dependency: dict[str, list[Node]] = defaultdict(list)
    for group in stack.of_type(LOG_GROUP):
        group_name = _read_str(group, "name")
        if group_name is not None:
            by_name[group_name].append(group)
        else:
            for urn in group.property_dependencies.get("name", frozenset()):
                by_function_dependency[urn].append(group)
    for function in stack.of_type(FUNCTION):
        custom = _read_str(function, "loggingConfig.logGroup")
        physical = _read_str(function, "name")
        wanted = custom or (f"/aws/lambda/{physical}" if physical else None)
        matches: list[Node] = list(by_name.get(wanted, [])) if wanted is not None else []
        matches += by_function_dependency.get(function.urn, [])
        for urn in function.property_dependencies.get("loggingConfig", frozenset()):
            if urn in stack.by_urn and stack.by_urn[urn].type == LOG_GROUP and stack.by_urn[urn] not in matches:
                matches.append(stack.by_urn[urn])
        if not matches:
            if wanted is None:
                stack.cannot_evaluate(f"log group of {function.name}")
                continue
            yield Finding(
                f"function {function.name} has no log group {wanted} in the stack: Lambda creates one on first "
                "invocation that keeps logs forever; declare it with a retention",
                function.urn,
            )
            continue
        for group in matches:
            try:
                days = group.props.number("retentionInDays", 0)
            except CannotEvaluateError:
                continue
            if not days:
                yield Finding(f"log group {group.name} of function {function.name} has no retention", group.urn)


def _unique_role(stack: StackView, config: Mapping[str, Any]) -> Iterator[Finding]:
    by_role: dict[str, list[Node]] = defaultdict(list)
    for function in stack.of_type(FUNCTION):
        try:
            role = function.props.text("role", "")
        except CannotEvaluateError:
            role = ""
        if not role:
            deps = sorted(function.property_dependencies.get("role", frozenset()))
            if not deps:
                stack.cannot_evaluate(f"role of {function.name}")
                continue
            role = deps[0]
        else:
            resolved = stack.resolve_value(function, "role", role, ("aws:iam/role:Role",), generic_identity)
            role = resolved[0].urn if resolved else role
        by_role[role].append(function)
    for functions in by_role.values():
        if len(functions) > 1:
            names = ", ".join(function.name for function in functions)
            for function in functions:
                yield Finding(
                    f"function {function.name} shares its execution role with {names}: give each function its own "
                    "role so each gets only the permissions it needs",
                    function.urn,
                )


# ---- API Gateway, S3 --------------------------------------------------------------------------------


def _same(stack: StackView, left: Node, left_path: str, right: Node, right_path: str, right_target: Node) -> bool:
    """Whether two resources' properties name the same thing (by value, or ``left`` depends on ``right_target``)."""
    try:
        left_value = left.props.get(left_path)
        right_value = right.props.get(right_path)
    except CannotEvaluateError:
        left_value = right_value = None
    if isinstance(left_value, str) and isinstance(right_value, str):
        return left_value == right_value
    return right_target.urn in left.property_dependencies.get(left_path, frozenset()) or bool(
        left.property_dependencies.get(left_path, frozenset())
        & right.property_dependencies.get(right_path, frozenset())
    )


def _throttling(stack: StackView, config: Mapping[str, Any]) -> Iterator[Finding]:
    for stage in stack.of_type(HTTP_STAGE):
        route_settings = stage.props.child("defaultRouteSettings")
        missing = [key for key in ("throttlingBurstLimit", "throttlingRateLimit") if not route_settings.number(key, 0)]
        if missing:
            yield Finding(
                f"stage {stage.name} has no defaultRouteSettings.{' or '.join(missing)}: the API scales without a "
                "ceiling and passes every burst to its integrations",
                stage.urn,
            )
    settings_nodes = stack.of_type(REST_METHOD_SETTINGS)
    for stage in stack.of_type(REST_STAGE):
        throttled = False
        for settings in settings_nodes:
            try:
                if settings.props.text("methodPath", "") != "*/*":
                    continue
                burst = settings.props.number("settings.throttlingBurstLimit", 0)
                rate = settings.props.number("settings.throttlingRateLimit", 0)
            except CannotEvaluateError:
                stack.cannot_evaluate(f"method settings {settings.name}")
                continue
            if (
                burst
                and rate
                and _same(stack, settings, "restApi", stage, "restApi", stage)
                and _same(stack, settings, "stageName", stage, "stageName", stage)
            ):
                throttled = True
        if not throttled:
            yield Finding(
                f"stage {stage.name} has no method settings for '*/*' with throttlingBurstLimit and "
                "throttlingRateLimit: the API scales without a ceiling",
                stage.urn,
            )


def _versioning(stack: StackView, config: Mapping[str, Any]) -> Iterator[Finding]:
    enabled_buckets: set[str] = set()
    for resource in stack.of_type(BUCKET_VERSIONING, BUCKET_VERSIONING_V2):
        targets = _ref(stack, resource, "bucket", (BUCKET, BUCKET_V2))
        if targets is None:
            stack.cannot_evaluate(f"bucket of {resource.name}")
            continue
        try:
            enabled = resource.props.text("versioningConfiguration.status", "") == "Enabled"
        except CannotEvaluateError:
            stack.cannot_evaluate(f"versioning status of {resource.name}")
            enabled = True
        if enabled:
            enabled_buckets.update(target.urn for target in targets)
    for bucket in stack.of_type(BUCKET, BUCKET_V2):
        try:
            if bucket.props.flag("versioning.enabled", False) is True:
                continue
        except CannotEvaluateError:
            continue
        if bucket.urn not in enabled_buckets:
            yield Finding(
                f"bucket {bucket.name} has no versioning: an overwrite or delete cannot be undone",
                bucket.urn,
            )


RULES: Final = [
    StackRule(
        name="sqs-redrive-policy",
        summary=(
            "SQS queues redrive failing messages to a dead-letter queue (queues that are DLQs or failure "
            "destinations, including a workflow's Catch-path queue, are exempt)"
        ),
        anchors=(
            "serverless-rules ES6000 / aws_sqs_queue_redrive_policy",
            "cdk-nag Serverless-SQSRedrivePolicy",
            "cdk-nag AwsSolutions-SQS3",
            "Pulumi BP sqs-dead-letter-queue",
        ),
        severity=Severity.HIGH,
        enforcement_level=EnforcementLevel.MANDATORY,
        service="sqs",
        resource_types=(QUEUE, REDRIVE_POLICY),
        check=_redrive,
    ),
    StackRule(
        name="sqs-visibility-timeout",
        summary="SQS queues consumed by Lambda have a visibility timeout of at least 6 x the function timeout",
        anchors=("cdk-nag LambdaEventSourceSQSVisibilityTimeout (additional rules)",),
        severity=Severity.HIGH,
        enforcement_level=EnforcementLevel.MANDATORY,
        service="sqs",
        resource_types=(QUEUE, EVENT_SOURCE_MAPPING, FUNCTION),
        check=_visibility,
        config={"multiplier": {"type": "number", "default": 6, "minimum": 1}},
    ),
    StackRule(
        name="sqs-dlq-retention",
        summary="Dead-letter queues keep messages at least as long as the queues that feed them",
        anchors=(),
        severity=Severity.MEDIUM,
        enforcement_level=EnforcementLevel.ADVISORY,
        service="sqs",
        resource_types=(QUEUE, REDRIVE_POLICY),
        check=_dlq_retention,
    ),
    StackRule(
        name="dead-letter-queue-alarmed",
        summary=(
            "Every dead-letter queue has a CloudWatch alarm on its messages, whenever the stack has alarms "
            "(or always, with requireAlarms)"
        ),
        anchors=(),
        severity=Severity.MEDIUM,
        enforcement_level=EnforcementLevel.MANDATORY,
        service="sqs",
        resource_types=(QUEUE, METRIC_ALARM),
        check=_dlq_alarmed,
        config={"requireAlarms": {"type": "boolean", "default": False}},
    ),
    StackRule(
        name="lambda-async-failure-destination",
        summary=(
            "Functions invoked asynchronously (permissions for events, s3, sns, iot; IoT custom authorizers are "
            "synchronous) have an event invoke config with an on-failure destination"
        ),
        anchors=(
            "serverless-rules ES1007 / aws_lambda_event_invoke_config_async_on_failure",
            "cdk-nag Serverless-LambdaDLQ (for asynchronous functions)",
            "checkov CKV_AWS_116 (for asynchronous functions)",
        ),
        severity=Severity.HIGH,
        enforcement_level=EnforcementLevel.MANDATORY,
        service="lambda",
        resource_types=(PERMISSION, EVENT_INVOKE_CONFIG, FUNCTION),
        check=_async_failure_destination,
        config={"acceptDeadLetterQueue": {"type": "boolean", "default": False}},
    ),
    StackRule(
        name="lambda-permission-single-principal",
        summary="Each function is invoked by one kind of principal (single-purpose functions)",
        anchors=("serverless-rules WS1002 / aws_lambda_permission_multiple_principals",),
        severity=Severity.LOW,
        enforcement_level=EnforcementLevel.ADVISORY,
        service="lambda",
        resource_types=(PERMISSION,),
        check=_single_principal,
    ),
    StackRule(
        name="lambda-log-group-retention",
        summary="Every function's log group is declared in the stack with a retention",
        anchors=(
            "serverless-rules WS1004 / aws_cloudwatch_log_group_lambda_retention",
            "cdk-nag LambdaLogLevel (no pack)",
        ),
        severity=Severity.MEDIUM,
        enforcement_level=EnforcementLevel.MANDATORY,
        service="lambda",
        resource_types=(FUNCTION, LOG_GROUP),
        check=_log_group_retention,
    ),
    StackRule(
        name="lambda-unique-execution-role",
        summary="Every function has its own execution role",
        anchors=("Pulumi CP aws-lambda-function-require-unique-iam-role",),
        severity=Severity.HIGH,
        enforcement_level=EnforcementLevel.MANDATORY,
        service="iam",
        resource_types=(FUNCTION,),
        check=_unique_role,
    ),
    StackRule(
        name="apigateway-default-throttling",
        summary=(
            "API Gateway stages throttle the default route "
            "(REST: method settings for '*/*'; HTTP: default route settings)"
        ),
        anchors=(
            "serverless-rules ES2003 / aws_api_gateway_method_settings_throttling_rule, "
            "aws_apigatewayv2_stage_throttling_rule",
            "cdk-nag Serverless-APIGWDefaultThrottling",
        ),
        severity=Severity.MEDIUM,
        enforcement_level=EnforcementLevel.MANDATORY,
        service="apigateway",
        resource_types=(REST_STAGE, HTTP_STAGE, REST_METHOD_SETTINGS),
        check=_throttling,
    ),
    StackRule(
        name="s3-bucket-versioning",
        summary="S3 buckets keep object versions",
        anchors=("checkov CKV_AWS_21", "cdk-nag S3BucketVersioningEnabled", "Pulumi BP s3-bucket-versioning"),
        severity=Severity.MEDIUM,
        enforcement_level=EnforcementLevel.MANDATORY,
        service="s3",
        resource_types=(BUCKET, BUCKET_V2, BUCKET_VERSIONING, BUCKET_VERSIONING_V2),
        check=_versioning,
    ),
]
