"""``Workflow``: a Step Functions state machine whose role allows exactly what its definition calls.

The definition is built in Python by a pure function of plain strings (function ARNs, table names…)
and the partition its service integrations' ARNs are in; the component calls it once with placeholders
to validate the state graph while the program runs (so a dangling ``Next`` fails the preview, not the
first execution), then again with the real resolved values and the deployment's partition. Logging
goes to the workflow's own log group with retention, X-Ray tracing is on, and the role's statements are
derived from the Task states themselves.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import pulumi
import pulumi_aws as aws

from components.asl import derive_policy_statements, validate_definition
from components.aws_context import AwsContext, aws_context
from components.children import owned_log_group, tags_input
from components.naming import state_machine_name
from components.policies import LOG_DELIVERY_ACTIONS, TRACING_ACTIONS, assume_role_policy, policy_document

WORKFLOW_TYPES = frozenset({"STANDARD", "EXPRESS"})
LOG_LEVELS: Final = ("ALL", "ERROR", "FATAL", "OFF")
"""Execution log levels Step Functions accepts."""

DefinitionBuilder = Callable[..., dict[str, Any]]


def placeholder_inputs(names: Mapping[str, Any]) -> dict[str, str]:
    """Stand-in values for a definition's inputs, good enough to validate its state graph."""
    return {key: f"placeholder-{key}" for key in names}


def role_statements(
    definition: dict[str, Any], region: str, account: str, partition: str = "aws"
) -> list[dict[str, Any]]:
    """Every statement the workflow role needs: what the definition calls, logging and tracing."""
    return [
        *derive_policy_statements(definition, region=region, account=account, partition=partition),
        {"Sid": "DeliverLogs", "Effect": "Allow", "Action": list(LOG_DELIVERY_ACTIONS), "Resource": "*"},
        {"Sid": "WriteTraces", "Effect": "Allow", "Action": list(TRACING_ACTIONS), "Resource": "*"},
    ]


@dataclass
class WorkflowArgs:
    """Inputs of :class:`Workflow`."""

    definition: DefinitionBuilder
    """Pure function returning the ASL document, called with ``definition_inputs`` as keyword arguments plus
    ``partition`` (``aws``, ``aws-cn``…), for its Task resources (``arn:<partition>:states:::lambda:invoke``)."""
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
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags of every taggable child (state machine, role, log group), on top of the provider's default tags."""


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
        validate_definition(args.definition(**placeholder_inputs(args.definition_inputs), partition="aws"))

        child = pulumi.ResourceOptions(parent=self)
        tags = tags_input(args.tags)
        self.physical_name = state_machine_name(pulumi.get_project(), pulumi.get_stack(), name)
        # The vendedlogs prefix keeps Step Functions under CloudWatch Logs' resource-policy size limit.
        self.log_group = owned_log_group(
            f"{name}-logs", f"/aws/vendedlogs/states/{self.physical_name}", args.log_retention_days, child, args.tags
        )
        context = aws_context(self)
        self.role = aws.iam.Role(
            f"{name}-role",
            assume_role_policy=context.apply(
                lambda aws_: json.dumps(assume_role_policy("states.amazonaws.com", source_account=aws_.account))
            ),
            description=f"Execution role of the {self.physical_name} state machine",
            tags=tags,
            opts=child,
        )
        resolved = pulumi.Output.all(**args.definition_inputs)
        definition = pulumi.Output.all(resolved, context).apply(
            lambda values: args.definition(**values[0], partition=values[1].partition)
        )

        def role_policy_document(document: dict[str, Any], aws_: AwsContext) -> str:
            return json.dumps(policy_document(role_statements(document, aws_.region, aws_.account, aws_.partition)))

        role_policy = aws.iam.RolePolicy(
            f"{name}-policy",
            role=self.role.id,
            policy=pulumi.Output.all(definition, context).apply(lambda values: role_policy_document(*values)),
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
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[role_policy]),
        )
        self.arn = self.state_machine.arn
        self.name = self.state_machine.name
        self.register_outputs({"arn": self.arn, "name": self.name})
