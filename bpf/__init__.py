"""eBPF tracing of helm and kubectl: the source of ``helm_process`` / ``kubectl_process`` observations.

``availability()`` says whether tracing can run here and, when not, why in one line, so the rest of
kgrca can run Kubernetes-only. The tracer itself is ``bpf.tracer``; records are ``bpf.records``.
"""

from __future__ import annotations

import importlib.util
import os
import platform
import sys
from typing import Any

TRACEFS_ROOTS = ("/sys/kernel/tracing", "/sys/kernel/debug/tracing")
TRACEPOINTS = ("sched/sched_process_exec", "task/task_newtask", "sched/sched_process_exit",
               "syscalls/sys_enter_execve", "syscalls/sys_enter_exit_group", "signal/signal_generate",
               "syscalls/sys_enter_openat", "syscalls/sys_exit_openat", "syscalls/sys_enter_connect",
               "syscalls/sys_enter_write", "syscalls/sys_exit_write")
SETUP = "run scripts/setup/30-ebpf.sh as root"


def tracefs_root() -> str | None:
    for root in TRACEFS_ROOTS:
        if os.path.isdir(os.path.join(root, "events")):
            return root
    return None


def availability(cfg: Any = None) -> tuple[bool, str]:
    """``(True, what will be used)`` when ``kgrca trace`` can run here, else ``(False, why)``.

    Checks, cheapest first: Linux, the ``enable_ebpf`` setting (when ``cfg`` is given), root,
    tracefs, the tracepoints the program attaches to, kernel headers for BCC, and BCC itself.
    Loads nothing into the kernel.
    """
    if sys.platform != "linux":
        return False, f"eBPF tracing needs Linux, this is {platform.system()}; running Kubernetes-only"
    if cfg is not None and not cfg.enable_ebpf:
        return False, f"eBPF tracing is off (enable_ebpf=false from {cfg.origin('enable_ebpf')})"
    if os.geteuid() != 0:
        return False, "eBPF tracing needs root: run 'sudo kgrca trace'"
    root = tracefs_root()
    if root is None:
        return False, f"tracefs is not mounted at /sys/kernel/tracing: {SETUP}"
    for tracepoint in TRACEPOINTS:
        if not os.path.exists(os.path.join(root, "events", tracepoint)):
            return False, f"this kernel has no {tracepoint.replace('/', ':')} tracepoint; eBPF tracing cannot run"
    release = platform.release()
    headers = f"/lib/modules/{release}/build"
    if not os.path.exists(os.path.join(headers, "include")) and not os.path.exists("/sys/kernel/kheaders.tar.xz"):
        return False, f"no kernel headers at {headers} (BCC compiles against them): {SETUP}"
    if importlib.util.find_spec("bcc") is None:
        return False, f"BCC is not importable from {sys.executable}: {SETUP}"
    return True, f"eBPF tracing available (kernel {release}, tracefs at {root})"
