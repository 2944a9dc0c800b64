"""Offline models of the aws-apigateway package's remote components (see :mod:`offline.constructs`).

``aws-apigateway:index:RestAPI`` follows release 3.0.0 (``aws-apigateway/restAPI.ts`` and
``aws-apigateway/apigateway/api.ts`` of github.com/pulumi/pulumi-aws-apigateway at tag v3.0.0). The plugin turns
the routes into a Swagger 2.0 document, the ``body`` of one ``aws:apigateway/restApi:RestApi``, then deploys it
with a Deployment and a Stage, all three named after the component. Along the way it registers:

- for static routes (``localPath``): one bucket for all of them (unless ``staticRoutesBucket`` is given), and
  per route an IAM role API Gateway assumes, its ``AmazonS3FullAccess`` attachment and one bucket object per
  file;
- for Lambda authorizers: a role API Gateway assumes and its inline policy allowing ``lambda:InvokeFunction``;
- after the RestApi: one ``aws:lambda/permission:Permission`` per event-handler route.

A program's Lambda (``eventHandler``) is used as is: no function is created for it.

The ``body`` is a JSON string. Parts of it are outputs of other resources. A function the program passes in
is read as the plugin reads it (its ``invokeArn``: known after a create, unknown in a first preview); the
package's own children's outputs (the static bucket's name, a role's ARN) are the unknown sentinel inside an
otherwise known document. What the document says about paths, methods, integration types and security stays
decidable, in a first preview as after a create.

One difference with the engine: the package builds the API inside an ``apply`` on the routes, so in a preview
where a route holds an unknown value (a target URI another resource computes) the engine registers no child at
all; offline the children are registered with that value unknown, so the rest of the API is still checked.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from offline.constructs import UNKNOWN, Child, ComponentModel, ConstructContext, Ref, is_known, unwrap
from offline.constructs.files import content_type, file_asset

REST_API: Final = "aws-apigateway:index:RestAPI"
FOLLOWS: Final = "aws-apigateway 3.0.0 (aws-apigateway/apigateway/api.ts, restAPI.ts)"

API_TYPE: Final = "aws:apigateway/restApi:RestApi"
DEPLOYMENT_TYPE: Final = "aws:apigateway/deployment:Deployment"
STAGE_TYPE: Final = "aws:apigateway/stage:Stage"
PERMISSION_TYPE: Final = "aws:lambda/permission:Permission"
BUCKET_TYPE: Final = "aws:s3/bucket:Bucket"
OBJECT_TYPE: Final = "aws:s3/bucketObject:BucketObject"
ROLE_TYPE: Final = "aws:iam/role:Role"
ATTACHMENT_TYPE: Final = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
ROLE_POLICY_TYPE: Final = "aws:iam/rolePolicy:RolePolicy"

DEFAULT_STAGE_NAME: Final = "stage"
S3_FULL_ACCESS: Final = "arn:aws:iam::aws:policy/AmazonS3FullAccess"

# The role API Gateway assumes to read a static route's objects (api.ts: apigatewayAssumeRolePolicyDocument).
_APIGATEWAY_TRUST: Final = {
    "Version": "2012-10-17",
    "Statement": [
        {"Sid": "", "Effect": "Allow", "Principal": {"Service": "apigateway.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ],
}
# The authorizer's role (lambdaAuthorizer.ts, through pulumi-aws's iam.assumeRolePolicyForPrincipal).
_AUTHORIZER_TRUST: Final = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "AllowAssumeRole",
            "Effect": "Allow",
            "Principal": {"Service": ["lambda.amazonaws.com", "apigateway.amazonaws.com"]},
            "Action": "sts:AssumeRole",
        }
    ],
}
_S3_RESPONSES: Final = {
    "200": {
        "description": "200 response",
        "schema": {"type": "object"},
        "headers": {"Content-Type": {"type": "string"}, "content-type": {"type": "string"}},
    },
    "400": {"description": "400 response"},
    "500": {"description": "500 response"},
}
_S3_INTEGRATION_RESPONSES: Final = {
    "4\\d{2}": {"statusCode": "400"},
    "default": {
        "statusCode": "200",
        "responseParameters": {
            "method.response.header.Content-Type": "integration.response.header.Content-Type",
            "method.response.header.content-type": "integration.response.header.content-type",
        },
    },
    "5\\d{2}": {"statusCode": "500"},
}
_NOT_FOUND: Final = {"statusCode": 404, "responseTemplates": {"application/json": '{"message": "404 Not found" }'}}


def short_hash(text: str) -> str:
    """The first 8 hex digits of the SHA-1 of ``text``: the suffix the package gives generated names."""
    return hashlib.sha1(text.encode()).hexdigest()[:8]  # a name suffix, not a security hash


def swagger_method(method: str) -> str:
    """The Swagger operation key of an HTTP method (``ANY`` is ``x-amazon-apigateway-any-method``).

    Raises
    ------
    ValueError
        For a method the package rejects.
    """
    lowered = method.lower()
    if lowered == "any":
        return "x-amazon-apigateway-any-method"
    if lowered in {"get", "put", "post", "delete", "options", "head", "patch"}:
        return lowered
    raise ValueError(f"aws-apigateway RestAPI: method {method!r} is not supported")


def _json(value: Any) -> str:
    """``JSON.stringify`` of ``value``: compact, integral numbers without a fraction (the wire sends floats)."""
    return json.dumps(_integral(value), separators=(",", ":"), ensure_ascii=False)


def _integral(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, Mapping):
        return {key: _integral(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_integral(item) for item in value]
    return value


@dataclass
class _Build:
    """The state of one construct: the component's name and inputs, the Swagger document and the children so far."""

    name: str
    inputs: Mapping[str, Any]
    context: ConstructContext
    swagger: dict[str, Any] = field(default_factory=dict)
    children: list[Child] = field(default_factory=list)
    # path → {route method as given → the function's id}, in the order the package keeps them
    lambdas: dict[str, dict[str, Any]] = field(default_factory=dict)
    static_bucket: Any = None

    @property
    def tags(self) -> Any:
        return self.inputs.get("tags")

    def add(self, child: Child) -> None:
        self.children.append(child)

    def with_tags(self, inputs: dict[str, Any]) -> dict[str, Any]:
        if self.tags is not None:
            inputs["tags"] = self.tags
        return inputs


