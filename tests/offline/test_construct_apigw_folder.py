"""Offline models of aws-apigateway's RestAPI and synced-folder's folders (issue 22).

Pure tests of each model (the defaults, then one change per option modelled) and runs of programs through the
offline engine, which registers the children under the component.
"""

from __future__ import annotations

import json
import os
import re
import textwrap
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from offline import constructs
from offline.constructs import UNKNOWN, Child, ComponentModel, ConstructContext, Ref, aws_apigateway, synced_folder
from offline.constructs.files import content_type
from offline.harness import run_program_dir
from offline.preview import not_checked
from offline.recording import ProgramRun, RecordedResource
from orderflow import pulumi_files

# ---- the engine: children sharing a name, outputs with the package's suffix ------------------------------

SAME_NAME_PROGRAM = """
import pulumi


class Api(pulumi.ComponentResource):
    def __init__(self, name, opts=None):
        super().__init__("example:index:Api", name, {}, opts, remote=True)


Api("shop")
"""


def build_same_name(inputs: Mapping[str, Any], context: ConstructContext) -> list[Child]:
    name = context.name
    api = Ref(name, type="aws:apigateway/restApi:RestApi")
    return [
        Child("aws:apigateway/restApi:RestApi", name, {"name": name}),
        Child("aws:apigateway/deployment:Deployment", name, {"restApi": api}),
        Child(
            "aws:apigateway/stage:Stage",
            name,
            {
                "restApi": api,
                "deployment": Ref(name, type="aws:apigateway/deployment:Deployment"),
                "stageName": Ref(name, "executionArn", type="aws:apigateway/restApi:RestApi", suffix="/*/GET/"),
            },
        ),
    ]


def run_same_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *, first_preview: bool) -> dict[str, Any]:
    monkeypatch.setitem(constructs.MODELS, "example:index:Api", ComponentModel(build_same_name, "example 1.x"))
    tmp_path.mkdir(exist_ok=True)
    (tmp_path / "Pulumi.yaml").write_text("name: probe\nruntime: python\n")
    (tmp_path / "__main__.py").write_text(textwrap.dedent(SAME_NAME_PROGRAM).lstrip())
    run = run_program_dir(tmp_path, files=pulumi_files, first_preview=first_preview)
    return {record.type.rsplit(":", 1)[-1]: record for record in run.resources}


def test_a_reference_naming_the_type_picks_that_child_among_children_of_one_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    records = run_same_name(tmp_path, monkeypatch, first_preview=False)
    api, deployment, stage = records["RestApi"], records["Deployment"], records["Stage"]
    assert stage.inputs["restApi"] == deployment.inputs["restApi"] == api.id
    assert stage.inputs["deployment"] == deployment.id != api.id
    assert stage.inputs["stageName"] == f"{api.outputs['executionArn']}/*/GET/"
    assert set(stage.dependencies) == {api.urn, deployment.urn}


def test_a_suffixed_reference_stays_unknown_while_the_output_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stage = run_same_name(tmp_path, monkeypatch, first_preview=True)["Stage"]
    assert stage.inputs_struct["stageName"] == UNKNOWN


# ---- aws-apigateway RestAPI: pure model ----------------------------------------------------------------

FUNCTION_ID = "fn-91ad24e"


def rest_api(inputs: Mapping[str, Any], program_dir: Path = Path("/nonexistent")) -> dict[tuple[str, str], Child]:
    children = aws_apigateway.build_rest_api(inputs, ConstructContext("api", program_dir, "eu-west-1"))
    by_key = {(child.type.rsplit(":", 1)[-1], child.name): child for child in children}
    assert len(by_key) == len(children), "two children of one type share a name"
    return by_key


def body(children: Mapping[tuple[str, str], Child]) -> dict[str, Any]:
    return json.loads(children["RestApi", "api"].inputs["body"])


def date_route(**extra: Any) -> dict[str, Any]:
    return {"path": "/date", "method": "GET", "eventHandler": FUNCTION_ID, **extra}


