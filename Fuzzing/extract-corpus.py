#!/usr/bin/env python3
"""Builds the seed corpus of each fuzz target from the test suite's inputs.

The tests hold their inputs (LMTP sessions, configuration files, passwd-files, Sieve
scripts, messages, maildirsize contents) as Swift string literals. This script reads the
literals of the test files that belong to each target, keeps those that look like the
target's input, and writes each as one file named after its SHA-1 under
Fuzzing/Corpus/<target>/ (the names libFuzzer itself gives). A few example files of the
repository (quickstart/, sql/, ldap/) are added as they are.

Run from anywhere: `Fuzzing/extract-corpus.py`. It adds files and never removes any: the
corpus also holds inputs that once crashed a target (named crash-*), which must stay.
"""

import glob
import hashlib
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.path.join(ROOT, "Fuzzing", "Corpus")

# ---------------------------------------------------------------- Swift string literals


def unescape(body, hashes):
    """The value of a literal's body: escapes (\\n, \\u{...}, \\#n in raw strings) decoded,
    interpolations replaced by "x"."""
    escape = "\\" + "#" * hashes
    out = []
    i = 0
    while i < len(body):
        if body.startswith(escape, i):
            j = i + len(escape)
            if j >= len(body):
                out.append(body[i:])
                break
            c = body[j]
            simple = {"n": "\n", "r": "\r", "t": "\t", "0": "\0", '"': '"', "'": "'", "\\": "\\"}
            if c in simple:
                out.append(simple[c])
                i = j + 1
            elif c == "u" and body.startswith("{", j + 1):
                end = body.index("}", j)
                out.append(chr(int(body[j + 2:end], 16)))
                i = end + 1
            elif c == "(":
                depth, k = 1, j + 1
                while k < len(body) and depth:
                    depth += {"(": 1, ")": -1}.get(body[k], 0)
                    k += 1
                out.append("x")
                i = k
            else:
                out.append(body[i:j + 1])
                i = j + 1
        else:
            out.append(body[i])
            i += 1
    return "".join(out)


def multiline_value(lines, hashes):
    """A multi-line literal: the closing delimiter's indentation removed from each line,
    a line ending in a backslash joined with the next."""
    closing = lines[-1]
    indent = len(closing) - len(closing.lstrip())
    content = [line[indent:] if line[:indent].strip() == "" else line.lstrip() for line in lines[:-1]]
    text = ""
    escape = "\\" + "#" * hashes
    for n, line in enumerate(content):
        if line.endswith(escape) and not line.endswith(escape + "\\"):
            text += line[: -len(escape)]
        else:
            text += line + ("\n" if n < len(content) - 1 else "")
    return unescape(text, hashes)


def literals(path):
    """Every string literal of a Swift file, decoded."""
    source = open(path, encoding="utf-8").read()
    result = []
    i = 0
    while i < len(source):
        if source.startswith("//", i):
            i = source.find("\n", i)
            if i < 0:
                break
            continue
        m = re.compile(r'(#*)("""|")').match(source, i)
        if not m or (m.group(1) == "" and source[i] != '"'):
            i += 1
            continue
        hashes = len(m.group(1))
        close = m.group(2) + "#" * hashes
        start = m.end()
        if m.group(2) == '"""':
            end = source.find("\n" + " " * 0, start)
            # Find the closing delimiter on a line of its own (after white space).
            pattern = re.compile(r"\n([ \t]*)" + re.escape(close))
            found = pattern.search(source, start)
            if not found:
                break
            body = source[start + 1 : found.end() - len(close)]
            result.append(multiline_value(body.split("\n"), hashes))
            i = found.end()
        else:
            j = start
            escape = "\\" + "#" * hashes
            while j < len(source) and not source.startswith(close, j):
                if source.startswith(escape, j):
                    j += len(escape)
                    if j < len(source) and source[j] == "(":
                        depth = 1
                        j += 1
                        while j < len(source) and depth:
                            depth += {"(": 1, ")": -1}.get(source[j], 0)
                            j += 1
                        continue
                if source[j] == "\n":
                    break
                j += 1
            result.append(unescape(source[start:j], hashes))
            i = j + len(close)
    return result


def literals_of(patterns):
    found = []
    for pattern in patterns:
        for path in sorted(glob.glob(os.path.join(ROOT, pattern))):
            found.extend(literals(path))
    return found


