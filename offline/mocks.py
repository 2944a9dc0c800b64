"""Engine and provider stand-ins for running the program in-process.

``AwsMocks`` answers like the AWS provider would after a create: a physical id, the auto-name when the
program gave none, and the ARN/URL shapes AWS really uses, so recorded ASL, IAM documents and event
targets can be executed or checked unchanged. Invokes we do not know raise, so a new data source in the
program cannot silently come back empty.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import pulumi

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
    """

    def __init__(self, region: str) -> None:
        self.region = region
        # Two components may give children the same logical name (their URNs differ by parent type);
        # the engine's random suffixes differ too, so count repeats to keep physical names distinct.
        self._seen: dict[str, int] = {}
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
        seed = f"{args.typ}::{args.name}"
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
    "aws:apigatewayv2/stage:Stage": _http_stage,
    "aws:apigatewayv2/integration:Integration": _short_id,
    "aws:apigatewayv2/route:Route": _short_id,
    "aws:apigatewayv2/authorizer:Authorizer": _short_id,
    "aws:cognito/userPool:UserPool": _user_pool,
    "aws:cognito/userPoolClient:UserPoolClient": _user_pool_client,
    "aws:cloudfront/distribution:Distribution": _distribution,
    "aws:cloudfront/originAccessControl:OriginAccessControl": _short_id,
    "aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy": _short_id,
}