def test_rest_api_defaults_an_event_handler_route() -> None:
    children = rest_api({"routes": [date_route()]})
    assert list(children) == [
        ("RestApi", "api"),
        ("Deployment", "api"),
        ("Permission", "api-e7f981a5"),  # "api-" + sha1("GET/date")[:8]
        ("Stage", "api"),
    ]
    api = children["RestApi", "api"].inputs
    assert api["name"] == "api" and api["binaryMediaTypes"] == ["*/*"] and "apiKeySource" not in api
    document = body(children)
    assert document["info"] == {"title": "api", "version": "1.0"}
    assert document["x-amazon-apigateway-api-key-source"] == "HEADER"
    assert set(document["x-amazon-apigateway-gateway-responses"]) == {"MISSING_AUTHENTICATION_TOKEN", "ACCESS_DENIED"}
    integration = document["paths"]["/date"]["get"]["x-amazon-apigateway-integration"]
    assert integration == {
        "uri": UNKNOWN,
        "passthroughBehavior": "when_no_match",
        "httpMethod": "POST",
        "type": "aws_proxy",
    }
    assert "security" not in document["paths"]["/date"]["get"]
    permission = children["Permission", "api-e7f981a5"]
    assert permission.inputs["function"] == FUNCTION_ID
    assert permission.inputs["principal"] == "apigateway.amazonaws.com"
    assert permission.inputs["action"] == "lambda:invokeFunction"
    assert permission.inputs["sourceArn"] == Ref(
        "api", "executionArn", type=aws_apigateway.API_TYPE, suffix="/*/GET/date"
    )
    stage = children["Stage", "api"]
    assert stage.inputs["stageName"] == "stage" and stage.depends_on == ("api-e7f981a5",)
    assert stage.inputs["deployment"] == Ref("api", type=aws_apigateway.DEPLOYMENT_TYPE)
    assert children["Deployment", "api"].inputs["variables"] == {"version": UNKNOWN}


def test_rest_api_any_method_is_a_wildcard_in_the_permission_and_one_permission_per_path_and_method() -> None:
    children = rest_api(
        {"routes": [date_route(method="ANY"), date_route(path="items"), date_route(path="items", method="POST")]}
    )
    permissions = [child for child in children.values() if child.type == aws_apigateway.PERMISSION_TYPE]
    assert [p.inputs["sourceArn"].suffix for p in permissions] == ["/*/*/date", "/*/GET/items", "/*/POST/items"]
    assert set(body(children)["paths"]) == {"/date", "/items"}  # a path without its leading slash gets one
    assert set(body(children)["paths"]["/date"]) == {"x-amazon-apigateway-any-method"}


def test_rest_api_options_the_component_passes_on() -> None:
    children = rest_api(
        {
            "routes": [date_route()],
            "stageName": "v1",
            "tags": {"team": "web"},
            "description": "dates",
            "apiKeySource": "AUTHORIZER",
            "binaryMediaTypes": ["image/png"],
            "disableExecuteApiEndpoint": True,
            "gatewayResponses": {"ACCESS_DENIED": {"statusCode": 403.0, "responseTemplates": {"a": "b"}}},
        }
    )
    api = children["RestApi", "api"].inputs
    assert api["description"] == "dates" and api["disableExecuteApiEndpoint"] is True
    assert api["apiKeySource"] == "AUTHORIZER" and api["binaryMediaTypes"] == ["image/png"]
    assert api["tags"] == children["Stage", "api"].inputs["tags"] == {"team": "web"}
    assert children["Stage", "api"].inputs["stageName"] == "v1"
    document = body(children)
    assert document["x-amazon-apigateway-api-key-source"] == "AUTHORIZER"
    assert document["x-amazon-apigateway-binary-media-types"] == ["image/png"]
    responses = document["x-amazon-apigateway-gateway-responses"]
    assert responses["ACCESS_DENIED"] == {"statusCode": 403, "responseTemplates": {"a": "b"}}  # 403, not 403.0
    assert responses["MISSING_AUTHENTICATION_TOKEN"]["statusCode"] == 404


def test_rest_api_request_validators_api_wide_and_per_route() -> None:
    document = body(rest_api({"routes": [date_route(requestValidator="PARAMS_ONLY")], "requestValidator": "ALL"}))
    assert document["x-amazon-apigateway-request-validator"] == "ALL"
    assert set(document["x-amazon-apigateway-request-validators"]) == {"ALL", "BODY_ONLY", "PARAMS_ONLY"}
    assert document["paths"]["/date"]["get"]["x-amazon-apigateway-request-validator"] == "PARAMS_ONLY"


