#!/usr/bin/env python3
"""Derives the golden Minshall+French files from the specification (shared/specs/mfsymlink.md
sections 2 and 4.2) with Python's hashlib, independently of the TypeScript encoder.
Run once: `python3 derive.py` writes *.bin and manifest.json beside this script.
The tests only read the committed output."""
import hashlib, json, os

HERE = os.path.dirname(os.path.abspath(__file__))
SIZE = 1067
cases = []

def md5(b):
    return hashlib.md5(b).hexdigest().encode()

def canonical(t):
    # Section 2: XSym\n, %04u\n, lower-case md5\n, target, \n if 43+L < 1067, spaces to 1067.
    out = b"XSym\n" + b"%04d\n" % len(t) + md5(t) + b"\n" + t
    if len(out) < SIZE:
        out += b"\n"
    return out + b" " * (SIZE - len(out))

def put(name, data, kernel, strict, canon=False, note=""):
    with open(os.path.join(HERE, name + ".bin"), "wb") as f:
        f.write(data)
    def side(x):
        return {"error": x} if isinstance(x, str) else {"targetHex": x.hex()}
    cases.append({"name": name, "file": name + ".bin", "size": len(data), "kernel": side(kernel),
                  "strict": side(strict), "canonical": canon, "note": note})

def ok(name, t, note=""):
    put(name, canonical(t), t, t, True, note)

def patch(data, offset, new):
    return data[:offset] + new + data[offset + len(new):]

T = b"target.txt"
base = canonical(T)
assert base[:43] == b"XSym\n0010\n4d6f333d2bc24ffddcca34414a0cb12d\n"  # the spec's example

# Canonical files: both readers accept.
ok("spec-example", T, "the example of section 2")
ok("alias", b"../versions/1.2.0", "a Warden alias")
ok("empty", b"", "length 0000, MD5 of nothing, newline, 1023 spaces")
ok("len-1022", b"a" * 1022, "newline and one space")
ok("len-1023", b"b" * 1023, "newline, no space")
ok("len-1024", b"c" * 1024, "no newline, no padding")
ok("utf8", "héllo/ünïcode/日本語/😀".encode(), "multibyte UTF-8: length counts bytes")
ok("not-utf8", b"\xff\xfe/\x80\xc3(/latin1-\xe9", "invalid UTF-8 stored verbatim")
ok("odd-bytes", b"a\nb\tc\\d e\r/ /..//", "newline, tab, backslash, CR inside the target")
ok("absolute", b"/usr/share/zoneinfo/Europe/Paris", "absolute target kept verbatim")

# Accepted by the Linux kernel, rejected by a strict (canonical/macOS) reader.
put("sep-space", patch(base, 4, b" "), T, "WARDEN_ERR_MFSYMLINK_BAD_MAGIC", note="XSym<space>0010: any kernel whitespace matches the format newline")
put("sep-tab", patch(base, 4, b"\t"), T, "WARDEN_ERR_MFSYMLINK_BAD_MAGIC")
put("sep-vt", patch(base, 4, b"\x0b"), T, "WARDEN_ERR_MFSYMLINK_BAD_MAGIC")
put("sep-nbsp", patch(base, 4, b"\xa0"), T, "WARDEN_ERR_MFSYMLINK_BAD_MAGIC", note="0xA0 is whitespace in the kernel's ctype table")
put("sep-none", patch(base, 4, b"0010\n\n"), T, "WARDEN_ERR_MFSYMLINK_BAD_MAGIC", note="XSym0010: whitespace may be absent")
put("digits-short", patch(base, 5, b"10ab"), T, "WARDEN_ERR_MFSYMLINK_BAD_LENGTH", note="reading stops at the first non-digit")
put("digits-spaced", patch(base, 5, b"  10"), T, "WARDEN_ERR_MFSYMLINK_BAD_LENGTH", note="%04u skips whitespace first")
put("digits-newlines", patch(base, 5, b"10\n\n"), T, "WARDEN_ERR_MFSYMLINK_BAD_LENGTH")
put("hex-prefix", patch(canonical(b""), 5, b"0x0c"), b"", "WARDEN_ERR_MFSYMLINK_BAD_LENGTH", note='"0x0c" reads as 0 in base 10')
put("byte9-any", patch(base, 9, b"Z"), T, "WARDEN_ERR_MFSYMLINK_BAD_LENGTH", note="nothing after the digits is checked")
one = canonical(b"t")
put("five-digits", patch(one, 5, b"00010"), b"t", "WARDEN_ERR_MFSYMLINK_BAD_LENGTH", note="at most 4 digits are read: 0001")
tail = base[10 + 17:42].upper()
put("hash-tail-upper", patch(patch(base, 27, tail), 42, b"Q"), T, "WARDEN_ERR_MFSYMLINK_BAD_HASH", note="only 17 hash characters are compared; byte 42 unchecked")
put("hash-tail-garbage", patch(base, 27, b"zzzzzzzzzzzzzzz!"), T, "WARDEN_ERR_MFSYMLINK_BAD_HASH")
put("trailer-garbage", patch(base, 53, b"garbage\x00\x00\xff"), T, "WARDEN_ERR_MFSYMLINK_NOT_CANONICAL", note="nothing after the target is checked")
put("trailer-no-newline", patch(base, 53, b" "), T, "WARDEN_ERR_MFSYMLINK_NOT_CANONICAL")
raw = b"abc\x00defghi"
nul = b"XSym\n0010\n" + md5(raw) + b"\n" + raw + b"\n"
nul += b" " * (SIZE - len(nul))
put("nul-in-target", nul, b"abc", "WARDEN_ERR_MFSYMLINK_NOT_CANONICAL", note="hash over 10 bytes with a NUL; readlink is cut at the NUL")
nul0 = b"XSym\n0001\n" + md5(b"\x00") + b"\n\x00\n"
nul0 += b" " * (SIZE - len(nul0))
put("nul-only", nul0, b"", "WARDEN_ERR_MFSYMLINK_NOT_CANONICAL", note="length 1, target NUL: an empty link")

