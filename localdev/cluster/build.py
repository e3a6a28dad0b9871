"""Build the cluster's binaries from the Go module proxy, once, into ``cfg.cache_path / "k8s"``.

Three Go modules in ``go/`` pin every version (``go.mod`` plus the committed ``go.sum``): ``go/kube`` builds
etcd, the control plane, kubectl and kwok against one set of Kubernetes libraries; ``go/helm4`` builds helm 4
(the default ``helm``) and ``go/helm`` helm 3 (binary name ``helm3``, kept for the test matrix), each with the
libraries it was released with. Each binary lands in a directory named after its module's
version and a digest of the module files, so a version bump builds afresh and an unchanged one is never
rebuilt. A binary is written under a temporary name and renamed when complete, so an interrupted build
resumes with the binaries still missing and never mistakes a half-written file for a finished one.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from kgrca.config import Config
from kgrca.contracts import KgrcaError

GO_DIR = Path(__file__).resolve().parent / "go"
KUBERNETES_VERSION = "v1.36.3"
HELM_VERSION = "v4.3.2"  # the default helm
HELM3_VERSION = "v3.22.0"  # Helm 3 is past its end of support; still built so tests can run both majors
ETCD_VERSION = "v3.6.8"
KWOK_VERSION = "v0.8.0"

_KUBE_VERSION_FLAGS = tuple(
    f"-X {package}.{field}={value}"
    for package in ("k8s.io/component-base/version", "k8s.io/client-go/pkg/version")
    for field, value in (("gitVersion", KUBERNETES_VERSION), ("gitMajor", "1"),
                         ("gitMinor", KUBERNETES_VERSION.split(".")[1]), ("gitTreeState", "clean"))
)


@dataclasses.dataclass(frozen=True)
class Binary:
    """One program to build: its file name, the Go module (folder in ``go/``) and package that make it."""

    name: str
    module: str
    package: str
    version: str
    ldflags: tuple[str, ...] = ()
    file: str = ""  # the file name in the cache folder, when it is not ``name`` (both helms are ``helm``)

    @property
    def filename(self) -> str:
        return self.file or self.name


# Ordered so the cluster's first pieces are ready first if a build is cut short.
BINARIES: tuple[Binary, ...] = (
    Binary("etcd", "kube", "go.etcd.io/etcd/server/v3", ETCD_VERSION,
           ("-X go.etcd.io/etcd/api/v3/version.GitSHA=kgrca",)),
    Binary("kube-apiserver", "kube", "k8s.io/kubernetes/cmd/kube-apiserver", KUBERNETES_VERSION,
           _KUBE_VERSION_FLAGS),
    Binary("kube-controller-manager", "kube", "k8s.io/kubernetes/cmd/kube-controller-manager",
           KUBERNETES_VERSION, _KUBE_VERSION_FLAGS),
    Binary("kube-scheduler", "kube", "k8s.io/kubernetes/cmd/kube-scheduler", KUBERNETES_VERSION,
           _KUBE_VERSION_FLAGS),
    Binary("kwok", "kube", "sigs.k8s.io/kwok/cmd/kwok", KWOK_VERSION,
           (f"-X sigs.k8s.io/kwok/pkg/consts.Version={KWOK_VERSION.lstrip('v')}",)),
    Binary("kubectl", "kube", "k8s.io/kubernetes/cmd/kubectl", KUBERNETES_VERSION, _KUBE_VERSION_FLAGS),
    Binary("helm", "helm4", "helm.sh/helm/v4/cmd/helm", HELM_VERSION,
           (f"-X helm.sh/helm/v4/internal/version.version={HELM_VERSION}",
            "-X helm.sh/helm/v4/internal/version.gitTreeState=clean")),
    Binary("helm3", "helm", "helm.sh/helm/v3/cmd/helm", HELM3_VERSION,
           (f"-X helm.sh/helm/v3/internal/version.version={HELM3_VERSION}",
            "-X helm.sh/helm/v3/internal/version.gitTreeState=clean"), file="helm"),
)
_BY_NAME = {binary.name: binary for binary in BINARIES}
_MODULE_VERSION = {"kube": KUBERNETES_VERSION, "helm": HELM3_VERSION, "helm4": HELM_VERSION}
HELM_BINARIES = {4: "helm", 3: "helm3"}  # helm major -> the binary's name here


def helm_name(major: int) -> str:
    """The name of the helm binary of that major version (``helm`` for 4, ``helm3`` for 3)."""
    try:
        return HELM_BINARIES[int(major)]
    except (KeyError, ValueError):
        raise KgrcaError(f"no helm {major} is built here; helm_major is one of "
                         f"{', '.join(str(m) for m in sorted(HELM_BINARIES))}") from None


def module_digest(module: str) -> str:
    """A short digest of a module's go.mod and go.sum: it changes whenever a pinned version does."""
    digest = hashlib.sha256()
    for name in ("go.mod", "go.sum"):
        digest.update((GO_DIR / module / name).read_bytes())
    return digest.hexdigest()[:10]


