#!/usr/bin/python3
"""Write a synthetic "live" record with N functions into STATE_DIR/live/.

Usage: gen_live.py STATE_DIR [N] [PID]

The record has the shape the gate publishes (docs/json.md, "live"), with
made-up numbers: a gate in BAKE on target PID (default 4242), N functions
(default 64) with counts, ratios and the coarse latency buckets.  It
stands in for a running gate when only the exporter is measured.
"""
import json
import math
import os
import sys

LE_N = 27  # 2^8 .. 2^34 ns (view/live.h LIVE_LE_*)


def function(i):
    calls = 100000 + 977 * i
    # log-normal-ish: centred at 2^(12 + i % 6) ns
    centre = 12 + i % 6
    le, acc = [], 0
    for k in range(LE_N):
        acc = round(calls * 0.5 * (1 + math.erf((8 + k - centre) / 1.5)))
        le.append(min(acc, calls))
    return {
        "name": "func_%02d" % i, "verdict": "ok", "calls_per_s": 1000.0, "inflight": i % 4,
        "calls_base": calls // 2, "calls_post": calls - calls // 2,
        "errors_base": i, "errors_post": i,
        "n_base": calls // 2, "n_post": calls - calls // 2,
        "p50_base_ns": 2 ** centre, "p90_base_ns": 2 ** (centre + 1), "p99_base_ns": 2 ** (centre + 2),
        "p50_post_ns": 2 ** centre, "p90_post_ns": 2 ** (centre + 1), "p99_post_ns": 2 ** (centre + 2),
        "p50_ratio": 1.0, "p90_ratio": 1.01, "p99_ratio": 0.99,
        "mw_p": 0.5, "tail_p": 0.5, "err_p": 1.0, "err_rate_base": 0.0, "err_rate_post": 0.0,
        "looks": 1, "blocks": 2, "blocks_over": 0, "hung": False,
        "latency": {"count": calls, "sum_ns": calls * 2 ** centre, "le": le},
    }


def main(argv):
    if len(argv) < 2:
        print(__doc__.strip(), file=sys.stderr)
        return 1
    state, n = argv[1], int(argv[2]) if len(argv) > 2 else 64
    pid = int(argv[3]) if len(argv) > 3 else 4242
    rec = {
        "type": "live", "v": 1, "name": str(pid), "target": pid, "patch": "synthetic.so",
        "patch_path": "/tmp/synthetic.so", "build_id": "0123456789abcdef", "kind": "ulp",
        "gate_pid": 1, "gate_uid": 0, "gate_start": 0, "wall_time": 0, "update": 1,
        "phase": "BAKE", "phase_s": 10.0, "elapsed_s": 20.0, "held": False, "bake_left_s": 50.0,
        "done": False, "dry_run": False, "alpha_spent": 0.001,
        "policy": {"min_samples": 2000, "bake_s": 60.0, "alpha": 0.01, "p50_ratio_max": 1.2,
                   "p99_ratio_max": 1.5},
        "functions": [function(i) for i in range(n)],
        "blockers": [], "blockers_total": 0,
        "decisions_total": {"started": 1, "baseline_done": 1, "window_clear": 1, "applied": 1},
        "decisions": [],
    }
    d = os.path.join(state, "live")
    os.makedirs(d, mode=0o711, exist_ok=True)
    path = os.path.join(d, "%d.json" % pid)
    with open(path + ".tmp", "w", encoding="utf-8") as f:
        json.dump(rec, f, separators=(",", ":"))
    os.chmod(path + ".tmp", 0o600)
    os.rename(path + ".tmp", path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