def binary_media_types(inputs: Mapping[str, Any]) -> Any:
    """The API's binary media types: every type (``*/*``) unless the program gives a list, even an empty one."""
    given = inputs.get("binaryMediaTypes")
    return ["*/*"] if given is None else given


def base_swagger(name: str, inputs: Mapping[str, Any]) -> dict[str, Any]:
    """The Swagger document before any route: title, binary media types, gateway responses, API key source.

    The package answers ``MISSING_AUTHENTICATION_TOKEN`` and ``ACCESS_DENIED`` with a 404 unless the program
    sets them, and turns on request validation for the whole API when ``requestValidator`` is given.
    """
    responses = dict(inputs.get("gatewayResponses") or {})
    for response_type in ("MISSING_AUTHENTICATION_TOKEN", "ACCESS_DENIED"):
        responses.setdefault(response_type, _NOT_FOUND)
    swagger: dict[str, Any] = {
        "swagger": "2.0",
        "info": {"title": name, "version": "1.0"},
        "paths": {},
        "x-amazon-apigateway-binary-media-types": binary_media_types(inputs),
        "x-amazon-apigateway-gateway-responses": responses,
        "x-amazon-apigateway-api-key-source": inputs.get("apiKeySource") or "HEADER",
    }
    validator = inputs.get("requestValidator")
    if validator:
        swagger["x-amazon-apigateway-request-validators"] = {
            "ALL": {"validateRequestBody": True, "validateRequestParameters": True},
            "BODY_ONLY": {"validateRequestBody": True, "validateRequestParameters": False},
            "PARAMS_ONLY": {"validateRequestBody": False, "validateRequestParameters": True},
        }
        swagger["x-amazon-apigateway-request-validator"] = validator
    return swagger


