#!/usr/bin/env python3
"""Prints a Markdown table of `zflow bench --json` beside the Dask baseline, with ratios."""
import json
import sys


def load(path):
    rows = {}
    with open(path) as handle:
        for line in handle:
            line = line.strip()
            if line.startswith("{"):
                row = json.loads(line)
                rows[row["name"]] = row
    return rows


def main():
    zflow = load(sys.argv[1])
    dask = load(sys.argv[2]) if len(sys.argv) > 2 else {}
    print("| workload | ZFlow | Dask | ZFlow vs Dask | raw ZeroMQ | ZFlow vs raw |")
    print("|---|---|---|---|---|---|")
    for name, row in zflow.items():
        if name.startswith("zmq-push"):
            continue
        unit = row["unit"]
        value = row["median"]
        text = f"{value:,.3f} {unit}" if value < 100 else f"{value:,.0f} {unit}"
        for extra in ("p90", "p99"):
            if extra in row.get("extra", {}):
                text += f", {extra} {row['extra'][extra]:,.0f}"
        base = dask.get(name)
        ratio = ""
        base_text = ""
        if base:
            base_value = base["median"]
            base_text = f"{base_value:,.3f} {unit}" if base_value < 100 else f"{base_value:,.0f} {unit}"
            better = base_value / value if unit in ("us", "s") else value / base_value
            ratio = f"{better:.1f}x"
        raw_text = raw_ratio = ""
        if name.startswith("transfer") and name.replace("transfer", "zmq-push") in zflow:
            raw = zflow[name.replace("transfer", "zmq-push")]
            raw_text = f"{raw['median']:.3f} GB/s"
            raw_ratio = f"{value / raw['median'] * 100:.0f} %"
        elif name == "latency" and "zmq-path-rtt" in zflow:
            # The floor: raw ZeroMQ along the same 3 hops (client -> broker -> echo -> client directly).
            raw = zflow["zmq-path-rtt"]
            raw_text = f"{raw['median']:,.0f} us (same 3-hop path)"
            for probe, label in (("zmq-broker-rtt", "broker round trip, 4 hops"), ("zmq-rtt", "direct round trip")):
                if probe in zflow:
                    raw_text += f"; {zflow[probe]['median']:,.0f} us ({label})"
            raw_ratio = f"{value / raw['median']:.2f}x the floor"
        if name in ("zmq-path-rtt", "zmq-broker-rtt", "zmq-rtt"):
            continue
        print(f"| {name} | {text} | {base_text} | {ratio} | {raw_text} | {raw_ratio} |")


if __name__ == "__main__":
    main()
