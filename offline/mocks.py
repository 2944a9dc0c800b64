"""Engine and provider stand-ins for running the program in-process.

``AwsMocks`` answers like the AWS provider would after a create: a physical id, the auto-name when the
program gave none, and the ARN/URL shapes AWS really uses, so recorded ASL, IAM documents and event
targets can be executed or checked unchanged. Invokes we do not know raise, so a new data source in the
program cannot silently come back empty.
"""

from __future__ import annotations

import base64
import hashlib
import json
import keyword
import re
import sys
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pulumi
from pulumi import _types
from pulumi.output import Unknown

ACCOUNT_ID = "123456789012"


class UnknownInvokeError(Exception):
    """The program called a data source (invoke) the offline engine does not answer."""


def _suffix(seed: str, length: int = 7) -> str:
    """Deterministic stand-in for Pulumi's random auto-name suffix."""
    return hashlib.sha256(seed.encode()).hexdigest()[:length]


# type token -> (input key holding the physical name, ARN template). ``{name}`` is the physical name.
_NAMED: dict[str, tuple[str, str]] = {
    "aws:lambda/function:Function": ("name", "arn:aws:lambda:{region}:{account}:function:{name}"),
    "aws:lambda/layerVersion:LayerVersion": ("layerName", "arn:aws:lambda:{region}:{account}:layer:{name}:1"),
    "aws:iam/role:Role": ("name", "arn:aws:iam::{account}:role/{name}"),
    "aws:iam/policy:Policy": ("name", "arn:aws:iam::{account}:policy/{name}"),
    "aws:cloudwatch/logGroup:LogGroup": ("name", "arn:aws:logs:{region}:{account}:log-group:{name}"),
    "aws:sqs/queue:Queue": ("name", "arn:aws:sqs:{region}:{account}:{name}"),
    "aws:sns/topic:Topic": ("name", "arn:aws:sns:{region}:{account}:{name}"),
    "aws:dynamodb/table:Table": ("name", "arn:aws:dynamodb:{region}:{account}:table/{name}"),
    "aws:s3/bucket:Bucket": ("bucket", "arn:aws:s3:::{name}"),
    "aws:cloudwatch/eventBus:EventBus": ("name", "arn:aws:events:{region}:{account}:event-bus/{name}"),
    "aws:cloudwatch/eventArchive:EventArchive": ("name", "arn:aws:events:{region}:{account}:archive/{name}"),
    "aws:sfn/stateMachine:StateMachine": ("name", "arn:aws:states:{region}:{account}:stateMachine:{name}"),
    "aws:apigatewayv2/api:Api": ("name", ""),
    "aws:cognito/userPool:UserPool": ("name", ""),
    "aws:cognito/userPoolClient:UserPoolClient": ("name", ""),
    "aws:iot/authorizer:Authorizer": ("name", "arn:aws:iot:{region}:{account}:authorizer/{name}"),
    "aws:iot/topicRule:TopicRule": ("name", "arn:aws:iot:{region}:{account}:rule/{name}"),
    "aws:iot/policy:Policy": ("name", "arn:aws:iot:{region}:{account}:policy/{name}"),
    "aws:cloudwatch/metricAlarm:MetricAlarm": ("name", "arn:aws:cloudwatch:{region}:{account}:alarm:{name}"),
    "aws:cloudfront/function:Function": ("name", "arn:aws:cloudfront::{account}:function/{name}"),
}


