"""Runs the PyPI `mailpit-api-client` against a live mailcatch: the calls its
users make in their tests, unchanged. Prints `compat-python: N passed, M failed`."""

import os
import smtplib
import sys
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from mailpit.client.api import API

URL = os.environ["MAILCATCH_URL"]
SMTP_PORT = int(os.environ["MAILCATCH_SMTP_PORT"])
SMTP_LOGIN = os.environ.get("MAILCATCH_SMTP_LOGIN", "")
results = {"passed": 0, "failed": 0}


def check(name, condition):
    results["passed" if condition else "failed"] += 1
    print(("ok   " if condition else "FAIL ") + name)


def send(subject, attachment=None):
    message = EmailMessage()
    message["From"] = "Python Client <py@example.com>"
    message["To"] = "dest@example.com"
    message["Delivered-To"] = "dest@example.com"
    message["Subject"] = subject
    # The client's Headers model requires Date and Message-Id, as real mail has.
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = make_msgid(domain="example.com")
    message.set_content("Hello from the PyPI client test")
    if attachment:
        message.add_attachment(attachment.encode(), maintype="text", subtype="plain", filename="notes.txt")
    with smtplib.SMTP("127.0.0.1", SMTP_PORT, timeout=10) as smtp:
        if SMTP_LOGIN:
            # Inside a mailbox: its SMTP credentials route the mail there.
            smtp.login(*SMTP_LOGIN.split(":", 1))
        smtp.send_message(message)


def run(api):
    api.delete_messages([])
    check("delete_messages([]) deletes everything", api.get_messages().total == 0)

    send("first")
    send("second", attachment="attached text")
    messages = api.get_messages()
    check("get_messages() counts", messages.total == 2 and messages.count == 2)
    newest = messages.messages[0]
    check("newest first", newest.subject == "second")
    check("summary has attachments", newest.attachments == 1)

    message = api.get_message(newest.id)
    check("get_message() subject", message.subject == "second")
    check("get_message() from", message.from_.address == "py@example.com")
    check("get_message() text", "Hello from the PyPI client test" in message.text)
    check("get_message() marks read (Read key present)", message.read is True)
    check("get_message() attachment listed", len(message.attachments) == 1)

    headers = api.get_message_headers(newest.id)
    check("get_message_headers()", headers.from_ == ["Python Client <py@example.com>"])

    part = message.attachments[0].part_id
    check("get_message_attachment()", api.get_message_attachment(newest.id, part).strip() == "attached text")

    api.put_messages([newest.id], "Read", False)
    check("put_messages() marks unread", api.get_messages().unread == 2)

    first = messages.messages[1]
    api.delete_messages([first.id])
    remaining = api.get_messages()
    check("delete_messages([id]) deletes only that one", remaining.total == 1 and remaining.messages[0].id == newest.id)


def check_metrics(api):
    """/metrics, parsed by Prometheus's own OpenMetrics parser, agrees with the API."""
    import urllib.request
    from prometheus_client.openmetrics.parser import text_string_to_metric_families

    with urllib.request.urlopen(URL + "/metrics", timeout=10) as response:
        content_type = response.headers["Content-Type"]
        text = response.read().decode()
    check("/metrics is OpenMetrics", content_type.startswith("application/openmetrics-text"))
    samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            key = sample.name + "".join(f"{{{k}={v}}}" for k, v in sorted(sample.labels.items()))
            samples[key] = sample.value
    total = api.get_messages().total
    check("/metrics messages equals the API's total", samples.get("mailcatch_messages") == total)
    check("/metrics counts accepted messages", samples.get("mailcatch_messages_accepted_total", 0) >= 2)
    check("/metrics counts 2xx SMTP replies", samples.get("mailcatch_smtp_replies_total{class=2xx}", 0) > 0)
    check("/metrics has the ingest histogram", samples.get("mailcatch_ingest_seconds_count", 0) >= 2)


try:
    run(API(URL, timeout=10))
    if not SMTP_LOGIN:
        # Server-wide figures: only comparable at the server's root.
        check_metrics(API(URL, timeout=10))
except Exception as error:  # noqa: BLE001 - any failure is a compatibility failure
    check(f"no exception ({type(error).__name__}: {error})", False)

print(f"compat-python: {results['passed']} passed, {results['failed']} failed")
sys.exit(1 if results["failed"] else 0)