def test_rest_api_required_parameters_iam_auth_and_api_key() -> None:
    route = date_route(requiredParameters=[{"name": "tz", "in": "query"}], iamAuthEnabled=True, apiKeyRequired=True)
    document = body(rest_api({"routes": [route]}))
    operation = document["paths"]["/date"]["get"]
    assert operation["parameters"] == [{"name": "tz", "in": "query", "required": True}]
    assert operation["x-amazon-apigateway-auth"] == {"type": "AWS_IAM"}
    assert operation["security"] == [{"api_key": []}]
    assert document["securityDefinitions"] == {"api_key": {"type": "apiKey", "name": "x-api-key", "in": "header"}}


def test_rest_api_lambda_authorizer_registers_its_role_and_policy_once() -> None:
    authorizer = {
        "parameterName": "Authorization",
        "parameterLocation": "header",
        "authType": "oauth2",
        "type": "token",
        "handler": "authorizer-fn",
        "authorizerResultTtlInSeconds": 300.0,
    }
    children = rest_api(
        {"routes": [date_route(authorizers=[authorizer]), date_route(path="/b", authorizers=[authorizer])]}
    )
    assert [key for key in children if key[0] in ("Role", "RolePolicy")] == [
        ("Role", "api-authorizer-0-authorizer-role"),
        ("RolePolicy", "api-authorizer-0-invocation-policy"),
        ("Role", "api-authorizer-1-authorizer-role"),  # a second unnamed authorizer gets the next suffix
        ("RolePolicy", "api-authorizer-1-invocation-policy"),
    ]
    trust = json.loads(children["Role", "api-authorizer-0-authorizer-role"].inputs["assumeRolePolicy"])
    assert trust["Statement"][0]["Principal"] == {"Service": ["lambda.amazonaws.com", "apigateway.amazonaws.com"]}
    assert children["RolePolicy", "api-authorizer-0-invocation-policy"].inputs["role"] == Ref(
        "api-authorizer-0-authorizer-role"
    )
    document = body(children)
    assert document["paths"]["/date"]["get"]["security"] == [{"api-authorizer-0": []}]
    definition = document["securityDefinitions"]["api-authorizer-0"]
    assert definition["in"] == "header" and definition["x-amazon-apigateway-authtype"] == "oauth2"
    assert definition["x-amazon-apigateway-authorizer"] == {
        "type": "token",
        "authorizerUri": UNKNOWN,
        "authorizerCredentials": UNKNOWN,
        "identitySource": "",
        "authorizerResultTtlInSeconds": 300,
    }


def test_rest_api_named_authorizer_is_defined_once_and_cognito_needs_no_resource() -> None:
    cognito = {
        "authorizerName": "users",
        "parameterName": "Authorization",
        "identitySource": ["method.request.header.Authorization"],
        "providerARNs": ["arn:aws:cognito-idp:eu-west-1:123456789012:userpool/eu-west-1_abc"],
        "methodsToAuthorize": ["shop/read"],
    }
    children = rest_api({"routes": [date_route(authorizers=[cognito]), date_route(path="/b", authorizers=[cognito])]})
    assert not [key for key in children if key[0] in ("Role", "RolePolicy")]
    document = body(children)
    assert list(document["securityDefinitions"]) == ["users"]
    assert document["securityDefinitions"]["users"] == {
        "type": "apiKey",
        "name": "Authorization",
        "in": "header",
        "x-amazon-apigateway-authtype": "cognito_user_pools",
        "x-amazon-apigateway-authorizer": {
            "type": "cognito_user_pools",
            "identitySource": "method.request.header.Authorization",
            "providerARNs": ["arn:aws:cognito-idp:eu-west-1:123456789012:userpool/eu-west-1_abc"],
        },
    }
    assert document["paths"]["/b"]["get"]["security"] == [{"users": ["shop/read"]}]


@pytest.fixture
def site(tmp_path: Path) -> Path:
    (tmp_path / "www" / "css").mkdir(parents=True)
    (tmp_path / "www" / "index.html").write_text("<h1>hi</h1>")
    (tmp_path / "www" / "b.txt").write_text("b")
    (tmp_path / "www" / ".well-known").mkdir()
    (tmp_path / "www" / ".well-known" / "security.txt").write_text("x")
    (tmp_path / "www" / "css" / "site.css").write_text("h1 {}")
    (tmp_path / "www" / "README").write_text("no extension")
    return tmp_path