def _add_operation(build: _Build, path: str, method: str, operation: Any) -> None:
    build.swagger["paths"].setdefault(path, {})[method] = operation


def _route_options(build: _Build, operation: dict[str, Any], route: Mapping[str, Any]) -> None:
    """Authorizers, required parameters, the route's validator, IAM auth and the API key, as the package adds them."""
    if route.get("authorizers"):
        operation.setdefault("security", []).extend(_authorizers(build, route["authorizers"]))
    for parameter in route.get("requiredParameters") or []:
        operation.setdefault("parameters", []).append(
            {"name": parameter.get("name"), "in": parameter.get("in"), "required": True}
        )
    if route.get("requestValidator"):
        operation["x-amazon-apigateway-request-validator"] = route["requestValidator"]
    if route.get("iamAuthEnabled"):
        operation["x-amazon-apigateway-auth"] = {"type": "AWS_IAM"}
    if route.get("apiKeyRequired"):
        build.swagger.setdefault("securityDefinitions", {})["api_key"] = {
            "type": "apiKey",
            "name": "x-api-key",
            "in": "header",
        }
        operation.setdefault("security", []).append({"api_key": []})


def _authorizers(build: _Build, authorizers: Sequence[Mapping[str, Any]]) -> list[dict[str, list[Any]]]:
    """Security definitions (and a Lambda authorizer's role and policy) for a route; its security requirements."""
    definitions = build.swagger.setdefault("securityDefinitions", {})
    requirements = []
    for authorizer in authorizers:
        is_lambda = authorizer.get("handler") is not None
        auth_name = (
            authorizer.get("authorizerName") or f"{build.swagger['info']['title']}-authorizer-{len(definitions)}"
        )
        if auth_name not in definitions:
            definition: dict[str, Any] = {"type": "apiKey", "name": authorizer.get("parameterName")}
            location = authorizer.get("parameterLocation") if is_lambda else "header"
            if location is not None:
                definition["in"] = location
            auth_type = authorizer.get("authType") if is_lambda else "cognito_user_pools"
            if auth_type is not None:
                definition["x-amazon-apigateway-authtype"] = auth_type
            definition["x-amazon-apigateway-authorizer"] = (
                _lambda_authorizer(build, auth_name, authorizer) if is_lambda else _cognito_authorizer(authorizer)
            )
            definitions[auth_name] = definition
        methods = [] if is_lambda else list(authorizer.get("methodsToAuthorize") or [])
        requirements.append({auth_name: methods})
    return requirements


def _lambda_authorizer(build: _Build, auth_name: str, authorizer: Mapping[str, Any]) -> dict[str, Any]:
    """A Lambda authorizer's Swagger entry; registers the role API Gateway assumes to call it and its policy."""
    role = f"{auth_name}-authorizer-role"
    build.add(Child(ROLE_TYPE, role, {"assumeRolePolicy": _json(_AUTHORIZER_TRUST)}))
    # The policy embeds the function's ARN in a template string (an apply the model does not redo).
    build.add(Child(ROLE_POLICY_TYPE, f"{auth_name}-invocation-policy", {"policy": UNKNOWN, "role": Ref(role)}))
    entry: dict[str, Any] = {
        "type": authorizer.get("type"),
        "authorizerUri": build.context.resource_output(authorizer.get("handler"), "invokeArn"),
        "authorizerCredentials": UNKNOWN,  # the role's ARN
        "identitySource": ", ".join(authorizer.get("identitySource") or []),
    }
    for key in ("identityValidationExpression", "authorizerResultTtlInSeconds"):
        if authorizer.get(key) is not None:
            entry[key] = authorizer[key]
    return {key: value for key, value in entry.items() if value is not None}


