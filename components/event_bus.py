"""``EventBus``: a custom EventBridge bus with an archive, a bus policy, and routing that never drops events.

Every rule target gets a RetryPolicy (bounded attempts and event age) and a dead-letter queue whose
policy lets EventBridge deliver only on behalf of that rule; Lambda targets get a permission scoped to
the rule's ARN; Step Functions and cross-bus targets use one invoke role limited to exactly those
targets (forwarding limited to the sources and detail-types the rule matches). Detail-types a source
reserves are refused by the bus policy with any other source, whoever puts them, and a source with named
publishers is refused to any other principal, in the bus's own account too. Patterns are linted
once their values resolve (a pattern may hold Outputs, such as a bucket name known only once the account
is), so a typo in an operator fails the program, naming the rule, instead of silently matching everything
(or nothing).

Rules on the account's ``default`` bus can forward matching events (e.g. S3 object events) here.
Physical names are deterministic, so a queue can name the rule that may send to it before the rule
exists (see :func:`rule_arn`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import pulumi
import pulumi_aws as aws

from components.aws_context import AwsContext, aws_context, build_arn, in_account
from components.children import invoke_permission, tags_input
from components.event_patterns import lint_event_pattern
from components.naming import event_archive_name, event_bus_name, event_rule_name
from components.policies import assume_role_policy, policy_document
from components.queue import FOURTEEN_DAYS, Queue, QueueArgs, QueueSender

TARGET_KINDS = frozenset({"lambda", "sqs", "sfn", "bus", "sns"})
_NEEDS_ROLE = {"sfn": "states:StartExecution", "bus": "events:PutEvents"}


def rule_arn(region: str, account: str, bus_name: str, rule_name: str, partition: str = "aws") -> str:
    """ARN of a rule; rules on a custom bus carry the bus name in their ARN, rules on ``default`` do not."""
    path = rule_name if bus_name == "default" else f"{bus_name}/{rule_name}"
    return build_arn(partition, "events", region, account, f"rule/{path}")


def bus_policy(
    bus_arn: Any,
    account: str,
    put_from_accounts: Sequence[str],
    reserved_detail_types: Mapping[str, Sequence[str]] | None = None,
    partition: str = "aws",
    source_publishers: Mapping[str, Sequence[str]] | None = None,
) -> dict[str, Any]:
    """Bus resource policy: named accounts may put events; reserved detail-types and sources are guarded.

    No ``*`` principal is ever allowed. Each reserved detail-type is refused, whoever the caller is, unless
    it carries the source that owns it. Each source in ``source_publishers`` is refused to every principal
    but its publishers (``aws:PrincipalArn``, the role ARN of an assumed-role caller), so another role of
    the same account cannot forge our events.

    Parameters
    ----------
    bus_arn:
        The bus.
    account:
        The bus's own account.
    put_from_accounts:
        Other accounts that may put events.
    reserved_detail_types:
        Source → the detail-types only that source may carry on this bus.
    partition:
        The accounts' partition (``aws``, ``aws-cn``, ``aws-us-gov``…).
    source_publishers:
        Source → ARNs of the only principals (IAM roles) that may put events with that source.
    """
    accounts = sorted({account, *put_from_accounts})
    statements: list[dict[str, Any]] = [
        {
            "Sid": "AllowPutEventsFromAccounts",
            "Effect": "Allow",
            "Principal": {"AWS": [build_arn(partition, "iam", "", a, "root") for a in accounts]},
            "Action": "events:PutEvents",
            "Resource": bus_arn,
        }
    ]
    for index, (source, detail_types) in enumerate(sorted((reserved_detail_types or {}).items())):
        if not detail_types:
            raise ValueError(f"reserved_detail_types: source {source!r} reserves no detail-type")
        # EventBridge authorises each entry of a PutEvents call with its own source and detail-type.
        condition = {
            "StringEquals": {"events:detail-type": sorted(detail_types)},
            "StringNotEquals": {"events:source": source},
        }
        statements.append(_deny_put(f"DenyForeignSourceForReservedDetailTypes{index}", bus_arn, condition))
    for index, (source, publishers) in enumerate(sorted((source_publishers or {}).items())):
        if not publishers:
            raise ValueError(f"source_publishers: source {source!r} names no publisher")
        # aws:PrincipalArn is the caller's role (not its session), so a Lambda or state machine role matches.
        condition = {
            "StringEquals": {"events:source": source},
            "ArnNotEquals": {"aws:PrincipalArn": sorted(publishers)},
        }
        statements.append(_deny_put(f"DenySourceToOtherPrincipals{index}", bus_arn, condition))
    return policy_document(statements)


def _deny_put(sid: str, bus_arn: Any, condition: dict[str, Any]) -> dict[str, Any]:
    """A statement refusing PutEvents on the bus to anyone when ``condition`` holds."""
    return {
        "Sid": sid,
        "Effect": "Deny",
        "Principal": "*",
        "Action": "events:PutEvents",
        "Resource": bus_arn,
        "Condition": condition,
    }


def pattern_put_condition(pattern: Mapping[str, Any]) -> dict[str, Any] | None:
    """``events:PutEvents`` condition limited to the sources and detail-types a pattern matches exactly.

    Returns None when the pattern names neither as a list of plain strings (a prefix or ``anything-but``
    cannot be expressed as a ``StringEquals`` condition).
    """
    values = {}
    for field_name, key in (("source", "events:source"), ("detail-type", "events:detail-type")):
        matched = pattern.get(field_name)
        if isinstance(matched, list) and matched and all(isinstance(value, str) for value in matched):
            values[key] = sorted(set(matched))
    return {"StringEquals": values} if values else None


def linted_pattern(pattern: pulumi.Input[Mapping[str, Any]], rule: str) -> pulumi.Output[dict[str, Any]]:
    """The pattern with its Outputs resolved, once :func:`lint_event_pattern` has passed it.

    A bad pattern fails the program with the :class:`EventPatternError` naming ``rule``, when the pattern
    resolves (at once for plain values; at ``pulumi up`` for a value still unknown during a preview).
    """

    def linted(resolved: Mapping[str, Any]) -> dict[str, Any]:
        lint_event_pattern(resolved, rule)
        return dict(resolved)

    return pulumi.Output.from_input(pattern).apply(linted)


def needs_invoke_role(rules: Mapping[str, RuleArgs]) -> bool:
    """Whether any target needs the bus's invoke role (state machines, other buses)."""
    return any(target.kind in _NEEDS_ROLE for rule_args in rules.values() for target in rule_args.targets.values())


