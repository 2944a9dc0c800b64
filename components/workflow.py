"""``Workflow``: a Step Functions state machine whose role allows exactly what its definition calls.

The definition is built in Python by a pure function of plain strings (function ARNs, table names…);
the component calls it once with placeholders to validate the state graph while the program runs
(so a dangling ``Next`` fails the preview, not the first execution), then again with the real
resolved values. Logging goes to the workflow's own log group with retention, X-Ray tracing is on,
and the role's statements are derived from the Task states themselves.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.asl import derive_policy_statements, validate_definition
from components.policies import assume_role_policy, policy_document

WORKFLOW_TYPES = frozenset({"STANDARD", "EXPRESS"})
LOG_LEVELS = frozenset({"ALL", "ERROR", "FATAL", "OFF"})
# Step Functions delivers logs through CloudWatch Logs' vended-log API, which has no resource-level
# permissions; X-Ray likewise (Service Authorization Reference).
_LOG_DELIVERY_ACTIONS = [
    "logs:CreateLogDelivery",
    "logs:GetLogDelivery",
    "logs:UpdateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:ListLogDeliveries",
    "logs:PutResourcePolicy",
    "logs:DescribeResourcePolicies",
    "logs:DescribeLogGroups",
]
_TRACING_ACTIONS = [
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
    "xray:GetSamplingRules",
    "xray:GetSamplingTargets",
]

DefinitionBuilder = Callable[..., dict[str, Any]]


def placeholder_inputs(names: Mapping[str, Any]) -> dict[str, str]:
    """Stand-in values for a definition's inputs, good enough to validate its state graph."""
    return {key: f"placeholder-{key}" for key in names}


def role_statements(definition: dict[str, Any], region: str, account: str) -> list[dict[str, Any]]:
    """Every statement the workflow role needs: what the definition calls, logging and tracing."""
    return [
        *derive_policy_statements(definition, region=region, account=account),
        {"Sid": "DeliverLogs", "Effect": "Allow", "Action": _LOG_DELIVERY_ACTIONS, "Resource": "*"},
        {"Sid": "WriteTraces", "Effect": "Allow", "Action": _TRACING_ACTIONS, "Resource": "*"},
    ]


@dataclass
class WorkflowArgs:
    """Inputs of :class:`Workflow`."""

    definition: DefinitionBuilder
    """Pure function returning the ASL document, called with ``definition_inputs`` as keyword arguments."""
    definition_inputs: Mapping[str, pulumi.Input[str]]
    """Values the definition interpolates (ARNs, names), usually other resources' outputs."""
    log_retention_days: int
    """Retention of the workflow's log group."""
    workflow_type: str = "STANDARD"
    """``STANDARD`` (exactly-once, long-running) or ``EXPRESS`` (at-least-once, up to 5 minutes)."""
    log_level: str = "ERROR"
    """Execution log level (``ALL`` logs every state transition, billed per GB ingested)."""
    include_execution_data: bool = True
    """Log inputs and outputs (EXPRESS history exists only in these logs)."""
    tracing: bool = True
    """X-Ray tracing; ``False`` opts out and stays visible."""


class Workflow(pulumi.ComponentResource):
    """A validated Step Functions state machine with logging, tracing and a least-privilege role."""

    state_machine: aws.sfn.StateMachine
    role: aws.iam.Role
    log_group: aws.cloudwatch.LogGroup
    arn: pulumi.Output[str]
    name: pulumi.Output[str]
    physical_name: str

    def __init__(self, name: str, args: WorkflowArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("orderflow:workflows:Workflow", name, None, opts)
        if args.workflow_type not in WORKFLOW_TYPES:
            raise ValueError(f"{name}: workflow_type must be STANDARD or EXPRESS, got {args.workflow_type!r}")
        if args.log_level not in LOG_LEVELS:
            raise ValueError(f"{name}: log_level must be one of {sorted(LOG_LEVELS)}, got {args.log_level!r}")
        # Fails the program (and so the preview) on a broken state graph, before anything is created.
        validate_definition(args.definition(**placeholder_inputs(args.definition_inputs)))

        child = pulumi.ResourceOptions(parent=self)
        self.physical_name = f"{pulumi.get_project()}-{pulumi.get_stack()}-{name}"[:80]
        self.log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs",
            # The vendedlogs prefix keeps Step Functions under CloudWatch Logs' resource-policy size limit.
            name=f"/aws/vendedlogs/states/{self.physical_name}",
            retention_in_days=args.log_retention_days,
            opts=child,
        )
        identity = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=self))
        region = aws.get_region_output(opts=pulumi.InvokeOutputOptions(parent=self))
        self.role = aws.iam.Role(
            f"{name}-role",
            assume_role_policy=identity.account_id.apply(
                lambda account: json.dumps(assume_role_policy("states.amazonaws.com", source_account=account))
            ),
            description=f"Execution role of the {self.physical_name} state machine",
            opts=child,
        )
        resolved = pulumi.Output.all(**args.definition_inputs)
        definition = resolved.apply(lambda values: args.definition(**values))
        role_policy = aws.iam.RolePolicy(
            f"{name}-policy",
            role=self.role.id,
            policy=pulumi.Output.all(definition, region.region, identity.account_id).apply(
                lambda values: json.dumps(policy_document(role_statements(values[0], values[1], values[2])))
            ),
            opts=child,
        )
        self.state_machine = aws.sfn.StateMachine(
            f"{name}-state-machine",
            name=self.physical_name,
            type=args.workflow_type,
            role_arn=self.role.arn,
            definition=definition.apply(lambda document: json.dumps(document, indent=2)),
            logging_configuration={
                "level": args.log_level,
                "include_execution_data": args.include_execution_data,
                "log_destination": self.log_group.arn.apply(lambda arn: f"{arn}:*"),
            },
            tracing_configuration={"enabled": args.tracing},
            opts=pulumi.ResourceOptions(parent=self, depends_on=[role_policy]),
        )
        self.arn = self.state_machine.arn
        self.name = self.state_machine.name
        self.register_outputs({"arn": self.arn, "name": self.name})