def _cognito_authorizer(authorizer: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "type": "cognito_user_pools",
        "identitySource": ", ".join(authorizer.get("identitySource") or []),
        "providerARNs": list(authorizer.get("providerARNs") or []),
    }


def _event_handler_route(build: _Build, route: Mapping[str, Any], path: str) -> None:
    """An ``aws_proxy`` integration to the route's function (POST to its invocations path)."""
    method = _required(route, "method", path)
    operation: dict[str, Any] = {
        "x-amazon-apigateway-integration": {
            # arn:aws:apigateway:<region>:lambda:path/2015-03-31/functions/<function ARN>/invocations
            "uri": build.context.resource_output(route["eventHandler"], "invokeArn"),
            "passthroughBehavior": "when_no_match",
            "httpMethod": "POST",
            "type": "aws_proxy",
        }
    }
    _route_options(build, operation, route)
    _add_operation(build, path, swagger_method(method), operation)
    build.lambdas.setdefault(path, {})[method] = route["eventHandler"]


def _required(route: Mapping[str, Any], key: str, path: str) -> Any:
    if route.get(key) is None:
        raise ValueError(f"aws-apigateway RestAPI: route {path!r} is missing required [{key}] property")
    return route[key]


def _s3_operation(build: _Build, object_key: str, proxy: bool) -> dict[str, Any]:
    """A GET of one object of the static bucket (or, with ``proxy``, of the object named by ``{proxy}``)."""
    # The URI names the bucket: known for a program's bucket (an S3 bucket's id is its name), not for the
    # package's own one, whose name is an output.
    bucket = build.static_bucket
    uri = UNKNOWN
    if isinstance(bucket, str) and is_known(bucket):
        uri = f"arn:aws:apigateway:{build.context.region}:s3:path/{bucket}/{object_key}{'/{proxy}' if proxy else ''}"
    integration: dict[str, Any] = {
        "credentials": UNKNOWN,  # the route's role ARN
        "uri": uri,
        "passthroughBehavior": "when_no_match",
        "httpMethod": "GET",
        "type": "aws",
        "responses": _S3_INTEGRATION_RESPONSES,
    }
    operation: dict[str, Any] = {"responses": _S3_RESPONSES, "x-amazon-apigateway-integration": integration}
    if proxy:
        operation["parameters"] = [{"name": "proxy", "in": "path", "required": True, "type": "string"}]
        integration["requestParameters"] = {"integration.request.path.proxy": "method.request.path.proxy"}
    return operation


def _static_role(build: _Build, key: str) -> None:
    build.add(Child(ROLE_TYPE, key, build.with_tags({"assumeRolePolicy": _json(_APIGATEWAY_TRUST)})))
    build.add(Child(ATTACHMENT_TYPE, key, {"role": Ref(key, type=ROLE_TYPE), "policyArn": S3_FULL_ACCESS}))


def _bucket_object(build: _Build, key: str, source: str, route_content_type: Any = None) -> None:
    inputs: dict[str, Any] = {"bucket": build.static_bucket, "key": key, "source": file_asset(source)}
    build.with_tags(inputs)
    detected = route_content_type or content_type(source)
    if detected:
        inputs["contentType"] = detected
    build.add(Child(OBJECT_TYPE, key, inputs))


def _static_route(build: _Build, route: Mapping[str, Any], path: str) -> None:
    """Objects for a file or a folder, read from the program's directory, and the GET operations serving them."""
    if build.static_bucket is None:
        given = build.inputs.get("staticRoutesBucket")
        if given is not None:
            build.static_bucket = given
        else:
            bucket_name = "".join(ch for ch in build.name.lower() if ch.isascii() and (ch.isalnum() or ch == "-"))
            build.add(Child(BUCKET_TYPE, bucket_name, {}))
            build.static_bucket = Ref(bucket_name, type=BUCKET_TYPE)
    local_path = str(route["localPath"])
    full_path = Path(local_path) if os.path.isabs(local_path) else build.context.program_dir / local_path
    if full_path.is_file():
        key = build.name + short_hash(f"get:{path}")
        _static_role(build, key)
        _bucket_object(build, key, local_path, route.get("contentType"))
        operation = _s3_operation(build, key, proxy=False)
        _route_options(build, operation, route)
        _add_operation(build, path, "get", operation)
    elif full_path.is_dir():
        _static_folder(build, route, path, full_path)
    else:
        raise ValueError(f"aws-apigateway RestAPI: route {path!r}: localPath {local_path!r} does not exist")