def invoke_role_statements(rules: Mapping[str, RuleArgs]) -> list[dict[str, Any]]:
    """What the bus's invoke role may do: start these state machines, forward what each rule matches.

    Buses targeted by a forwarding rule may receive only the sources and detail-types its pattern names
    (see :func:`pattern_put_condition`); nothing else is allowed. The patterns are the resolved ones
    (see :func:`linted_pattern`).
    """
    statements: list[dict[str, Any]] = []
    machines = [t.arn for r in rules.values() for t in r.targets.values() if t.kind == "sfn"]
    if machines:
        statements.append({"Sid": "InvokeSfn", "Effect": "Allow", "Action": _NEEDS_ROLE["sfn"], "Resource": machines})
    for rule, rule_args in rules.items():
        buses = [t.arn for t in rule_args.targets.values() if t.kind == "bus"]
        if not buses:
            continue
        statement: dict[str, Any] = {
            "Sid": "InvokeBus" + "".join(part.capitalize() for part in rule.split("-") if part.isalnum()),
            "Effect": "Allow",
            "Action": _NEEDS_ROLE["bus"],
            "Resource": buses,
        }
        if not isinstance(rule_args.event_pattern, Mapping):
            raise TypeError(f"rule {rule!r}: resolve its pattern first (see linted_pattern)")
        condition = pattern_put_condition(rule_args.event_pattern)
        if condition is not None:
            statement["Condition"] = condition
        statements.append(statement)
    return statements


@dataclass
class RuleTarget:
    """Where a rule delivers, and how hard it tries."""

    kind: str
    """``lambda``, ``sqs``, ``sfn`` (state machine), ``bus`` (another event bus) or ``sns``."""
    arn: pulumi.Input[str]
    """Target ARN."""
    input_transformer: Mapping[str, Any] | None = None
    """``{"input_paths": {...}, "input_template": "..."}``: reshape the event for the target."""
    maximum_retry_attempts: int = 8
    """Delivery retries before the event goes to the rule's DLQ (0–185)."""
    maximum_event_age_seconds: int = 3600
    """Oldest event EventBridge still retries (60–86400 seconds)."""


@dataclass
class RuleArgs:
    """A rule: an event pattern and its targets."""

    event_pattern: pulumi.Input[Mapping[str, Any]]
    """EventBridge event pattern; values may be Outputs (linted once they resolve)."""
    targets: Mapping[str, RuleTarget]
    """Targets by role name (used in child names and target ids)."""
    description: str = ""
    """What the rule routes, shown in the console."""


