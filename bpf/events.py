"""Decoding the events the BPF program sends (layouts in bpf/program.py), into plain dicts.

Pure Python so it is tested without root. Times stay as the kernel's CLOCK_MONOTONIC nanoseconds
(``ts``); ``bpf/records.py`` turns them into wall-clock times.
"""

from __future__ import annotations

import ipaddress
import struct
from typing import Any

from bpf.program import EV_CONNECT, EV_EXEC, EV_EXIT, EV_OPEN, EV_STDERR, ProgramOptions

_HDR = struct.Struct("<IIIIQ")                 # type, pid, tid, pad, ts
_EXEC_FIXED = struct.Struct("<IIIIQ16s")       # ppid, uid, gid, is_op, cgroup_id, comm
_EXEC_TAIL = struct.Struct("<IIII")            # argc, truncated, args_len, pad
_EXIT = struct.Struct("<IIIIQQ")               # exited, exit_code, sig, sig_from, sig_ts, stderr_bytes
_OPEN = struct.Struct("<iI")                   # ret, flags
_CONNECT = struct.Struct("<II16s108s")         # family, port, addr, unix_path
_STDERR = struct.Struct("<II")                 # len, count

AF_UNIX, AF_INET, AF_INET6 = 1, 2, 10


def _cstr(raw: bytes) -> str:
    return raw.split(b"\0", 1)[0].decode("utf-8", "replace")


class EventDecoder:
    """Turns the raw bytes of one event into a dict with ``type`` one of exec, exit, open, connect,
    stderr; raises ``ValueError`` on bytes that are not an event of this program."""

    def __init__(self, options: ProgramOptions):
        self._path_len = options.path_len

    def decode(self, data: bytes) -> dict[str, Any]:
        if len(data) < _HDR.size:
            raise ValueError(f"event of {len(data)} bytes is shorter than its header")
        kind, pid, tid, _, ts = _HDR.unpack_from(data)
        event: dict[str, Any] = {"pid": pid, "tid": tid, "ts": ts}
        body = memoryview(data)[_HDR.size:]
        if kind == EV_EXEC:
            event.update(self._exec(bytes(body)))
        elif kind == EV_EXIT:
            exited, code, sig, sig_from, sig_ts, stderr_bytes = _EXIT.unpack_from(body)
            event.update(type="exit", exited=bool(exited), exit_code=code if exited else None,
                         signal=sig or None, signal_from=sig_from if sig else None,
                         signal_ts=sig_ts if sig else None, stderr_bytes=stderr_bytes)
        elif kind == EV_OPEN:
            ret, flags = _OPEN.unpack_from(body)
            path = _cstr(bytes(body[_OPEN.size:_OPEN.size + self._path_len]))  # sent without padding
            event.update(type="open", ret=ret, flags=flags, path=path)
        elif kind == EV_CONNECT:
            family, port, addr, unix_path = _CONNECT.unpack_from(body)
            event.update(type="connect", family=family, port=port, address=_address(family, addr, unix_path))
        elif kind == EV_STDERR:
            length, count = _STDERR.unpack_from(body)
            data_bytes = bytes(body[_STDERR.size:_STDERR.size + length])
            event.update(type="stderr", data=data_bytes, count=count)
        else:
            raise ValueError(f"unknown event type {kind}")
        return event

    def _exec(self, body: bytes) -> dict[str, Any]:
        ppid, uid, gid, is_op, cgroup_id, comm = _EXEC_FIXED.unpack_from(body)
        offset = _EXEC_FIXED.size
        filename = _cstr(body[offset:offset + self._path_len])
        offset += self._path_len
        argc, truncated, args_len, _ = _EXEC_TAIL.unpack_from(body, offset)
        offset += _EXEC_TAIL.size
        raw = body[offset:offset + args_len]
        argv = [part.decode("utf-8", "replace") for part in raw.split(b"\0")[:argc]]
        return {"type": "exec", "ppid": ppid, "uid": uid, "gid": gid, "is_op": bool(is_op),
                "cgroup_id": cgroup_id, "comm": _cstr(comm), "filename": filename, "argv": argv,
                "argv_truncated": bool(truncated)}


def _address(family: int, addr: bytes, unix_path: bytes) -> str:
    if family == AF_INET:
        return str(ipaddress.IPv4Address(addr[:4]))
    if family == AF_INET6:
        return str(ipaddress.IPv6Address(addr))
    return _cstr(unix_path)
