"""Amazon SQS: dead-letter queues that exist, work and are watched; visibility; encryption at rest.

:func:`dead_letter_links` finds every queue the stack uses as a dead-letter queue or failure destination
(queue redrive, SNS subscriptions, EventBridge targets, functions, event source mappings, IoT error
actions, and a workflow's Catch path), for the rules here and in other services.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Final

from pulumi_policy import EnforcementLevel, Severity

from policy_pack._core import (
    ABSENT,
    BadValueError,
    CannotEvaluateError,
    Finding,
    Node,
    Props,
    ResourceRule,
    StackRule,
    StackView,
    arn_of,
    depends_on,
    generic_identity,
    is_set,
    json_ref,
    lambda_identity,
    node_identities,
    read_str,
    ref,
)
from policy_pack.eventbridge import RULE as EVENT_RULE
from policy_pack.eventbridge import TARGET
from policy_pack.iam import restricting_conditions, statements
from policy_pack.iot import TOPIC_RULE
from policy_pack.lambda_ import (
    EVENT_INVOKE_CONFIG,
    EVENT_SOURCE_MAPPING,
    FUNCTION,
    LAMBDA_DEFAULT_TIMEOUT_SECONDS,
)
from policy_pack.logs import ALARM_METRICS_FOR_DLQ, METRIC_ALARM
from policy_pack.sns import SUBSCRIPTION
from policy_pack.stepfunctions import STATE_MACHINE, failure_queue_urls

QUEUE: Final = "aws:sqs/queue:Queue"
REDRIVE_POLICY: Final = "aws:sqs/redrivePolicy:RedrivePolicy"
QUEUE_POLICY: Final = "aws:sqs/queuePolicy:QueuePolicy"

SERVICE: Final = "sqs"

DEFAULT_VISIBILITY_TIMEOUT_SECONDS: Final = 30
DEFAULT_RETENTION_SECONDS: Final = 345_600


def _encrypted(props: Props, config: Mapping[str, Any], _: str) -> Iterator[str]:
    # SSE-SQS is on by default for new queues; only an explicit opt-out without a KMS key is unencrypted.
    if props.flag("sqsManagedSseEnabled", True) is False and not _kms_key_set(props):
        yield "sqsManagedSseEnabled is false and no kmsMasterKeyId is set: messages are stored unencrypted"


def _kms_key_set(props: Props) -> bool:
    if not props.is_set("kmsMasterKeyId"):
        return False
    try:
        return bool(str(props.get("kmsMasterKeyId")).strip())
    except CannotEvaluateError:
        return True


def _fix_encrypted(props: Props, config: Mapping[str, Any], _: str) -> Mapping[str, Any] | None:
    # Only when no key is given at all: SQS rejects SSE-SQS together with a KMS key (even an empty one).
    if props.flag("sqsManagedSseEnabled", True) is False and not props.is_set("kmsMasterKeyId"):
        return {"sqsManagedSseEnabled": True}
    return None


# ---- dead-letter queues -----------------------------------------------------------------------------------


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
        add(queue, "redrivePolicy", json_ref(stack, queue, "redrivePolicy", "deadLetterTargetArn", (QUEUE,)))
    for policy in stack.of_type(REDRIVE_POLICY):
        for source in ref(stack, policy, "queueUrl", (QUEUE,)) or [policy]:
            add(source, "redrivePolicy", json_ref(stack, policy, "redrivePolicy", "deadLetterTargetArn", (QUEUE,)))
    for subscription in stack.of_type(SUBSCRIPTION):
        targets = json_ref(stack, subscription, "redrivePolicy", "deadLetterTargetArn", (QUEUE,))
        add(subscription, "redrivePolicy", targets)
    for function in stack.of_type(FUNCTION):
        add(function, "deadLetterConfig.targetArn", ref(stack, function, "deadLetterConfig.targetArn", (QUEUE,)))
    for target in stack.of_type(TARGET):
        add(target, "deadLetterConfig.arn", ref(stack, target, "deadLetterConfig.arn", (QUEUE,)))
    for config in stack.of_type(EVENT_INVOKE_CONFIG):
        path = "destinationConfig.onFailure.destination"
        add(config, path, ref(stack, config, path, (QUEUE,)))
    for mapping in stack.of_type(EVENT_SOURCE_MAPPING):
        path = "destinationConfig.onFailure.destinationArn"
        add(mapping, path, ref(stack, mapping, path, (QUEUE,)))
    for rule in stack.of_type(TOPIC_RULE):
        add(rule, "errorAction.sqs.queueUrl", ref(stack, rule, "errorAction.sqs.queueUrl", (QUEUE,)))
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


# ---- rules --------------------------------------------------------------------------------------------


def redrive_problem(node: Node, prop: str = "redrivePolicy") -> str | None:
    """What is wrong with a redrive policy (``None`` when it works, is absent, or is unknown during preview)."""
    try:
        document = node.props.json(prop)
    except CannotEvaluateError:
        return None
    except BadValueError as error:
        return f"{error}: SQS cannot use it"
    if document is ABSENT:
        return None
    if not isinstance(document, Mapping) or not document.get("deadLetterTargetArn"):
        return f"{prop} has no deadLetterTargetArn: failing messages have nowhere to go"
    if document.get("maxReceiveCount") in (None, ""):
        return f"{prop} has no maxReceiveCount: SQS rejects a redrive policy without one"
    return None


def _redrive(stack: StackView, config: Mapping[str, Any]) -> Iterator[Finding]:
    links, undecided = _dead_letter_links(stack)
    dead_letter_queues = {link.dlq.urn for link in links}
    redriven = {link.source.urn for link in links if link.via == "redrivePolicy"}
    for policy in stack.of_type(REDRIVE_POLICY):
        problem = redrive_problem(policy)
        if problem:
            yield Finding(f"redrive policy {policy.name}: {problem}", policy.urn)
    for queue in stack.of_type(QUEUE):
        problem = redrive_problem(queue)
        if problem:
            yield Finding(f"queue {queue.name}: {problem}", queue.urn)
            continue
        if queue.urn in dead_letter_queues or queue.urn in redriven:
            continue
        if not is_set(queue, "redrivePolicy") and queue.urn in undecided:
            # A state machine whose definition is unknown uses it: it may be that workflow's failure queue.
            stack.cannot_evaluate(f"whether {queue.name} is a workflow's failure queue")
        elif not is_set(queue, "redrivePolicy"):
            yield Finding(
                f"queue {queue.name} has no redrive policy: a message that keeps failing is retried until it "
                "expires; add a dead-letter queue (queues that are themselves DLQs are exempt)",
                queue.urn,
            )


def _visibility(stack: StackView, config: Mapping[str, Any]) -> Iterator[Finding]:
    multiplier = config["multiplier"]
    for mapping in stack.of_type(EVENT_SOURCE_MAPPING):
        queues = ref(stack, mapping, "eventSourceArn", (QUEUE,))
        if not queues:
            if queues is None:
                stack.cannot_evaluate(f"event source of {mapping.name}")
            continue  # not a queue of this stack
        functions = ref(stack, mapping, "functionName", (FUNCTION,), lambda_identity)
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


# Services that write to a dead-letter queue themselves, and need the queue policy to admit them.
_WRITERS: Final[Mapping[str, tuple[str, str]]] = {
    TARGET: ("events.amazonaws.com", "rule"),
    SUBSCRIPTION: ("sns.amazonaws.com", "topic"),
}


def queue_policy_documents(stack: StackView, queue: Node) -> tuple[list[tuple[Node, Any]], list[str]]:
    """The policy documents that apply to ``queue`` (its inline ``policy`` and every ``QueuePolicy`` on it).

    Returns the documents and what could not be read (unknown during preview, or not JSON).
    """
    documents: list[tuple[Node, Any]] = []
    unread: list[str] = list(_queue_policies(stack).get("", []))
    holders = [(queue, "policy"), *((policy, "policy") for policy in _queue_policies(stack).get(queue.urn, []))]
    for holder, path in holders:
        try:
            document = holder.props.json(path)
        except CannotEvaluateError:
            unread.append(f"policy of {holder.name}")
            continue
        except BadValueError:
            unread.append(f"policy of {holder.name} (not JSON)")
            continue
        if document is not ABSENT:
            documents.append((holder, document))
    return documents, unread


def _queue_policies(stack: StackView) -> Mapping[str, list[Any]]:
    """Queue URN -> its ``QueuePolicy`` resources; key ``""`` lists the policies whose queue is unknown."""

    def build() -> dict[str, list[Any]]:
        index: dict[str, list[Any]] = {}
        for policy in stack.of_type(QUEUE_POLICY):
            targets = ref(stack, policy, "queueUrl", (QUEUE,))
            if targets is None:
                index.setdefault("", []).append(f"queue of {policy.name}")
            for target in targets or []:
                index.setdefault(target.urn, []).append(policy)
        return index

    return stack.memo("queue_policies", build)


def _source_arn(stack: StackView, source: Node, key: str) -> tuple[str | None, Node | None]:
    """The ARN of what a target (its rule) or subscription (its topic) belongs to, and that resource if in the stack."""
    if key == "rule":
        rules = ref(stack, source, "rule", (EVENT_RULE,))
        node = rules[0] if rules else None
        return (arn_of(node) if node is not None else None), node
    value = read_str(source, "topic")
    topics = ref(stack, source, "topic", ("aws:sns/topic:Topic",))
    node = topics[0] if topics else None
    return value if value and value.startswith("arn:") else (arn_of(node) if node else None), node


def _admission(
    documents: list[tuple[Node, Any]], queue: Node, service: str, source_arn: str | None, source: Node | None
) -> tuple[bool, bool, bool]:
    """``(admitted, scoped, certain)``: whether a statement lets ``service`` send to the queue, scoped to the source."""
    admitted = scoped = False
    certain = True
    queue_arn = arn_of(queue)
    for holder, document in documents:
        for statement in statements(document):
            if statement.effect != "Allow" or not statement.grants("sqs:SendMessage"):
                continue
            principal = statement.principal
            services: list[Any] = []
            if isinstance(principal, Mapping):
                value = principal.get("Service")
                services = value if isinstance(value, list) else [value]
            if (
                service not in services
                and principal != "*"
                and not (isinstance(principal, Mapping) and principal.get("AWS") == "*")
            ):
                continue
            if not _names_queue(statement.resources, queue_arn) and not depends_on(holder, "policy", queue):
                continue
            keys = restricting_conditions(statement.condition)
            if not keys:
                if service in services:
                    admitted = True
                continue
            match = _condition_names_source(statement.condition, source_arn)
            if match is None and source is not None and depends_on(holder, "policy", source):
                match = True
            if match is None:
                certain = False
            elif match:
                admitted = scoped = True
    return admitted, scoped, certain


def _names_queue(resources: tuple[str, ...], queue_arn: str | None) -> bool:
    """Whether a statement's ``Resource`` covers the queue (unknown ARNs and no ``Resource`` count as covering)."""
    if queue_arn is None or not resources or "*" in resources:
        return True
    return any(fnmatch.fnmatchcase(queue_arn, pattern) for pattern in resources)