def test_rest_api_static_folder_route_uploads_every_file_with_a_role(site: Path) -> None:
    children = rest_api({"routes": [{"path": "/", "localPath": "www"}]}, site)
    key = "api4c238266"  # "api" + sha1("get:/")[:8]
    assert list(children) == [
        ("Bucket", "api"),
        ("Role", key),
        ("RolePolicyAttachment", key),
        ("BucketObject", f"{key}/.well-known/security.txt"),  # hidden files too, depth first, names sorted
        ("BucketObject", f"{key}/README"),
        ("BucketObject", f"{key}/b.txt"),
        ("BucketObject", f"{key}/css/site.css"),
        ("BucketObject", f"{key}/index.html"),
        ("RestApi", "api"),
        ("Deployment", "api"),
        ("Stage", "api"),
    ]
    index = children["BucketObject", f"{key}/index.html"].inputs
    assert index["key"] == f"{key}/index.html" and index["contentType"] == "text/html"
    assert index["bucket"] == Ref("api", type=aws_apigateway.BUCKET_TYPE)
    assert index["source"]["path"] == str(site / "www" / "index.html")
    assert "contentType" not in children["BucketObject", f"{key}/README"].inputs  # mime knows no type for it
    assert children["RolePolicyAttachment", key].inputs == {
        "role": Ref(key, type=aws_apigateway.ROLE_TYPE),
        "policyArn": "arn:aws:iam::aws:policy/AmazonS3FullAccess",
    }
    trust = json.loads(children["Role", key].inputs["assumeRolePolicy"])
    assert trust["Statement"][0]["Principal"] == {"Service": "apigateway.amazonaws.com"}
    paths = body(children)["paths"]
    assert list(paths) == ["/", "/{proxy+}"]
    proxy = paths["/{proxy+}"]["x-amazon-apigateway-any-method"]
    assert proxy["x-amazon-apigateway-integration"]["type"] == "aws"
    assert proxy["x-amazon-apigateway-integration"]["requestParameters"] == {
        "integration.request.path.proxy": "method.request.path.proxy"
    }
    assert paths["/"]["get"]["x-amazon-apigateway-integration"]["credentials"] == UNKNOWN


def test_rest_api_static_folder_index_options_and_a_given_bucket(site: Path) -> None:
    no_index = rest_api({"routes": [{"path": "/site", "localPath": "www", "index": False}]}, site)
    assert list(body(no_index)["paths"]) == ["/site/{proxy+}"]
    other_index = rest_api(
        {"routes": [{"path": "/site/", "localPath": "www", "index": "b.txt"}], "staticRoutesBucket": "my-bucket"}, site
    )
    assert ("Bucket", "api") not in other_index
    assert list(body(other_index)["paths"]) == ["/site/", "/site/{proxy+}"]
    assert all(
        child.inputs["bucket"] == "my-bucket"
        for child in other_index.values()
        if child.type == aws_apigateway.OBJECT_TYPE
    )
    paths = body(other_index)["paths"]
    key = "api7fc65ca9"  # "api" + sha1("get:/site/")[:8]
    assert paths["/site/"]["get"]["x-amazon-apigateway-integration"]["uri"] == (
        f"arn:aws:apigateway:eu-west-1:s3:path/my-bucket/{key}/b.txt"
    )
    assert paths["/site/{proxy+}"]["x-amazon-apigateway-any-method"]["x-amazon-apigateway-integration"]["uri"] == (
        f"arn:aws:apigateway:eu-west-1:s3:path/my-bucket/{key}/{{proxy}}"
    )


def test_rest_api_static_file_route_with_its_content_type_and_tags(site: Path) -> None:
    children = rest_api(
        {
            "routes": [{"path": "/readme", "localPath": "www/README", "contentType": "text/markdown"}],
            "tags": {"a": "b"},
        },
        site,
    )
    key = "apide04c716"  # "api" + sha1("get:/readme")[:8]
    obj = children["BucketObject", key].inputs
    assert obj["key"] == key and obj["contentType"] == "text/markdown" and obj["source"]["path"] == "www/README"
    assert obj["tags"] == children["Role", key].inputs["tags"] == {"a": "b"}
    assert list(body(children)["paths"]) == ["/readme"]


