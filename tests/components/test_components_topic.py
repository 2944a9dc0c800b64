"""Topic: an SNS topic under the AWS-managed key, TLS-only, each subscription with its own DLQ."""

from __future__ import annotations

import json

import pytest

from components.topic import SubscriptionArgs, Topic, TopicArgs, TopicPublisher
from tests.components.conftest import ACCOUNT, PARTITION, REGION, TAGS, build

TOPIC = "aws:sns/topic:Topic"
TOPIC_POLICY = "aws:sns/topicPolicy:TopicPolicy"
SUBSCRIPTION = "aws:sns/topicSubscription:TopicSubscription"
QUEUE_COMPONENT = "orderflow:messaging:Queue"
FUNCTION_ARN = f"arn:{PARTITION}:lambda:{REGION}:{ACCOUNT}:function:probe-test-worker"
TLS_ONLY = {
    "Sid": "DenyInsecureTransport",
    "Effect": "Deny",
    "Principal": "*",
    "Action": "sns:Publish",
    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
}


def test_defaults_an_encrypted_topic_published_to_over_tls_only() -> None:
    built = build(lambda: Topic("alerts", TopicArgs(tags=TAGS)))

    assert built.component.type == "orderflow:messaging:Topic"
    assert built.kinds() == {(TOPIC, "alerts-topic"), (TOPIC_POLICY, "alerts-policy")}
    assert built.inputs("alerts-topic") == {"kmsMasterKeyId": "alias/aws/sns"}
    topic_arn = built.child("alerts-topic").outputs["arn"]
    policy = built.inputs("alerts-policy")
    assert policy["arn"] == topic_arn
    assert json.loads(policy["policy"]) == {"Version": "2012-10-17", "Statement": [TLS_ONLY | {"Resource": topic_arn}]}


def test_opt_out_no_encryption_key() -> None:
    built = build(lambda: Topic("clear", TopicArgs(kms_master_key_id=None, tags=TAGS)))

    assert "kmsMasterKeyId" not in built.inputs("clear-topic")


def test_publishers_may_publish_only_on_behalf_of_their_source() -> None:
    rule = f"arn:{PARTITION}:events:{REGION}:{ACCOUNT}:rule/r"
    built = build(
        lambda: Topic("alerts", TopicArgs(publishers=[TopicPublisher("events.amazonaws.com", rule)], tags=TAGS))
    )

    topic_arn = built.child("alerts-topic").outputs["arn"]
    assert json.loads(built.inputs("alerts-policy")["policy"])["Statement"][1] == {
        "Sid": "AllowPublish0",
        "Effect": "Allow",
        "Principal": {"Service": "events.amazonaws.com"},
        "Action": "sns:Publish",
        "Resource": topic_arn,
        "Condition": {"ArnEquals": {"aws:SourceArn": rule}},
    }


def test_every_subscription_redrives_to_its_own_dlq_only_the_topic_may_fill() -> None:
    subscriptions = {"email": SubscriptionArgs("email", "ops@example.com")}
    built = build(lambda: Topic("alerts", TopicArgs(subscriptions=subscriptions, tags=TAGS)))

    assert built.kinds() == {
        (TOPIC, "alerts-topic"),
        (TOPIC_POLICY, "alerts-policy"),
        (QUEUE_COMPONENT, "alerts-email-dlq"),
        (SUBSCRIPTION, "alerts-email"),
    }
    topic_arn = built.child("alerts-topic").outputs["arn"]
    dlq = built.run.named("alerts-email-dlq-queue")
    assert dlq.parent == built.child("alerts-email-dlq").urn
    assert dlq.inputs["messageRetentionSeconds"] == 14 * 24 * 3600
    send = json.loads(built.run.named("alerts-email-dlq-policy").inputs["policy"])["Statement"][1]
    assert send["Principal"] == {"Service": "sns.amazonaws.com"}
    assert send["Condition"] == {"ArnEquals": {"aws:SourceArn": topic_arn}}
    assert built.inputs("alerts-email") == {
        "topic": topic_arn,
        "protocol": "email",
        "endpoint": "ops@example.com",
        "redrivePolicy": json.dumps({"deadLetterTargetArn": dlq.outputs["arn"]}),
    }


def test_a_lambda_subscription_may_invoke_only_from_this_topic() -> None:
    subscriptions = {"worker": SubscriptionArgs("lambda", FUNCTION_ARN, filter_policy={"kind": ["a"]})}
    built = build(lambda: Topic("alerts", TopicArgs(subscriptions=subscriptions, tags=TAGS)))

    topic_arn = built.child("alerts-topic").outputs["arn"]
    assert built.inputs("alerts-worker-invoke") == {
        "action": "lambda:InvokeFunction",
        "function": FUNCTION_ARN,
        "principal": "sns.amazonaws.com",
        "sourceArn": topic_arn,
    }
    assert built.child("alerts-worker-invoke").urn in built.child("alerts-worker").dependencies
    assert json.loads(built.inputs("alerts-worker")["filterPolicy"]) == {"kind": ["a"]}


def test_raw_delivery_only_where_sns_has_it_for_queues() -> None:
    queue_arn = f"arn:{PARTITION}:sqs:{REGION}:{ACCOUNT}:q"
    subscriptions = {
        "queue": SubscriptionArgs("sqs", queue_arn, raw_message_delivery=True),
        "email": SubscriptionArgs("email", "ops@example.com", raw_message_delivery=True),
    }
    built = build(lambda: Topic("alerts", TopicArgs(subscriptions=subscriptions, tags=TAGS)))

    assert built.inputs("alerts-queue")["rawMessageDelivery"] is True
    assert "rawMessageDelivery" not in built.inputs("alerts-email")


def test_a_body_filter_says_its_scope() -> None:
    subscriptions = {
        "mail": SubscriptionArgs("email", "ops@example.com", {"a": ["b"]}, filter_policy_scope="MessageBody")
    }

    built = build(lambda: Topic("alerts", TopicArgs(subscriptions=subscriptions, tags=TAGS)))

    assert built.inputs("alerts-mail")["filterPolicyScope"] == "MessageBody"


def test_an_unknown_filter_scope_fails_naming_the_subscription() -> None:
    subscriptions = {"mail": SubscriptionArgs("email", "ops@example.com", {"a": ["b"]}, filter_policy_scope="Body")}

    with pytest.raises(Exception, match="subscription 'mail' has filter policy scope 'Body'"):
        build(lambda: Topic("alerts", TopicArgs(subscriptions=subscriptions, tags=TAGS)))
