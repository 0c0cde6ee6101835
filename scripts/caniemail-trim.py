#!/usr/bin/env python3
"""Rebuilds src/htmlcheck/caniemail.json, the support data the HTML check
embeds, from the caniemail.com data the npm package `caniemail` ships:

    npm pack caniemail@2.0.2 && tar xzf caniemail-2.0.2.tgz
    python3 scripts/caniemail-trim.py package/data/caniemail.json > src/htmlcheck/caniemail.json

Keeps the HTML, CSS and image features with what the API answers (title,
description and notes rendered from their Markdown to HTML; the support
stats as nested [key, value] lists, so their order survives parsing) and
precomputes the clients per platform over all features.
"""

import html
import json
import re
import sys

CODE = re.compile(r"`([^`]*)`")
LINK = re.compile(r"\[([^\]]*)\]\(([^)\s]*)\)")


def markdown(text):
    """The Markdown the data uses: `code` and [text](url), nothing more."""
    out, at = [], 0
    pattern = re.compile(CODE.pattern + "|" + LINK.pattern)
    for match in pattern.finditer(text or ""):
        out.append(html.escape(text[at : match.start()], quote=False))
        if match.group(1) is not None:
            out.append("<code>%s</code>" % html.escape(match.group(1), quote=False))
        else:
            label = CODE.sub(lambda m: "<code>%s</code>" % html.escape(m.group(1), quote=False), match.group(2))
            out.append('<a href="%s" target="_blank">%s</a>' % (html.escape(match.group(3)), label))
        at = match.end()
    out.append(html.escape((text or "")[at:], quote=False))
    return "".join(out).strip()


def main(path):
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    families = data["nicenames"]["family"]
    clients = {}
    features = []
    for feature in data["data"]:
        stats = []
        for family, platforms in (feature.get("stats") or {}).items():
            by_platform = []
            for platform, versions in platforms.items():
                names = clients.setdefault(platform, [])
                nice = families.get(family, family)
                if nice not in names:
                    names.append(nice)
                by_platform.append([platform, [[v, s] for v, s in versions.items()]])
            stats.append([family, by_platform])
        if feature["slug"].split("-")[0] not in ("css", "html", "image"):
            continue
        features.append({
            "slug": feature["slug"],
            "title": feature["title"],
            "description": markdown(feature.get("description")),
            "url": feature.get("url") or "",
            "category": feature["category"],
            "tags": feature.get("tags") or [],
            "keywords": feature.get("keywords") or "",
            "notes": {n: markdown(t) for n, t in (feature.get("notes_by_num") or {}).items()},
            "stats": stats,
        })
    out = {
        "api_version": data["api_version"],
        "last_update_date": data["last_update_date"],
        "families": families,
        "platforms": data["nicenames"]["platform"],
        "clients": {p: sorted(names) for p, names in sorted(clients.items())},
        "features": features,
    }
    json.dump(out, sys.stdout, ensure_ascii=False, separators=(",", ":"))
    sys.stdout.write("\n")


if __name__ == "__main__":
    main(sys.argv[1])
