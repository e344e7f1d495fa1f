"""Memory use of a process, from /proc/PID/status (Linux)."""

from __future__ import annotations

from pathlib import Path


def _status_bytes(pid: int, field: str) -> int:
    """The ``field`` line of /proc/PID/status ("VmRSS:  1234 kB"), in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no {field} for process {pid} in /proc (not Linux?)")


def resident_bytes(pid: int) -> int:
    """Resident set size of process ``pid`` now (VmRSS), bytes."""
    return _status_bytes(pid, "VmRSS")


def peak_resident_bytes(pid: int) -> int:
    """Peak resident set size of process ``pid`` so far (VmHWM, the high-water mark), bytes."""
    return _status_bytes(pid, "VmHWM")