@dataclass
class EventBusArgs:
    """Inputs of :class:`EventBus`."""

    archive_retention_days: int
    """Days the archive keeps events for replay (bounded, so storage does not grow forever)."""
    rules: Mapping[str, RuleArgs] = field(default_factory=dict)
    """Rules on this bus, by role name."""
    forward_from_default: Mapping[str, pulumi.Input[Mapping[str, Any]]] = field(default_factory=dict)
    """Rules on the account's ``default`` bus forwarding matching events here: role name → pattern."""
    put_from_accounts: Sequence[str] = ()
    """Other accounts allowed to put events (the bus's own account always is)."""
    reserved_detail_types: Mapping[str, Sequence[str]] = field(default_factory=dict)
    """Source → detail-types only that source may put: the bus policy denies them with any other source,
    so a publisher allowed to put anything on the bus still cannot forge another's events."""
    source_publishers: Mapping[str, Sequence[pulumi.Input[str]]] = field(default_factory=dict)
    """Source → ARNs of the roles that alone may put events with it: the bus policy denies it to every other
    principal, in this account too, so a role allowed to put events cannot forge this source."""
    dead_letter_retention_seconds: int = FOURTEEN_DAYS
    """Retention of the rules' DLQs."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags of every taggable child (bus, rules, invoke role, DLQs), on top of the provider's default tags."""