def _condition_names_source(condition: Mapping[str, Any], source_arn: str | None) -> bool | None:
    """Whether an aws:SourceArn / aws:SourceAccount condition admits ``source_arn`` (``None``: unknown)."""
    for entries in condition.values():
        if not isinstance(entries, Mapping):
            continue
        for key, values in entries.items():
            texts = [str(v) for v in (values if isinstance(values, list) else [values])]
            if str(key).lower() == "aws:sourcearn":
                if source_arn is None:
                    return None
                return any(text == source_arn or _like(text, source_arn) for text in texts)
            if str(key).lower() == "aws:sourceaccount":
                if source_arn is None:
                    return None
                return source_arn.split(":")[4] in texts
    return None


def _like(pattern: str, value: str) -> bool:
    return fnmatch.fnmatchcase(value, pattern)


def _dlq_admits_writer(stack: StackView, config: Mapping[str, Any]) -> Iterator[Finding]:
    for link in dead_letter_links(stack):
        writer = _WRITERS.get(link.source.type)
        if writer is None:
            continue
        service, key = writer
        documents, unread = queue_policy_documents(stack, link.dlq)
        source_arn, source = _source_arn(stack, link.source, key)
        admitted, scoped, certain = _admission(documents, link.dlq, service, source_arn, source)
        what = "EventBridge" if service.startswith("events") else "SNS"
        if admitted and scoped:
            continue
        if unread or not certain:
            stack.cannot_evaluate(f"whether the policy of {link.dlq.name} admits {service}")
            continue
        if not admitted:
            yield Finding(
                f"dead-letter queue {link.dlq.name} of {link.source.name} has no queue policy that lets {service} "
                f"sqs:SendMessage: {what} cannot deliver a single failed message there; add a QueuePolicy allowing "
                f"{service} with an aws:SourceArn condition on the {key}",
                link.dlq.urn,
            )
        elif config["requireSourceCondition"]:
            yield Finding(
                f"dead-letter queue {link.dlq.name} admits {service} without an aws:SourceArn or aws:SourceAccount "
                f"condition: any account's {key} could write to it; scope it to the {key} of {link.source.name}",
                link.dlq.urn,
            )