class AwsMocks(pulumi.runtime.Mocks):
    """Provider answers for the AWS resource types and invokes the program uses.

    Parameters
    ----------
    region:
        The stack's ``aws:region``; every ARN and endpoint is built in it.
    stack:
        The stack's name. Pulumi's auto-name suffixes are random per stack, so it seeds the stand-ins:
        dev's and prod's physical names differ, as they do in AWS, instead of looking shared.
    """

    def __init__(self, region: str, stack: str = "") -> None:
        self.region = region
        self.stack = stack
        # Two components may give children the same logical name (their URNs differ by parent type);
        # the engine's random suffixes differ too, so count repeats to keep physical names distinct.
        self._seen: dict[str, int] = {}
        # ECS numbers the task definitions registered in one family 1, 2, ...
        self._task_revisions: dict[str, int] = {}
        self._invokes: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
            "aws:index/getRegion:getRegion": self._get_region,
            "aws:index/getCallerIdentity:getCallerIdentity": self._get_caller_identity,
            "aws:index/getPartition:getPartition": self._get_partition,
            "aws:iot/getEndpoint:getEndpoint": self._get_iot_endpoint,
        }

    # ---- invokes -------------------------------------------------------------------------------

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict[str, Any]:  # type: ignore[override]
        """Answer a known invoke; raise on any other token."""
        handler = self._invokes.get(args.token)
        if handler is None:
            raise UnknownInvokeError(
                f"offline engine has no answer for invoke {args.token!r}; add it to offline/mocks.py"
            )
        return handler(args.args)

    def _get_region(self, _: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": self.region,
            "name": self.region,
            "region": self.region,
            "description": self.region,
            "endpoint": f"ec2.{self.region}.amazonaws.com",
        }

    def _get_caller_identity(self, _: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": ACCOUNT_ID,
            "accountId": ACCOUNT_ID,
            "arn": f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/deployer/session",
            "userId": "AROAEXAMPLE:session",
        }

    def _get_partition(self, _: dict[str, Any]) -> dict[str, Any]:
        return {"id": "aws", "partition": "aws", "dnsSuffix": "amazonaws.com", "reverseDnsPrefix": "com.amazonaws"}

    def _get_iot_endpoint(self, args: dict[str, Any]) -> dict[str, Any]:
        endpoint_type = args.get("endpointType", "iot:Data-ATS")
        prefix = "a1b2c3d4e5f6g7"
        address = {
            "iot:Data-ATS": f"{prefix}-ats.iot.{self.region}.amazonaws.com",
            "iot:Data": f"{prefix}.iot.{self.region}.amazonaws.com",
            "iot:CredentialProvider": f"{prefix}.credentials.iot.{self.region}.amazonaws.com",
            "iot:Jobs": f"{prefix}.jobs.iot.{self.region}.amazonaws.com",
        }[endpoint_type]
        return {"id": address, "endpointAddress": address, "endpointType": endpoint_type}

    # ---- resources -----------------------------------------------------------------------------

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        """Physical id and state after a create: inputs plus auto-name, ARN and computed outputs."""
        inputs = dict(args.inputs)
        seed = f"{self.stack}::{args.typ}::{args.name}" if self.stack else f"{args.typ}::{args.name}"
        repeat = self._seen.get(seed, 0)
        self._seen[seed] = repeat + 1
        if repeat:
            seed = f"{seed}#{repeat}"
        fmt = {"region": self.region, "account": ACCOUNT_ID}
        state: dict[str, Any] = dict(inputs)
        resource_id = f"{args.name}-{_suffix(seed)}"

        named = _NAMED.get(args.typ)
        if named is not None:
            name_key, arn_template = named
            physical = inputs.get(name_key) or f"{args.name}-{_suffix(seed)}"
            if args.typ == "aws:sqs/queue:Queue" and inputs.get("fifoQueue") and not physical.endswith(".fifo"):
                physical += ".fifo"
            state[name_key] = physical
            resource_id = physical
            if arn_template:
                state["arn"] = arn_template.format(name=physical, **fmt)

        extra = _COMPUTED.get(args.typ)
        if extra is not None:
            resource_id, more = extra(self, args.name, seed, state)
            state.update(more)
        state.setdefault("id", resource_id)
        return resource_id, state


