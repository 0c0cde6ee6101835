"""CPython's view of each message in a directory, as JSON on stdout.

The reference side of the MIME differential test (tests/suite/adversarial_mime.rs):
for every `*.txt` or `*.eml` file given, CPython's `email` package (policy
`default`) reports what a reader of the message would see, and the Rust test
compares that with what mailcatch's API shows for the same bytes.

Usage: python3 mime_reference.py DIR
Output: {"msg_01.txt": {...}, ...}, each with
  text, html   the bodies `get_body` picks (None when there is none),
  from, to, cc every address of every such header, as [name, address],
  parts        the non-body leaf parts in order: name, type, content_id.

Each file is read as the test sends it over SMTP: a leading mbox `From `
line dropped (SMTP carries none) and line ends made CRLF.
"""

import email
import email.policy
import json
import os
import sys


def transport_form(raw):
    """The bytes as an SMTP client would send them (see the module doc)."""
    if raw.startswith(b"From "):
        raw = raw.split(b"\n", 1)[1] if b"\n" in raw else b""
    return raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def content(part):
    if part is None:
        return None
    try:
        value = part.get_content()
    except Exception:  # an undecodable body reads as its raw payload
        value = part.get_payload(decode=True) or b""
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return value.replace("\r\n", "\n")


def addresses(message, name):
    found = []
    for header in message.get_all(name) or []:
        for address in getattr(header, "addresses", ()):
            found.append([address.display_name, address.addr_spec])
    return found


def leaves(part):
    """Leaf parts in order; an attached message counts as one leaf."""
    if part.get_content_maintype() == "multipart" and part.is_multipart():
        for sub in part.iter_parts():
            yield from leaves(sub)
    else:
        yield part


def describe(message):
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    parts = []
    for part in leaves(message):
        if part is text or part is html:
            continue
        content_id = (part.get("Content-ID") or "").strip().strip("<>")
        parts.append(
            {
                "name": part.get_filename() or "",
                "type": part.get_content_type(),
                "content_id": content_id,
            }
        )
    return {
        "text": content(text),
        "html": content(html),
        "from": addresses(message, "from"),
        "to": addresses(message, "to"),
        "cc": addresses(message, "cc"),
        "parts": parts,
    }


def main():
    directory = sys.argv[1]
    report = {}
    for name in sorted(os.listdir(directory)):
        if not name.endswith((".txt", ".eml")):
            continue
        with open(os.path.join(directory, name), "rb") as f:
            raw = transport_form(f.read())
        message = email.message_from_bytes(raw, policy=email.policy.default)
        report[name] = describe(message)
    json.dump(report, sys.stdout, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