def test_rest_api_integration_and_raw_data_routes() -> None:
    children = rest_api(
        {
            "routes": [
                {"path": "/proxy", "target": {"type": "http_proxy", "uri": "https://example.com"}},
                {"path": "/vpc", "target": {"uri": UNKNOWN, "connectionType": "VPC_LINK", "connectionId": "abc"}},
                {"path": "/raw", "method": "POST", "data": {"x-amazon-apigateway-integration": {"type": "mock"}}},
            ]
        }
    )
    paths = body(children)["paths"]
    assert list(paths) == ["/proxy/", "/proxy/{proxy+}", "/vpc/", "/vpc/{proxy+}", "/raw"]
    plain = paths["/proxy/"]["x-amazon-apigateway-any-method"]["x-amazon-apigateway-integration"]
    assert plain["uri"] == "https://example.com/" and plain["passthroughBehavior"] == "when_no_match"
    proxied = paths["/proxy/{proxy+}"]["x-amazon-apigateway-any-method"]["x-amazon-apigateway-integration"]
    assert proxied["uri"] == "https://example.com/{proxy}" and proxied["httpMethod"] == "ANY"
    vpc = paths["/vpc/"]["x-amazon-apigateway-any-method"]["x-amazon-apigateway-integration"]
    assert vpc["type"] == "http_proxy" and vpc["uri"] == UNKNOWN and vpc["connectionId"] == "abc"
    assert paths["/raw"] == {"post": {"x-amazon-apigateway-integration": {"type": "mock"}}}
    assert not [child for child in children.values() if child.type == aws_apigateway.PERMISSION_TYPE]
    unknown_target = body(rest_api({"routes": [{"path": "/x", "target": UNKNOWN}]}))["paths"]["/x/"]
    assert unknown_target["x-amazon-apigateway-any-method"]["x-amazon-apigateway-integration"]["type"] == UNKNOWN


def test_rest_api_an_empty_binary_media_type_list_is_kept() -> None:
    children = rest_api({"routes": [date_route()], "binaryMediaTypes": []})
    assert children["RestApi", "api"].inputs["binaryMediaTypes"] == []
    assert body(children)["x-amazon-apigateway-binary-media-types"] == []


def test_rest_api_swagger_string_gets_a_title_and_no_route_resources() -> None:
    children = rest_api({"swaggerString": json.dumps({"swagger": "2.0", "paths": {}})})
    assert list(children) == [("RestApi", "api"), ("Deployment", "api"), ("Stage", "api")]
    assert body(children)["info"] == {"title": "api"}
    titled = rest_api({"swaggerString": json.dumps({"info": {"title": "Shop"}, "paths": {}})})
    assert titled["RestApi", "api"].inputs["name"] == "Shop"
    unknown = rest_api({"swaggerString": UNKNOWN})
    assert unknown["RestApi", "api"].inputs["body"] == unknown["RestApi", "api"].inputs["name"] == UNKNOWN


