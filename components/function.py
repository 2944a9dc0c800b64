"""``Function``: a Lambda function with its own role, log group, tracing and failure path.

Defaults follow the Well-Architected Serverless Lens: a current Python runtime on arm64, explicit
memory and timeout, Active X-Ray tracing, JSON logs into a log group the component owns (so retention
is set before the first invocation creates it), reserved concurrency as a scaling ceiling, and an
optional asynchronous-invocation config with an on-failure destination. Third-party code, Powertools
and Pydantic included, comes from layers the caller passes: built from the requirements the handlers are
tested with (see :class:`components.layer.DependencyLayer`), they deploy the tested versions.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws

from components.children import owned_log_group, tags_input
from components.naming import function_name
from components.policies import (
    assume_role_policy,
    destination_send_statement,
    policy_document,
    validate_statements,
)

# The tests run on this runtime's Python (.python-version); the version-skew test fails when the two differ.
DEFAULT_RUNTIME = "python3.13"
DEFAULT_ARCHITECTURE = "arm64"
_PACKAGED_SUFFIXES = frozenset({".py", ".json"})


def package_files(handlers_dir: Path, packages: Sequence[str]) -> dict[str, Path]:
    """Files that make up a deployment package: archive path → file on disk.

    Only source and data files are packaged (no ``__pycache__``, no tests), in a stable order so the
    archive hash only changes when the code does.

    Raises
    ------
    FileNotFoundError
        When a package folder does not exist.
    """
    files: dict[str, Path] = {}
    for package in packages:
        root = handlers_dir / package
        if not root.is_dir():
            raise FileNotFoundError(f"handler package {package!r} not found in {handlers_dir}")
        for path in sorted(root.rglob("*")):
            if path.is_file() and path.suffix in _PACKAGED_SUFFIXES and "__pycache__" not in path.parts:
                files[path.relative_to(handlers_dir).as_posix()] = path
    return files


@dataclass
class AsyncInvokeArgs:
    """How Lambda retries an asynchronous invocation, and where it sends one that still fails."""

    on_failure_destination_arn: pulumi.Input[str]
    """ARN of the SQS queue, SNS topic, function or event bus that receives failed events."""
    destination_service: str = "sqs"
    """Service of that ARN (``sqs``, ``sns``, ``lambda``, ``events``): sets the role's send permission."""
    maximum_retry_attempts: int = 2
    """Retries after the first failure (0–2)."""
    maximum_event_age_seconds: int = 3600
    """Oldest event Lambda still tries (60–21600 seconds)."""


@dataclass
class FunctionArgs:
    """Inputs of :class:`Function`."""

    package: str
    """Handler package under ``handlers_dir``; the handler is ``<package>.app.lambda_handler``."""
    reserved_concurrency: int | None
    """Ceiling on concurrent executions (from stack config); ``None`` reserves nothing (the account's shared
    pool, which a new account needs), ``-1`` opts out explicitly and stays visible."""
    log_retention_days: int
    """Retention of the function's log group."""
    handlers_dir: Path = Path(__file__).resolve().parent.parent / "handlers"
    """Folder holding the handler packages and the shared library."""
    shared_packages: Sequence[str] = ("shared",)
    """Library packages packaged beside the handler package."""
    description: str = ""
    """What the function does (shown in the console)."""
    memory_mb: int = 256
    """Memory size; also scales the CPU share."""
    timeout_seconds: int = 10
    """Maximum run time of one invocation."""
    environment: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """Environment variables (configuration only: no secrets)."""
    policy_statements: Sequence[Mapping[str, Any]] = ()
    """IAM statements for the execution role: no ``*`` action, ``*`` resource only where AWS requires it."""
    runtime: str = DEFAULT_RUNTIME
    """Lambda runtime identifier."""
    architecture: str = DEFAULT_ARCHITECTURE
    """``arm64`` (cheaper per GB-second) or ``x86_64``."""
    tracing_mode: str = "Active"
    """X-Ray tracing mode; ``PassThrough`` opts out and stays visible."""
    log_level: str = "INFO"
    """Application log level (Powertools and Lambda's JSON log filter)."""
    layers: Sequence[pulumi.Input[str]] = ()
    """Extra layer ARNs (e.g. a :class:`components.layer.DependencyLayer`)."""
    powertools_layer_arn: pulumi.Input[str] | None = None
    """Layer providing Powertools and Pydantic, listed first: a :class:`components.layer.DependencyLayer`
    built from the handlers' pinned requirements (the tested versions) or a layer of your own."""
    async_invoke: AsyncInvokeArgs | None = None
    """Asynchronous invocation config; set it for functions triggered by events, S3, SNS or IoT."""
    function_name: str | None = None
    """Physical name; defaults to ``<project>-<stack>-<component name>`` within Lambda's limit
    (:func:`components.naming.function_name`)."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags of every taggable child (function, role, log group), on top of the provider's default tags."""


