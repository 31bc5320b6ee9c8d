#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Validate patchgate's JSON records against docs/schema/patchgate.schema.json.

Every line of every FILE must be one JSON object that the schema accepts: a
line of `patchgate -j` output, of <state-dir>/audit.log, or a phase file
<state-dir>/gate-*.json.  Each invalid line is named as FILE:LINE with the
reason.  Exit 0 when every line is valid, 1 when one is not, 2 on usage
errors (and with --nonempty, when the files hold no line at all).

Runs under Debian's /usr/bin/python3 with python3-jsonschema (draft 2020-12);
the validation itself is the library's, this only reads JSON lines.

  scripts/validate-json.py [--schema FILE] [--nonempty] FILE...
  scripts/validate-json.py --self-test   (the schema refuses a wrong record)
"""
import argparse
import json
import os
import sys

try:
    import jsonschema
except ImportError:
    sys.exit("validate-json: python3-jsonschema is missing (scripts/deps.sh build)")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def strict_object(pairs):
    """A JSON object with no key twice."""
    o = {}
    for k, v in pairs:
        if k in o:
            raise ValueError("duplicate key %r" % k)
        o[k] = v
    return o


def no_constant(name):
    """NaN and Infinity are not JSON: strict readers reject them."""
    raise ValueError("%s is not JSON" % name)


def where(err):
    """The failing location as a path: functions[0].p50_ratio."""
    s = ""
    for p in err.absolute_path:
        s += "[%d]" % p if isinstance(p, int) else (".%s" % p if s else p)
    return s or "(record)"


def leaf_errors(err):
    """The innermost errors of a failed if/then/allOf, for a readable reason."""
    if not err.context:
        yield err
        return
    for sub in err.context:
        yield from leaf_errors(sub)


# --self-test: one record the schema must accept, and wrong twins it must refuse
SELF_GOOD = '{"type":"error","v":1,"message":"no such process","exit":1}'
SELF_BAD = [
    '{"type":"error","v":1,"message":"no such process"}',              # no exit
    '{"type":"error","v":2,"message":"no such process","exit":1}',     # another version
    '{"type":"error","v":1,"message":"no such process","exit":"1"}',   # exit as a string
    '{"type":"error","v":1,"message":"x","exit":1,"extra":0}',          # unknown field
    '{"type":"eror","v":1,"message":"no such process","exit":1}',      # unknown type
    '{"type":"apply","v":1,"kind":"ulp","patch":"p.so"}',              # no result fields
]


def self_test(v):
    ok = not list(v.iter_errors(json.loads(SELF_GOOD)))
    for line in SELF_BAD:
        if not list(v.iter_errors(json.loads(line))):
            print("validate-json: self-test: accepted %s" % line)
            ok = False
    print("validate-json: self-test %s" % ("passed" if ok else "FAILED"))
    return 0 if ok else 1


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--schema", default=os.path.join(ROOT, "docs/schema/patchgate.schema.json"))
    ap.add_argument("--nonempty", action="store_true", help="fail when the files hold no line")
    ap.add_argument("--self-test", action="store_true", help="check that a wrong record is refused")
    ap.add_argument("files", nargs="*", metavar="FILE")
    a = ap.parse_args()
    if not a.self_test and not a.files:
        ap.error("no FILE")

    with open(a.schema) as f:
        schema = json.load(f)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    v = cls(schema)
    if a.self_test:
        return self_test(v)
    lines = bad = 0
    for fn in a.files:
        try:
            f = open(fn, errors="replace")
        except OSError as e:
            bad += 1
            print("%s: cannot read: %s" % (fn, e.strerror))
            continue
        with f:
            for no, line in enumerate(f, 1):
                line = line.rstrip("\n")
                lines += 1
                try:
                    rec = json.loads(line, object_pairs_hook=strict_object, parse_constant=no_constant)
                except ValueError as e:
                    bad += 1
                    print("%s:%d: not JSON: %s: %.120s" % (fn, no, e, line))
                    continue
                if not isinstance(rec, dict):
                    bad += 1
                    print("%s:%d: not a JSON object: %.120s" % (fn, no, line))
                    continue
                errs = sorted(v.iter_errors(rec), key=lambda e: list(e.absolute_path))
                if not errs:
                    continue
                bad += 1
                seen = set()
                for e in errs:
                    for leaf in leaf_errors(e):
                        msg = "%s: %s" % (where(leaf), leaf.message)
                        if msg not in seen:
                            seen.add(msg)
                            print("%s:%d: type %s: %.300s" % (fn, no, rec.get("type"), msg))
    print("validate-json: %d line(s) in %d file(s), %d invalid" % (lines, len(a.files), bad),
          file=sys.stderr)
    if a.nonempty and not lines:
        print("validate-json: no line to validate", file=sys.stderr)
        return 2
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