def binary_dir(cfg: Config, module: str) -> Path:
    return cfg.cache_path / "k8s" / f"{module}-{_MODULE_VERSION[module]}-{module_digest(module)}"


def binary_path(cfg: Config, name: str) -> Path:
    """Where the named binary is (or will be) cached; it exists only once fully built."""
    binary = _BY_NAME[name]
    return binary_dir(cfg, binary.module) / binary.filename


def missing(cfg: Config, names: tuple[str, ...] | None = None) -> list[Binary]:
    wanted = [_BY_NAME[n] for n in names] if names else list(BINARIES)
    return [b for b in wanted if not binary_path(cfg, b.name).is_file()]


def go_binary() -> Path:
    found = shutil.which("go") or ("/usr/local/go/bin/go" if Path("/usr/local/go/bin/go").is_file() else None)
    if not found:
        raise KgrcaError("the Go toolchain is not installed (looked for `go` on PATH and /usr/local/go/bin/go): "
                         "install Go 1.26 or newer to build the local cluster")
    return Path(found)


@contextlib.contextmanager
def _build_lock(root: Path) -> Iterator[None]:
    """One build at a time per cache: a second `kgrca cluster up` waits instead of compiling twice."""
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".build.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def ensure_built(cfg: Config, names: tuple[str, ...] | None = None,
                 say: Callable[[str], None] | None = None) -> dict[str, Path]:
    """Build whatever of ``names`` (default: all) is not cached yet; return name -> binary path.

    Progress goes to ``say`` (default: stderr). Compiling runs under ``nice -n 10`` so a cold build
    shares the machine politely; Go's own build cache makes a resumed build skip finished packages.
    """
    say = say or (lambda line: print(line, file=sys.stderr, flush=True))
    todo = missing(cfg, names)
    if todo:
        with _build_lock(cfg.cache_path / "k8s"):
            todo = missing(cfg, names)  # another process may have built them while we waited
            if todo:
                _build(cfg, todo, say)
    wanted = names or tuple(b.name for b in BINARIES)
    return {name: binary_path(cfg, name) for name in wanted}


def _build(cfg: Config, todo: list[Binary], say: Callable[[str], None]) -> None:
    go = go_binary()
    env = dict(os.environ)
    # Never fetch another Go toolchain: the registries give modules, and go.mod asks only for go1.26.
    env.update({"GOTOOLCHAIN": "local", "GOFLAGS": "-mod=readonly -buildvcs=false", "CGO_ENABLED": "0"})
    env["PATH"] = f"{go.parent}{os.pathsep}{env.get('PATH', '')}"
    nice = ["nice", "-n", "10"] if shutil.which("nice") else []
    started = time.monotonic()
    say(f"building {len(todo)} cluster binaries into {cfg.cache_path / 'k8s'} (cold: 30-50 min on 2 cores)")
    for index, binary in enumerate(todo, 1):
        target = binary_path(cfg, binary.name)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".part")
        log = target.with_name(target.name + ".build.log")
        say(f"[{index}/{len(todo)}] {binary.name} {binary.version} ...")
        began = time.monotonic()
        ldflags = " ".join(("-s", "-w", *binary.ldflags))
        command = [*nice, str(go), "build", "-trimpath", f"-ldflags={ldflags}", "-o", str(partial),
                   binary.package]
        with open(log, "w") as out:
            result = subprocess.run(command, cwd=GO_DIR / binary.module, env=env, stdout=out,
                                    stderr=subprocess.STDOUT, check=False)
        if result.returncode != 0:
            partial.unlink(missing_ok=True)
            tail = log.read_text(errors="replace").strip().splitlines()[-1:] or ["no output"]
            raise KgrcaError(f"building {binary.name} failed ({tail[0].strip()}); full output in {log}")
        partial.replace(target)
        log.unlink(missing_ok=True)
        say(f"[{index}/{len(todo)}] {binary.name} built in {time.monotonic() - began:.0f}s "
            f"(total {time.monotonic() - started:.0f}s)")
