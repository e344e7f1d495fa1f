"""Turn the figures the reliability tests wrote (one JSON file each) into a Markdown summary.

    python tests/reliability/summarise.py runs/reliability > runs/reliability/summary.md

Used by scripts/reliability.sh; docs/reliability.md quotes its output.
"""

from __future__ import annotations

import json
import os
import platform
import sys
from pathlib import Path
from typing import Any


def _machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "unknown CPU",
    )
    memory_kib = int(Path("/proc/meminfo").read_text().split()[1])
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    return (
        f"{cpu}, {os.cpu_count()} cores, {memory_kib / 2**20:.0f} GiB RAM, no GPU; "
        f"load average {load} at the end of the run; Python {platform.python_version()}"
    )


def _load(figures: dict[str, Any]) -> list[str]:
    latency = figures["latency_ms"]
    statuses = ", ".join(f"{code}: {n}" for code, n in figures["statuses"].items())
    windows = " / ".join(f"{mib:.0f}" for mib in figures["rss_mib_per_window"])
    return [
        "| clients | seconds | requests | requests/s | events | events/s | 5xx | transport err. |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
        f"| {figures['clients']} | {figures['duration_s']} | {figures['requests']} | "
        f"{figures['requests_per_s']} | {figures['events_delivered']} | {figures['events_per_s']} "
        f"| {figures['server_errors_5xx']} | {figures['transport_errors']} |",
        "",
        f"Latency (ms, all requests): p50 {latency['p50']}, p90 {latency['p90']}, "
        f"p99 {latency['p99']}, max {latency['max']}; generate requests p99 "
        f"{figures['generate_latency_ms_p99']}.",
        f"Statuses: {statuses}. Generate responses with a wrong number of events (read back "
        f"from each body): {figures['responses_with_wrong_event_count']}.",
        f"Server RSS (MiB, mean per {figures['rss_window_s']:.0f} s window): {windows}; "
        f"first to last window {100 * figures['rss_growth']:+.1f}%.",
    ]


def _fuzz(figures: dict[str, Any]) -> list[str]:
    failures = "; ".join(figures["failures"]) or "none"
    return [
        f"schemathesis {figures['schemathesis']}, seed {figures['seed']}, at most "
        f"{figures['max_examples_per_operation']} examples per operation and phase: "
        f"{figures['cases_generated']} cases on {figures['operations_tested']} operations in "
        f"{figures['running_time_s']} s; cases with failures {figures['cases_with_failures']}, "
        f"errors {figures['errors']}; failures: {failures}.",
    ]


def _faults(found: dict[str, dict[str, Any]]) -> list[str]:
    rows = ["| fault injected | outcome |", "| --- | --- |"]
    kill = found.get("fault_training_kill")
    if kill:
        left = kill["partial_files_left_by_kill"]
        when = f"inside a checkpoint write (left {', '.join(left)})" if left else "as a write began"
        rows.append(
            f"| `hepgan train` SIGKILLed {when} (step {kill['step_at_kill']}), then `--resume` "
            f"| exit {kill['exit_after_kill']} at the kill; the resumed run finished at step "
            f"{kill['final_step']} with a valid artefact; {kill['checkpoint_versions_opened']} "
            f"checkpoint versions opened as they appeared, "
            f"{len(kill['unreadable_checkpoints'])} unreadable |"
        )
    for name, label in (
        ("fault_truncated_root", "ROOT input truncated to 60%"),
        ("fault_corrupt_root", "64 KiB of random bytes in the middle of a ROOT input"),
        ("fault_missing_branch", "a branch name that does not exist"),
        ("fault_tampered_weights", "one byte of the weights flipped"),
    ):
        if name in found:
            rows.append(
                f"| {label} | exit {found[name]['exit_status']}: `{found[name]['message']}` |"
            )
    broken = found.get("fault_broken_artefact_served_beside")
    if broken:
        readyz = broken["readyz"]
        rows.append(
            f"| {len(readyz['broken'])} broken artefacts beside {len(readyz['models'])} good "
            "ones | "
            f"/readyz 200, serving {', '.join(readyz['models'])}; broken: "
            f"{', '.join(sorted(readyz['broken']))} |"
        )
    return rows


