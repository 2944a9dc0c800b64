import datetime
import json


def handler(event, context):
    return {
        "statusCode": 200,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps({"uptime": datetime.datetime.now().isoformat()}),
    }