def test_rest_api_unknown_function_keeps_the_document_known() -> None:
    children = rest_api({"routes": [date_route(eventHandler=UNKNOWN)]})
    assert children["Permission", "api-e7f981a5"].inputs["function"] == UNKNOWN
    assert list(body(children)["paths"]) == ["/date"]


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        ({}, "either [swaggerString] or at least one route"),
        ({"routes": [{"path": "/d", "eventHandler": FUNCTION_ID}]}, "route '/d' is missing required [method]"),
        ({"routes": [date_route(method="TRACE")]}, "method 'TRACE' is not supported"),
        ({"routes": [{"path": "/", "localPath": "missing"}]}, "localPath 'missing' does not exist"),
    ],
)
def test_rest_api_inputs_the_package_rejects(inputs: Mapping[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        rest_api(inputs)


# ---- synced-folder: pure models -----------------------------------------------------------------------


def folder(builder: Any, inputs: Mapping[str, Any], program_dir: Path) -> list[Child]:
    return list(builder(inputs, ConstructContext("site", program_dir, "eu-west-1")))


def test_s3_bucket_folder_defaults_one_object_per_visible_file(site: Path) -> None:
    children = folder(
        synced_folder.build_s3_bucket_folder, {"path": "www", "bucketName": "b-1", "acl": "private"}, site
    )
    assert [child.name for child in children] == [
        "site-README",
        "site-b.txt",
        "site-css/site.css",
        "site-index.html",
    ]
    assert {child.type for child in children} == {"aws:s3/bucketObject:BucketObject"}
    index = children[3].inputs
    assert index["key"] == "index.html" and index["acl"] == "private" and index["bucket"] == "b-1"
    assert index["contentType"] == "text/html" and index["source"]["path"] == "www/index.html"
    assert children[0].inputs["contentType"] == "text/plain"  # the package's fallback
    assert children[2].inputs["contentType"] == "text/css"


def test_s3_bucket_folder_keys_keep_the_folder_when_its_path_starts_with_dot_slash(site: Path) -> None:
    # glob 11 returns "www/index.html" for "./www/**/*", and the package strips "./www/" from it: nothing.
    children = folder(
        synced_folder.build_s3_bucket_folder, {"path": "./www", "bucketName": "b", "acl": "private"}, site
    )
    assert children[3].name == "site-www/index.html" and children[3].inputs["key"] == "www/index.html"


def test_s3_bucket_folder_of_an_unknown_or_missing_path_has_no_object(site: Path) -> None:
    inputs = {"path": UNKNOWN, "bucketName": "b", "acl": "private"}
    assert folder(synced_folder.build_s3_bucket_folder, inputs, site) == []
    assert folder(synced_folder.build_s3_bucket_folder, {"bucketName": "b", "acl": "private"}, site) == []


def test_s3_bucket_folder_hidden_files_on_request(site: Path) -> None:
    inputs = {"path": "www", "bucketName": "b", "acl": "private", "includeHiddenFiles": True}
    names = [child.name for child in folder(synced_folder.build_s3_bucket_folder, inputs, site)]
    assert "site-.well-known/security.txt" in names and len(names) == 5


def test_s3_bucket_folder_unmanaged_objects_are_one_sync_command(site: Path) -> None:
    for file in (site / "www").rglob("*"):
        os.utime(file, (0, 86400 * 365))
    inputs = {"path": "www", "bucketName": "b-1", "acl": "public-read", "managedObjects": False}
    [command] = folder(synced_folder.build_s3_bucket_folder, inputs, site)
    assert (command.type, command.name) == ("command:local:Command", "site-sync-command")
    sync = 'aws s3 sync "www" "s3://b-1" --acl "public-read" --region "eu-west-1" --delete --only-show-errors'
    assert command.inputs["create"] == command.inputs["update"] == sync
    assert command.inputs["delete"] == 'aws s3 rm "s3://b-1" --include "*" --recursive --only-show-errors'
    assert command.inputs["environment"] == {
        "LAST_MODIFIED": "Fri Jan 01 1971 00:00:00 GMT+0000 (Coordinated Universal Time)"
    }
    [unknown] = folder(synced_folder.build_s3_bucket_folder, {**inputs, "bucketName": UNKNOWN}, site)
    assert unknown.inputs["create"] == unknown.inputs["delete"] == UNKNOWN


def test_azure_and_google_folders(site: Path) -> None:
    azure = folder(
        synced_folder.build_azure_blob_folder,
        {"path": "www", "storageAccountName": "acct", "resourceGroupName": "rg", "containerName": "$web"},
        site,
    )
    assert azure[3].type == "azure-native:storage:Blob" and azure[3].name == "site-index.html"
    assert azure[3].inputs["blobName"] == "index.html" and azure[3].inputs["containerName"] == "$web"
    google = folder(
        synced_folder.build_google_cloud_folder, {"path": "www", "bucketName": "g", "managedObjects": False}, site
    )
    assert google[0].inputs["create"] == 'gsutil -q -m rsync -r -d "www" "gs://g"'
    assert google[0].inputs["delete"] == 'gsutil -q rm "gs://g/**"'
    objects = folder(synced_folder.build_google_cloud_folder, {"path": "www", "bucketName": "g"}, site)
    assert objects[3].type == "gcp:storage/bucketObject:BucketObject" and objects[3].inputs["name"] == "index.html"


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("www/app.js", "application/javascript"),
        ("www/a.JSON", "application/json"),
        ("logo.svg", "image/svg+xml"),
        ("favicon.ico", "image/vnd.microsoft.icon"),
        ("font.woff2", "font/woff2"),
        ("archive.tar", "application/x-tar"),
        ("www/README", None),
        ("www/.htaccess", None),
        ("www/file.unknownext", None),
    ],
)
def test_content_types_as_npm_mime_gives_them(path: str, expected: str | None) -> None:
    assert content_type(path) == expected


