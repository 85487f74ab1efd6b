#!/usr/bin/python3
"""gen.py SRC OUTDIR -- hostile variants of a valid uncompressed artifact SRC, for the strict
tar layer (tests/hostile/tarlayer.t). Each variant rebuilds the outer tar (or a data tar
inside it) with tar headers written here byte by byte, so that every case is exactly the one
named. Prints one line per case: NAME<TAB>FILE<TAB>WHAT-MSIG-MUST-SAY."""
import io
import os
import sys
import tarfile

BLOCK = 512


def octal(n, width):
    return ("%0*o" % (width - 1, n)).encode() + b"\0"


def header(name, size, typeflag=b"0", magic=b"ustar\x0000", prefix=b"", linkname=b"",
           chksum_fix=0):
    h = bytearray(BLOCK)
    h[0:len(name)] = name[:100]
    h[100:108] = octal(0o644, 8)
    h[108:116] = octal(0, 8)
    h[116:124] = octal(0, 8)
    h[124:136] = octal(size, 12)
    h[136:148] = octal(0, 12)
    h[156:157] = typeflag
    h[157:157 + len(linkname)] = linkname
    h[257:265] = magic
    h[345:345 + len(prefix)] = prefix
    h[148:156] = b" " * 8
    s = sum(h) + chksum_fix
    h[148:156] = ("%06o" % s).encode() + b"\0 "
    return bytes(h)


def pad(data):
    return data + b"\0" * ((-len(data)) % BLOCK)


def entry(name, data, **kw):
    return header(name, len(data), **kw) + pad(data)


def pax(records, name=b"PaxHeader"):
    body = b""
    for k, v in records:
        rec = b" " + k + b"=" + v + b"\n"
        n = len(rec) + 1
        while len(str(n).encode()) + len(rec) != n:
            n += 1
        body += str(n).encode() + rec
    return entry(name, body, typeflag=b"x")


def members(path):
    with tarfile.open(path, "r:") as t:
        return [(m.name, t.extractfile(m).read()) for m in t.getmembers()]


def outer(parts, end=True):
    out = b"".join(parts)
    return out + (b"\0" * (2 * BLOCK) if end else b"")


def plain(ms):
    return [entry(n.encode(), d) for n, d in ms]


def write(outdir, name, data):
    p = os.path.join(outdir, name + ".mender")
    with open(p, "wb") as f:
        f.write(data)
    return p


def data_tar(files):
    return b"".join(entry(n.encode(), d) for n, d in files) + b"\0" * (2 * BLOCK)


def main():
    src, outdir = sys.argv[1], sys.argv[2]
    ms = members(src)
    names = [n for n, _ in ms]
    assert names[0] == "version", names
    cases = []

    def add(name, parts, want, end=True):
        cases.append((name, write(outdir, name, outer(parts, end)), want))

    base = plain(ms)
    add("control", base, "")
    # Valid extensions: a PAX path and a GNU long name naming "version" are accepted.
    add("control-pax-path", [pax([(b"path", b"version"), (b"mtime", b"1700000000.5")]),
                             entry(b"ignored-by-pax", ms[0][1])] + base[1:], "")
    add("control-gnu-long-name", [entry(b"././@LongLink", b"version\0", typeflag=b"L",
                                        magic=b"ustar  \0"),
                                  entry(b"ignored-by-gnu", ms[0][1], magic=b"ustar  \0")] +
        base[1:], "")
    # A lone zero block, then more entries.
    add("zero-block-then-data", base[:1] + [b"\0" * BLOCK] + base[1:],
        "a single zero block followed by more entries")
    add("global-header-first", [entry(b"pax_global", b"11 path=x\n", typeflag=b"g")] + base,
        "a global PAX header (type 'g'): refused")
    add("volume-header-first", [header(b"volume", 0, typeflag=b"V")] + base,
        "a volume header (type 'V'): refused")
    add("hardlink-with-data", base[:1] + [entry(b"version2", ms[0][1], typeflag=b"1",
                                                linkname=b"version")] + base[1:],
        "a hard link: refused")
    add("symlink", base[:1] + [header(b"link", 0, typeflag=b"2", linkname=b"/etc/passwd")] +
        base[1:], "a symbolic link: refused")
    add("oldgnu-sparse", base[:1] + [entry(b"sparse", b"x" * 512, typeflag=b"S",
                                           magic=b"ustar  \0")] + base[1:],
        "an old GNU sparse file: refused")
    # PAX format 1.0 sparse with a map of millions of entries in the data: the memory bomb.
    sparse_map = b"2000000\n" + b"0\n1\n" * 200000
    add("pax-sparse-bomb", base[:1] + [pax([(b"GNU.sparse.major", b"1"),
                                            (b"GNU.sparse.minor", b"0"),
                                            (b"GNU.sparse.name", b"bomb"),
                                            (b"GNU.sparse.realsize", b"1099511627776")]),
                                       entry(b"GNUSparseFile.0/bomb", sparse_map)] + base[1:],
        "a GNU sparse entry (PAX GNU.sparse.major): refused")
    add("pax-path-vs-long-name",
        [pax([(b"path", b"version")]), entry(b"././@LongLink", b"other\0", typeflag=b"L",
                                             magic=b"ustar  \0"),
         entry(b"version", ms[0][1])] + base[1:],
        "both a PAX path ('version') and a GNU long name ('other')")
    add("pax-malformed", [entry(b"PaxHeader", b"99 path=version\n", typeflag=b"x")] + base,
        "a malformed PAX record")
    add("pax-nul-in-path", [pax([(b"path", b"version\0.evil")])] + base,
        "a PAX record holds a NUL byte")
    add("pax-too-large", [entry(b"PaxHeader", b"x" * 70000, typeflag=b"x")] + base,
        "a PAX extended header of 70000 bytes")
    add("mixed-magic", [entry(b"version", ms[0][1], magic=b"ustar\0  ", prefix=b"evil")] +
        base[1:], "are neither ustar nor GNU")
    add("v7-header", [entry(b"version", ms[0][1], magic=b"\0" * 8)] + base[1:],
        "a v7 tar header (no ustar magic): refused")
    add("bad-checksum", [entry(b"version", ms[0][1], chksum_fix=1)] + base[1:],
        "the header checksum does not match")
    add("fifo", base[:1] + [header(b"fifo", 0, typeflag=b"6")] + base[1:],
        "a FIFO: refused")
    add("truncated-header", base + [header(b"extra", 0)[:300]],
        "the archive ends inside a header block (300 of 512 bytes)", end=False)
    # The same inside a data tar: a hard link that carries the payload bytes.
    data = [(n, d) for n, d in ms if n.startswith("data/")]
    if data:
        i = names.index(data[0][0])
        inner = members_from_bytes(data[0][1])
        evil = entry(b"evil", inner[0][1], typeflag=b"1", linkname=inner[0][0].encode()) + \
            data_tar(inner)
        parts = base[:i] + [entry(data[0][0].encode(), evil)] + base[i + 1:]
        add("data-tar-hardlink", parts, "a hard link: refused")
    for name, path, want in cases:
        print("%s\t%s\t%s" % (name, path, want))


def members_from_bytes(b):
    with tarfile.open(fileobj=io.BytesIO(b), mode="r:") as t:
        return [(m.name, t.extractfile(m).read()) for m in t.getmembers()]


if __name__ == "__main__":
    main()
