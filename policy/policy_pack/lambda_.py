"""AWS Lambda: sizing, tracing, runtimes, scaling ceilings, failure paths, secrets and invoke permissions."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator, Mapping
from typing import Any, Final

from pulumi_policy import EnforcementLevel, Severity

from policy_pack._core import (
    ABSENT,
    CannotEvaluateError,
    Finding,
    Node,
    Props,
    ResourceRule,
    StackRule,
    StackView,
    is_set,
    lambda_identity,
    must_be_set,
    node_identities,
    read_str,
    ref,
    today_utc,
)
from policy_pack.iam import role_of, role_permissions
from policy_pack.runtimes import runtime_table, zip_runtime

FUNCTION: Final = "aws:lambda/function:Function"
PERMISSION: Final = "aws:lambda/permission:Permission"
EVENT_INVOKE_CONFIG: Final = "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig"
EVENT_SOURCE_MAPPING: Final = "aws:lambda/eventSourceMapping:EventSourceMapping"
PROVISIONED_CONCURRENCY: Final = "aws:lambda/provisionedConcurrencyConfig:ProvisionedConcurrencyConfig"
FUNCTION_URL: Final = "aws:lambda/functionUrl:FunctionUrl"
LOG_GROUP: Final = "aws:cloudwatch/logGroup:LogGroup"
IOT_AUTHORIZER: Final = "aws:iot/authorizer:Authorizer"

SERVICE: Final = "lambda"

LAMBDA_DEFAULT_TIMEOUT_SECONDS: Final = 3
LAMBDA_DEFAULT_MEMORY_MB: Final = 128


def _timeout_set(props: Props, config: Mapping[str, Any], _: str) -> Iterator[str]:
    if not props.is_set("timeout"):
        yield f"timeout is not set: the function gets the {LAMBDA_DEFAULT_TIMEOUT_SECONDS} s default; set it on purpose"
        return
    timeout = props.number("timeout")
    if timeout is ABSENT:
        yield f"timeout is not set: the function gets the {LAMBDA_DEFAULT_TIMEOUT_SECONDS} s default; set it on purpose"
    elif timeout > config["maximumSeconds"]:
        yield f"timeout is {timeout:g} s, above the configured maximum of {config['maximumSeconds']:g} s"


# What an execution role needs before Lambda accepts a function with Active tracing (CreateFunction fails
# with "The provided execution role does not have permissions to call PutTraceSegments on XRAY" otherwise).
XRAY_ACTIONS: Final = ("xray:PutTraceSegments", "xray:PutTelemetryRecords")


def _tracing_active(props: Props, config: Mapping[str, Any], _: str) -> Iterator[str]:
    # Not remediated: switching tracing on for a role without X-Ray permissions makes AWS reject the function.
    mode = props.text("tracingConfig.mode", "PassThrough")
    if mode != "Active":
        yield (
            f"tracingConfig.mode is {mode!r}: set it to 'Active' so X-Ray traces every invocation, and allow "
            f"{' and '.join(XRAY_ACTIONS)} on the execution role (AWS rejects the function without them)"
        )


def _runtime_supported(props: Props, config: Mapping[str, Any], _: str) -> Iterator[str]:
    runtime = zip_runtime(props)
    if runtime is None:
        return
    if runtime is ABSENT:
        yield "runtime is not set for a Zip package"
        return
    row = runtime_table().get(runtime)
    if row is not None and row.deprecated_on <= today_utc():
        yield (
            f"runtime {runtime!r} was deprecated on {row.deprecated_on.isoformat()} (per {row.source} as of "
            f"{row.as_of}): Lambda no longer patches it, and blocks creating, then updating, functions on it "
            "weeks after that date; move to a supported runtime of the same family"
        )
    elif runtime in set(config["additionalDeprecatedRuntimes"]):
        yield f"runtime {runtime!r} is deprecated by this stack's policy config: move to a supported runtime"


def _reserved_concurrency(props: Props, config: Mapping[str, Any], _: str) -> Iterator[str]:
    reserved = props.number("reservedConcurrentExecutions", -1)
    low, high = config["minimum"], config["maximum"]
    if reserved == -1:
        yield (
            "reservedConcurrentExecutions is not set: the function can take the whole account's "
            f"concurrency; set a ceiling between {low:g} and {high:g} (where the account's concurrency quota "
            "leaves room: a new account's quota of 10 admits no reservation at all)"
        )
    elif reserved == 0:
        yield "reservedConcurrentExecutions is 0: the function is throttled completely"
    elif not low <= reserved <= high:
        yield f"reservedConcurrentExecutions is {reserved:g}, outside the configured range {low:g}..{high:g}"


def _no_provisioned_concurrency(props: Props, config: Mapping[str, Any], _: str) -> Iterator[str]:
    yield (
        "provisioned concurrency keeps environments warm and is billed every hour even with no traffic; "
        "remove it so the function scales to zero"
    )


def _vpc_multi_subnet(props: Props, config: Mapping[str, Any], _: str) -> Iterator[str]:
    if not props.has("vpcConfig"):
        return
    subnets = props.seq("vpcConfig.subnetIds")
    if subnets and len(set(map(str, subnets))) < config["minimumSubnets"]:
        yield (
            f"the function is in a VPC on {len(subnets)} subnet(s): give it subnets in at least "
            f"{config['minimumSubnets']:g} Availability Zones so one AZ failing does not stop it"
        )


def _json_logging(props: Props, config: Mapping[str, Any], _: str) -> Iterator[str]:
    log_format = props.text("loggingConfig.logFormat", "Text")
    if log_format != "JSON":
        yield f"loggingConfig.logFormat is {log_format!r}: use 'JSON' for structured, queryable logs"


def _invoke_config_on_failure(props: Props, config: Mapping[str, Any], _: str) -> Iterator[str]:
    if not props.is_set("destinationConfig.onFailure.destination"):
        yield "destinationConfig.onFailure.destination is not set: failed asynchronous events are dropped"


STREAM_ARN_MARKERS: Final = (":kinesis:", ":kafka:", ":dynamodb:")


def event_source_kind(props: Props) -> str:
    """``stream``, ``sqs``, ``other``, for an event source mapping (reads only known values).

    Raises
    ------
    CannotEvaluateError
        When the source ARN is unknown and nothing else tells the kind.
    """
    if props.has("selfManagedEventSource"):
        return "stream"
    try:
        arn = props.text("eventSourceArn", "")
    except CannotEvaluateError:
        # The ARN of a queue or stream of the stack is unknown in a first preview; the other inputs tell the
        # kind: stream and Kafka sources require a starting position, Amazon MQ sources name their queues,
        # DocumentDB sources have their own config. What is left is SQS.
        if props.is_set("startingPosition"):
            return "stream"
        if props.is_set("queues") or props.is_set("documentDbEventSourceConfig"):
            return "other"
        return "sqs"
    if ":sqs:" in arn:
        return "sqs"
    if any(marker in arn for marker in STREAM_ARN_MARKERS) or props.has("startingPosition"):
        return "stream"
    return "other"


def _esm_failure_destination(props: Props, config: Mapping[str, Any], _: str) -> Iterator[str]:
    if event_source_kind(props) != "stream":
        return  # SQS sources keep their failures in the queue's own DLQ (sqs-redrive-policy)
    if not props.is_set("destinationConfig.onFailure.destinationArn"):
        yield (
            "destinationConfig.onFailure.destinationArn is not set: records that keep failing are "
            "dropped once they expire; send them to an SQS queue, SNS topic or S3 bucket"
        )


def _esm_max_concurrency(props: Props, config: Mapping[str, Any], _: str) -> Iterator[str]:
    if event_source_kind(props) != "sqs":
        return
    maximum = props.number("scalingConfig.maximumConcurrency")
    ceiling = config["maximum"]
    if maximum is ABSENT:
        yield f"scalingConfig.maximumConcurrency is not set: set a ceiling between 2 and {ceiling:g}"
    elif not 2 <= maximum <= ceiling:
        yield f"scalingConfig.maximumConcurrency is {maximum:g}, outside 2..{ceiling:g}"


def _esm_partial_batch(props: Props, config: Mapping[str, Any], _: str) -> Iterator[str]:
    if event_source_kind(props) == "other":
        return
    if "ReportBatchItemFailures" not in [str(value) for value in props.seq("functionResponseTypes")]:
        yield (
            "functionResponseTypes does not include 'ReportBatchItemFailures': one bad record makes the "
            "whole batch retry"
        )


def _permission_scoped(props: Props, config: Mapping[str, Any], _: str) -> Iterator[str]:
    principal = props.text("principal")
    if principal is ABSENT:
        return
    scoped = any(props.is_set(key) for key in ("sourceArn", "sourceAccount", "principalOrgId"))
    if props.is_set("functionUrlAuthType"):
        return  # function URL permissions are governed by lambda-function-url-auth
    if principal == "*" and not scoped:
        yield "principal is '*' with no sourceArn, sourceAccount or principalOrgId: anyone can invoke the function"
    elif re.match(r"^arn:aws[a-z-]*:iam::\*", principal):
        yield f"principal {principal!r} has an account wildcard: AWS rejects it, and it reads as anyone"
    elif principal.endswith((".amazonaws.com", ".amazonaws.com.cn")) and not (
        props.is_set("sourceArn") or props.is_set("sourceAccount")
    ):
        yield (
            f"principal {principal!r} has no sourceArn or sourceAccount: any account's {principal} "
            "resource could invoke the function (confused deputy)"
        )


def _function_url_auth(props: Props, config: Mapping[str, Any], _: str) -> Iterator[str]:
    auth = props.text("authorizationType")
    if auth == "NONE":
        yield "authorizationType is 'NONE': the function URL is public; use 'AWS_IAM'"


# Names that say a variable holds a credential; names that say it holds a reference to one are fine.
SECRET_NAME: Final = re.compile(
    r"(PASSWORD|PASSWD|PASSPHRASE|SECRET|TOKEN|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY|CLIENT_?SECRET|CREDENTIAL|AUTH)",
    re.IGNORECASE,
)
REFERENCE_NAME: Final = re.compile(
    r"(_ARN|_NAME|_ID|_PARAM|_PARAMETER|_PATH|_TABLE|_URL|_URI|_TTL|_HEADER|_ENDPOINT|_REGION|_BUCKET|_QUEUE|_TOPIC)$",
    re.IGNORECASE,
)
_REFERENCE_VALUE: Final = re.compile(r"^(arn:|\{\{resolve:|/|https?://|\$\{)")


def _no_secrets_in_environment(props: Props, config: Mapping[str, Any], _: str) -> Iterator[str]:
    try:
        variables = props.child("environment.variables")
    except CannotEvaluateError:
        return  # the whole map is built from outputs: nothing literal to read
    allowed = set(config["allowedNames"])
    for name in sorted(variables.keys()):
        if name in allowed or not SECRET_NAME.search(name) or REFERENCE_NAME.search(name):
            continue
        try:
            value = variables.get(name)
        except CannotEvaluateError:
            continue  # computed from another resource: not a literal in the program
        if isinstance(value, str) and value.strip() and not _REFERENCE_VALUE.match(value):
            yield (
                f"environment variable {name} holds what looks like a credential, in plain text: anyone who can read "
                "the function's configuration sees it; keep it in Secrets Manager or SSM Parameter Store and pass its "
                f"ARN or name (e.g. {name}_ARN) instead"
            )


# ---- stack rules ---------------------------------------------------------------------------------------

# Principals whose invocations are asynchronous (serverless-rules ES1007 uses the same set).
ASYNC_PRINCIPAL: Final = re.compile(r"^(events|iot|s3|sns)\.amazonaws\.com(\.cn)?$")


def function_keys(stack: StackView, node: Node, path: str) -> frozenset[str] | None:
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
        keys |= node_identities(function, lambda_identity) | {function.urn}
    return frozenset(keys) if keys else None


def function_for(stack: StackView, keys: frozenset[str]) -> Node | None:
    """The function of the stack that one of ``keys`` names."""
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
        keys = function_keys(stack, invoke_config, "functionName")
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
        keys = function_keys(stack, permission, "function")
        if keys is None:
            stack.cannot_evaluate(f"function of {permission.name}")
            continue
        function = function_for(stack, keys)
        subject = function.name if function is not None else sorted(keys)[0]
        if subject in reported:
            continue
        has_destination = any(
            keys & config_keys and is_set(invoke_config, "destinationConfig.onFailure.destination")
            for config_keys, invoke_config in configs
        )
        has_dlq = function is not None and is_set(function, "deadLetterConfig.targetArn")
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
        keys = function_keys(stack, permission, "function")
        if keys is None or not principal:
            continue
        function = function_for(stack, keys)
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


def _log_group_retention(stack: StackView, config: Mapping[str, Any]) -> Iterator[Finding]:
    # A function's log group is found by its literal name, or by what the program wired: a group whose name
    # is an Output of the function (``fn.name.apply(...)``), or the group the function's
    # ``loggingConfig.logGroup`` references. A known name that differs from the one Lambda writes to is not it.
    by_name: dict[str, list[Node]] = defaultdict(list)
    named_from_function: dict[str, list[tuple[Node, str | None]]] = defaultdict(list)
    for group in stack.of_type(LOG_GROUP):
        group_name = read_str(group, "name")
        if group_name is not None:
            by_name[group_name].append(group)
        for urn in group.property_dependencies.get("name", frozenset()):
            named_from_function[urn].append((group, group_name))
    for function in stack.of_type(FUNCTION):
        custom = read_str(function, "loggingConfig.logGroup")
        physical = read_str(function, "name")
        wanted = custom or (f"/aws/lambda/{physical}" if physical else None)
        matches: list[Node] = list(by_name.get(wanted, [])) if wanted is not None else []
        for group, group_name in named_from_function.get(function.urn, []):
            if group not in matches and (group_name is None or wanted is None):
                matches.append(group)
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


# What a function's role must be allowed to do to deliver to a destination, by the destination's service.
SEND_ACTION: Final[Mapping[str, str]] = {
    "sqs": "sqs:SendMessage",
    "sns": "sns:Publish",
    "lambda": "lambda:InvokeFunction",
    "events": "events:PutEvents",
    "s3": "s3:PutObject",
}
_DESTINATION_TYPES: Final[Mapping[str, str]] = {
    "aws:sqs/queue:Queue": "sqs",
    "aws:sns/topic:Topic": "sns",
    FUNCTION: "lambda",
    "aws:cloudwatch/eventBus:EventBus": "events",
    "aws:s3/bucket:Bucket": "s3",
    "aws:s3/bucketV2:BucketV2": "s3",
}


def failure_destinations(stack: StackView) -> Iterator[tuple[Node, str, Node | None, str | None, str]]:
    """``(function, path, destination node, destination ARN, via)`` for every failure destination of a function.

    Covers function DLQs, asynchronous on-failure destinations and stream event sources' on-failure
    destinations. The node is ``None`` outside the stack; the ARN is ``None`` while unknown.
    """
    sources: list[tuple[Node, str, str]] = [
        (f, "deadLetterConfig.targetArn", "functionName") for f in stack.of_type(FUNCTION)
    ]
    sources += [
        (c, "destinationConfig.onFailure.destination", "functionName") for c in stack.of_type(EVENT_INVOKE_CONFIG)
    ]
    sources += [
        (m, "destinationConfig.onFailure.destinationArn", "functionName") for m in stack.of_type(EVENT_SOURCE_MAPPING)
    ]
    for node, path, function_path in sources:
        if not is_set(node, path):
            continue
        keys = None if node.type == FUNCTION else function_keys(stack, node, function_path)
        function = node if node.type == FUNCTION else (function_for(stack, keys) if keys else None)
        if function is None:
            if keys is None:
                stack.cannot_evaluate(f"function of {node.name}")
            continue
        arn = read_str(node, path)
        targets = ref(stack, node, path, tuple(_DESTINATION_TYPES))
        target = targets[0] if targets else None
        yield function, path, target, arn, node.name


def _destination_service(target: Node | None, arn: str | None) -> str | None:
    if arn and arn.startswith("arn:"):
        return arn.split(":")[2]
    return _DESTINATION_TYPES.get(target.type) if target is not None else None


def _failure_destination_writable(stack: StackView, config: Mapping[str, Any]) -> Iterator[Finding]:
    for function, path, target, arn, via in failure_destinations(stack):
        service = _destination_service(target, arn)
        action = SEND_ACTION.get(service or "")
        if action is None:
            if service is None:
                stack.cannot_evaluate(f"destination of {via}")
            continue
        role = role_of(stack, function, "role")
        if role is None:
            stack.cannot_evaluate(f"role of {function.name}")
            continue
        if isinstance(role, str):
            continue  # a role from outside the stack: its grants are not visible here
        missing, certain = role_permissions(stack, role).missing([action], target, arn)
        where = target.name if target is not None else arn
        if missing and certain:
            yield Finding(
                f"{via} sends failures to {where} ({path}) but the execution role {role.name} is not allowed "
                f"{action} on it: every failed event is dropped; grant {action} on that ARN",
                function.urn,
            )
        elif missing:
            stack.cannot_evaluate(f"whether role {role.name} may {action} on {where}")


def tracing_permission_findings(
    stack: StackView, owners: list[tuple[Node, str]], actions: tuple[str, ...], consequence: str
) -> Iterator[Finding]:
    """Findings for resources with tracing on whose role (property ``path``) lacks the X-Ray ``actions``."""
    for owner, path in owners:
        role = role_of(stack, owner, path)
        if role is None:
            stack.cannot_evaluate(f"role of {owner.name}")
            continue
        if isinstance(role, str):
            continue
        missing, certain = role_permissions(stack, role).missing(list(actions), None, "*")
        if missing and certain:
            yield Finding(
                f"{owner.name} traces with X-Ray but its role {role.name} is not allowed {', '.join(missing)} "
                f"(on '*'): {consequence}; add them (or attach AWSXRayDaemonWriteAccess)",
                owner.urn,
            )
        elif missing:
            stack.cannot_evaluate(f"X-Ray permissions of role {role.name}")


def _tracing_permissions(stack: StackView, config: Mapping[str, Any]) -> Iterator[Finding]:
    owners = []
    for function in stack.of_type(FUNCTION):
        try:
            mode = function.props.text("tracingConfig.mode", "PassThrough")
        except CannotEvaluateError:
            stack.cannot_evaluate(f"tracing mode of {function.name}")
            continue
        if mode == "Active":
            owners.append((function, "role"))
    yield from tracing_permission_findings(
        stack, owners, XRAY_ACTIONS, "AWS rejects the function at create (InvalidParameterValueException)"
    )


def _code_signing(props: Props, config: Mapping[str, Any], _: str) -> Iterator[str]:
    # Code signing applies to .zip packages only; Lambda verifies container images through ECR instead.
    if props.text("packageType", "Zip") != "Image" and not props.is_set("codeSigningConfigArn"):
        yield (
            "codeSigningConfigArn is not set: Lambda deploys whatever code it is given; sign the package with an "
            "AWS Signer profile and attach a code signing config that enforces it"
        )


def _function_url_cors(props: Props, config: Mapping[str, Any], _: str) -> Iterator[str]:
    origins = [str(origin) for origin in props.seq("cors.allowOrigins")]
    methods = [str(method) for method in props.seq("cors.allowMethods")]
    if "*" in origins and "*" in methods:
        yield (
            "cors.allowOrigins and cors.allowMethods are both '*': any web page can send any request to the "
            "function URL from its visitors' browsers; name the origins (and methods) that call it"
        )


RULES: Final = [
    ResourceRule(
        name="lambda-memory-size-set",
        summary="Lambda functions set memorySize explicitly",
        anchors=("serverless-rules ES1005", "cdk-nag Serverless-LambdaDefaultMemorySize"),
        severity=Severity.MEDIUM,
        enforcement_level=EnforcementLevel.MANDATORY,
        service=SERVICE,
        resource_types=(FUNCTION,),
        check=must_be_set(
            "memorySize", f"the function gets the {LAMBDA_DEFAULT_MEMORY_MB} MB default; size it on purpose"
        ),
    ),
    ResourceRule(
        name="lambda-timeout-set",
        summary="Lambda functions set timeout explicitly, within the configured maximum",
        anchors=(
            "serverless-rules ES1006",
            "cdk-nag Serverless-LambdaDefaultTimeout",
            "Pulumi BP limit-lambda-execution-time",
        ),
        severity=Severity.MEDIUM,
        enforcement_level=EnforcementLevel.MANDATORY,
        service=SERVICE,
        resource_types=(FUNCTION,),
        check=_timeout_set,
        config={
            "maximumSeconds": {"type": "number", "default": 900, "minimum": 1, "maximum": 900},
        },
    ),
    ResourceRule(
        name="lambda-tracing-active",
        summary="Lambda functions trace every invocation with X-Ray (tracingConfig.mode Active)",
        anchors=(
            "serverless-rules WS1000",
            "cdk-nag Serverless-LambdaTracing",
            "checkov CKV_AWS_50",
            "Pulumi CP aws-lambda-function-enable-tracing-config",
        ),
        severity=Severity.LOW,
        enforcement_level=EnforcementLevel.ADVISORY,
        service=SERVICE,
        resource_types=(FUNCTION,),
        check=_tracing_active,
    ),
    ResourceRule(
        name="lambda-runtime-supported",
        summary="Lambda functions run on a runtime that is not deprecated",
        anchors=(
            "serverless-rules E2531 / aws_lambda_function_eol_runtime",
            "cdk-nag Serverless-LambdaLatestVersion (deprecation part)",
            "cdk-nag AwsSolutions-L1 (deprecation part)",
            "checkov CKV_AWS_363",
        ),
        severity=Severity.HIGH,
        enforcement_level=EnforcementLevel.MANDATORY,
        service=SERVICE,
        resource_types=(FUNCTION,),
        check=_runtime_supported,
        config={"additionalDeprecatedRuntimes": {"type": "array", "items": {"type": "string"}, "default": []}},
    ),
    ResourceRule(
        name="lambda-reserved-concurrency",
        summary=(
            "Lambda functions set reserved concurrency as a scaling ceiling within the configured range "
            "(advisory by default: a new account's quota of 10 admits no reservation; mandatory where a stack says so)"
        ),
        anchors=(
            "checkov CKV_AWS_115",
            "cdk-nag LambdaConcurrency",
            "Pulumi BP lambda-concurrent-execution-limits-required",
        ),
        severity=Severity.MEDIUM,
        enforcement_level=EnforcementLevel.ADVISORY,
        service=SERVICE,
        resource_types=(FUNCTION,),
        check=_reserved_concurrency,
        config={
            "minimum": {"type": "integer", "default": 1, "minimum": 1},
            "maximum": {"type": "integer", "default": 1000, "minimum": 1},
        },
    ),
    ResourceRule(
        name="lambda-no-provisioned-concurrency",
        summary="Lambda functions use on-demand concurrency only, so they cost nothing while idle",
        anchors=(),
        severity=Severity.MEDIUM,
        enforcement_level=EnforcementLevel.MANDATORY,
        service=SERVICE,
        resource_types=(PROVISIONED_CONCURRENCY,),
        check=_no_provisioned_concurrency,
    ),
    ResourceRule(
        name="lambda-vpc-multi-az",
        summary="Lambda functions placed in a VPC use subnets in several Availability Zones",
        anchors=(),
        severity=Severity.MEDIUM,
        enforcement_level=EnforcementLevel.MANDATORY,
        service=SERVICE,
        resource_types=(FUNCTION,),
        check=_vpc_multi_subnet,
        config={"minimumSubnets": {"type": "integer", "default": 2, "minimum": 1}},
    ),
    ResourceRule(
        name="lambda-json-logging",
        summary="Lambda functions log in JSON (loggingConfig.logFormat JSON)",
        anchors=("cdk-nag LambdaLogging (no pack)",),
        severity=Severity.LOW,
        enforcement_level=EnforcementLevel.ADVISORY,
        service=SERVICE,
        resource_types=(FUNCTION,),
        check=_json_logging,
    ),
    ResourceRule(
        name="lambda-async-config-on-failure",
        summary="Lambda asynchronous invocation configs send failed events to an on-failure destination",
        anchors=("cdk-nag Serverless-LambdaAsyncFailureDestination",),
        severity=Severity.HIGH,
        enforcement_level=EnforcementLevel.MANDATORY,
        service=SERVICE,
        resource_types=(EVENT_INVOKE_CONFIG,),
        check=_invoke_config_on_failure,
    ),
    ResourceRule(
        name="lambda-stream-source-failure-destination",
        summary=(
            "Lambda stream event sources (Kinesis, DynamoDB, Kafka) send failed records to an on-failure destination"
        ),
        anchors=(
            "serverless-rules ES1001 / aws_lambda_event_source_mapping_failure_destination",
            "cdk-nag Serverless-LambdaEventSourceMappingDestination",
        ),
        severity=Severity.HIGH,
        enforcement_level=EnforcementLevel.MANDATORY,
        service=SERVICE,
        resource_types=(EVENT_SOURCE_MAPPING,),
        check=_esm_failure_destination,
    ),
    ResourceRule(
        name="lambda-sqs-source-max-concurrency",
        summary="Lambda SQS event sources cap their concurrency (scalingConfig.maximumConcurrency)",
        anchors=(),
        severity=Severity.MEDIUM,
        enforcement_level=EnforcementLevel.MANDATORY,
        service=SERVICE,
        resource_types=(EVENT_SOURCE_MAPPING,),
        check=_esm_max_concurrency,
        config={"maximum": {"type": "integer", "default": 1000, "minimum": 2, "maximum": 1000}},
    ),
    ResourceRule(
        name="lambda-batch-item-failures",
        summary="Lambda queue and stream event sources report partial batch failures (ReportBatchItemFailures)",
        anchors=(),
        severity=Severity.LOW,
        enforcement_level=EnforcementLevel.ADVISORY,
        service=SERVICE,
        resource_types=(EVENT_SOURCE_MAPPING,),
        check=_esm_partial_batch,
    ),
    ResourceRule(
        name="lambda-permission-scoped",
        summary=(
            "Lambda permissions name who may invoke: no '*' principal without a source condition, "
            "service principals with sourceArn or sourceAccount"
        ),
        anchors=(
            "checkov CKV_AWS_301",
            "checkov CKV_AWS_364",
            "cdk-nag LambdaFunctionPublicAccessProhibited",
            "Pulumi CP aws-lambda-permission-configure-source-arn",
        ),
        severity=Severity.CRITICAL,
        enforcement_level=EnforcementLevel.MANDATORY,
        service=SERVICE,
        resource_types=(PERMISSION,),
        check=_permission_scoped,
    ),
    ResourceRule(
        name="lambda-function-url-auth",
        summary="Lambda function URLs require IAM authorization",
        anchors=("checkov CKV_AWS_258", "cdk-nag LambdaFunctionUrlAuth"),
        severity=Severity.HIGH,
        enforcement_level=EnforcementLevel.MANDATORY,
        service=SERVICE,
        resource_types=(FUNCTION_URL,),
        check=_function_url_auth,
    ),
    ResourceRule(
        name="lambda-no-secrets-in-environment",
        summary=(
            "Lambda environment variables hold no literal credentials (names like *TOKEN*, *SECRET*, *PASSWORD*, "
            "*API_KEY*): pass a Secrets Manager or SSM reference instead"
        ),
        anchors=("checkov CKV_AWS_45",),
        severity=Severity.HIGH,
        enforcement_level=EnforcementLevel.MANDATORY,
        service=SERVICE,
        resource_types=(FUNCTION,),
        check=_no_secrets_in_environment,
        config={"allowedNames": {"type": "array", "items": {"type": "string"}, "default": []}},
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
        service=SERVICE,
        resource_types=(PERMISSION, EVENT_INVOKE_CONFIG, FUNCTION),
        check=_async_failure_destination,
        config={"acceptDeadLetterQueue": {"type": "boolean", "default": False}},
    ),
    StackRule(
        name="lambda-failure-destination-writable",
        summary=(
            "Every function DLQ and on-failure destination (asynchronous and stream sources) is writable by the "
            "function's role (sqs:SendMessage, sns:Publish, lambda:InvokeFunction, events:PutEvents)"
        ),
        anchors=(),
        severity=Severity.HIGH,
        enforcement_level=EnforcementLevel.MANDATORY,
        service=SERVICE,
        resource_types=(FUNCTION, EVENT_INVOKE_CONFIG, EVENT_SOURCE_MAPPING),
        check=_failure_destination_writable,
    ),
    StackRule(
        name="lambda-tracing-permissions",
        summary=(
            "Functions with Active tracing have a role allowed xray:PutTraceSegments and xray:PutTelemetryRecords "
            "(AWS rejects the function otherwise)"
        ),
        anchors=(),
        severity=Severity.HIGH,
        enforcement_level=EnforcementLevel.MANDATORY,
        service=SERVICE,
        resource_types=(FUNCTION,),
        check=_tracing_permissions,
    ),
    StackRule(
        name="lambda-permission-single-principal",
        summary="Each function is invoked by one kind of principal (single-purpose functions)",
        anchors=("serverless-rules WS1002 / aws_lambda_permission_multiple_principals",),
        severity=Severity.LOW,
        enforcement_level=EnforcementLevel.ADVISORY,
        service=SERVICE,
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
        service=SERVICE,
        resource_types=(FUNCTION, LOG_GROUP),
        check=_log_group_retention,
    ),
    ResourceRule(
        name="lambda-code-signing",
        summary=(
            "Lambda functions deployed as .zip packages enforce code signing (advisory by default: it needs an AWS "
            "Signer profile and signed artifacts)"
        ),
        anchors=("checkov CKV_AWS_272",),
        severity=Severity.MEDIUM,
        enforcement_level=EnforcementLevel.ADVISORY,
        service=SERVICE,
        resource_types=(FUNCTION,),
        check=_code_signing,
    ),
    ResourceRule(
        name="lambda-function-url-cors",
        summary="Lambda function URLs do not open CORS to every origin with every method",
        anchors=("checkov CKV2_AWS_75",),
        severity=Severity.MEDIUM,
        enforcement_level=EnforcementLevel.MANDATORY,
        service=SERVICE,
        resource_types=(FUNCTION_URL,),
        check=_function_url_cors,
    ),
]