# Blank length field: whitespace skipping runs into the hash field at offset 10; the hash's
# leading digits become the length. Search a target whose MD5 starts with its own length.
found = None
for n in range(100000):
    t = b"blank-%d" % n
    h = md5(t).decode()
    digits = ""
    for ch in h[:4]:
        if not ch.isdigit():
            break
        digits += ch
    if digits and int(digits) == len(t):
        found = t
        break
assert found is not None
blank = patch(canonical(found), 5, b"    ")
put("blank-length", blank, found, "WARDEN_ERR_MFSYMLINK_BAD_LENGTH", note="length field blank: the digits are read from the hash field")

# Rejected by both readers: the kernel shows these as regular files.
put("size-1066", base[:1066], "WARDEN_ERR_MFSYMLINK_BAD_SIZE", "WARDEN_ERR_MFSYMLINK_BAD_SIZE")
put("size-1068", base + b" ", "WARDEN_ERR_MFSYMLINK_BAD_SIZE", "WARDEN_ERR_MFSYMLINK_BAD_SIZE")
put("size-0", b"", "WARDEN_ERR_MFSYMLINK_BAD_SIZE", "WARDEN_ERR_MFSYMLINK_BAD_SIZE")
put("magic-case", patch(base, 0, b"xSym"), "WARDEN_ERR_MFSYMLINK_BAD_MAGIC", "WARDEN_ERR_MFSYMLINK_BAD_MAGIC")
put("magic-leading-space", b" " + base[:-1], "WARDEN_ERR_MFSYMLINK_BAD_MAGIC", "WARDEN_ERR_MFSYMLINK_BAD_MAGIC", note="nothing may precede XSym")
put("magic-bom", b"\xef\xbb\xbf" + base[:-3], "WARDEN_ERR_MFSYMLINK_BAD_MAGIC", "WARDEN_ERR_MFSYMLINK_BAD_MAGIC")
put("length-minus", patch(base, 5, b"-010"), "WARDEN_ERR_MFSYMLINK_BAD_LENGTH", "WARDEN_ERR_MFSYMLINK_BAD_LENGTH")
put("length-plus", patch(base, 5, b"+010"), "WARDEN_ERR_MFSYMLINK_BAD_LENGTH", "WARDEN_ERR_MFSYMLINK_BAD_LENGTH")
put("length-letters", patch(base, 5, b"abcd"), "WARDEN_ERR_MFSYMLINK_BAD_LENGTH", "WARDEN_ERR_MFSYMLINK_BAD_LENGTH")
put("length-nul", patch(base, 5, b"\x00010"), "WARDEN_ERR_MFSYMLINK_BAD_LENGTH", "WARDEN_ERR_MFSYMLINK_BAD_LENGTH")
put("length-1025", patch(canonical(b"c" * 1024), 5, b"1025"), "WARDEN_ERR_MFSYMLINK_LENGTH_TOO_LARGE", "WARDEN_ERR_MFSYMLINK_LENGTH_TOO_LARGE")
put("length-9999", patch(base, 5, b"9999"), "WARDEN_ERR_MFSYMLINK_LENGTH_TOO_LARGE", "WARDEN_ERR_MFSYMLINK_LENGTH_TOO_LARGE")
put("length-wrong", patch(base, 5, b"0011"), "WARDEN_ERR_MFSYMLINK_BAD_HASH", "WARDEN_ERR_MFSYMLINK_BAD_HASH", note="the hash covers exactly length bytes")
put("hash-upper", patch(base, 10, base[10:42].upper()), "WARDEN_ERR_MFSYMLINK_BAD_HASH", "WARDEN_ERR_MFSYMLINK_BAD_HASH", note="upper-case hex is rejected: the compare is case-sensitive")
put("hash-17th", patch(base, 26, b"0" if base[26:27] != b"0" else b"1"), "WARDEN_ERR_MFSYMLINK_BAD_HASH", "WARDEN_ERR_MFSYMLINK_BAD_HASH", note="the 17th character is still compared")
put("target-changed", patch(base, 43, b"T"), "WARDEN_ERR_MFSYMLINK_BAD_HASH", "WARDEN_ERR_MFSYMLINK_BAD_HASH")
put("all-spaces", b"XSym" + b" " * (SIZE - 4), "WARDEN_ERR_MFSYMLINK_BAD_LENGTH", "WARDEN_ERR_MFSYMLINK_BAD_MAGIC",
    note="kernel: whitespace runs to the end of its buffer and it reads past it (undefined); the model stops at the end and rejects")

with open(os.path.join(HERE, "manifest.json"), "w") as f:
    json.dump({"source": "derived by derive.py from shared/specs/mfsymlink.md", "cases": cases}, f, indent=1)
    f.write("\n")
print(len(cases), "cases")
