#!/usr/bin/python3
"""genheader.py SRC OUTDIR -- variants of a valid uncompressed rootfs-image artifact SRC whose
header strings or meta-data are changed (the manifest is rewritten to match, so only the
changed rule decides). Prints NAME<TAB>FILE<TAB>EXPECTED ('' = must be accepted)."""
import hashlib
import io
import json
import os
import sys
import tarfile


def members(data):
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as t:
        return [(m.name, t.extractfile(m).read()) for m in t.getmembers() if m.isfile()]


def pack(items):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:", format=tarfile.USTAR_FORMAT) as t:
        for name, data in items:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o644
            t.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def rebuild(outer, header_edit):
    out = []
    header = None
    for name, data in outer:
        if name == "header.tar":
            header = pack(header_edit(members(data)))
            data = header
        out.append([name, data])
    digest = hashlib.sha256(header).hexdigest()
    for item in out:
        if item[0] == "manifest":
            lines = [l for l in item[1].decode().splitlines() if not l.endswith("  header.tar")]
            lines.append(digest + "  header.tar")
            item[1] = ("\n".join(sorted(lines, key=lambda l: l.split("  ")[1])) + "\n").encode()
    return pack([(n, d) for n, d in out])


def edit_json(path, change):
    def edit(items):
        res = []
        for name, data in items:
            if name == path:
                obj = json.loads(data) if data else {}
                change(obj)
                data = json.dumps(obj, ensure_ascii=False).encode()
            res.append((name, data))
        return res
    return edit


def main():
    src, outdir = sys.argv[1], sys.argv[2]
    with open(src, "rb") as f:
        outer = members(f.read())
    cases = [
        ("escape-in-provides", "headers/0000/type-info",
         lambda o: o["artifact_provides"].update({"rootfs-image.version":
                                                  "\x1b[1A\rSignature: signed and verified"}),
         "artifact_provides contains a control character (U+001B"),
        ("bidi-in-provides-key", "headers/0000/type-info",
         lambda o: o["artifact_provides"].update({"evil\u202ekey": "x"}),
         "artifact_provides contains a control character (U+202E"),
        ("c1-in-clears", "headers/0000/type-info",
         lambda o: o["clears_artifact_provides"].append("a\u009bb"),
         "clears_artifact_provides contains a control character (U+009B"),
        ("newline-in-depends", "headers/0000/type-info",
         lambda o: o.update({"artifact_depends": {"k": ["ok", "two\nlines"]}}),
         "artifact_depends contains a control character (U+000A"),
        ("big-integer-in-meta-data", "headers/0000/meta-data",
         lambda o: o.update({"serial": 123456789012345678901234567890, "small": 7}), ""),
        ("unicode-text-accepted", "headers/0000/type-info",
         lambda o: o["artifact_provides"].update({"rootfs-image.note": "Größe – ✓"}), ""),
    ]
    for name, path, change, want in cases:
        p = os.path.join(outdir, name + ".mender")
        with open(p, "wb") as f:
            f.write(rebuild(outer, edit_json(path, change)))
        print("%s\t%s\t%s" % (name, p, want))




def bootstrap_augment(src, out):
    """An augmented artifact whose signed header gives its payload no type (bootstrap), so that
    only the augment header gives one: the signature would not cover the payload's type."""
    import gzip
    outer = members(open(src, "rb").read())
    res = []
    for name, data in outer:
        if name == "header.tar.gz":
            inner = members(gzip.decompress(data))
            fixed = []
            for n, d in inner:
                if n == "headers/0000/meta-data":
                    continue  # a bootstrap payload has none
                if n in ("header-info", "headers/0000/type-info"):
                    o = json.loads(d)
                    if n == "header-info":
                        o["payloads"][0]["type"] = None
                    else:
                        o["type"] = None
                    d = json.dumps(o).encode()
                fixed.append((n, d))
            data = gzip.compress(pack(fixed), mtime=0)
            digest = hashlib.sha256(data).hexdigest()
        res.append([name, data])
    for item in res:
        if item[0] == "manifest":
            lines = [l for l in item[1].decode().splitlines() if not l.endswith("  header.tar.gz")]
            lines.append(digest + "  header.tar.gz")
            item[1] = ("\n".join(sorted(lines, key=lambda l: l.split("  ")[1])) + "\n").encode()
    with open(out, "wb") as f:
        f.write(pack([(n, d) for n, d in res]))


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--bootstrap-augment":
        bootstrap_augment(sys.argv[2], sys.argv[3])
    else:
        main()