class EventBus(pulumi.ComponentResource):
    """A custom event bus with archive, policy, rules, and a retry policy and DLQ on every target."""

    bus: aws.cloudwatch.EventBus
    archive: aws.cloudwatch.EventArchive
    invoke_role: aws.iam.Role | None
    rules: dict[str, aws.cloudwatch.EventRule]
    dead_letter_queues: dict[str, Queue]
    arn: pulumi.Output[str]
    name: pulumi.Output[str]
    physical_name: str
    _tags: Mapping[str, str]

    @staticmethod
    def planned_name(bus_component_name: str) -> str:
        """Physical name the bus named ``bus_component_name`` will have."""
        return event_bus_name(pulumi.get_project(), pulumi.get_stack(), bus_component_name)

    @staticmethod
    def planned_arn(bus_component_name: str) -> pulumi.Output[str]:
        """ARN the bus named ``bus_component_name`` will have, for roles created before it."""
        bus_name = EventBus.planned_name(bus_component_name)
        return in_account(lambda aws_: aws_.arn("events", f"event-bus/{bus_name}"))

    @staticmethod
    def planned_rule_arn(bus_component_name: str, rule: str) -> pulumi.Output[str]:
        """ARN the rule ``rule`` of the bus named ``bus_component_name`` will have, before either exists."""
        bus_name = EventBus.planned_name(bus_component_name)
        return in_account(
            lambda aws_: rule_arn(aws_.region, aws_.account, bus_name, event_rule_name(bus_name, rule), aws_.partition)
        )

    def __init__(self, name: str, args: EventBusArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("orderflow:events:EventBus", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        for rule, rule_args in args.rules.items():
            for role, target in rule_args.targets.items():
                if target.kind not in TARGET_KINDS:
                    raise ValueError(f"{name}: rule {rule!r} target {role!r} has unknown kind {target.kind!r}")

        self._tags = args.tags
        tags = tags_input(args.tags)
        self.physical_name = event_bus_name(pulumi.get_project(), pulumi.get_stack(), name)
        self.bus = aws.cloudwatch.EventBus(f"{name}-bus", name=self.physical_name, tags=tags, opts=child)
        self.archive = aws.cloudwatch.EventArchive(
            f"{name}-archive",
            name=event_archive_name(self.physical_name),
            event_source_arn=self.bus.arn,
            retention_days=args.archive_retention_days,
            description=f"Replayable copy of {self.physical_name}",
            opts=child,
        )
        context = aws_context(self)

        def policy_json(bus_arn: str, aws_: AwsContext, publishers: Mapping[str, Sequence[str]]) -> str:
            return json.dumps(
                bus_policy(
                    bus_arn,
                    aws_.account,
                    args.put_from_accounts,
                    args.reserved_detail_types,
                    aws_.partition,
                    publishers,
                )
            )

        publishers = pulumi.Output.all(
            **{source: pulumi.Output.all(*arns) for source, arns in args.source_publishers.items()}
        )
        aws.cloudwatch.EventBusPolicy(
            f"{name}-policy",
            event_bus_name=self.bus.name,
            policy=pulumi.Output.all(self.bus.arn, context, publishers).apply(lambda values: policy_json(*values)),
            opts=child,
        )

        forwarding = {
            rule: RuleArgs(
                event_pattern=pattern,
                targets={"bus": RuleTarget(kind="bus", arn=self.bus.arn)},
                description=f"Forward matching events from the default bus to {self.physical_name}",
            )
            for rule, pattern in args.forward_from_default.items()
        }
        routes = {**args.rules, **forwarding}
        # Each pattern is linted once; the rule and the invoke role's conditions read the linted value.
        patterns = {rule: linted_pattern(rule_args.event_pattern, rule) for rule, rule_args in routes.items()}

        def invoke_policy(resolved: dict[str, Any]) -> dict[str, Any]:
            linted = {rule: replace(rule_args, event_pattern=resolved[rule]) for rule, rule_args in routes.items()}
            return policy_document(invoke_role_statements(linted))

        self.invoke_role = None
        if needs_invoke_role(routes):
            self.invoke_role = aws.iam.Role(
                f"{name}-invoke-role",
                assume_role_policy=context.apply(
                    lambda aws_: json.dumps(assume_role_policy("events.amazonaws.com", source_account=aws_.account))
                ),
                description=f"Lets {self.physical_name}'s rules start workflows and forward events",
                tags=tags,
                opts=child,
            )
            aws.iam.RolePolicy(
                f"{name}-invoke-policy",
                role=self.invoke_role.id,
                policy=pulumi.Output.json_dumps(pulumi.Output.all(**patterns).apply(invoke_policy)),
                opts=child,
            )

        self.rules = {}
        self.dead_letter_queues = {}
        for rule, rule_args in args.rules.items():
            self._route(name, rule, rule_args, patterns[rule], self.bus.name, args.dead_letter_retention_seconds)
        for rule, rule_args in forwarding.items():
            self._route(name, rule, rule_args, patterns[rule], "default", args.dead_letter_retention_seconds)

        self.arn = self.bus.arn
        self.name = self.bus.name
        self.register_outputs({"arn": self.arn, "name": self.name})

    def _route(
        self,
        name: str,
        rule: str,
        args: RuleArgs,
        pattern: pulumi.Output[dict[str, Any]],
        bus_name: pulumi.Input[str],
        dead_letter_retention_seconds: int,
    ) -> None:
        """One rule with its linted ``pattern``, its DLQ, and each target with retry policy, DLQ and permission."""
        child = pulumi.ResourceOptions(parent=self)
        event_rule = aws.cloudwatch.EventRule(
            f"{name}-{rule}-rule",
            name=event_rule_name(self.physical_name, rule),
            event_bus_name=bus_name,
            event_pattern=pulumi.Output.json_dumps(pattern),
            description=args.description,
            tags=tags_input(self._tags),
            opts=child,
        )
        self.rules[rule] = event_rule
        dead_letter = Queue(
            f"{name}-{rule}-dlq",
            QueueArgs(
                dead_letter=None,
                message_retention_seconds=dead_letter_retention_seconds,
                senders=[QueueSender("events.amazonaws.com", event_rule.arn)],
                tags=self._tags,
            ),
            opts=child,
        )
        self.dead_letter_queues[rule] = dead_letter
        for role, target in args.targets.items():
            depends_on: list[pulumi.Resource] = [dead_letter]
            if target.kind == "lambda":
                depends_on.append(
                    invoke_permission(
                        f"{name}-{rule}-{role}-invoke", target.arn, "events.amazonaws.com", event_rule.arn, child
                    )
                )
            transformer = (
                aws.cloudwatch.EventTargetInputTransformerArgs(**target.input_transformer)
                if target.input_transformer
                else None
            )
            aws.cloudwatch.EventTarget(
                f"{name}-{rule}-{role}",
                rule=event_rule.name,
                event_bus_name=bus_name,
                target_id=role,
                arn=target.arn,
                role_arn=self.invoke_role.arn if target.kind in _NEEDS_ROLE and self.invoke_role else None,
                input_transformer=transformer,
                retry_policy=aws.cloudwatch.EventTargetRetryPolicyArgs(
                    maximum_retry_attempts=target.maximum_retry_attempts,
                    maximum_event_age_in_seconds=target.maximum_event_age_seconds,
                ),
                dead_letter_config=aws.cloudwatch.EventTargetDeadLetterConfigArgs(arn=dead_letter.arn),
                opts=pulumi.ResourceOptions(parent=self, depends_on=depends_on),
            )