# ---------------------------------------------------------------- per target

VERBS = ("LHLO", "MAIL", "RCPT", "DATA", "BDAT", "RSET", "NOOP", "QUIT", "VRFY", "HELO", "EHLO")


def lmtp_seeds():
    """Sessions: an options byte, a read-split seed, then the client's bytes."""
    lines = set()
    for text in literals_of(["Tests/HomingLMTPTests/*.swift", "Tests/HomingIntegrationTests/LMTPSession*.swift"]):
        for line in text.replace("\r\n", "\n").split("\n"):
            if line[:4].upper() in VERBS and len(line) < 600:
                lines.add(line)
    seeds = []
    preface = "LHLO client.example.org\r\nMAIL FROM:<sender@example.org>\r\n"
    for n, line in enumerate(sorted(lines)):
        options = bytes([n % 256, (n * 37) % 256])
        seeds.append(options + (preface + line + "\r\nQUIT\r\n").encode())
    sessions = [
        "LHLO x\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<u1@example.com>\r\nRCPT TO:<u2@example.com>\r\n"
        "DATA\r\nSubject: hi\r\n\r\nline\r\n..dot-stuffed\r\n.\r\nQUIT\r\n",
        "LHLO x\r\nMAIL FROM:<> BODY=8BITMIME SIZE=100\r\nRCPT TO:<u@example.com> ORCPT=rfc822;u@example.com\r\n"
        "BDAT 5\r\nhelloBDAT 0 LAST\r\nRSET\r\nQUIT\r\n",
        "LHLO x\nMAIL FROM:<a@b>\nRCPT TO:<\"quoted local\"@example.com>\nDATA\nbare LF\n.\n",
        "LHLO x\r\nMAIL FROM:<a@b>\r\nRCPT TO:<@relay:u@example.com>\r\nDATA\r\n" + "x" * 5000 + "\r\n.\r\n",
        "NOOP\r\nVRFY u\r\nDATA\r\nBDAT 3\r\nabcRCPT TO:<u@e>\r\n" + "A" * 4200 + "\r\nQUIT\r\n",
    ]
    for n, session in enumerate(sessions):
        for options in (0x00, 0x1C, 0x3F, 0x5A, 0x97):
            seeds.append(bytes([options, n]) + session.encode())
    return seeds


def sandbox_allows(text):
    """Fuzzing/Sources/FuzzSupport/ConfigSandbox.swift's rule, so that no seed is skipped."""
    if "!" in text or "<" in text:
        if "/" in text:
            return False
        return sum(text.count(c) for c in "{,") <= 12
    return True


def config_seeds():
    seeds = []
    tests = [p for p in glob.glob(os.path.join(ROOT, "Tests/HomingConfigTests/*.swift")) if "ExtConfigFile" not in p]
    tests += glob.glob(os.path.join(ROOT, "Tests/HomingIntegrationTests/*.swift"))
    tests += glob.glob(os.path.join(ROOT, "Tests/HomingDeliveryTests/*.swift"))
    for path in sorted(tests):
        for text in literals(path):
            if re.search(r"^\s*[A-Za-z_!][A-Za-z0-9_ ]*\s*(=|\{)", text, re.M) and len(text) > 6:
                seeds.append(text)
    conf = open(os.path.join(ROOT, "quickstart/homing.conf.in"), encoding="utf-8").read()
    seeds.append(conf)
    # Includes and <file values on the files the sandbox writes.
    seeds += [
        "!include inc.conf\nmail_plugins = $mail_plugins extra\n",
        "!include_try inc*\n!include_try missing.conf\n",
        "hostname = <value.txt\nprotocol lmtp {\n  postmaster_address = <value.txt\n}\n",
        "!include {inc,value}.conf\n",
    ]
    return [s.encode() for s in seeds if sandbox_allows(s)]


def ext_config_seeds():
    seeds = []
    for text in literals_of([
        "Tests/HomingConfigTests/ExtConfigFileTests.swift", "Tests/HomingUserdbSQLTests/*.swift",
        "Tests/HomingUserdbLDAPTests/*.swift",
    ]):
        if re.search(r"^\s*[A-Za-z_!][A-Za-z0-9_]*\s*=", text, re.M) or text.startswith("!include"):
            seeds.append(text)
    for path in ("sql/dovecot-sql.conf.ext", "ldap/dovecot-ldap.conf.ext"):
        seeds.append(open(os.path.join(ROOT, path), encoding="utf-8").read())
    seeds += ["!include inc.conf.ext\nconnect = after\n", "!include_try *.ext\n"]
    return [s.encode() for s in seeds if sandbox_allows(s)]