def _static_folder(build: _Build, route: Mapping[str, Any], path: str, folder: Path) -> None:
    """Every file under ``folder`` (sorted per folder, depth first, hidden files too), an index and a proxy path."""
    server_path = path if path.endswith("/") else f"{path}/"
    folder_key = build.name + short_hash(f"get:{server_path}")
    _static_role(build, folder_key)
    index = route.get("index", True)
    index_file = None if index is False else (index if isinstance(index, str) else "index.html")
    for file in _walk(folder):
        relative = file.relative_to(folder).as_posix()
        object_key = f"{folder_key}/{relative}"
        _bucket_object(build, object_key, str(file))
        if index_file is not None and file == folder / index_file:
            operation = _s3_operation(build, object_key, proxy=False)
            _route_options(build, operation, route)
            build.swagger["paths"][server_path] = {"get": operation}
    operation = _s3_operation(build, folder_key, proxy=True)
    _route_options(build, operation, route)
    _add_operation(build, f"{server_path}{{proxy+}}", "x-amazon-apigateway-any-method", operation)


def _walk(folder: Path) -> list[Path]:
    """Files under ``folder`` in the order Node's ``readdirSync`` recursion meets them (names sorted bytewise)."""
    found: list[Path] = []
    for entry in sorted(os.listdir(folder)):
        child = folder / entry
        if child.is_dir():
            found.extend(_walk(child))
        elif child.is_file():
            found.append(child)
    return found


def _integration_route(build: _Build, route: Mapping[str, Any], path: str) -> None:
    """A proxy to an HTTP (or other) target on ``<path>/`` and ``<path>/{proxy+}``, any method."""
    # A target the program computes may be unknown as a whole: its URI and type are then unknown too.
    target = route["target"] if isinstance(route["target"], Mapping) else {"uri": UNKNOWN, "type": UNKNOWN}
    server_path = path if path.endswith("/") else f"{path}/"
    for proxy in (False, True):
        uri = unwrap(target.get("uri", UNKNOWN))
        if is_known(uri):
            uri = f"{uri}{'' if str(uri).endswith('/') else '/'}{'{proxy}' if proxy else ''}"
        integration: dict[str, Any] = {"responses": {"default": {"statusCode": "200"}}, "uri": uri}
        integration["type"] = target.get("type") or "http_proxy"
        for key in ("connectionType", "connectionId"):
            if target.get(key) is not None:
                integration[key] = target[key]
        # The package reads passthroughBehavior; the SDKs send passthroughBehaviour, so the default always applies.
        integration["passthroughBehavior"] = target.get("passthroughBehavior") or "when_no_match"
        integration["httpMethod"] = "ANY"
        operation: dict[str, Any] = {"x-amazon-apigateway-integration": integration}
        if proxy:
            operation["parameters"] = [{"name": "proxy", "in": "path", "required": True, "type": "string"}]
            integration["requestParameters"] = {"integration.request.path.proxy": "method.request.path.proxy"}
        _route_options(build, operation, route)
        _add_operation(
            build, f"{server_path}{{proxy+}}" if proxy else server_path, "x-amazon-apigateway-any-method", operation
        )


def _routes(build: _Build) -> None:
    """Walk the routes in order, as ``createSwaggerSpec`` does: the kind of a route is its first key set."""
    for route in build.inputs.get("routes") or []:
        path = str(_required(route, "path", "?"))
        path = path if path.startswith("/") else f"/{path}"
        if route.get("eventHandler") is not None:
            _event_handler_route(build, route, path)
        elif route.get("localPath") is not None:
            _static_route(build, route, path)
        elif route.get("target") is not None:
            _integration_route(build, route, path)
        elif route.get("data") is not None:
            _add_operation(build, path, swagger_method(_required(route, "method", path)), route["data"])