def _security(found: dict[str, dict[str, Any]]) -> list[str]:
    lines = []
    traversal = found.get("security_traversal")
    if traversal:
        statuses = sorted(set(traversal["statuses"].values()))
        lines.append(
            f"Path traversal: {traversal['requests']} raw requests, statuses {statuses}, "
            "no file content returned."
        )
    limits = found.get("security_limits")
    if limits:
        lines.append("Limits: " + ", ".join(f"{k} -> {v}" for k, v in limits.items()) + ".")
    return lines


def _watched(figures: dict[str, Any]) -> str:
    return (
        f"{figures['healthz_max_ms']:.0f} ms | {figures['rss_before_mib']:.0f} -> "
        f"{figures['rss_after_mib']:.0f} (peak {figures['rss_peak_mib']:.0f})"
    )


def _hostile(found: dict[str, dict[str, Any]]) -> list[str]:
    """One row per issue-15 request: what it got, /healthz's worst latency, RSS in MiB."""
    rows = [
        "| hostile request | outcome | /healthz max | RSS MiB before -> after (peak) |",
        "| --- | --- | --- | --- |",
    ]
    validation = found.get("hostile_validation", {})
    for label, what in (
        ("empty_strings", "1M empty strings as per-event values"),
        ("unknown_keys", "1M unknown keys"),
        ("many_values", "8M zeros as per-event values"),
    ):
        if label in validation:
            f = validation[label]
            rows.append(
                f"| {what} ({f['body_mb']} MB body) | {f['status']} in {f['seconds']} s, "
                f"{f['response_bytes']} bytes | {_watched(f)} |"
            )
    described = {
        "hostile_overflow": (
            "range [-1e308, 1e308], n_events 10 and 40,000",
            lambda f: f"{f['n_events_10']} and {f['n_events_40000']} naming the field",
        ),
        "hostile_admission": (
            "8 concurrent 50k-event requests over a 64 MiB budget",
            lambda f: (
                f"{f['accepted']} x 200, {f['refused_503']} x 503 in {f['seconds']} s; "
                f"RSS growth at peak {f['rss_peak_growth_mib']} MiB"
            ),
        ),
        "hostile_docs": (
            "/docs, /redoc, /openapi.json, /docs/oauth2-redirect without, with the key",
            lambda f: ", ".join(sorted({f"{a} / {b}" for a, b in f["statuses"].values()})),
        ),
        "hostile_paths": ("/readyz, 404 of a broken model", lambda f: "no server path"),
        "hostile_card": ("GET /v1/models/showers", lambda f: "no config, paths or versions"),
        "hostile_root": (
            "ROOT over the per-request cap; 4 concurrent over the total",
            lambda f: f"{f['per_request_cap']}; {f['concurrent_4']}",
        ),
        "hostile_small": (
            'bearer in lower case; "5000" as a value; 1 event',
            lambda f: (
                f"{f['lower_case_bearer']}; {f['string_condition_value']}; {f['one_event_status']}"
            ),
        ),
    }
    for name, (what, outcome) in described.items():
        if name in found:
            rows.append(f"| {what} | {outcome(found[name])} | {_watched(found[name])} |")
    slow = found.get("hostile_slow")
    if slow:
        rows.append(
            f"| head a byte per 0.2 s; body never sent; idle connection; connections over the "
            f"limit | closed after {slow['slow_head_closed_s']} s; 408 after "
            f"{slow['slow_body_answered_s']} s; closed after "
            f"{slow['idle_connection_closed_s']} s; {slow['over_connection_limit']} | | |"
        )
    return rows


def main(folder: Path) -> None:
    found = {path.stem: json.loads(path.read_text()) for path in sorted(folder.glob("*.json"))}
    out = [f"Machine: {_machine()}.", ""]
    if "load" in found:
        out += ["### Load", "", *_load(found["load"]), ""]
    if "fuzz" in found:
        out += ["### Fuzz", "", *_fuzz(found["fuzz"]), ""]
    out += ["### Faults", "", *_faults(found), ""]
    out += ["### Security", "", *_security(found), ""]
    out += ["### Hostile input", "", *_hostile(found)]
    print("\n".join(out))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
