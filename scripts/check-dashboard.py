#!/usr/bin/python3
"""Check a Grafana dashboard against the exporter's series.

Usage: scripts/check-dashboard.py DASHBOARD.json SCRAPE.prom

DASHBOARD.json must parse, have panels, and every query in it (each
panel's targets[].expr, rows' panels included, and the template
variables' queries) must name at least one patchgate_* series, each of
them a sample name found in SCRAPE.prom (a scrape of `patchgate
exporter`, text format).  Prints what is wrong; exits 0 when nothing is, 1
otherwise.
"""
import json
import re
import sys

NAME = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)')
SERIES = re.compile(r'\bpatchgate_[a-zA-Z0-9_]+')


def scraped_names(path):
    names = set()
    with open(path, encoding='utf-8') as f:
        for line in f:
            if line.startswith('#') or not line.strip():
                continue
            m = NAME.match(line)
            if m:
                names.add(m.group(1))
    return names


def queries(dash):
    """(where, expr) of every query in the dashboard."""
    out = []

    def walk(panels):
        for p in panels or []:
            for t in p.get('targets', []):
                out.append(('panel "%s" %s' % (p.get('title', '?'), t.get('refId', '?')),
                            t.get('expr', '')))
            walk(p.get('panels'))

    walk(dash.get('panels'))
    for v in dash.get('templating', {}).get('list', []):
        if v.get('type') == 'query':
            q = v.get('query')
            out.append(('variable "%s"' % v.get('name'),
                        q.get('query', '') if isinstance(q, dict) else q or ''))
    return out


def main(argv):
    if len(argv) != 3:
        print(__doc__.strip(), file=sys.stderr)
        return 1
    try:
        with open(argv[1], encoding='utf-8') as f:
            dash = json.load(f)
    except (OSError, ValueError) as e:
        print('%s: does not parse: %s' % (argv[1], e))
        return 1
    have = scraped_names(argv[2])
    if not have:
        print('%s: no sample in the scrape' % argv[2])
        return 1
    errors = []
    qs = queries(dash)
    if not dash.get('panels') or not qs:
        errors.append('no panel with a query')
    used = set()
    for where, expr in qs:
        names = set(SERIES.findall(expr))
        if not names:
            errors.append('%s names no patchgate series: %r' % (where, expr))
        for n in sorted(names - have):
            errors.append('%s names %s, which the exporter does not emit' % (where, n))
        used |= names
    for e in errors:
        print('%s: %s' % (argv[1], e))
    if not errors:
        print('%s: %d queries, %d series, all emitted' % (argv[1], len(qs), len(used)))
    return 1 if errors else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
