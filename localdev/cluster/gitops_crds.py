"""The real CustomResourceDefinitions of Flux and Argo CD, pinned by version, on the local API server.

kgrca watches the GitOps controllers' objects (HelmRelease, Kustomization, the Flux sources, Application)
when their CRDs exist. The local cluster installs the controllers' own CRDs, exactly as published, so tests
and recorded scenarios write objects the real API server validates against the real schemas. The
controllers themselves do not run here: tests write status the way they would.

The YAML comes from the Go module proxy (``go mod download``), the same way the cluster's binaries do:
every release of these projects is a Go module whose zip holds the CRD files. Each module's ``h1:`` hash is
pinned below and checked against what ``go mod download`` reports (which itself checks the Go checksum
database), so a version can only change here. The files are copied once into
``<cache>/crds/<project>-<version>/``; after that no network is needed.

The Flux versions are one Flux release (v2.7.3, 2025-10-28): helm-controller v1.4.3 requires
source-controller/api v1.7.2, and source-controller v1.7.3 and kustomize-controller v1.7.2 were tagged with
it the same day.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

import yaml

from kgrca.config import Config
from kgrca.contracts import KgrcaError

Say = Callable[[str], None]


@dataclasses.dataclass(frozen=True)
class CrdModule:
    """One Go module holding CRD YAML: which files to take from it, pinned by version and module hash."""

    name: str  # a short name for the cache folder and messages
    module: str
    version: str
    sum: str  # the module zip's h1: hash, as go.sum would hold it
    files: tuple[str, ...]

    def cache_dir(self, cfg: Config) -> Path:
        return cfg.cache_path / "crds" / f"{self.name}-{self.version}"


MODULES: tuple[CrdModule, ...] = (
    CrdModule("helm-controller", "github.com/fluxcd/helm-controller", "v1.4.3",
              "h1:449LcGJXLCylvrNCq8ycevwa5mxE1Mn9vxTwlsj/no8=",
              ("config/crd/bases/helm.toolkit.fluxcd.io_helmreleases.yaml",)),
    CrdModule("source-controller", "github.com/fluxcd/source-controller", "v1.7.3",
              "h1:gFfeBiNUgF0kFFGap/rrMeJqz+0Tod0ARENJO8w/UA8=",
              tuple(f"config/crd/bases/source.toolkit.fluxcd.io_{plural}.yaml"
                    for plural in ("helmrepositories", "helmcharts", "ocirepositories", "gitrepositories",
                                   "buckets"))),
    CrdModule("kustomize-controller", "github.com/fluxcd/kustomize-controller", "v1.7.2",
              "h1:xmOWILtm9329M7MQCS/iCHXc2R+Xm9HjFSft9fh/PCA=",
              ("config/crd/bases/kustomize.toolkit.fluxcd.io_kustomizations.yaml",)),
    # ApplicationSet's CRD (1 MB) is left out: kgrca reads Applications, which an ApplicationSet only stamps out.
    CrdModule("argo-cd", "github.com/argoproj/argo-cd/v3", "v3.2.0",
              "h1:m2eGAV+nXQGgzZbH5SyJD5laaPW27mzWXBrgisUHY/0=",
              ("manifests/crds/application-crd.yaml", "manifests/crds/appproject-crd.yaml")),
)


def crd_name(path: Path) -> str:
    """``metadata.name`` (``<plural>.<group>``) of a CRD file."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # Argo CD's Application CRD is 330 KB of YAML
    document = yaml.load(path.read_text(), Loader=loader) or {}
    name = (document.get("metadata") or {}).get("name")
    if document.get("kind") != "CustomResourceDefinition" or not name:
        raise KgrcaError(f"{path} is not a CustomResourceDefinition with a name")
    return name


def _download(module: CrdModule) -> Path:
    """The module's folder in Go's module cache, fetched through the module proxy if not there yet."""
    from localdev.cluster.build import go_binary

    go = go_binary()
    env = dict(os.environ, GOTOOLCHAIN="local", GOFLAGS="")
    with tempfile.TemporaryDirectory(prefix="kgrca-crds-") as outside_any_module:
        done = subprocess.run([str(go), "mod", "download", "-json", f"{module.module}@{module.version}"],
                              cwd=outside_any_module, env=env, capture_output=True, text=True, timeout=600,
                              check=False)
    try:
        info = json.loads(done.stdout or "{}")
    except ValueError:
        info = {}
    if done.returncode != 0 or info.get("Error") or not info.get("Dir"):
        reason = info.get("Error") or done.stderr.strip() or f"exit {done.returncode}"
        raise KgrcaError(f"could not download {module.module}@{module.version} from the Go module proxy: {reason}")
    if info.get("Sum") != module.sum:
        raise KgrcaError(f"{module.module}@{module.version} has hash {info.get('Sum')}, pinned {module.sum}: "
                         "refusing CRDs that are not the pinned release")
    return Path(info["Dir"])


def fetch(cfg: Config, say: Say | None = None) -> list[Path]:
    """Every pinned CRD file in the cache, downloading a module only when one of its files is missing."""
    paths: list[Path] = []
    for module in MODULES:
        folder = module.cache_dir(cfg)
        wanted = [folder / Path(file).name for file in module.files]
        if not all(path.is_file() for path in wanted):
            if say:
                say(f"fetching {module.name} {module.version} CRDs from the Go module proxy")
            source = _download(module)
            folder.mkdir(parents=True, exist_ok=True)
            for file, target in zip(module.files, wanted, strict=True):
                partial = target.with_name(target.name + ".part")
                shutil.copyfile(source / file, partial)
                partial.replace(target)
        paths += wanted
    return paths


def crd_names(cfg: Config) -> list[str]:
    return [crd_name(path) for path in fetch(cfg)]


def install(cfg: Config, say: Say) -> list[str]:
    """Apply every pinned CRD to the local API server and wait until each is Established; their names.

    Server-side apply: Argo CD's Application CRD (330 KB) would not fit the 256 KiB
    ``last-applied-configuration`` annotation client-side apply writes. Applying unchanged CRDs is a no-op.
    """
    from localdev.cluster.control_plane import kubectl

    paths = fetch(cfg, say)
    args = ["apply", "--server-side", "--force-conflicts", "--field-manager=kgrca-cluster"]
    for path in paths:
        args += ["-f", str(path)]
    kubectl(cfg, *args, timeout=120)
    names = [crd_name(path) for path in paths]
    kubectl(cfg, "wait", "--for=condition=Established", "--timeout=60s", *(f"crd/{n}" for n in names), timeout=90)
    say(f"GitOps CRDs installed: {', '.join(f'{m.name} {m.version}' for m in MODULES)}")
    return names


def versions() -> dict[str, str]:
    """Project -> pinned version, for recordings' metadata."""
    return {module.name: module.version for module in MODULES}
