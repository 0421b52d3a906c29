"""CPU seconds and peak memory of named groups of processes, read from /proc (no psutil in the venv).

A group is a root pid and all its descendants (gunicorn's workers, Chromium's renderers, Postgres'
backends). A sampler thread reads every process once a second: CPU is utime + stime at the last
sample minus the first (a process first seen later counts from zero), memory is the highest sum of
the group's resident sets over the samples, and the highest VmHWM of any one of its processes.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> tuple[int, float] | None:
    """(ppid, cpu seconds) of a live process, None when it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name may hold spaces and parentheses: the fields start after the last ')'.
    fields = raw[raw.rfind(")") + 2:].split()
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / TICK


def _memory_kb(pid: int) -> tuple[int, int]:
    """(VmRSS, VmHWM) in kB, zeros for a kernel thread or a process that is gone."""
    rss = hwm = 0
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
            elif line.startswith("VmHWM:"):
                hwm = int(line.split()[1])
    except OSError:
        pass
    return rss, hwm


@dataclass
class Usage:
    first_cpu: dict[int, float] = field(default_factory=dict)
    last_cpu: dict[int, float] = field(default_factory=dict)
    peak_group_rss_kb: int = 0
    peak_process_hwm_kb: int = 0
    processes: set[int] = field(default_factory=set)

    @property
    def cpu_s(self) -> float:
        return sum(self.last_cpu[p] - self.first_cpu.get(p, 0.0) for p in self.last_cpu)


class ProcessSampler(threading.Thread):
    """Samples the groups until stopped; `own` groups hold only their root, no descendants."""

    def __init__(self, interval_s: float = 1.0):
        super().__init__(daemon=True, name="bench-proc-sampler")
        self.interval_s = interval_s
        self.roots: dict[str, list[int]] = {}
        self.own: set[str] = set()
        self.usage: dict[str, Usage] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._sample_lock = threading.Lock()
        self._baseline_taken = False

    def add(self, name: str, pid: int, *, descendants: bool = True) -> None:
        with self._lock:
            self.roots.setdefault(name, []).append(pid)
            self.usage.setdefault(name, Usage())
            if not descendants:
                self.own.add(name)

    def _tree(self) -> dict[int, tuple[int, float]]:
        out = {}
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                st = _stat(int(entry))
                if st is not None:
                    out[int(entry)] = st
        return out

    def sample(self) -> None:
        with self._sample_lock:
            self._sample()

    def _sample(self) -> None:
        procs = self._tree()
        children: dict[int, list[int]] = {}
        for pid, (ppid, _) in procs.items():
            children.setdefault(ppid, []).append(pid)
        with self._lock:
            roots = {k: list(v) for k, v in self.roots.items()}
        all_roots = {p for v in roots.values() for p in v}
        for name, pids in roots.items():
            members: set[int] = set()
            stack = [p for p in pids if p in procs]
            while stack:
                p = stack.pop()
                members.add(p)
                if name not in self.own:
                    # Another group's root below this one is that group's, not ours.
                    stack.extend(c for c in children.get(p, []) if c not in all_roots)
            u = self.usage[name]
            group_rss = 0
            for p in members:
                cpu = procs[p][1]
                if p not in u.processes:
                    u.processes.add(p)
                    if not self._baseline_taken:
                        u.first_cpu[p] = cpu
                u.last_cpu[p] = cpu
                rss, hwm = _memory_kb(p)
                group_rss += rss
                u.peak_process_hwm_kb = max(u.peak_process_hwm_kb, hwm)
            u.peak_group_rss_kb = max(u.peak_group_rss_kb, group_rss)

    def baseline(self) -> None:
        """From now on CPU is counted: what every known process used so far is left out."""
        with self._sample_lock:
            for u in self.usage.values():
                u.first_cpu = dict(u.last_cpu)
                u.peak_group_rss_kb = 0
            self._sample()
            self._baseline_taken = True

    def run(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.sample()

    def stop(self) -> None:
        self._stop.set()
        self.sample()  # a last look, so the final CPU figures are current