def with_overrides(args: FunctionArgs, owner: str, overrides: Mapping[str, Any]) -> FunctionArgs:
    """``args`` with some fields replaced (``dataclasses.replace``), refusing any key that is not a field.

    Raises
    ------
    ValueError
        Naming the owner, each unknown key and the valid fields.
    """
    known = {item.name for item in dataclasses.fields(FunctionArgs)}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise ValueError(
            f"function {owner!r}: {', '.join(unknown)} is not a FunctionArgs field (fields: {', '.join(sorted(known))})"
        )
    return dataclasses.replace(args, **overrides)


class Function(pulumi.ComponentResource):
    """A Lambda function with its own execution role, log group, tracing and failure path."""

    function: aws.lambda_.Function
    role: aws.iam.Role
    log_group: aws.cloudwatch.LogGroup
    arn: pulumi.Output[str]
    name: pulumi.Output[str]
    invoke_arn: pulumi.Output[str]
    role_arn: pulumi.Output[str]
    timeout_seconds: int
    event_invoke_config: aws.lambda_.FunctionEventInvokeConfig | None

    def __init__(self, name: str, args: FunctionArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("orderflow:lambda:Function", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.timeout_seconds = args.timeout_seconds
        if args.reserved_concurrency is not None and (args.reserved_concurrency < -1 or args.reserved_concurrency == 0):
            raise ValueError(f"{name}: reserved_concurrency must be >= 1 (or -1 to opt out)")

        statements = list(args.policy_statements)
        if args.async_invoke is not None:
            statements.append(
                destination_send_statement(
                    args.async_invoke.on_failure_destination_arn, args.async_invoke.destination_service
                )
            )
        validate_statements(statements, owner=name)

        physical_name = args.function_name or function_name(pulumi.get_project(), pulumi.get_stack(), name)
        tags = tags_input(args.tags)
        self.log_group = owned_log_group(
            f"{name}-logs", f"/aws/lambda/{physical_name}", args.log_retention_days, child, args.tags
        )

        self.role = aws.iam.Role(
            f"{name}-role",
            assume_role_policy=pulumi.Output.json_dumps(assume_role_policy("lambda.amazonaws.com")),
            description=f"Execution role of {physical_name}",
            tags=tags,
            opts=child,
        )
        # Logging and tracing are the function's own; the caller passes only what its code calls.
        runtime_statements: list[dict[str, Any]] = [
            {
                "Sid": "WriteOwnLogs",
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": self.log_group.arn.apply(lambda arn: f"{arn}:*"),
            },
            {
                "Sid": "WriteTraces",
                "Effect": "Allow",
                "Action": ["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
                "Resource": "*",
            },
        ]
        role_policy = aws.iam.RolePolicy(
            f"{name}-policy",
            role=self.role.id,
            policy=pulumi.Output.json_dumps(policy_document(runtime_statements + statements)),
            opts=child,
        )

        variables: dict[str, pulumi.Input[str]] = {
            "POWERTOOLS_SERVICE_NAME": args.package,
            "POWERTOOLS_METRICS_NAMESPACE": pulumi.get_project(),
            "POWERTOOLS_LOG_LEVEL": args.log_level,
            **args.environment,
        }
        files = package_files(args.handlers_dir, [args.package, *args.shared_packages])
        self.function = aws.lambda_.Function(
            f"{name}-function",
            name=physical_name,
            description=args.description,
            runtime=args.runtime,
            architectures=[args.architecture],
            handler=f"{args.package}.app.lambda_handler",
            code=pulumi.AssetArchive({path: pulumi.FileAsset(str(source)) for path, source in files.items()}),
            role=self.role.arn,
            memory_size=args.memory_mb,
            timeout=args.timeout_seconds,
            reserved_concurrent_executions=args.reserved_concurrency,
            tracing_config={"mode": args.tracing_mode},
            logging_config={
                "log_format": "JSON",
                "log_group": self.log_group.name,
                "application_log_level": args.log_level,
                "system_log_level": "WARN",
            },
            layers=[args.powertools_layer_arn, *args.layers] if args.powertools_layer_arn else list(args.layers),
            environment={"variables": variables},
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[role_policy, self.log_group]),
        )

        self.event_invoke_config = None
        if args.async_invoke is not None:
            self.event_invoke_config = aws.lambda_.FunctionEventInvokeConfig(
                f"{name}-async",
                function_name=self.function.name,
                maximum_retry_attempts=args.async_invoke.maximum_retry_attempts,
                maximum_event_age_in_seconds=args.async_invoke.maximum_event_age_seconds,
                destination_config={"on_failure": {"destination": args.async_invoke.on_failure_destination_arn}},
                opts=pulumi.ResourceOptions(parent=self, depends_on=[role_policy]),
            )

        self.arn = self.function.arn
        self.name = self.function.name
        self.invoke_arn = self.function.invoke_arn
        self.role_arn = self.role.arn
        self.register_outputs({"arn": self.arn, "name": self.name, "roleArn": self.role_arn})
