"""The local stack's own parts, all derived from template.yaml so that what runs here is what
AWS runs: the tables (with their indexes and streams), buckets and queues (`provision`), the
functions' environment (`env`), the HttpApi's routes (`gateway`, a router in front of
cargo-lambda's function URLs), Lambda's event sources (`poller`: SQS queues, DynamoDB streams
and EventBridge schedules), and the snapshot that carries S3 and SQS across a restart (`save`,
`restore`; LocalStack's own persistence is not in its free edition).

Runs in the LocalStack virtualenv (boto3, PyYAML). Never prints message bodies or objects: they
hold PHI.
"""

import argparse
import hashlib
import http.server
import json
import os
import re
import shlex
import socket
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
ACCOUNT = "000000000000"
REGION = "us-east-1"


# --- template.yaml --------------------------------------------------------------------------


class TemplateLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short-form intrinsics (`!Ref X` becomes {"Ref": "X"})."""


def _intrinsic(loader, suffix, node):
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if suffix == "Ref":
        return {"Ref": value}
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {"Fn::" + suffix: value}


TemplateLoader.add_multi_constructor("!", _intrinsic)


class Template:
    """template.yaml resolved for one stage on the local stack."""

    def __init__(self, stage, path=TEMPLATE):
        self.doc = yaml.load(path.read_text(), Loader=TemplateLoader)
        self.stage = stage
        self.resources = self.doc["Resources"]

    def of_type(self, kind):
        return {n: r for n, r in self.resources.items() if r["Type"] == kind}

    def sub(self, text):
        names = {
            "Stage": self.stage,
            "AWS::AccountId": ACCOUNT,
            "AWS::Region": REGION,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
        }

        def one(m):
            name = m.group(1)
            if name in names:
                return names[name]
            if "." in name:
                return self.resolve({"Fn::GetAtt": name.split(".", 1)})
            return self.resolve({"Ref": name})

        return re.sub(r"\$\{([^}]+)\}", one, text)

    def resolve(self, value):
        """A property's value: intrinsics replaced by what LocalStack names things."""
        if isinstance(value, dict) and len(value) == 1:
            (key, arg), = value.items()
            if key == "Ref":
                if arg == "Stage":
                    return self.stage
                parameter = self.doc.get("Parameters", {}).get(arg)
                if parameter is not None and "Default" in parameter:
                    return str(parameter["Default"])
                resource = self.resources.get(arg)
                if resource is None:
                    raise KeyError(f"!Ref {arg}: not a resource the local stack provides")
                return self.name(arg)
            if key == "Fn::Sub":
                return self.sub(arg)
            if key == "Fn::GetAtt":
                name, attribute = arg
                if attribute != "Arn":
                    raise KeyError(f"!GetAtt {name}.{attribute}: only Arn is provided locally")
                return self.arn(name)
        if isinstance(value, dict):
            return {k: self.resolve(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        return value

    # Each kind of resource the local stack provides: the property naming it, and its ARN.
    KINDS = {
        "AWS::DynamoDB::Table": ("TableName", "arn:aws:dynamodb:{region}:{account}:table/{name}"),
        "AWS::S3::Bucket": ("BucketName", "arn:aws:s3:::{name}"),
        "AWS::SQS::Queue": ("QueueName", "arn:aws:sqs:{region}:{account}:{name}"),
    }

    def physical(self, logical):
        """The resource's kind and its name (a queue's name, not its URL)."""
        kind = self.resources[logical]["Type"]
        if kind not in self.KINDS:
            raise KeyError(f"{logical} ({kind}): not provided locally")
        prop = self.KINDS[kind][0]
        return kind, self.resolve(self.resources[logical]["Properties"][prop])

    def name(self, logical):
        """What `!Ref logical` is: a table's or bucket's name, a queue's URL."""
        kind, name = self.physical(logical)
        return queue_url(name) if kind == "AWS::SQS::Queue" else name

    def arn(self, logical):
        kind, name = self.physical(logical)
        return self.KINDS[kind][1].format(region=REGION, account=ACCOUNT, name=name)

    def mapped_events(self, function):
        """The function's event source mappings (AWS::Lambda::EventSourceMapping), as the SAM
        events they stand for: an SQS queue's, or a DynamoDB table's stream."""
        events = {}
        for logical, resource in self.of_type("AWS::Lambda::EventSourceMapping").items():
            props = resource.get("Properties", {})
            if props.get("FunctionName") != {"Ref": function}:
                continue
            source, attribute = props["EventSourceArn"]["Fn::GetAtt"]
            common = {"BatchSize": props.get("BatchSize", 10)}
            if "FunctionResponseTypes" in props:
                common["FunctionResponseTypes"] = props["FunctionResponseTypes"]
            if attribute == "StreamArn":
                events[logical] = {"Type": "DynamoDB", "Properties": {
                    **common, "Stream": {"Fn::GetAtt": [source, "StreamArn"]},
                    "StartingPosition": props.get("StartingPosition", "LATEST")}}
            else:
                events[logical] = {"Type": "SQS", "Properties": {
                    **common, "Queue": {"Fn::GetAtt": [source, "Arn"]}}}
        return events

    def functions(self):
        """Each function: its binary, events (its own and its event source mappings) and
        environment (Globals merged)."""
        glob = self.doc.get("Globals", {}).get("Function", {})
        out = {}
        for logical, resource in self.of_type("AWS::Serverless::Function").items():
            props = resource.get("Properties", {})
            env = dict(glob.get("Environment", {}).get("Variables", {}))
            env.update(props.get("Environment", {}).get("Variables", {}))
            out[logical] = {
                "binary": resource["Metadata"]["BuildProperties"]["Binary"],
                "events": {**props.get("Events", {}), **self.mapped_events(logical)},
                "env": env,
                "timeout": props.get("Timeout", glob.get("Timeout", 3)),
            }
        return out

    def routes(self):
        """(method, path template, binary, scopes) for every HttpApi event."""
        out = []
        for fn in self.functions().values():
            for event in fn["events"].values():
                if event["Type"] != "HttpApi":
                    continue
                p = event["Properties"]
                scopes = p.get("Auth", {}).get("AuthorizationScopes", [])
                out.append((p["Method"].upper(), p["Path"], fn["binary"], scopes))
        return out

    def sqs_mappings(self):
        """(queue URL, ARN, binary, batch size, reports item failures, timeout in seconds) for
        every SQS event."""
        out = []
        for fn in self.functions().values():
            for event in fn["events"].values():
                if event["Type"] != "SQS":
                    continue
                p = event["Properties"]
                arn = self.resolve(p["Queue"])
                url = queue_url(arn.rsplit(":", 1)[1])
                reports = "ReportBatchItemFailures" in p.get("FunctionResponseTypes", [])
                out.append(
                    (url, arn, fn["binary"], int(p.get("BatchSize", 10)), reports, int(fn["timeout"]))
                )
        return out


    def stream_mappings(self):
        """(table name, binary, batch size) for every DynamoDB stream event."""
        out = []
        for fn in self.functions().values():
            for event in fn["events"].values():
                if event["Type"] != "DynamoDB":
                    continue
                p = event["Properties"]
                table = p["Stream"]["Fn::GetAtt"][0]
                out.append((self.name(table), fn["binary"], int(p.get("BatchSize", 100))))
        return out

    def schedules(self):
        """(binary, seconds) for every scheduled event (`rate(N unit)`)."""
        out = []
        for fn in self.functions().values():
            for event in fn["events"].values():
                if event["Type"] not in ("Schedule", "ScheduleV2"):
                    continue
                expression = event["Properties"]["ScheduleExpression"]
                m = re.fullmatch(r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)", expression)
                if not m:
                    raise ValueError(f"{expression}: only rate() schedules run locally")
                unit = {"minute": 60, "hour": 3600, "day": 86400}[m.group(2).rstrip("s")]
                out.append((fn["binary"], int(m.group(1)) * unit))
        return out


def queue_url(name):
    return f"{os.environ.get('AWS_ENDPOINT_URL', 'http://127.0.0.1:4566')}/{ACCOUNT}/{name}"


def clients():
    import boto3  # in the LocalStack virtualenv; `check` runs without it

    s3_endpoint = os.environ.get("AWS_ENDPOINT_URL", "http://127.0.0.1:4566")
    ddb_endpoint = os.environ.get("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:8000")
    common = dict(region_name=REGION, aws_access_key_id="test", aws_secret_access_key="test")
    return (
        boto3.client("dynamodb", endpoint_url=ddb_endpoint, **common),
        boto3.client(
            "s3",
            endpoint_url=s3_endpoint,
            config=boto3.session.Config(s3={"addressing_style": "path"}),
            **common,
        ),
        boto3.client("sqs", endpoint_url=s3_endpoint, **common),
    )


# --- provision ------------------------------------------------------------------------------


def provision(template):
    """Creates what is missing and brings what exists in line; prints one line per resource."""
    ddb, s3, sqs = clients()
    existing = set(ddb.list_tables()["TableNames"])
    for logical, r in template.of_type("AWS::DynamoDB::Table").items():
        p = r["Properties"]
        name = template.name(logical)
        indexes = p.get("GlobalSecondaryIndexes", [])
        stream = p.get("StreamSpecification")
        if name not in existing:
            extra = {}
            if indexes:
                extra["GlobalSecondaryIndexes"] = indexes
            if stream:
                extra["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": stream["StreamViewType"]}
            ddb.create_table(
                TableName=name,
                AttributeDefinitions=p["AttributeDefinitions"],
                KeySchema=p["KeySchema"],
                BillingMode=p.get("BillingMode", "PAY_PER_REQUEST"),
                SSESpecification={"Enabled": p.get("SSESpecification", {}).get("SSEEnabled", False)},
                **extra,
            )
            ddb.get_waiter("table_exists").wait(TableName=name)
        else:
            # A table from an earlier template: its missing indexes and stream added.
            described = ddb.describe_table(TableName=name)["Table"]
            have = {i["IndexName"] for i in described.get("GlobalSecondaryIndexes", [])}
            for index in indexes:
                if index["IndexName"] not in have:
                    ddb.update_table(
                        TableName=name,
                        AttributeDefinitions=p["AttributeDefinitions"],
                        GlobalSecondaryIndexUpdates=[{"Create": index}],
                    )
            if stream and not described.get("StreamSpecification", {}).get("StreamEnabled"):
                ddb.update_table(
                    TableName=name,
                    StreamSpecification={"StreamEnabled": True, "StreamViewType": stream["StreamViewType"]},
                )
        ttl = p.get("TimeToLiveSpecification")
        if ttl:
            status = ddb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
            if status.get("TimeToLiveStatus") not in ("ENABLED", "ENABLING"):
                ddb.update_time_to_live(
                    TableName=name,
                    TimeToLiveSpecification={
                        "AttributeName": ttl["AttributeName"],
                        "Enabled": bool(ttl["Enabled"]),
                    },
                )
        print(f"  table  {name}")
    buckets = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
    for logical, r in template.of_type("AWS::S3::Bucket").items():
        p = r["Properties"]
        name = template.name(logical)
        if name not in buckets:
            s3.create_bucket(Bucket=name)
        if p.get("VersioningConfiguration", {}).get("Status") == "Enabled":
            s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
        block = p.get("PublicAccessBlockConfiguration")
        if block:
            s3.put_public_access_block(
                Bucket=name, PublicAccessBlockConfiguration={k: bool(v) for k, v in block.items()}
            )
        print(f"  bucket {name}")
    # Dead-letter queues first: a redrive policy names its target's ARN.
    queues = template.of_type("AWS::SQS::Queue")
    ordered = sorted(queues, key=lambda n: "RedrivePolicy" in queues[n]["Properties"])
    for logical in ordered:
        p = queues[logical]["Properties"]
        name = template.resolve(p["QueueName"])
        attributes = {}
        for key in ("VisibilityTimeout", "MessageRetentionPeriod", "DelaySeconds"):
            if key in p:
                attributes[key] = str(p[key])
        if "RedrivePolicy" in p:
            redrive = template.resolve(p["RedrivePolicy"])
            attributes["RedrivePolicy"] = json.dumps(
                {
                    "deadLetterTargetArn": redrive["deadLetterTargetArn"],
                    "maxReceiveCount": str(redrive["maxReceiveCount"]),
                }
            )
        url = sqs.create_queue(QueueName=name)["QueueUrl"]
        sqs.set_queue_attributes(QueueUrl=url, Attributes=attributes)
        print(f"  queue  {name}")
    # A bucket's notifications to its queues (the drop zone's), once the queues exist.
    for logical, r in template.of_type("AWS::S3::Bucket").items():
        configured = r["Properties"].get("NotificationConfiguration", {}).get("QueueConfigurations")
        if not configured:
            continue
        name = template.name(logical)
        queues_config = []
        for q in configured:
            entry = {"QueueArn": template.resolve(q["Queue"]), "Events": [q["Event"]]}
            rules = q.get("Filter", {}).get("S3Key", {}).get("Rules")
            if rules:
                entry["Filter"] = {"Key": {"FilterRules": [{"Name": x["Name"], "Value": x["Value"]} for x in rules]}}
            queues_config.append(entry)
        s3.put_bucket_notification_configuration(
            Bucket=name, NotificationConfiguration={"QueueConfigurations": queues_config}
        )
        print(f"  notify {name} -> {', '.join(c['QueueArn'].rsplit(':', 1)[1] for c in queues_config)}")


def least_privilege(template):
    """What the template must hold to keep data in: no SAM event that grants on every resource
    of its kind, every function logging to a log group of ours with a retention and our key,
    every queue TLS-only, the claims table protected from deletion, SSM ARNs well formed."""
    problems = []
    broad = {"SQS": "receive and delete on every queue", "DynamoDB": "every table's stream",
             "Kinesis": "every stream"}
    groups = template.of_type("AWS::Logs::LogGroup")
    for logical, resource in template.of_type("AWS::Serverless::Function").items():
        props = resource.get("Properties", {})
        for name, event in props.get("Events", {}).items():
            if event["Type"] in broad:
                problems.append(f"{logical}: event {name} is SAM's {event['Type']} event, which grants "
                                f"{broad[event['Type']]}; use an AWS::Lambda::EventSourceMapping and a scoped policy")
        group = props.get("LoggingConfig", {}).get("LogGroup", {}).get("Ref")
        if group not in groups:
            problems.append(f"{logical}: logs to no log group of the template's (LoggingConfig.LogGroup)")
        for statement in (s for p in props.get("Policies", []) if isinstance(p, dict)
                          for s in p.get("Statement", [])):
            for arn in statement.get("Resource", []) if isinstance(statement.get("Resource"), list) else []:
                text = arn.get("Fn::Sub", "") if isinstance(arn, dict) else ""
                if ":parameter/${" in text:
                    problems.append(f"{logical}: {text} doubles the slash of a path-style parameter name")
    for logical, resource in groups.items():
        props = resource.get("Properties", {})
        if "RetentionInDays" not in props or "KmsKeyId" not in props:
            problems.append(f"{logical}: a log group without a retention and our KMS key")
    tls_only = set()
    for resource in template.of_type("AWS::SQS::QueuePolicy").values():
        props = resource["Properties"]
        denies = [s for s in props["PolicyDocument"]["Statement"] if s.get("Effect") == "Deny"
                  and s.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport") in (False, "false")]
        if denies:
            tls_only.update(q["Ref"] for q in props["Queues"])
    for logical in template.of_type("AWS::SQS::Queue"):
        if logical not in tls_only:
            problems.append(f"{logical}: a queue without a TLS-only policy")
    for logical, resource in template.of_type("AWS::DynamoDB::Table").items():
        if resource["Properties"].get("DeletionProtectionEnabled") is not True:
            problems.append(f"{logical}: a table without deletion protection")
    return problems


def function_env(template, overrides):
    """KEY=VALUE lines (shell-quoted) for the functions: the template's Globals, resolved, with the local
    stack's settings (no SSM, no authorizer) in place of what AWS provides."""
    env = {}
    for fn in template.functions().values():
        for key, value in fn["env"].items():
            try:
                env[key] = str(template.resolve(value))
            except KeyError:
                continue  # a parameter AWS supplies; the overrides give the local value
    for key in ("PAYER_ENDPOINTS_PARAMETER", "PAYER_CONNECTIONS_PARAMETER", "ORGANIZATIONS_PARAMETER", "JWT_ISSUER"):
        env.pop(key, None)
    env.update(overrides)
    return "".join(f"{k}={shlex.quote(v)}\n" for k, v in sorted(env.items()))


# --- save / restore -------------------------------------------------------------------------


def save(template, directory):
    """Every object (latest version) and every queued message, visible, in flight or delayed,
    written under `directory` so the next start puts them back."""
    _, s3, sqs = clients()
    directory.mkdir(parents=True, exist_ok=True)
    objects = 0
    for logical in template.of_type("AWS::S3::Bucket"):
        bucket = template.name(logical)
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for item in page.get("Contents", []):
                target = directory / "s3" / bucket / item["Key"]
                target.parent.mkdir(parents=True, exist_ok=True)
                body = s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
                target.write_bytes(body)
                objects += 1
    messages = {}
    for logical in template.of_type("AWS::SQS::Queue"):
        url = template.name(logical)
        # LocalStack's developer endpoint lists messages without receiving them.
        query = urllib.parse.urlencode(
            {"QueueUrl": url, "ShowDelayed": "true", "ShowInvisible": "true"}
        )
        endpoint = os.environ.get("AWS_ENDPOINT_URL", "http://127.0.0.1:4566")
        request = urllib.request.Request(
            f"{endpoint}/_aws/sqs/messages?{query}", headers={"Accept": "application/json"}
        )
        result = json.load(urllib.request.urlopen(request, timeout=10))
        listed = result["ReceiveMessageResponse"]["ReceiveMessageResult"] or {}
        found = listed.get("Message", [])
        if isinstance(found, dict):
            found = [found]
        messages[logical] = [m["Body"] for m in found]
    (directory / "sqs.json").write_text(json.dumps(messages))
    count = sum(len(v) for v in messages.values())
    print(f"  saved {objects} objects and {count} queued messages")


def restore(template, directory):
    """Puts a snapshot back (once: the snapshot is removed after) into freshly provisioned
    buckets and queues. Messages that were delayed are delivered at once."""
    _, s3, sqs = clients()
    if not directory.exists():
        return
    objects = 0
    root = directory / "s3"
    if root.exists():
        for bucket_dir in root.iterdir():
            for path in bucket_dir.rglob("*"):
                if path.is_file():
                    key = path.relative_to(bucket_dir).as_posix()
                    s3.put_object(Bucket=bucket_dir.name, Key=key, Body=path.read_bytes())
                    objects += 1
    count = 0
    queued = directory / "sqs.json"
    if queued.exists():
        for logical, bodies in json.loads(queued.read_text()).items():
            if logical not in template.resources:
                continue
            url = template.name(logical)
            for body in bodies:
                sqs.send_message(QueueUrl=url, MessageBody=body)
                count += 1
    print(f"  restored {objects} objects and {count} queued messages")
    for path in sorted(directory.rglob("*"), reverse=True):
        path.unlink() if path.is_file() else path.rmdir()
    directory.rmdir()


# --- gateway --------------------------------------------------------------------------------


# Lambda's limit on a synchronous request's payload (API Gateway's own is 10 MB): a body over
# it never reaches a function, deployed or local.
LAMBDA_PAYLOAD_LIMIT = 6 * 1024 * 1024


def gateway(template, listen, lambda_url):
    """The HttpApi's routing: each template route to its function's URL under cargo-lambda.
    The token is checked by the function itself (no authorizer runs locally)."""
    routes = []
    for method, path, binary, _ in template.routes():
        pattern = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(path)) + "$"
        routes.append((method, re.compile(pattern), binary))

    class Router(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):  # paths hold claim ids only, but keep the log quiet
            pass

        def route(self):
            path = urllib.parse.urlsplit(self.path).path
            for method, pattern, binary in routes:
                if method == self.command and pattern.match(path):
                    return binary
            return None

        def answer(self, status, headers, body):
            self.send_response(status)
            for k, v in headers:
                if k.lower() not in ("content-length", "transfer-encoding", "connection", "date", "server"):
                    self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def forward(self):
            try:
                length = int(self.headers.get("Content-Length") or 0)
            except ValueError:
                length = -1
            if length < 0 or length > LAMBDA_PAYLOAD_LIMIT:
                # As API Gateway and Lambda do: refused, never forwarded nor kept. The body is
                # drained (in bounded pieces, up to 64 MiB) so the client reads the answer
                # rather than a reset connection.
                left = min(max(length, 0), 64 * 1024 * 1024)
                while left > 0:
                    piece = self.rfile.read(min(left, 1 << 20))
                    if not piece:
                        break
                    left -= len(piece)
                reason = json.dumps({"message": f"Request Entity Too Large: the body is {length} bytes; a function takes at most {LAMBDA_PAYLOAD_LIMIT}"})
                self.close_connection = True
                self.answer(413, [("Content-Type", "application/json")], reason.encode())
                return
            body = self.rfile.read(length) if length else None
            binary = self.route()
            if binary is None:
                self.answer(404, [("Content-Type", "application/json")], b'{"message":"Not Found"}')
                return
            headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
            request = urllib.request.Request(
                f"{lambda_url}/lambda-url/{binary}{self.path}",
                data=body,
                method=self.command,
                headers=headers,
            )
            try:
                with urllib.request.urlopen(request, timeout=60) as r:
                    self.answer(r.status, r.getheaders(), r.read())
            except urllib.error.HTTPError as e:
                self.answer(e.code, e.headers.items(), e.read())
            except (urllib.error.URLError, TimeoutError) as e:
                reason = json.dumps({"message": f"the function {binary} did not answer: {e}"})
                self.answer(502, [("Content-Type", "application/json")], reason.encode())

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = forward

    host, port = listen.rsplit(":", 1)
    server = http.server.ThreadingHTTPServer((host, int(port)), Router)
    server.daemon_threads = True
    print(f"gateway on http://{listen}: {len(routes)} routes", flush=True)
    server.serve_forever()


# --- poller ---------------------------------------------------------------------------------


def poller(template, lambda_url, schedule_seconds=None, retry_seconds=None):
    """Lambda's event sources. SQS: receive a batch, invoke the function with an SqsEvent,
    delete what succeeded; on a reported item failure or a failed invocation (a function
    that died) the messages stay, become visible again after the queue's timeout (or after
    `retry_seconds`, which the local stack may shorten), and redrive to the DLQ after
    maxReceiveCount, as in AWS. DynamoDB streams: each shard read from its start, a batch
    invoked until it succeeds. Schedules: the function invoked at its rate (or every
    `schedule_seconds`, which the local stack shortens)."""
    _, _, sqs = clients()
    threads = []
    for table, binary, batch in template.stream_mappings():
        t = threading.Thread(target=_stream, args=(table, binary, batch, lambda_url), daemon=True)
        t.start()
        threads.append(t)
        print(f"poller: stream of {table} -> {binary}", flush=True)
    for binary, seconds in template.schedules():
        every = schedule_seconds or seconds
        t = threading.Thread(target=_schedule, args=(binary, every, lambda_url), daemon=True)
        t.start()
        threads.append(t)
        print(f"poller: every {every} s -> {binary}", flush=True)
    for url, arn, binary, batch, reports, timeout in template.sqs_mappings():
        t = threading.Thread(
            target=_poll,
            args=(sqs, url, arn, binary, batch, reports, lambda_url, timeout, retry_seconds),
            daemon=True,
        )
        t.start()
        threads.append(t)
        print(f"poller: {url.rsplit('/', 1)[1]} -> {binary}", flush=True)
    for t in threads:
        t.join()


def _invoke(binary, event, lambda_url, timeout=600):
    """Invokes `binary` with `event`; its answer, or raises when it failed."""
    request = urllib.request.Request(
        f"{lambda_url}/2015-03-31/functions/{binary}/invocations",
        data=json.dumps(event).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=timeout) as r:
        answer = json.loads(r.read() or b"null")
    if isinstance(answer, dict) and "errorType" in answer:
        raise RuntimeError(f"{binary} failed: {answer.get('errorType')}")
    return answer


def _schedule(binary, every, lambda_url):
    while True:
        time.sleep(every)
        try:
            _invoke(binary, {"source": "aws.scheduler", "detail-type": "Scheduled Event"}, lambda_url)
        except Exception as e:
            print(f"poller: scheduled {binary}: {e}", flush=True)


def _stream(table, binary, batch, lambda_url):
    """One stream's shards, each from its start (TRIM_HORIZON), in order; a batch whose
    invocation fails is invoked again, as Lambda retries a stream batch. Polled four times a
    second, as Lambda polls a stream's shards; the shard list is read again every few
    seconds (new shards open as DynamoDB splits or rolls them)."""
    import boto3

    ddb_endpoint = os.environ.get("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:8000")
    common = dict(region_name=REGION, aws_access_key_id="test", aws_secret_access_key="test")
    ddb = boto3.client("dynamodb", endpoint_url=ddb_endpoint, **common)
    streams = boto3.client("dynamodbstreams", endpoint_url=ddb_endpoint, **common)
    iterators = {}
    listed = 0.0
    while True:
        try:
            if time.monotonic() - listed >= 3:
                arn = ddb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
                for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
                    sid = shard["ShardId"]
                    if sid not in iterators:
                        iterators[sid] = streams.get_shard_iterator(
                            StreamArn=arn, ShardId=sid, ShardIteratorType="TRIM_HORIZON"
                        )["ShardIterator"]
                listed = time.monotonic()
            idle = True
            for sid, iterator in list(iterators.items()):
                if iterator is None:
                    continue
                got = streams.get_records(ShardIterator=iterator, Limit=batch)
                records = got.get("Records", [])
                if records:
                    idle = False
                    event = {"Records": [_stream_record(r, arn) for r in records]}
                    try:
                        _invoke(binary, event, lambda_url)
                    except Exception as e:
                        print(f"poller: {binary}: {e}; the batch is invoked again", flush=True)
                        time.sleep(1)
                        continue  # the same iterator: the same records again
                    print(f"poller: {binary}: {len(records)} changes", flush=True)
                iterators[sid] = got.get("NextShardIterator")
            if idle:
                time.sleep(0.25)
        except Exception as e:  # DynamoDB Local restarting, a shard closed: start over
            print(f"poller: stream of {table}: {e}", flush=True)
            iterators = {}
            listed = 0.0
            time.sleep(2)


def _stream_record(record, arn):
    """A stream record as Lambda hands it over (timestamps as numbers)."""
    change = dict(record["dynamodb"])
    created = change.get("ApproximateCreationDateTime")
    if created is not None and not isinstance(created, (int, float)):
        change["ApproximateCreationDateTime"] = created.timestamp()
    return {
        "eventID": record["eventID"],
        "eventName": record["eventName"],
        "eventSource": "aws:dynamodb",
        "awsRegion": REGION,
        "eventSourceARN": arn,
        "dynamodb": change,
    }


# Batches of one queue in flight at once, as Lambda's pollers invoke concurrently (and as
# many as the functions' emulator runs at once): a function that hangs or died holds one.
SQS_CONCURRENCY = 4


def _emulator_up(lambda_url):
    """Whether the functions' emulator takes connections: while it restarts, no message is
    received (each receive counts toward the dead-letter queue, which Lambda's own outage
    would never do)."""
    host, port = urllib.parse.urlsplit(lambda_url).netloc.rsplit(":", 1)
    try:
        with socket.create_connection((host, int(port)), timeout=1):
            return True
    except OSError:
        return False


def _poll(sqs, url, arn, binary, batch, reports, lambda_url, timeout, retry_seconds=None):
    slots = threading.BoundedSemaphore(SQS_CONCURRENCY)
    while True:
        if not _emulator_up(lambda_url):
            time.sleep(0.5)
            continue
        slots.acquire()
        try:
            got = sqs.receive_message(
                QueueUrl=url,
                MaxNumberOfMessages=batch,
                WaitTimeSeconds=1,
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
            ).get("Messages", [])
        except Exception as e:  # LocalStack restarting: try again
            slots.release()
            print(f"poller: receive from {url}: {e}", flush=True)
            time.sleep(2)
            continue
        if not got:
            slots.release()
            continue
        threading.Thread(
            target=_deliver,
            args=(sqs, url, arn, binary, reports, lambda_url, timeout, retry_seconds, got, slots),
            daemon=True,
        ).start()


def _deliver(sqs, url, arn, binary, reports, lambda_url, timeout, retry_seconds, got, slots):
    """Invokes `binary` with the batch `got`, then deletes what succeeded; what failed waits
    for the queue's visibility timeout (or `retry_seconds`)."""
    try:
        records = [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": m.get("Attributes", {}),
                "messageAttributes": {},
                "md5OfBody": hashlib.md5(m["Body"].encode()).hexdigest(),
                "eventSource": "aws:sqs",
                "eventSourceARN": arn,
                "awsRegion": REGION,
            }
            for m in got
        ]
        failed = {m["MessageId"] for m in got}
        try:
            request = urllib.request.Request(
                f"{lambda_url}/2015-03-31/functions/{binary}/invocations",
                data=json.dumps({"Records": records}).encode(),
                method="POST",
                headers={"Content-Type": "application/json"},
            )
            # The function's own timeout, as Lambda gives it (a little more for the emulator).
            with urllib.request.urlopen(request, timeout=timeout + 10) as r:
                answer = json.loads(r.read() or b"null")
            if isinstance(answer, dict) and "errorType" in answer:
                print(f"poller: {binary} failed: {answer.get('errorType')}", flush=True)
            elif reports and isinstance(answer, dict):
                failed = {f["itemIdentifier"] for f in answer.get("batchItemFailures") or []}
            else:
                failed = set()
        except Exception as e:
            print(f"poller: invoking {binary}: {e}", flush=True)
        done = [
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
            for i, m in enumerate(got)
            if m["MessageId"] not in failed
        ]
        if done:
            sqs.delete_message_batch(QueueUrl=url, Entries=done)
        if failed and retry_seconds is not None:
            again = [
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": retry_seconds}
                for i, m in enumerate(got)
                if m["MessageId"] in failed
            ]
            try:
                sqs.change_message_visibility_batch(QueueUrl=url, Entries=again)
            except Exception as e:  # the queue's own timeout applies
                print(f"poller: {binary}: visibility not shortened: {e}", flush=True)
        print(f"poller: {binary}: {len(done)} done, {len(failed)} left for redelivery", flush=True)
    except Exception as e:  # the queue unreachable: the messages come back on their own
        print(f"poller: {binary}: {e}", flush=True)
    finally:
        slots.release()


# --- check ----------------------------------------------------------------------------------


# The worst case of one submission message (hms-adapters: a batch submission is given three
# times the payer timeout, each of the two results retrievals one; the timeout is 20 s unless
# a payer's endpoint says otherwise).
PAYER_TIMEOUT_S = 20
MESSAGE_WORST_S = 3 * PAYER_TIMEOUT_S + 2 * PAYER_TIMEOUT_S


def check(template, routes_file):
    """What the template must agree with: every route and its authorizer scope as the code's
    route map has them (`hms routes`), and the worker's deadlines (its timeout outlasts a
    message's payer exchanges, the claim's lease outlasts the timeout, the queue's visibility
    timeout is six timeouts). Prints what disagrees; exits 1 if anything does."""
    problems = []
    code = set()
    for line in Path(routes_file).read_text().splitlines():
        method, path, scope = line.split()[:3]
        code.add((method, path, scope))
    declared = {(m, p, ",".join(s)) for m, p, _, s in template.routes()}
    for route in sorted(code - declared):
        problems.append(f"route {route} is in the code's route map but not in template.yaml as such")
    for route in sorted(declared - code):
        problems.append(f"route {route} is in template.yaml but not in the code's route map as such")
    for fn in template.functions().values():
        sqs = [e for e in fn["events"].values() if e["Type"] == "SQS"]
        if fn["binary"] != "submit-worker" or not sqs:
            continue
        timeout = int(fn["timeout"])
        lease = int(fn["env"].get("SEND_LEASE_SECONDS", 0))
        queue = sqs[0]["Properties"]["Queue"]["Fn::GetAtt"][0]
        visibility = int(template.resources[queue]["Properties"]["VisibilityTimeout"])
        if timeout < MESSAGE_WORST_S:
            problems.append(f"the worker's timeout {timeout} s is under a message's worst case {MESSAGE_WORST_S} s")
        if lease <= timeout:
            problems.append(f"SEND_LEASE_SECONDS {lease} does not outlast the worker's timeout {timeout} s")
        if visibility < 6 * timeout:
            problems.append(f"the queue's visibility timeout {visibility} s is under six worker timeouts")
    problems += least_privilege(template)
    for p in problems:
        print(f"check: {p}")
    if problems:
        sys.exit(1)
    print(f"check: {len(declared)} routes agree with the code's route map; the worker's deadlines fit")


# --- main -----------------------------------------------------------------------------------


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stage", default="local")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("provision")
    env = sub.add_parser("env")
    env.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    for name in ("save", "restore"):
        sub.add_parser(name).add_argument("directory", type=Path)
    g = sub.add_parser("gateway")
    g.add_argument("--listen", default="127.0.0.1:3000")
    g.add_argument("--lambda-url", default="http://127.0.0.1:9000")
    p = sub.add_parser("poller")
    p.add_argument("--lambda-url", default="http://127.0.0.1:9000")
    p.add_argument("--schedule-seconds", type=int, default=None)
    p.add_argument("--retry-seconds", type=int, default=None)
    sub.add_parser("routes")
    n = sub.add_parser("name")
    n.add_argument("logical")
    c = sub.add_parser("check")
    c.add_argument("routes_file", type=Path)
    args = parser.parse_args()
    template = Template(args.stage)
    if args.command == "provision":
        provision(template)
    elif args.command == "env":
        overrides = dict(kv.split("=", 1) for kv in args.set)
        sys.stdout.write(function_env(template, overrides))
    elif args.command == "save":
        save(template, args.directory)
    elif args.command == "restore":
        restore(template, args.directory)
    elif args.command == "gateway":
        gateway(template, args.listen, args.lambda_url)
    elif args.command == "poller":
        poller(template, args.lambda_url, args.schedule_seconds, args.retry_seconds)
    elif args.command == "check":
        check(template, args.routes_file)
    elif args.command == "name":
        print(template.name(args.logical))
    elif args.command == "routes":
        for method, path, binary, scopes in template.routes():
            print(method, path, binary, ",".join(scopes))


if __name__ == "__main__":
    main()