def _body_and_title(build: _Build) -> tuple[Any, Any]:
    """The RestApi's ``body`` and ``name``: the program's own Swagger (title defaulted) or the routes' document."""
    swagger_string = build.inputs.get("swaggerString")
    if swagger_string is not None:
        if not is_known(swagger_string):
            return UNKNOWN, UNKNOWN
        spec = json.loads(unwrap(swagger_string))
        spec.setdefault("info", {}).setdefault("title", build.name)
        return _json(spec), spec["info"]["title"]
    if not build.inputs.get("routes"):
        raise ValueError("aws-apigateway RestAPI: API must specify either [swaggerString] or at least one route")
    build.swagger = base_swagger(build.name, build.inputs)
    _routes(build)
    return _json(build.swagger), build.name


def build_rest_api(inputs: Mapping[str, Any], context: ConstructContext) -> list[Child]:
    """The children a ``RestAPI`` registers, in the package's order.

    Parameters
    ----------
    inputs:
        The component's wire inputs (``routes``, ``swaggerString``, ``stageName``, ``requestValidator``,
        ``apiKeySource``, ``staticRoutesBucket``, ``gatewayResponses``, ``binaryMediaTypes``,
        ``disableExecuteApiEndpoint``, ``description``, ``tags``).
    context:
        The component's name and the program's directory (static routes' ``localPath`` is relative to it).

    Returns
    -------
    list[Child]
        Static-route and authorizer resources, the RestApi, its Deployment, one Lambda permission per
        event-handler route, then the Stage (which waits for the permissions).

    Raises
    ------
    ValueError
        When the package would fail the construct: no routes and no Swagger, a route missing a required key,
        an unsupported method, a ``localPath`` that does not exist.
    """
    build = _Build(context.name, inputs, context)
    body, title = _body_and_title(build)
    name = context.name
    api_inputs: dict[str, Any] = {"name": title, "binaryMediaTypes": binary_media_types(inputs)}
    api_inputs["body"] = body
    for key in ("apiKeySource", "description", "disableExecuteApiEndpoint", "tags"):
        if inputs.get(key) is not None:
            api_inputs[key] = inputs[key]
    build.add(Child(API_TYPE, name, api_inputs))
    api = Ref(name, type=API_TYPE)
    # variables.version hashes the RestApi's outputs and body, which the engine alone computes.
    build.add(Child(DEPLOYMENT_TYPE, name, {"restApi": api, "variables": {"version": UNKNOWN}}))
    permissions = []
    for path, methods in build.lambdas.items():
        for method, function in methods.items():
            method_and_path = f"{'*' if method == 'ANY' else method}{path}"
            permission = f"{name}-{short_hash(method_and_path)}"
            source_arn = Ref(name, "executionArn", type=API_TYPE, suffix=f"/*/{method_and_path}")
            build.add(
                Child(
                    PERMISSION_TYPE,
                    permission,
                    {
                        "action": "lambda:invokeFunction",
                        "function": function,
                        "principal": "apigateway.amazonaws.com",
                        "sourceArn": source_arn,
                    },
                )
            )
            permissions.append(permission)
    stage_inputs: dict[str, Any] = {
        "restApi": api,
        "deployment": Ref(name, type=DEPLOYMENT_TYPE),
        "stageName": inputs.get("stageName") or DEFAULT_STAGE_NAME,
    }
    build.with_tags(stage_inputs)
    build.add(Child(STAGE_TYPE, name, stage_inputs, depends_on=tuple(permissions)))
    return build.children


MODELS: dict[str, ComponentModel] = {REST_API: ComponentModel(build_rest_api, FOLLOWS)}
"""Component type token → model."""