RULES: Final = [
    ResourceRule(
        name="sqs-encryption-at-rest",
        summary="SQS queues encrypt messages at rest (SSE-SQS, free, or a KMS key)",
        anchors=("cdk-nag AwsSolutions-SQS2", "checkov CKV_AWS_27", "Pulumi NIST sqs-encryption"),
        severity=Severity.MEDIUM,
        enforcement_level=EnforcementLevel.REMEDIATE,
        service=SERVICE,
        resource_types=(QUEUE,),
        check=_encrypted,
        fix=_fix_encrypted,
    ),
    StackRule(
        name="sqs-redrive-policy",
        summary=(
            "SQS queues redrive failing messages to a dead-letter queue with a valid redrive policy (queues that are "
            "DLQs or failure destinations, including a workflow's Catch-path queue, are exempt)"
        ),
        anchors=(
            "serverless-rules ES6000 / aws_sqs_queue_redrive_policy",
            "cdk-nag Serverless-SQSRedrivePolicy",
            "cdk-nag AwsSolutions-SQS3",
            "Pulumi BP sqs-dead-letter-queue",
        ),
        severity=Severity.HIGH,
        enforcement_level=EnforcementLevel.MANDATORY,
        service=SERVICE,
        resource_types=(QUEUE, REDRIVE_POLICY),
        check=_redrive,
    ),
    StackRule(
        name="sqs-visibility-timeout",
        summary="SQS queues consumed by Lambda have a visibility timeout of at least 6 x the function timeout",
        anchors=("cdk-nag LambdaEventSourceSQSVisibilityTimeout (additional rules)",),
        severity=Severity.HIGH,
        enforcement_level=EnforcementLevel.MANDATORY,
        service=SERVICE,
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
        service=SERVICE,
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
        service=SERVICE,
        resource_types=(QUEUE, METRIC_ALARM),
        check=_dlq_alarmed,
        config={"requireAlarms": {"type": "boolean", "default": False}},
    ),
    StackRule(
        name="sqs-dlq-admits-writer",
        summary=(
            "Dead-letter queues of EventBridge targets and SNS subscriptions have a queue policy that lets that "
            "service send, scoped to the rule or topic with aws:SourceArn"
        ),
        anchors=(),
        severity=Severity.HIGH,
        enforcement_level=EnforcementLevel.MANDATORY,
        service=SERVICE,
        resource_types=(QUEUE, QUEUE_POLICY, TARGET, SUBSCRIPTION),
        check=_dlq_admits_writer,
        config={"requireSourceCondition": {"type": "boolean", "default": True}},
    ),
]
