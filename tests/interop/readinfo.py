#!/usr/bin/env python3
"""readinfo.py FILE|- : reduce the output of `read` (mender-artifact 3.9.0 format, or the newer
YAML-like format) to the facts the interop tests compare, one per line, in a fixed order:

  name: NAME
  devices: DEV1 DEV2
  provides_group: GROUP
  depends_artifacts: A B
  depends_groups: G1 G2
  update N type: TYPE
  update N provides: KEY: VALUE      (sorted)
  update N depends: KEY: VALUE       (sorted)

Used by tests/interop/*.t; prints nothing it cannot parse (so a mismatch shows in the diff)."""
import re
import sys


def listval(v):
    v = v.strip()
    if len(v) >= 2 and v[0] == "'" and v[-1] == "'":
        v = v[1:-1]
    v = v.strip()
    if v.startswith("[") and v.endswith("]"):
        v = v[1:-1]
    return " ".join(x for x in re.split(r"[\s,]+", v) if x)


def main():
    text = sys.stdin.read() if sys.argv[1] == "-" else open(sys.argv[1], encoding="utf-8").read()
    top = {}
    updates = []
    section = None
    sec_indent = 0
    for raw in text.splitlines():
        line = raw.rstrip("\r")
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip(" \t"))
        body = line.strip()
        # entries of a Provides/Depends section: deeper indent (a tab in 3.9.0)
        if section and (line.startswith("\t") or indent > sec_indent) and ":" in body \
                and not re.match(r"^-?\s*(Type|Provides|Depends|Clears Provides|Metadata|Files):", body):
            if section in ("provides", "depends") and updates:
                k, v = body.split(":", 1)
                updates[-1][section].append("%s: %s" % (k.strip(), v.strip()))
            continue
        m = re.match(r"^-?\s*([A-Za-z][A-Za-z ()']*?):\s?(.*)$", body)
        if not m:
            continue
        key, val = m.group(1), m.group(2)
        section = None
        if key == "Name" and not updates:
            top["name"] = val.strip()
        elif key in ("Compatible devices", "Compatible types"):
            top["devices"] = listval(val)
        elif key == "Provides group":
            top["provides_group"] = val.strip()
        elif key == "Depends on one of artifact(s)":
            top["depends_artifacts"] = listval(val)
        elif key == "Depends on one of group(s)":
            top["depends_groups"] = listval(val)
        elif key == "Type":
            updates.append({"type": val.strip(), "provides": [], "depends": []})
        elif key in ("Provides", "Depends") and updates:
            section = key.lower()
            sec_indent = indent
        elif key in ("Clears Provides", "Metadata", "Files"):
            section = "other"
            sec_indent = indent
    for k in ("name", "devices", "provides_group", "depends_artifacts", "depends_groups"):
        if k in top:
            print("%s: %s" % (k, top[k]))
    for i, u in enumerate(updates):
        print("update %d type: %s" % (i, u["type"]))
        for s in ("provides", "depends"):
            for e in sorted(u[s]):
                print("update %d %s: %s" % (i, s, e))


if __name__ == "__main__":
    main()