def passwd_seeds():
    seeds = []
    for text in literals_of(["Tests/HomingUserdbTests/PasswdFile*.swift", "Tests/HomingUserdbTests/UserdbChain*.swift",
                             "Tests/HomingIntegrationTests/*.swift"]):
        lines = [line for line in text.split("\n") if line.strip() and not line.startswith("#")]
        if lines and all(re.match(r"^[^:\s]*:[^:\s]*(:|$)", line) for line in lines) and ": " not in text:
            seeds.append(text)
    seeds.append(open(os.path.join(ROOT, "quickstart/users"), encoding="utf-8").read())
    return [s.encode() for s in seeds]


SIEVE_WORDS = re.compile(
    r"\b(require|if|elsif|keep|discard|fileinto|redirect|stop|vacation|reject|set|addflag|include|return|notify)\b")


def sieve_seeds():
    seeds = []
    for text in literals_of(["Tests/HomingSieveTests/*.swift", "Tests/HomingIntegrationTests/Sieve*.swift",
                             "Tests/HomingDeliveryTests/*.swift"]):
        if ";" in text and SIEVE_WORDS.search(text) and not re.match(r"^[A-Za-z-]+: ", text):
            seeds.append(text)
    seeds.append(open(os.path.join(ROOT, "quickstart/default.sieve"), encoding="utf-8").read())
    return [s.encode() for s in seeds]


def message_seeds():
    seeds = []
    for text in literals_of(["Tests/HomingSieveTests/*.swift", "Tests/HomingDeliveryTests/*.swift",
                             "Tests/HomingIntegrationTests/*.swift"]):
        if re.match(r"^[A-Za-z][A-Za-z0-9-]*:", text) and ("\n\n" in text or "\r\n\r\n" in text):
            seeds.append(text)
        elif "=?" in text and "?=" in text:
            seeds.append("Subject: " + text + "\n\nbody\n")
    return [s.encode() for s in seeds]


def maildirsize_seeds():
    seeds = []
    for text in literals_of(["Tests/HomingQuotaTests/*.swift", "Tests/HomingIntegrationTests/Quota*.swift"]):
        lines = [line for line in text.split("\n") if line]
        if lines and re.match(r"^(\d+[SC])(,\d+[SC])*$", lines[0]) and all(
                re.match(r"^-?\d+ -?\d+$", line) for line in lines[1:]):
            seeds.append(text)
    seeds += ["1073741824S,10000C\n512 1\n-512 -1\n", "0S\n", "100S\n12 1\n", "5C,10S\n1 1\n2 2\nbad\n"]
    return [s.encode() for s in seeds]


TARGETS = {
    "fuzz-lmtp": (lmtp_seeds, 64 * 1024),
    "fuzz-config": (config_seeds, 16 * 1024),
    "fuzz-ext-config": (ext_config_seeds, 16 * 1024),
    "fuzz-passwd-file": (passwd_seeds, 16 * 1024),
    "fuzz-sieve-compile": (sieve_seeds, 16 * 1024),
    "fuzz-sieve-run": (sieve_seeds, 8 * 1024),
    "fuzz-mime": (message_seeds, 32 * 1024),
    "fuzz-maildirsize": (maildirsize_seeds, 16 * 1024),
}


def main():
    only = sys.argv[1:]
    for target, (seeds, limit) in TARGETS.items():
        if only and target not in only:
            continue
        directory = os.path.join(CORPUS, target)
        os.makedirs(directory, exist_ok=True)
        written = 0
        for seed in seeds():
            if not seed or len(seed) > limit:
                continue
            path = os.path.join(directory, hashlib.sha1(seed).hexdigest())
            if not os.path.exists(path):
                with open(path, "wb") as f:
                    f.write(seed)
                written += 1
        total = len(os.listdir(directory))
        print(f"{target}: {written} new seeds, {total} files")


if __name__ == "__main__":
    main()
