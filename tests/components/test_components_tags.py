"""The component kit's tag check: taggable is what the pinned ``pulumi_aws`` says, and untagged means no ``tags``."""

from __future__ import annotations

import pytest

from components.queue import Queue, QueueArgs
from tests.components.conftest import build, is_taggable


@pytest.mark.parametrize(
    ("type_token", "taggable"),
    [
        ("aws:sqs/queue:Queue", True),
        ("aws:lambda/function:Function", True),
        ("aws:s3/bucketObjectv2:BucketObjectv2", True),
        ("aws:cloudwatch/eventRule:EventRule", True),
        ("aws:lambda/permission:Permission", False),
        ("aws:lambda/layerVersion:LayerVersion", False),
        ("aws:iam/rolePolicy:RolePolicy", False),
        ("aws:cloudwatch/eventTarget:EventTarget", False),
        ("orderflow:messaging:Queue", False),
    ],
)
def test_taggable_is_read_from_the_providers_args_signature(type_token: str, taggable: bool) -> None:
    assert is_taggable(type_token) is taggable


def test_a_component_given_no_tags_sets_none_so_the_provider_default_tags_are_all_its_children_get() -> None:
    built = build(lambda: Queue("jobs", QueueArgs()), tags={})

    assert all("tags" not in child.inputs for child in built.children)


def test_a_child_missing_the_components_tags_fails_the_build() -> None:
    with pytest.raises(AssertionError, match="jobs-queue"):
        build(lambda: Queue("jobs", QueueArgs()))
