"""AWS Lambda: sizing, tracing, runtimes, scaling ceilings, failure paths and invoke permissions."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Final

from pulumi_policy import EnforcementLevel, Severity

from policy_pack._core import ABSENT, CannotEvaluateError, Props, ResourceRule, plain

FUNCTION: Final = "aws:lambda/function:Function"
PERMISSION: Final = "aws:lambda/permission:Permission"
EVENT_INVOKE_CONFIG: Final = "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig"
EVENT_SOURCE_MAPPING: Final = "aws:lambda/eventSourceMapping:EventSourceMapping"
PROVISIONED_CONCURRENCY: Final = "aws:lambda/provisionedConcurrencyConfig:ProvisionedConcurrencyConfig"
FUNCTION_URL: Final = "aws:lambda/functionUrl:FunctionUrl"

SERVICE: Final = "lambda"

# Runtimes past their deprecation date in the AWS Lambda runtime table (creating or updating a
# function on them is blocked or about to be). Extend per stack with config ``deprecatedRuntimes``.
DEPRECATED_RUNTIMES: Final = (
    "python2.7",
    "python3.6",
    "python3.7",
    "python3.8",
    "nodejs",
    "nodejs4.3",
    "nodejs4.3-edge",
    "nodejs6.10",
    "nodejs8.10",
    "nodejs10.x",
    "nodejs12.x",
    "nodejs14.x",
    "nodejs16.x",
    "java8",
    "dotnetcore1.0",
    "dotnetcore2.0",
    "dotnetcore2.1",
    "dotnetcore3.1",
    "dotnet5.0",
    "dotnet6",
    "dotnet7",
    "go1.x",
    "ruby2.5",
    "ruby2.7",
    "ruby3.2",
    "provided",
)

LAMBDA_DEFAULT_TIMEOUT_SECONDS: Final = 3
LAMBDA_DEFAULT_MEMORY_MB: Final = 128


def _memory_set(props: Props, config: Mapping[str, Any], _: str) -> Iterator[str]:
    if not props.has("memorySize"):
        yield f"memorySize is not set: the function gets the {LAMBDA_DEFAULT_MEMORY_MB} MB default; size it on purpose"


def _timeout_set(props: Props, config: Mapping[str, Any], _: str) -> Iterator[str]:
    timeout = props.number("timeout")
    if timeout is ABSENT:
        yield f"timeout is not set: the function gets the {LAMBDA_DEFAULT_TIMEOUT_SECONDS} s default; set it on purpose"
    elif timeout > config["maximumSeconds"]:
        yield f"timeout is {timeout:g} s, above the configured maximum of {config['maximumSeconds']:g} s"


def _tracing_active(props: Props, config: Mapping[str, Any], _: str) -> Iterator[str]:
    mode = props.text("tracingConfig.mode", "PassThrough")
    if mode != "Active":
        yield f"tracingConfig.mode is {mode!r}: set it to 'Active' so X-Ray traces every invocation"


def _fix_tracing(props: Props, config: Mapping[str, Any], _: str) -> Mapping[str, Any] | None:
    if props.text("tracingConfig.mode", "PassThrough") == "Active":
        return None
    return {"tracingConfig": {**plain(props.get("tracingConfig", {})), "mode": "Active"}}


def _runtime_supported(props: Props, config: Mapping[str, Any], _: str) -> Iterator[str]:
    if props.text("packageType", "Zip") == "Image":
        return  # container images carry their own runtime
    runtime = props.text("runtime")
    if runtime is ABSENT:
        yield "runtime is not set for a Zip package"
        return
    deprecated = set(config["deprecatedRuntimes"]) | set(config["additionalDeprecatedRuntimes"])
    if runtime in deprecated:
        yield f"runtime {runtime!r} is deprecated: move to a supported runtime of the same family"


def _reserved_concurrency(props: Props, config: Mapping[str, Any], _: str) -> Iterator[str]:
    reserved = props.number("reservedConcurrentExecutions", -1)
    low, high = config["minimum"], config["maximum"]
    if reserved == -1:
        yield (
            "reservedConcurrentExecutions is not set: the function can take the whole account's "
            f"concurrency; set a ceiling between {low:g} and {high:g}"
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
    if not props.has("destinationConfig.onFailure.destination"):
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
        # Only stream sources take a starting position, so it tells them apart even in preview.
        if props.has("startingPosition"):
            return "stream"
        raise
    if ":sqs:" in arn:
        return "sqs"
    if any(marker in arn for marker in STREAM_ARN_MARKERS) or props.has("startingPosition"):
        return "stream"
    return "other"


def _esm_failure_destination(props: Props, config: Mapping[str, Any], _: str) -> Iterator[str]:
    if event_source_kind(props) != "stream":
        return  # SQS sources keep their failures in the queue's own DLQ (sqs-redrive-policy)
    if not props.has("destinationConfig.onFailure.destinationArn"):
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
    scoped = any(props.has(key) for key in ("sourceArn", "sourceAccount", "principalOrgId"))
    if props.has("functionUrlAuthType"):
        return  # function URL permissions are governed by lambda-function-url-auth
    if principal == "*" and not scoped:
        yield "principal is '*' with no sourceArn, sourceAccount or principalOrgId: anyone can invoke the function"
    elif principal.endswith((".amazonaws.com", ".amazonaws.com.cn")) and not (
        props.has("sourceArn") or props.has("sourceAccount")
    ):
        yield (
            f"principal {principal!r} has no sourceArn or sourceAccount: any account's {principal} "
            "resource could invoke the function (confused deputy)"
        )


def _function_url_auth(props: Props, config: Mapping[str, Any], _: str) -> Iterator[str]:
    auth = props.text("authorizationType")
    if auth == "NONE":
        yield "authorizationType is 'NONE': the function URL is public; use 'AWS_IAM'"


RULES: Final = [
    ResourceRule(
        name="lambda-memory-size-set",
        summary="Lambda functions set memorySize explicitly",
        anchors=("serverless-rules ES1005", "cdk-nag Serverless-LambdaDefaultMemorySize"),
        severity=Severity.MEDIUM,
        enforcement_level=EnforcementLevel.MANDATORY,
        service=SERVICE,
        resource_types=(FUNCTION,),
        check=_memory_set,
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
        enforcement_level=EnforcementLevel.REMEDIATE,
        service=SERVICE,
        resource_types=(FUNCTION,),
        check=_tracing_active,
        fix=_fix_tracing,
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
        config={
            "deprecatedRuntimes": {
                "type": "array",
                "items": {"type": "string"},
                "default": list(DEPRECATED_RUNTIMES),
            },
            "additionalDeprecatedRuntimes": {"type": "array", "items": {"type": "string"}, "default": []},
        },
    ),
    ResourceRule(
        name="lambda-reserved-concurrency",
        summary="Lambda functions set reserved concurrency as a scaling ceiling within the configured range",
        anchors=(
            "checkov CKV_AWS_115",
            "cdk-nag LambdaConcurrency",
            "Pulumi BP lambda-concurrent-execution-limits-required",
        ),
        severity=Severity.MEDIUM,
        enforcement_level=EnforcementLevel.MANDATORY,
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
]