def _lambda_function(mocks: AwsMocks, _: str, __: str, state: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    arn = state["arn"]
    return state["name"], {
        "invokeArn": f"arn:aws:apigateway:{mocks.region}:lambda:path/2015-03-31/functions/{arn}/invocations",
        "qualifiedArn": f"{arn}:$LATEST",
        "version": "$LATEST",
    }


def _layer_version(_: AwsMocks, __: str, ___: str, state: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    return state["arn"], {"layerArn": state["arn"].rsplit(":", 1)[0], "version": "1"}


def _queue(mocks: AwsMocks, _: str, __: str, state: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    url = f"https://sqs.{mocks.region}.amazonaws.com/{ACCOUNT_ID}/{state['name']}"
    return url, {"url": url}


def _arn_id(_: AwsMocks, __: str, ___: str, state: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    return state["arn"], {}


def _topic_subscription(mocks: AwsMocks, _: str, seed: str, state: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    arn = f"{state.get('topic', 'arn:aws:sns:' + mocks.region + ':' + ACCOUNT_ID + ':topic')}:{_suffix(seed, 32)}"
    return arn, {"arn": arn}


def _table(mocks: AwsMocks, _: str, __: str, state: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    more: dict[str, Any] = {}
    if state.get("streamEnabled"):
        more["streamArn"] = f"{state['arn']}/stream/2026-01-01T00:00:00.000"
        more["streamLabel"] = "2026-01-01T00:00:00.000"
    return state["name"], more


def _bucket(mocks: AwsMocks, _: str, __: str, state: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    name = state["bucket"]
    return name, {
        "bucketDomainName": f"{name}.s3.amazonaws.com",
        "bucketRegionalDomainName": f"{name}.s3.{mocks.region}.amazonaws.com",
        "region": mocks.region,
    }


def _event_rule(mocks: AwsMocks, name: str, seed: str, state: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    physical = state.get("name") or f"{name}-{_suffix(seed)}"
    bus = state.get("eventBusName") or "default"
    if bus.startswith("arn:"):
        bus = bus.rsplit("/", 1)[-1]
    prefix = "" if bus == "default" else f"{bus}/"
    arn = f"arn:aws:events:{mocks.region}:{ACCOUNT_ID}:rule/{prefix}{physical}"
    return f"{bus}|{physical}", {"name": physical, "arn": arn}


def _state_machine(_: AwsMocks, __: str, ___: str, state: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    return state["arn"], {"status": "ACTIVE", "revisionId": "1"}


def _http_api(mocks: AwsMocks, _: str, seed: str, state: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    api_id = _suffix(seed, 10)
    return api_id, {
        "apiEndpoint": f"https://{api_id}.execute-api.{mocks.region}.amazonaws.com",
        "executionArn": f"arn:aws:execute-api:{mocks.region}:{ACCOUNT_ID}:{api_id}",
        "arn": f"arn:aws:apigateway:{mocks.region}::/apis/{api_id}",
    }


def _rest_api(mocks: AwsMocks, _: str, seed: str, state: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    api_id = _suffix(seed, 10)
    return api_id, {
        "executionArn": f"arn:aws:execute-api:{mocks.region}:{ACCOUNT_ID}:{api_id}",
        "arn": f"arn:aws:apigateway:{mocks.region}::/restapis/{api_id}",
        "rootResourceId": _suffix(seed[::-1], 10),
    }


def _http_stage(mocks: AwsMocks, _: str, __: str, state: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    api_id = state.get("apiId", "api")
    stage = state.get("name", "$default")
    path = "" if stage == "$default" else stage
    return stage, {
        "invokeUrl": f"https://{api_id}.execute-api.{mocks.region}.amazonaws.com/{path}",
        "executionArn": f"arn:aws:execute-api:{mocks.region}:{ACCOUNT_ID}:{api_id}/{stage}",
        "arn": f"arn:aws:apigateway:{mocks.region}::/apis/{api_id}/stages/{stage}",
    }


def _user_pool(mocks: AwsMocks, _: str, seed: str, state: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    pool_id = f"{mocks.region}_{_suffix(seed, 9).upper()}"
    return pool_id, {
        "arn": f"arn:aws:cognito-idp:{mocks.region}:{ACCOUNT_ID}:userpool/{pool_id}",
        "endpoint": f"cognito-idp.{mocks.region}.amazonaws.com/{pool_id}",
    }


def _user_pool_client(_: AwsMocks, __: str, seed: str, state: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    return _suffix(seed, 26), {}


def _short_id(_: AwsMocks, __: str, seed: str, state: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    return _suffix(seed, 7), {}


def _distribution(_: AwsMocks, __: str, seed: str, state: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    distribution_id = f"E{_suffix(seed, 13).upper()}"
    return distribution_id, {
        "arn": f"arn:aws:cloudfront::{ACCOUNT_ID}:distribution/{distribution_id}",
        "domainName": f"d{_suffix(seed, 13)}.cloudfront.net",
        # CloudFront's one hosted zone, for alias records.
        "hostedZoneId": "Z2FDTNDATAQYW2",
        "status": "Deployed",
    }


def _task_definition(mocks: AwsMocks, name: str, seed: str, state: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The revision ECS registers in the task's family, and the ARN naming both (unknown with the family)."""
    family = state.get("family")
    if not isinstance(family, str) or family == pulumi.runtime.rpc.UNKNOWN:
        return f"{name}-{_suffix(seed)}", {}
    revision = mocks._task_revisions.get(family, 0) + 1
    mocks._task_revisions[family] = revision
    base = f"arn:aws:ecs:{mocks.region}:{ACCOUNT_ID}:task-definition/{family}"
    return family, {"arn": f"{base}:{revision}", "arnWithoutRevision": base, "revision": revision}


_COMPUTED: dict[str, Callable[[AwsMocks, str, str, dict[str, Any]], tuple[str, dict[str, Any]]]] = {
    "aws:lambda/function:Function": _lambda_function,
    "aws:lambda/layerVersion:LayerVersion": _layer_version,
    "aws:sqs/queue:Queue": _queue,
    "aws:sns/topic:Topic": _arn_id,
    "aws:sns/topicSubscription:TopicSubscription": _topic_subscription,
    "aws:dynamodb/table:Table": _table,
    "aws:s3/bucket:Bucket": _bucket,
    "aws:cloudwatch/eventRule:EventRule": _event_rule,
    "aws:sfn/stateMachine:StateMachine": _state_machine,
    "aws:apigatewayv2/api:Api": _http_api,
    "aws:apigateway/restApi:RestApi": _rest_api,
    "aws:apigatewayv2/stage:Stage": _http_stage,
    "aws:apigatewayv2/integration:Integration": _short_id,
    "aws:apigatewayv2/route:Route": _short_id,
    "aws:apigatewayv2/authorizer:Authorizer": _short_id,
    "aws:cognito/userPool:UserPool": _user_pool,
    "aws:cognito/userPoolClient:UserPoolClient": _user_pool_client,
    "aws:cloudfront/distribution:Distribution": _distribution,
    "aws:cloudfront/originAccessControl:OriginAccessControl": _short_id,
    "aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy": _short_id,
    "aws:ecs/taskDefinition:TaskDefinition": _task_definition,
}


# ---- any program: the data sources public programs use, and unknown for what is not modelled ---------------


def policy_document(args: dict[str, Any]) -> dict[str, Any]:
    """``aws.iam.get_policy_document`` computed locally, the way the provider renders it.

    Statement fields come in the provider's order (Sid, Effect, Action, NotAction, Resource, NotResource,
    Principal, NotPrincipal, Condition); a list of one value becomes that value, longer lists are sorted in
    reverse, as the provider's set encoding does; ``source``/``override`` documents merge by ``Sid``.
    """

    def values(items: Any) -> Any:
        listed = sorted({str(item) for item in items or []}, reverse=True)
        return listed[0] if len(listed) == 1 else listed

    def principals(entries: Any) -> Any:
        grouped: dict[str, list[str]] = {}
        for entry in entries or []:
            grouped.setdefault(str(entry.get("type")), []).extend(entry.get("identifiers") or [])
        if list(grouped) == ["*"] and set(grouped["*"]) == {"*"}:
            return "*"
        return {kind: values(ids) for kind, ids in sorted(grouped.items())}

    def statement(raw: dict[str, Any]) -> dict[str, Any]:
        rendered: dict[str, Any] = {}
        if raw.get("sid"):
            rendered["Sid"] = raw["sid"]
        rendered["Effect"] = raw.get("effect") or "Allow"
        for key, name in (("actions", "Action"), ("notActions", "NotAction")):
            if raw.get(key):
                rendered[name] = values(raw[key])
        for key, name in (("resources", "Resource"), ("notResources", "NotResource")):
            if raw.get(key):
                rendered[name] = values(raw[key])
        for key, name in (("principals", "Principal"), ("notPrincipals", "NotPrincipal")):
            if raw.get(key):
                rendered[name] = principals(raw[key])
        if raw.get("conditions"):
            condition: dict[str, dict[str, Any]] = {}
            for entry in raw["conditions"]:
                condition.setdefault(entry["test"], {})[entry["variable"]] = values(entry.get("values"))
            rendered["Condition"] = condition
        return rendered

    merged: list[dict[str, Any]] = []

    def merge(statements: list[dict[str, Any]], *, replace: bool) -> None:
        for item in statements:
            sid = item.get("Sid")
            same = [index for index, existing in enumerate(merged) if sid and existing.get("Sid") == sid]
            if same and replace:
                merged[same[0]] = item
            elif not same:
                merged.append(item)

    for source in args.get("sourcePolicyDocuments") or []:
        merge(_statements_of(source), replace=True)
    merge([statement(raw) for raw in args.get("statements") or []], replace=True)
    for override in args.get("overridePolicyDocuments") or []:
        merge(_statements_of(override), replace=True)
    document: dict[str, Any] = {"Version": args.get("version") or "2012-10-17"}
    if args.get("policyId"):
        document["Id"] = args["policyId"]
    document["Statement"] = merged
    text = json.dumps(document, indent=2)
    return {"id": _suffix(text, 10), "json": text, "minifiedJson": json.dumps(document, separators=(",", ":"))}


def _statements_of(document: str) -> list[dict[str, Any]]:
    parsed = json.loads(document)
    statements = parsed.get("Statement", [])
    return statements if isinstance(statements, list) else [statements]


# Names AWS gives its managed policies: service ones (AWS…, Amazon…, …FullAccess, …ReadOnlyAccess) and the job
# function ones, https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_job-functions.html
_AWS_MANAGED_POLICY_NAME = re.compile(
    r"^(AWS|Amazon)[A-Za-z0-9]+$|(FullAccess|ReadOnlyAccess)$|^(AdministratorAccess|Billing|DatabaseAdministrator|"
    r"DataScientist|NetworkAdministrator|PowerUserAccess|SecurityAudit|SupportUser|SystemAdministrator|"
    r"ViewOnlyAccess)$"
)


class ProgramMocks(AwsMocks):
    """Provider answers for *any* program: :class:`AwsMocks`, plus the common data sources.

    Parameters
    ----------
    region:
        The stack's ``aws:region``.
    first_preview:
        Answer as the engine does during a first ``pulumi preview``: no resource exists yet, so a create
        returns its inputs only, with the auto-name the provider's Check adds, and every computed output is
        unknown.

    After a create, a computed output the mocks do not model gets a plausible value when it is a plain value
    (:func:`computed_outputs`); the others (ARNs, ids, blocks, maps) are left out of the state, and the harness
    marks the resource's response so the SDK resolves them as *unknown* rather than ``None`` (see
    ``offline.harness``).
    """

    def __init__(self, region: str, *, first_preview: bool = False) -> None:
        super().__init__(region)
        self.first_preview = first_preview
        self.generic_invokes: list[str] = []
        self._invokes.update(
            {
                "aws:iam/getPolicyDocument:getPolicyDocument": policy_document,
                "aws:index/getAvailabilityZones:getAvailabilityZones": self._get_availability_zones,
                "aws:index/getServicePrincipal:getServicePrincipal": self._get_service_principal,
                "aws:ec2/getAmi:getAmi": self._get_ami,
                "aws:ec2/getVpc:getVpc": self._get_vpc,
                "aws:ec2/getSubnets:getSubnets": self._get_subnets,
                "aws:iam/getPolicy:getPolicy": self._get_iam_policy,
                "aws:iam/getRole:getRole": self._get_role,
                "aws:ssm/getParameter:getParameter": self._get_parameter,
                "aws:secretsmanager/getSecret:getSecret": self._get_secret,
                "aws:kms/getAlias:getAlias": self._get_alias,
                "aws:ecr/getCredentials:getCredentials": self._get_registry_login,
                "aws:ecr/getAuthorizationToken:getAuthorizationToken": self._get_registry_login,
            }
        )

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict[str, Any]:  # type: ignore[override]
        """Answer a known invoke; any other gets plausible values of its provider's result type."""
        if args.token in self._invokes:
            return super().call(args)
        self.generic_invokes.append(args.token)
        return generic_invoke_result(args.token, args.args, self.region)

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        """After a create (known outputs), or during a first preview (inputs only, no id).

        Either way the state has the types of the resource's outputs (an IAM document given as a dict is text).
        """
        if self.first_preview:
            inputs = dict(args.inputs)
            named = _NAMED.get(args.typ)
            if named is not None and not inputs.get(named[0]):
                # The provider's Check writes the auto-name into the inputs, so a preview already knows it.
                inputs[named[0]] = super().new_resource(args)[1][named[0]]
            return "", as_output_types(args.typ, inputs)
        resource_id, state = super().new_resource(args)
        state.update(computed_outputs(args.typ, state, str(resource_id or args.name), self.region))
        return resource_id, as_output_types(args.typ, state)

    def _get_availability_zones(self, _: dict[str, Any]) -> dict[str, Any]:
        names = [f"{self.region}{zone}" for zone in "abc"]
        return {"id": self.region, "names": names, "zoneIds": [f"use1-az{i}" for i in (1, 2, 3)], "groupNames": names}

    def _get_service_principal(self, args: dict[str, Any]) -> dict[str, Any]:
        name = f"{args.get('serviceName')}.amazonaws.com"
        return {"id": name, "name": name, "suffix": "amazonaws.com", "region": self.region}

    def _get_ami(self, args: dict[str, Any]) -> dict[str, Any]:
        image = "ami-0123456789abcdef0"
        return {
            "id": image,
            "imageId": image,
            "arn": f"arn:aws:ec2:{self.region}::image/{image}",
            "name": "offline-image",
            "architecture": "x86_64",
            "mostRecent": bool(args.get("mostRecent")),
            "owners": args.get("owners") or [],
            "rootDeviceName": "/dev/xvda",
        }

    def _get_vpc(self, _: dict[str, Any]) -> dict[str, Any]:
        vpc = "vpc-0a1b2c3d4e5f60708"
        return {
            "id": vpc,
            "arn": f"arn:aws:ec2:{self.region}:{ACCOUNT_ID}:vpc/{vpc}",
            "cidrBlock": "172.31.0.0/16",
            "default": True,
            "ownerId": ACCOUNT_ID,
        }

    def _get_subnets(self, _: dict[str, Any]) -> dict[str, Any]:
        return {"id": self.region, "ids": [f"subnet-0{zone}1b2c3d4e5f6a7b8" for zone in "abc"]}

    def _get_iam_policy(self, args: dict[str, Any]) -> dict[str, Any]:
        """The policy asked for by ARN or name; a name shaped like an AWS managed policy's is AWS's (``iam::aws``)."""
        name = str(args.get("name") or "policy")
        owner = "aws" if _AWS_MANAGED_POLICY_NAME.search(name) else ACCOUNT_ID
        arn = args.get("arn") or f"arn:aws:iam::{owner}:policy/{name}"
        return {"id": arn, "arn": arn, "name": arn.rsplit("/", 1)[-1], "path": "/", "policyId": "ANPAOFFLINE"}

    def _get_role(self, args: dict[str, Any]) -> dict[str, Any]:
        name = str(args.get("name"))
        return {"id": name, "name": name, "arn": f"arn:aws:iam::{ACCOUNT_ID}:role/{name}", "uniqueId": "AROAOFFLINE"}

    def _get_parameter(self, args: dict[str, Any]) -> dict[str, Any]:
        name = str(args.get("name"))
        arn = f"arn:aws:ssm:{self.region}:{ACCOUNT_ID}:parameter/{name.lstrip('/')}"
        return {"id": name, "name": name, "arn": arn, "type": "String", "value": "offline-value", "version": 1}

    def _get_secret(self, args: dict[str, Any]) -> dict[str, Any]:
        name = str(args.get("name") or args.get("arn") or "secret")
        arn = args.get("arn") or f"arn:aws:secretsmanager:{self.region}:{ACCOUNT_ID}:secret:{name}-AbCdEf"
        return {"id": arn, "arn": arn, "name": name}

    def _get_registry_login(self, args: dict[str, Any]) -> dict[str, Any]:
        """An ECR login as ``GetAuthorizationToken`` returns it: the token is base64 of ``AWS:<password>``.

        Programs decode it to log docker in (https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_AuthorizationData.html).
        """
        registry = str(args.get("registryId") or ACCOUNT_ID)
        password = "offline-registry-password"
        return {
            "id": registry,
            "registryId": registry,
            "authorizationToken": base64.b64encode(f"AWS:{password}".encode()).decode(),
            "userName": "AWS",
            "password": password,
            "proxyEndpoint": f"https://{registry}.dkr.ecr.{self.region}.amazonaws.com",
            "expiresAt": "2026-01-01T12:00:00Z",
        }

    def _get_alias(self, args: dict[str, Any]) -> dict[str, Any]:
        name = str(args.get("name"))
        key = "1234abcd-12ab-34cd-56ef-1234567890ab"
        return {
            "id": name,
            "name": name,
            "arn": f"arn:aws:kms:{self.region}:{ACCOUNT_ID}:{name}",
            "targetKeyId": key,
            "targetKeyArn": f"arn:aws:kms:{self.region}:{ACCOUNT_ID}:key/{key}",
        }


# Shapes of the computed outputs of a few more types public programs use (after a create).
_NAMED.update(
    {
        "aws:ecr/repository:Repository": ("name", "arn:aws:ecr:{region}:{account}:repository/{name}"),
        "aws:secretsmanager/secret:Secret": ("name", "arn:aws:secretsmanager:{region}:{account}:secret:{name}"),
        "aws:kinesis/stream:Stream": ("name", "arn:aws:kinesis:{region}:{account}:stream/{name}"),
        "aws:s3/bucketV2:BucketV2": ("bucket", "arn:aws:s3:::{name}"),
    }
)


# Regions whose S3 website endpoint is s3-website-<region> (the others use s3-website.<region>); see
# https://docs.aws.amazon.com/general/latest/gr/s3.html#s3_website_region_endpoints
_DASHED_WEBSITE_REGIONS = frozenset(
    {
        "us-east-1",
        "us-west-1",
        "us-west-2",
        "eu-west-1",
        "ap-southeast-1",
        "ap-southeast-2",
        "ap-northeast-1",
        "sa-east-1",
    }
)


def _website(mocks: AwsMocks, _: str, __: str, state: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    bucket = str(state.get("bucket", "bucket"))
    separator = "-" if mocks.region in _DASHED_WEBSITE_REGIONS else "."
    domain = f"s3-website{separator}{mocks.region}.amazonaws.com"
    return bucket, {"websiteDomain": domain, "websiteEndpoint": f"{bucket}.{domain}"}


def _repository(mocks: AwsMocks, _: str, __: str, state: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """An ECR repository's URL as images are tagged with it (no scheme), in the account's registry."""
    name = str(state.get("name", "repository"))
    url = f"{ACCOUNT_ID}.dkr.ecr.{mocks.region}.amazonaws.com/{name}"
    return name, {"repositoryUrl": url, "registryId": ACCOUNT_ID}


_COMPUTED.update(
    {
        "aws:ecr/repository:Repository": _repository,
        "aws:s3/bucketV2:BucketV2": _bucket,
        "aws:s3/bucketWebsiteConfiguration:BucketWebsiteConfiguration": _website,
        "aws:s3/bucketWebsiteConfigurationV2:BucketWebsiteConfigurationV2": _website,
    }
)


# ---- any data source: plausible values of the provider's own result type ----------------------------------


def sdk_class(token: str, suffix: str = "") -> type | None:
    """The SDK class a type or invoke token names, if the program has loaded its module.

    ``aws:iam/policy:Policy`` is ``pulumi_aws.iam.Policy``; with ``suffix="Result"``,
    ``aws:route53/getZone:getZone`` is ``pulumi_aws.route53.GetZoneResult``. Pulumi's Python SDKs generate
    ``pulumi_<package>.<module>.<Name>`` for every resource and data source; the ``index`` module is the package
    itself and a module named like a keyword ends with ``_``.
    """
    package, _, rest = token.partition(":")
    module_path, _, name = rest.partition(":")
    module_name = module_path.split("/", 1)[0]
    if not package or not name or package == "pulumi":
        return None
    parts = [f"pulumi_{package.replace('-', '_')}"]
    if module_name and module_name != "index":
        parts.append(module_name + "_" if keyword.iskeyword(module_name) else module_name)
    module = sys.modules.get(".".join(part.replace("-", "_") for part in parts))
    # Only a module the program has loaded: the mocks run on the monitor's threads, and loading one of the SDK's
    # lazy modules there races the program's own first use of it (which then sees it half initialized).
    if type(module) is not types.ModuleType or getattr(module.__spec__, "_initializing", False):
        return None
    found = getattr(module, name[:1].upper() + name[1:] + suffix, None)
    return found if isinstance(found, type) else None


def invoke_result_type(token: str) -> type | None:
    """The SDK's result class of an invoke token (``aws:route53/getZone:getZone`` → ``GetZoneResult``), if any."""
    return sdk_class(token, "Result")


def as_output_types(token: str, state: dict[str, Any]) -> dict[str, Any]:
    """``state`` with each object or list given for a string output as the JSON text the provider returns.

    Programs pass IAM documents (``policy``, ``assume_role_policy``) as dicts; the provider encodes them and
    its state holds a string, which is what the SDK expects (it refuses a dict for a ``str`` output). Types
    come from the resource's SDK class, as the SDK itself reads them (``pulumi._types.resource_types``).
    """
    resource_class = sdk_class(token)
    if resource_class is None or not issubclass(resource_class, pulumi.CustomResource):
        return state
    try:
        types = _types.resource_types(resource_class)
    except Exception:  # a class the SDK cannot read the types of: its state as it is
        return state
    return {key: _as_type(value, types.get(key)) for key, value in state.items()}


def _as_type(value: Any, hint: Any) -> Any:
    if hint is None or value is None or value == pulumi.runtime.rpc.UNKNOWN or isinstance(value, Unknown):
        return value
    hint = _types.unwrap_optional_type(hint)
    if hint is str:
        if not isinstance(value, dict | list):
            return value
        # A preview's provider cannot write the text of a document that holds an unknown: the whole text is unknown.
        return Unknown() if _holds_unknown(value) else json.dumps(value)
    origin = typing.get_origin(hint)
    arguments = typing.get_args(hint)
    if isinstance(value, list) and origin is not None and isinstance(origin, type) and issubclass(origin, Sequence):
        return [_as_type(item, arguments[0] if arguments else None) for item in value]
    if isinstance(value, dict):
        if isinstance(hint, type) and _types.is_output_type(hint):
            field_types = _types.output_type_types(hint)
            return {key: _as_type(item, field_types.get(key)) for key, item in value.items()}
        if origin is not None and isinstance(origin, type) and issubclass(origin, Mapping) and len(arguments) == 2:
            return {key: _as_type(item, arguments[1]) for key, item in value.items()}
    return value


def _holds_unknown(value: Any) -> bool:
    if isinstance(value, Unknown) or value == pulumi.runtime.rpc.UNKNOWN:
        return True
    if isinstance(value, dict):
        return any(_holds_unknown(item) for item in value.values())
    if isinstance(value, list):
        return any(_holds_unknown(item) for item in value)
    return False


_BLOCK_DEPTH = 3
"""How deep a data source's nested blocks are made up (result types do not nest deeper in practice)."""


def _plausible_block(block: type, token: str, region: str, depth: int) -> dict[str, Any]:
    """A data source's result block (``GetClusterVpcConfigResult``) with a plausible value per field, by wire name."""
    try:
        fields = _types.output_type_types(block)
    except Exception:  # a class the SDK cannot read the types of: an empty block
        return {}
    return {key: _plausible(key, hint, token, region, depth=depth + 1) for key, hint in fields.items()}


def _plausible(key: str, hint: Any, token: str, region: str, label: str = "offline", depth: int = 0) -> Any:
    """A value a provider could return for output ``key`` of type ``hint``: known, and shaped like the real one.

    ``label`` tells one resource's values from another's (its physical id); a data source's are ``offline``.
    A nested block of a data source's result gets its fields, a list of blocks one such block (programs read
    ``cluster.vpc_config.vpc_id`` and ``cluster.certificate_authorities[0].data``).
    """
    origin = typing.get_origin(hint)
    if origin is typing.Union:
        options = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        return _plausible(key, options[0], token, region, label, depth) if options else None
    if origin is not None and isinstance(origin, type) and issubclass(origin, Mapping):
        return {}
    if origin is not None and isinstance(origin, type) and issubclass(origin, Sequence) and origin is not str:
        # A list of ids, names or ARNs holds one (programs take ``ids[0]``), a list of blocks one block.
        item = (typing.get_args(hint) or (None,))[0]
        one = _plausible(key.removesuffix("s") or key, item, token, region, label, depth)
        return [one] if one is not None else []
    if hint is bool:
        return False
    if hint is int or hint is float:
        return 0
    if isinstance(hint, type) and _types.is_output_type(hint):
        return _plausible_block(hint, token, region, depth) if depth < _BLOCK_DEPTH else None
    if hint is not str:
        return None
    service = token.split(":", 1)[1].split("/", 1)[0] if ":" in token else "service"
    lowered = key.lower()
    if lowered == "arn" or lowered.endswith("arn"):
        return f"arn:aws:{service}:{region}:{ACCOUNT_ID}:{re.sub(r'arn$', '', lowered) or service}/{label}"
    if lowered in ("region", "awsregion"):
        return region
    if lowered in ("accountid", "ownerid"):
        return ACCOUNT_ID
    if "cidr" in lowered:
        return "10.0.0.0/16"
    if key == "ip" or key.endswith(("Ip", "IpAddress")) or key == "ipAddress":
        return "192.0.2.10"  # TEST-NET-1 (RFC 5737): an address, and none that routes
    if lowered.endswith(("domainname", "endpoint", "dnsname", "hostname", "dns")):
        return f"{label}.{service}.{region}.amazonaws.com"
    if lowered.endswith("url"):
        return f"https://{label}.{service}.{region}.amazonaws.com/"
    return f"{label}-{key}"


# An ARN or id names another resource: the pack matches it against the stack's records, which a made-up one would
# not match ("not in this stack"); those stay unknown.
_REFERENCE_KEY = re.compile(r"(^arn|Arn|^id|Id|Ids|Arns)$")


def computed_outputs(token: str, state: Mapping[str, Any], label: str, region: str) -> dict[str, Any]:
    """Plausible known values for the outputs of a resource that the provider computes and the mocks do not model.

    What an update sees once the resource exists (a load balancer's ``dnsName``, a database's ``endpoint``): only
    outputs that are not inputs of the resource and not ARNs or ids, and only strings, numbers, booleans and lists
    of strings; a block or a map stays unknown (a list of blocks made up empty would fail ``[0]`` in the program).
    """
    resource_class = sdk_class(token)
    args_class = sdk_class(token, "Args")
    if resource_class is None or args_class is None or not issubclass(resource_class, pulumi.CustomResource):
        return {}
    try:
        inputs = set(_types.input_type_types(args_class))
        outputs = _types.resource_types(resource_class)
    except Exception:  # a class the SDK cannot read the types of: nothing made up
        return {}
    made: dict[str, Any] = {}
    for key, hint in outputs.items():
        if key in inputs or key in state or key in ("id", "urn", "tagsAll") or _REFERENCE_KEY.search(key):
            continue
        bare = _types.unwrap_optional_type(hint)
        listed = typing.get_origin(bare) in (list, Sequence, typing.Sequence) and typing.get_args(bare) == (str,)
        if bare in (str, int, float, bool) or listed:
            made[key] = _plausible(key, bare, token, region, label)
    return made


def generic_invoke_result(token: str, args: Mapping[str, Any], region: str) -> dict[str, Any]:
    """A data source the mocks do not model, answered with plausible known values of its result type.

    A preview runs data sources for real, so their values are known: every output of the SDK's result class
    gets a value shaped by its type and name (an ARN, an id, an empty list…), and an output the program
    asked by (``name``, ``zoneId``…) is what it asked for. An unknown token (no SDK result class) echoes the
    arguments only.
    """
    result_type = invoke_result_type(token)
    answer: dict[str, Any] = {}
    if result_type is not None:
        answer.update(_plausible_block(result_type, token, region, depth=0))
    answer.update({key: value for key, value in args.items() if value is not None})
    answer.setdefault("id", f"offline-{token.rsplit(':', 1)[-1]}")
    return answer
