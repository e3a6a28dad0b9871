"""The local cluster's certificates and keys, made once with ``openssl`` and kept in ``<cluster>/pki``.

One CA signs the API server's serving certificate and a client certificate per user: the admin (group
``system:masters``), the controller manager and the scheduler (their built-in RBAC users) and kwok. A
separate key pair signs service-account tokens. Everything is for 127.0.0.1 only and valid ten years,
so a cluster's data outlives many restarts without re-issuing anything.
"""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
import tempfile
from pathlib import Path

from kgrca.contracts import KgrcaError

_DAYS = "3650"
# The first address of the service range is the in-cluster `kubernetes` Service; pods would dial it.
SERVICE_CIDR = "10.96.0.0/16"
_SERVER_NAMES = ("DNS:localhost", "DNS:kubernetes", "DNS:kubernetes.default", "DNS:kubernetes.default.svc",
                 "DNS:kubernetes.default.svc.cluster.local", "IP:127.0.0.1", "IP:10.96.0.1")


@dataclasses.dataclass(frozen=True)
class ClientIdentity:
    """A client certificate's file stem, user name (CN) and groups (O)."""

    stem: str
    user: str
    groups: tuple[str, ...] = ()


CLIENTS: tuple[ClientIdentity, ...] = (
    ClientIdentity("admin", "kgrca-admin", ("system:masters",)),
    ClientIdentity("controller-manager", "system:kube-controller-manager"),
    ClientIdentity("scheduler", "system:kube-scheduler"),
    # kwok writes pod and node status and creates events for every namespace, like many kubelets at once.
    ClientIdentity("kwok", "kwok-controller", ("system:masters",)),
)


def _openssl(*args: str, cwd: Path) -> None:
    if not shutil.which("openssl"):
        raise KgrcaError("openssl is not installed: run scripts/setup/40-cluster.sh (or apt-get install openssl)")
    result = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise KgrcaError(f"openssl {args[0]} failed in {cwd}: {last}")


def _sign(pki: Path, stem: str, subject: str, extensions: str) -> None:
    """A new key and a certificate for ``subject`` signed by the CA, with the given v3 extensions."""
    _openssl("genrsa", "-out", f"{stem}.key", "2048", cwd=pki)
    _openssl("req", "-new", "-key", f"{stem}.key", "-subj", subject, "-out", f"{stem}.csr", cwd=pki)
    with tempfile.NamedTemporaryFile("w", dir=pki, suffix=".ext", delete=False) as ext:
        ext.write(extensions)
    try:
        _openssl("x509", "-req", "-in", f"{stem}.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
                 "-days", _DAYS, "-sha256", "-extfile", ext.name, "-out", f"{stem}.crt", cwd=pki)
    finally:
        Path(ext.name).unlink(missing_ok=True)
        (pki / f"{stem}.csr").unlink(missing_ok=True)


def ensure_pki(pki: Path) -> Path:
    """Create whatever of the CA, certificates and service-account keys is missing; return ``pki``.

    Files are written into a scratch folder and moved in last, so an interrupted run leaves either a
    complete set or none (and then simply runs again).
    """
    if (pki / "complete").is_file():
        return pki
    pki.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="pki.", dir=pki.parent))
    try:
        _openssl("genrsa", "-out", "ca.key", "2048", cwd=scratch)
        _openssl("req", "-x509", "-new", "-key", "ca.key", "-subj", "/CN=kgrca-local-cluster-ca", "-days", _DAYS,
                 "-sha256", "-addext", "basicConstraints=critical,CA:TRUE",
                 "-addext", "keyUsage=critical,keyCertSign,cRLSign,digitalSignature", "-out", "ca.crt",
                 cwd=scratch)
        _sign(scratch, "apiserver", "/CN=kube-apiserver",
              "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n"
              f"extendedKeyUsage=serverAuth\nsubjectAltName={','.join(_SERVER_NAMES)}\n")
        for client in CLIENTS:
            subject = "".join(f"/O={group}" for group in client.groups) + f"/CN={client.user}"
            _sign(scratch, client.stem, subject,
                  "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n"
                  "extendedKeyUsage=clientAuth\n")
        _openssl("genrsa", "-out", "sa.key", "2048", cwd=scratch)
        _openssl("rsa", "-in", "sa.key", "-pubout", "-out", "sa.pub", cwd=scratch)
        for path in scratch.iterdir():
            path.chmod(0o600 if path.suffix == ".key" else 0o644)
        (scratch / "complete").write_text("ok\n")
        if pki.exists():
            shutil.rmtree(pki)
        scratch.rename(pki)
    finally:
        if scratch.exists():
            shutil.rmtree(scratch, ignore_errors=True)
    return pki
