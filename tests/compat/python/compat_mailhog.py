"""Runs the PyPI `mailhog` client against a live mailcatch: every call it
offers, unchanged, on mail sent with smtplib. Prints
`compat-python-mailhog: N passed, M failed`."""

import os
import smtplib
import sys
from email.message import EmailMessage
from urllib.parse import urlparse

from mailhog import Mailhog

URL = urlparse(os.environ["MAILCATCH_URL"])
SMTP_PORT = int(os.environ["MAILCATCH_SMTP_PORT"])
results = {"passed": 0, "failed": 0}


def check(name, condition):
    results["passed" if condition else "failed"] += 1
    print(("ok   " if condition else "FAIL ") + name)


def send(subject, to, attachment=None):
    message = EmailMessage()
    message["From"] = "Python Sender <py-sender@example.com>"
    message["To"] = ", ".join(to)
    message["Subject"] = subject
    message.set_content(f"Body of {subject}")
    if attachment:
        message.add_attachment(attachment.encode(), maintype="text", subtype="plain", filename="notes.txt")
    with smtplib.SMTP("127.0.0.1", SMTP_PORT, timeout=10) as smtp:
        smtp.send_message(message)


def run(client):
    client.delete_all()
    check("delete_all() empties the mailbox", client.messages().total == 0)

    send("first", ["one@example.com"])
    send("second", ["two@example.com", "three@example.com"], attachment="attached text")
    messages = client.messages()
    check("messages() envelope", (messages.total, messages.count, messages.start) == (2, 2, 0))
    newest = messages.items[0]
    check("newest first, get_subject()", newest.get_subject() == "second")
    check("get_sender() from the envelope", newest.get_sender() == "py-sender@example.com")
    check("get_recipients()", newest.get_recipients() == ["two@example.com", "three@example.com"])
    check("Path.relays is null", newest.from_.relays is None)
    check("content body", "Body of second" in newest.content.body)
    check("MIME parts", newest.mime is not None and len(newest.mime.parts) == 3)
    check("Created is set", newest.created.startswith("20"))

    page = client.messages(start=1, limit=1)
    check("messages(start, limit)", (page.start, page.count, page.items[0].get_subject()) == (1, 1, "first"))

    found = client.search("three@example.com", kind="to")
    check("search(kind='to')", found.total == 1 and found.items[0].id == newest.id)
    found = client.search("Body of first")
    check("search() containing by default", found.total == 1 and found.items[0].get_subject() == "first")
    found = client.search("py-sender", kind="from", limit=1)
    check("search(kind='from', limit=1)", (found.total, found.count) == (2, 1))

    client.delete(newest)
    remaining = client.messages()
    check("delete(message) deletes only that one", remaining.total == 1 and remaining.items[0].get_subject() == "first")
    client.delete_all()
    check("delete_all()", client.messages().total == 0)


try:
    run(Mailhog(host=URL.hostname, port=URL.port))
except Exception as error:  # noqa: BLE001 - any failure is a compatibility failure
    check(f"no exception ({type(error).__name__}: {error})", False)

print(f"compat-python-mailhog: {results['passed']} passed, {results['failed']} failed")
sys.exit(1 if results["failed"] else 0)