# ---- through the offline engine: the foreign programs in the shape of Pulumi's templates ----------------

FOREIGN = Path(__file__).resolve().parents[1] / "policy" / "foreign"


def by_type_and_name(run: ProgramRun) -> dict[tuple[str, str], RecordedResource]:
    return {(record.type.rsplit(":", 1)[-1], record.name): record for record in run.resources}


@pytest.fixture(scope="module")
def serverless() -> ProgramRun:
    return run_program_dir(FOREIGN / "serverless-rest-api", files=pulumi_files)


def test_serverless_api_children_are_registered_under_the_component(serverless: ProgramRun) -> None:
    records = by_type_and_name(serverless)
    component, api, stage = records["RestAPI", "api"], records["RestApi", "api"], records["Stage", "api"]
    assert component.remote and not_checked(serverless) == []
    children = [record for record in serverless.resources if record.parent == component.urn]
    assert len(children) == 10
    assert stage.urn.endswith("::aws-apigateway:index:RestAPI$aws:apigateway/stage:Stage::api")
    assert stage.inputs["restApi"] == records["Deployment", "api"].inputs["restApi"] == api.id
    assert stage.inputs["deployment"] == records["Deployment", "api"].id
    permission = records["Permission", "api-e7f981a5"]
    assert permission.inputs["function"] == records["Function", "fn"].id
    assert api.outputs["executionArn"] == f"arn:aws:execute-api:us-east-1:123456789012:{api.id}"  # mocked
    assert permission.inputs["sourceArn"] == f"{api.outputs['executionArn']}/*/GET/date"
    assert permission.urn in stage.dependencies
    index = records["BucketObject", "api4c238266/index.html"]
    assert index.inputs["bucket"] == records["Bucket", "api"].id and index.inputs["contentType"] == "text/html"


def test_serverless_api_body_integrates_the_handler_the_program_passed(serverless: ProgramRun) -> None:
    # The plugin reads the handler's invokeArn from the resource reference; after a create the engine knows it.
    records = by_type_and_name(serverless)
    document = json.loads(records["RestApi", "api"].inputs["body"])
    integration = document["paths"]["/date"]["get"]["x-amazon-apigateway-integration"]
    assert integration["uri"] == records["Function", "fn"].outputs["invokeArn"]
    assert integration["uri"].endswith(f":function:{records['Function', 'fn'].id}/invocations")


def test_serverless_api_body_stays_decidable_in_a_first_preview() -> None:
    run = run_program_dir(FOREIGN / "serverless-rest-api", files=pulumi_files, first_preview=True)
    records = by_type_and_name(run)
    document = json.loads(records["RestApi", "api"].inputs["body"])
    assert {path: list(operations) for path, operations in document["paths"].items()} == {
        "/": ["get"],
        "/{proxy+}": ["x-amazon-apigateway-any-method"],
        "/date": ["get"],
    }
    assert records["Permission", "api-e7f981a5"].inputs_struct["sourceArn"] == UNKNOWN
    assert document["paths"]["/date"]["get"]["x-amazon-apigateway-integration"]["uri"] == UNKNOWN


def test_static_website_folder_objects_are_registered_from_the_www_files() -> None:
    run = run_program_dir(FOREIGN / "static-website-folder", files=pulumi_files)
    records = by_type_and_name(run)
    component = records["S3BucketFolder", "bucket-folder"]
    objects = [record for record in run.resources if record.parent == component.urn]
    assert [record.name for record in objects] == [
        "bucket-folder-www/assets/site.css",
        "bucket-folder-www/error.html",
        "bucket-folder-www/favicon.png",  # .notes is hidden: not uploaded
        "bucket-folder-www/index.html",
        "bucket-folder-www/robots.txt",
    ]
    bucket_name = records["BucketV2", "bucket"].outputs["bucket"]
    assert all(record.inputs["bucket"] == bucket_name and record.inputs["acl"] == "public-read" for record in objects)
    assert [record.inputs["contentType"] for record in objects] == [
        "text/css",
        "text/html",
        "image/png",
        "text/html",
        "text/plain",
    ]
    assert not_checked(run) == []
