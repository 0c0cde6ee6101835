"""Sets up the mailbox the compat clients run inside, with mail beside it.

`mailbox.py URL SMTP_PORT` creates the mailbox `compat`, puts two messages
into `default` over SMTP and prints `user:password` of the mailbox's SMTP
login. `mailbox.py --check-noise URL` then checks that the two messages
outside it are still there, untouched by the clients' deletes.
"""

import json
import smtplib
import sys
import urllib.request
from email.message import EmailMessage

NOISE = ["noise one", "noise two"]


def request(method, url, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as response:
        return json.loads(response.read())


def setup(base, smtp_port):
    # What the root run left behind goes, so only the noise is outside.
    urllib.request.urlopen(urllib.request.Request(f"{base}/api/v1/messages", method="DELETE"), timeout=10)
    created = request("POST", f"{base}/api/mailcatch/v1/mailboxes", {"Name": "compat"})
    for subject in NOISE:
        message = EmailMessage()
        message["From"] = "noise@example.com"
        message["To"] = "noise@example.com"
        message["Subject"] = subject
        message.set_content("outside the mailbox under test")
        with smtplib.SMTP("127.0.0.1", smtp_port, timeout=10) as smtp:
            smtp.send_message(message)
    print(f"{created['SMTPUsername']}:{created['SMTPPassword']}")


def check_noise(base):
    listed = request("GET", f"{base}/mailbox/default/api/v1/messages")
    subjects = sorted(m["Subject"] for m in listed["messages"])
    if subjects != NOISE:
        print(f"FAIL mail outside the mailbox was touched: {subjects}")
        sys.exit(1)
    print("ok   mail outside the mailbox untouched by the clients inside it")


if __name__ == "__main__":
    if sys.argv[1] == "--check-noise":
        check_noise(sys.argv[2])
    else:
        setup(sys.argv[1], int(sys.argv[2]))
