"""The generated BPF C, checked without root: golden text, and the rules the kernel here imposes."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

import bpf
from bpf.program import ProgramOptions, generate
from bpf.tracer import main as tracer_main

GOLDEN = Path(__file__).resolve().parents[1] / "bpf" / "testdata"
CASES = {
    "default.c": ProgramOptions(),
    "perf-helm-only.c": ProgramOptions(names=("helm",), ringbuf=False, buffer_pages=16, track_files=False,
                                       track_api=False, track_stderr=False),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_generated_c_matches_golden(name):
    """A change to the C must be deliberate: rerun with KGRCA_UPDATE_GOLDEN=1 and review the diff."""
    text = generate(CASES[name])
    path = GOLDEN / name
    if os.environ.get("KGRCA_UPDATE_GOLDEN"):
        path.write_text(text)
    assert text == path.read_text(), f"generated C differs from {path}"


def test_same_options_same_text():
    assert generate(ProgramOptions()) == generate(ProgramOptions())


def test_reads_no_kernel_struct():
    """Headers here are Debian 6.1, the kernel 6.18: a struct offset from them would be wrong."""
    text = generate(ProgramOptions())
    for forbidden in ("task_struct", "bpf_get_current_task", "->real_parent", "->tgid", "BPF_CORE_READ",
                      "kprobe", "kretprobe", "#include"):
        assert forbidden not in text


def test_attaches_to_exactly_the_tracepoints_availability_checks():
    attached = set(re.findall(r"TRACEPOINT_PROBE\((\w+), (\w+)\)", generate(ProgramOptions())))
    assert {f"{a}/{b}" for a, b in attached} == set(bpf.TRACEPOINTS)


def test_options_shape_the_program():
    lean = generate(CASES["perf-helm-only.c"])
    assert "BPF_PERF_OUTPUT(events)" in lean and "BPF_RINGBUF_OUTPUT" not in lean
    assert "sys_enter_openat" not in lean and "sys_enter_connect" not in lean and "sys_enter_write" not in lean
    assert "/* kubectl */" not in lean and "/* helm */" in lean
    full = generate(ProgramOptions(buffer_pages=128, cpus=3, max_args=32))
    assert "BPF_RINGBUF_OUTPUT(events, 512);" in full and "#define MAX_ARGS 32" in full  # 128 x 3 -> 512


@pytest.mark.parametrize("bad", [dict(arg_len=100), dict(names=("",)), dict(names=("x" * 16,)),
                                 dict(names=('he"lm',)), dict(buffer_pages=3), dict(names=()),
                                 dict(arg_len=8192, argv_len=4096)])
def test_bad_options_are_refused(bad):
    with pytest.raises(ValueError):
        ProgramOptions(**bad)


def test_hidden_ebpf_flag_prints_the_c(capsys):
    assert tracer_main(["--ebpf", "--names", "helm", "--no-api"]) == 0
    out = capsys.readouterr().out
    expected = ProgramOptions(names=("helm",), track_api=False, cpus=os.cpu_count() or 1)
    assert out.strip() == generate(expected).strip()
