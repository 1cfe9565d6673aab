"""A local Kubernetes API server for aio-mq: `tools/local-cluster up | down | status`.

etcd, kube-apiserver and kube-controller-manager (garbage collector and namespace controllers
only) are built from the pinned Go modules in tools/cluster/ (cached like the engine, see
`ensure_binaries`) and run as plain processes on 127.0.0.1, with their data, logs, PID files and
a token-authenticated kubeconfig (context `aio-mq-local`) in the cluster directory:
$AIO_MQ_CLUSTER_DIR, by default `.local-cluster/` in the project. The private keys the servers
need (TLS, service-account signing) are generated on the first `up` and kept outside the
project, in the binaries' cache (`ClusterDir.pki`), so no key in clear sits in a checkout.

`up` installs the CRDs under crds/ (every set, or the ones named with `--crds`) before the
controller manager starts — its garbage collector only watches the types that exist when it
starts, and Pulumi's Kubernetes provider deletes with foreground propagation, which only the
garbage collector completes. `--aio-defaults` adds what a fresh Azure IoT Operations install
has: the preview one, and where the GA CRDs are installed the GA one. Those are created once per
cluster, and only where absent: a stack may manage them afterwards (GA's `default`), so no later
`up` (which every `make … STACK=local` runs, `preview` included) writes them again. The last line
`up` prints is the kubeconfig's path. Progress goes to stderr.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import datetime
import fcntl
import functools
import hashlib
import ipaddress
import json
import os
import re
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import urllib3
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID
from kubernetes import client as k8s
from kubernetes import config, dynamic
from kubernetes.client.exceptions import ApiException

from tools.project import ROOT

GO_MODULE = Path(__file__).resolve().parent
"""The Go module (go.mod, go.sum) that pins the servers' versions: its content is the cache key."""
CRD_DIR = ROOT / "crds"
CONTEXT = "aio-mq-local"
FIELD_MANAGER = "aio-mq-local-cluster"
AIO_NAMESPACE = "azure-iot-operations"
GA = "mqttbroker.iotoperations.azure.com/v1"
GA_ISSUER = "azure-iot-operations-aio-certificate-issuer"
"""The ClusterIssuer of the certificate of GA's `default` listener."""

# The build recipe: part of the cache key, so changing it gives fresh binaries.
BINARIES = {
    "etcd": "go.etcd.io/etcd/server/v3",
    "kube-apiserver": "k8s.io/kubernetes/cmd/kube-apiserver",
    "kube-controller-manager": "k8s.io/kubernetes/cmd/kube-controller-manager",
}
VERSION_PACKAGES = ("k8s.io/component-base/version", "k8s.io/client-go/pkg/version")

START_ORDER = ("etcd", "kube-apiserver", "kube-controller-manager")
ETCD_TIMEOUT = 30.0
APISERVER_TIMEOUT = 90.0
CRD_TIMEOUT = 30.0
GC_TIMEOUT = 90.0
STOP_TIMEOUT = 15.0
BUILD_LOCK_TIMEOUT = 3600.0
LOG_TAIL_LINES = 30

T = TypeVar("T")


class ClusterError(Exception):
    """A failure reported to the user as one message (no traceback)."""


def log(message: str) -> None:
    print(f"local-cluster: {message}", file=sys.stderr, flush=True)


# --- binaries --------------------------------------------------------------------------------


def kubernetes_version() -> str:
    go_mod = (GO_MODULE / "go.mod").read_text()
    match = re.search(r"^\s*(?:require\s+)?k8s\.io/kubernetes (v[^\s/]+)", go_mod, re.M)
    if not match:
        raise ClusterError(f"{GO_MODULE / 'go.mod'} does not pin k8s.io/kubernetes")
    return match.group(1)


def build_key(version: str) -> str:
    recipe = hashlib.sha256()
    for name in ("go.mod", "go.sum"):
        recipe.update((GO_MODULE / name).read_bytes())
    recipe.update(json.dumps([BINARIES, VERSION_PACKAGES, ldflags(version)]).encode())
    return f"kubernetes-{version}_{recipe.hexdigest()[:12]}"


def ldflags(version: str) -> str:
    # Without these the servers report v0.0.0, which clients (and the Pulumi provider) distrust.
    major, minor = version.removeprefix("v").split(".")[:2]
    flags = ["-s", "-w"]
    for package in VERSION_PACKAGES:
        flags += [
            f"-X {package}.gitVersion={version}",
            f"-X {package}.gitMajor={major}",
            f"-X {package}.gitMinor={minor}",
            f"-X {package}.gitTreeState=clean",
        ]
    return " ".join(flags)


def find_go() -> str:
    go = os.environ.get("GO") or shutil.which("go")
    if not go and Path("/usr/local/go/bin/go").exists():
        go = "/usr/local/go/bin/go"
    if not go:
        raise ClusterError("Go is needed to build the cluster, but no 'go' was found (set GO=...)")
    return go


def ensure_binaries() -> Path:
    """The bin directory with etcd, kube-apiserver and kube-controller-manager, built if needed.

    Cached in $AIO_MQ_CLUSTER_CACHE (default ~/.cache/aio-mq/cluster)/<version>_<recipe hash>/bin;
    a lock keeps two builds of one key from racing, and the bin directory appears only once
    complete.
    """
    version = kubernetes_version()
    key_dir = cache_root() / build_key(version)
    bin_dir = key_dir / "bin"
    if all((bin_dir / name).is_file() for name in BINARIES):
        return bin_dir
    key_dir.mkdir(parents=True, exist_ok=True)
    with _locked(key_dir / ".lock", BUILD_LOCK_TIMEOUT, "another build of the cluster binaries"):
        if not all((bin_dir / name).is_file() for name in BINARIES):
            _build(version, key_dir)
    return bin_dir


def _build(version: str, key_dir: Path) -> None:
    go = find_go()
    partial = key_dir / "bin.partial"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir()
    env = {
        **os.environ,
        "CGO_ENABLED": "0",
        "GOWORK": "off",
        "GOFLAGS": f"{os.environ.get('GOFLAGS', '')} -mod=readonly".strip(),
    }
    log(f"building etcd, kube-apiserver and kube-controller-manager {version} into {key_dir}")
    log("this takes 10 to 20 minutes on 2 cores when the Go caches are cold")
    start = time.monotonic()
    # One go build for all three: the compiler keeps both cores busy across the whole graph.
    result = subprocess.run(
        [
            go,
            "build",
            "-trimpath",
            "-ldflags",
            ldflags(version),
            "-o",
            f"{partial}/",
            *BINARIES.values(),
        ],
        cwd=GO_MODULE,
        env=env,
        check=False,
    )
    if result.returncode != 0:
        raise ClusterError("building the cluster binaries failed; see the go output above")
    for name, package in BINARIES.items():
        # go names a binary after its package path, less a major-version suffix (server/v3).
        parts = package.split("/")
        built = parts[-2] if re.fullmatch(r"v\d+", parts[-1]) else parts[-1]
        (partial / built).rename(partial / name)
    log(f"[{time.monotonic() - start:.0f}s] built {', '.join(BINARIES)}")
    partial.rename(key_dir / "bin")


def cache_root() -> Path:
    return Path(
        os.environ.get("AIO_MQ_CLUSTER_CACHE") or Path.home() / ".cache" / "aio-mq" / "cluster"
    )


# --- the cluster directory --------------------------------------------------------------------


@dataclass(frozen=True)
class ClusterDir:
    path: Path

    @classmethod
    def from_env(cls) -> ClusterDir:
        return cls(Path(os.environ.get("AIO_MQ_CLUSTER_DIR") or ROOT / ".local-cluster").resolve())

    @property
    def kubeconfig(self) -> Path:
        return self.path / "kubeconfig"

    @property
    def pki(self) -> Path:
        """The cluster's CA certificate, serving key and service-account key, and the admin
        token: outside the cluster directory (which is in the checkout by default), one
        directory per cluster directory, deleted by `down --purge`."""
        digest = hashlib.sha256(str(self.path).encode()).hexdigest()[:16]
        return cache_root() / "credentials" / digest

    @property
    def legacy_pki(self) -> Path:
        """Where the credentials were kept before 2026-12-06: moved out by `up`."""
        return self.path / "pki"

    @property
    def state_file(self) -> Path:
        return self.path / "cluster.json"

    def pid_file(self, name: str) -> Path:
        return self.path / "run" / f"{name}.pid"

    def log_file(self, name: str) -> Path:
        return self.path / "logs" / f"{name}.log"

    def read_state(self) -> dict[str, Any]:
        try:
            state: dict[str, Any] = json.loads(self.state_file.read_text())
        except (OSError, ValueError):
            return {}
        return state

    def write_state(self, state: dict[str, Any]) -> None:
        self.state_file.write_text(json.dumps(state, indent=2) + "\n")


@contextlib.contextmanager
def _locked(path: Path, timeout: float, holder: str) -> Iterator[None]:
    with path.open("w") as handle:
        deadline = time.monotonic() + timeout
        announced = False
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if not announced:
                    log(f"waiting for {holder} ({path})")
                    announced = True
                if time.monotonic() > deadline:
                    raise ClusterError(
                        f"gave up waiting {timeout:.0f}s for {holder} ({path})"
                    ) from None
                time.sleep(0.5)
        yield


# --- processes --------------------------------------------------------------------------------


def running_pid(cluster: ClusterDir, name: str) -> int | None:
    """The PID in `name`'s PID file if that process is alive and is ours; a stale file
    (crash, reboot, PID reused by another program) is removed."""
    pid_file = cluster.pid_file(name)
    try:
        pid = int(pid_file.read_text().split()[0])
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except (OSError, ValueError, IndexError):
        pid_file.unlink(missing_ok=True)
        return None
    # Ours: started from a binary of that name with this cluster's directory or keys (the
    # API server is given only those) in its arguments.
    mine = (str(cluster.path), str(cluster.pki))
    ours = Path(os.fsdecode(cmdline[0])).name == name and any(
        where in os.fsdecode(arg) for arg in cmdline[1:] for where in mine
    )
    if not ours or _is_zombie(pid):
        pid_file.unlink(missing_ok=True)
        return None
    return pid


def _is_zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return True


def start_process(cluster: ClusterDir, name: str, argv: list[str]) -> subprocess.Popen[bytes]:
    log_file = cluster.log_file(name)
    with log_file.open("ab") as out:
        out.write(f"\n--- {datetime.datetime.now(datetime.UTC).isoformat()} start\n".encode())
        out.flush()
        # A session of its own: the servers outlive this command and ignore its terminal's ^C.
        process = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            close_fds=True,
        )
    cluster.pid_file(name).write_text(f"{process.pid}\n")
    return process


def log_tail(cluster: ClusterDir, name: str) -> str:
    try:
        lines = cluster.log_file(name).read_text(errors="replace").splitlines()
    except OSError:
        return "(no log)"
    return "\n".join(lines[-LOG_TAIL_LINES:])


def wait_for(
    what: str,
    probe: Callable[[], T | None],
    timeout: float,
    cluster: ClusterDir,
    process: tuple[str, subprocess.Popen[bytes]] | None = None,
) -> T:
    """Poll `probe` until it returns a value; fail on timeout or when the process dies."""
    deadline = time.monotonic() + timeout
    while True:
        if process is not None and process[1].poll() is not None:
            name = process[0]
            raise ClusterError(
                f"{name} exited with code {process[1].returncode} while starting; "
                f"the end of {cluster.log_file(name)}:\n{log_tail(cluster, name)}"
            )
        result = probe()
        if result is not None:
            return result
        if time.monotonic() > deadline:
            message = f"timed out after {timeout:.0f}s waiting for {what}"
            if process is not None:
                name = process[0]
                message += f"; the end of {cluster.log_file(name)}:\n{log_tail(cluster, name)}"
            raise ClusterError(message)
        time.sleep(0.2)


def stop_process(cluster: ClusterDir, name: str) -> bool:
    pid = running_pid(cluster, name)
    if pid is None:
        return False
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT
    while time.monotonic() < deadline and not _gone(pid):
        time.sleep(0.1)
    if not _gone(pid):
        log(f"{name} (pid {pid}) did not stop within {STOP_TIMEOUT:.0f}s; killing it")
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + STOP_TIMEOUT
        while time.monotonic() < deadline and not _gone(pid):
            time.sleep(0.1)
    cluster.pid_file(name).unlink(missing_ok=True)
    return True


def _gone(pid: int) -> bool:
    # Our own children (up then down in one process) linger as zombies until reaped.
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
    return not Path(f"/proc/{pid}").exists() or _is_zombie(pid)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # As Go's listeners do: a port whose old connections linger in TIME_WAIT is free.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


# --- credentials ------------------------------------------------------------------------------


def ensure_credentials(cluster: ClusterDir) -> None:
    """A CA and serving certificate for 127.0.0.1, the service-account key and the admin token:
    made once per cluster directory, kept across down/up."""
    pki = cluster.pki
    if (pki / "complete").exists():
        return
    pki.mkdir(mode=0o700, parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "aio-mq-local-ca")])
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kube-apiserver")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=3650))
        .add_extension(
            x509.SubjectAlternativeName(
                [
                    x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                    x509.DNSName("localhost"),
                    x509.DNSName("kubernetes.default.svc"),
                ]
            ),
            critical=False,
        )
        .add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    service_account_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def write(name: str, data: bytes) -> None:
        path = pki / name
        path.write_bytes(data)
        path.chmod(0o600)

    pem = serialization.Encoding.PEM
    private = serialization.PrivateFormat.PKCS8
    plain = serialization.NoEncryption()
    write("ca.crt", ca_cert.public_bytes(pem))
    write("apiserver.crt", cert.public_bytes(pem))
    write("apiserver.key", key.private_bytes(pem, private, plain))
    write("service-account.key", service_account_key.private_bytes(pem, private, plain))
    # Static token file: token,user,uid,groups. system:masters may do everything.
    write("tokens.csv", f'{secrets.token_hex(24)},admin,admin,"system:masters"\n'.encode())
    (pki / "complete").touch()


def admin_token(cluster: ClusterDir) -> str:
    return (cluster.pki / "tokens.csv").read_text().split(",", 1)[0]


def write_kubeconfig(cluster: ClusterDir, port: int) -> None:
    ca = base64.b64encode((cluster.pki / "ca.crt").read_bytes()).decode()
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": CONTEXT,
                "cluster": {
                    "server": f"https://127.0.0.1:{port}",
                    "certificate-authority-data": ca,
                },
            }
        ],
        "users": [{"name": f"{CONTEXT}-admin", "user": {"token": admin_token(cluster)}}],
        "contexts": [
            {"name": CONTEXT, "context": {"cluster": CONTEXT, "user": f"{CONTEXT}-admin"}}
        ],
        "current-context": CONTEXT,
    }
    partial = cluster.kubeconfig.with_suffix(".partial")
    partial.write_text(yaml.safe_dump(config, sort_keys=False))
    partial.chmod(0o600)
    partial.rename(cluster.kubeconfig)


# --- health -----------------------------------------------------------------------------------


def http_ok(url: str, token: str | None = None, ca: Path | None = None) -> str | None:
    request = urllib.request.Request(url)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    context = ssl.create_default_context(cafile=str(ca)) if ca else None
    try:
        with urllib.request.urlopen(request, timeout=3, context=context) as response:
            body: str = response.read().decode(errors="replace")
            return body if response.status == 200 else None
    except (OSError, urllib.error.URLError, ssl.SSLError):
        return None


def apiserver_ready(cluster: ClusterDir, port: int) -> str | None:
    try:
        token = admin_token(cluster)
    except OSError:  # no credentials (yet, or still in the legacy place): not ours to reach
        return None
    return http_ok(f"https://127.0.0.1:{port}/readyz", token, cluster.pki / "ca.crt")


# --- the Kubernetes side ----------------------------------------------------------------------


def crd_sets() -> list[str]:
    """The CRD sets: one per directory under crds/ (e.g. v1beta1, cert-manager)."""
    return sorted(path.name for path in CRD_DIR.iterdir() if path.is_dir())


def crd_documents(sets: list[str]) -> list[dict[str, Any]]:
    documents: list[dict[str, Any]] = []
    for name in sets:
        for path in sorted((CRD_DIR / name).rglob("*.yaml")):
            documents += [doc for doc in yaml.safe_load_all(path.read_text()) if doc]
    return documents


def api_client(cluster: ClusterDir) -> k8s.ApiClient:
    client: k8s.ApiClient = config.new_client_from_config(  # type: ignore[no-untyped-call]
        config_file=str(cluster.kubeconfig), context=CONTEXT
    )
    return client


def apply(client: k8s.ApiClient, manifest: dict[str, Any]) -> None:
    """Server-side apply, the way `kubectl apply --server-side` would."""
    resources = dynamic.DynamicClient(client).resources  # type: ignore[no-untyped-call]
    api = resources.get(api_version=manifest["apiVersion"], kind=manifest["kind"])
    api.server_side_apply(
        body=manifest,
        name=manifest["metadata"]["name"],
        namespace=manifest["metadata"].get("namespace"),
        field_manager=FIELD_MANAGER,
        force_conflicts=True,
    )


def create_absent(client: k8s.ApiClient, manifest: dict[str, Any]) -> bool:
    """Create `manifest` unless an object of its name exists (left as it is); whether it was
    created."""
    resources = dynamic.DynamicClient(client).resources  # type: ignore[no-untyped-call]
    api = resources.get(api_version=manifest["apiVersion"], kind=manifest["kind"])
    try:
        api.create(
            body=manifest,
            namespace=manifest["metadata"].get("namespace"),
            field_manager=FIELD_MANAGER,
        )
    except ApiException as exc:
        if exc.status == 409:  # AlreadyExists
            return False
        raise
    return True


def seed_aio_defaults(cluster: ClusterDir, client: k8s.ApiClient, sets: list[str]) -> None:
    """Create what a fresh Azure IoT Operations install has, once per cluster: on its first
    `up --aio-defaults` (the creating one, or the first after a cluster made without them).
    Objects that exist are never written, and once the state file records the seeding, nothing
    is: a stack may have taken over `default`, or someone deleted an object on purpose."""
    state = cluster.read_state()
    if state.get("aioDefaults"):
        return
    created = [obj for obj in aio_defaults(sets) if create_absent(client, obj)]
    cluster.write_state({**state, "aioDefaults": True})
    log(f"created the Azure IoT Operations defaults ({len(created)} objects)")


def install_crds(cluster: ClusterDir, client: k8s.ApiClient, sets: list[str]) -> list[str]:
    documents = crd_documents(sets)
    for document in documents:
        apply(client, document)
    extensions = k8s.ApiextensionsV1Api(client)

    def established(name: str) -> bool | None:
        crd = extensions.read_custom_resource_definition(name)
        conditions = crd.status.conditions or [] if crd.status else []
        return (
            True
            if any(c.type == "Established" and c.status == "True" for c in conditions)
            else None
        )

    names = [doc["metadata"]["name"] for doc in documents]
    for name in names:
        wait_for(
            f"CRD {name} to be established",
            functools.partial(established, name),
            CRD_TIMEOUT,
            cluster,
        )
    return names


def garbage_collector_works(
    cluster: ClusterDir, client: k8s.ApiClient, process: subprocess.Popen[bytes]
) -> None:
    """Delete a probe object with foreground propagation and wait until it is gone: only the
    garbage collector removes the `foregroundDeletion` finalizer, and it starts doing so once
    every informer it watches has synced."""
    core = k8s.CoreV1Api(client)
    name = f"aio-mq-gc-probe-{secrets.token_hex(4)}"
    core.create_namespaced_config_map(
        "default", k8s.V1ConfigMap(metadata=k8s.V1ObjectMeta(name=name))
    )
    core.delete_namespaced_config_map(
        name, "default", body=k8s.V1DeleteOptions(propagation_policy="Foreground")
    )

    def gone() -> bool | None:
        try:
            core.read_namespaced_config_map(name, "default")
        except ApiException as exc:
            if exc.status == 404:
                return True
            raise
        return None

    wait_for(
        "the garbage collector to finish a foreground deletion",
        gone,
        GC_TIMEOUT,
        cluster,
        ("kube-controller-manager", process),
    )


def aio_defaults(sets: list[str]) -> list[dict[str, Any]]:
    """What a fresh Azure IoT Operations install has: the preview one per the seed document,
    and where the GA CRDs are installed the GA one per the GA fact sheet (a real cluster has
    one or the other); objects whose CRD is not installed are left out."""
    mq = "mq.iotoperations.azure.com/v1beta1"
    meta = {"namespace": AIO_NAMESPACE}
    objects: list[dict[str, Any]] = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": AIO_NAMESPACE}}
    ]
    installed = {
        doc["spec"]["group"] + "/" + doc["spec"]["names"]["kind"] for doc in crd_documents(sets)
    }
    seeded: list[dict[str, Any]] = [
        {
            "apiVersion": mq,
            "kind": "Broker",
            "metadata": {"name": "broker", **meta},
            "spec": {},
        },
        {
            "apiVersion": mq,
            "kind": "BrokerListener",
            "metadata": {"name": "listener", **meta},
            "spec": {
                "brokerRef": "broker",
                "port": 8883,
                "serviceType": "clusterIp",
                "serviceName": "aio-mq-dmqtt-frontend",
                "authenticationEnabled": True,
                "authorizationEnabled": False,
                "tls": {
                    "automatic": {
                        "issuerRef": {
                            "name": "mq-dmqtt-frontend",
                            "kind": "Issuer",
                            "group": "cert-manager.io",
                        }
                    }
                },
            },
        },
        {
            "apiVersion": mq,
            "kind": "BrokerAuthentication",
            "metadata": {"name": "authn", **meta},
            "spec": {
                "listenerRef": ["listener"],
                "authenticationMethods": [{"sat": {"audiences": ["aio-mq"]}}],
            },
        },
        {
            "apiVersion": "cert-manager.io/v1",
            "kind": "Issuer",
            "metadata": {"name": "mq-dmqtt-frontend", **meta},
            "spec": {"ca": {"secretName": "aio-ca-key-pair-test-only"}},
        },
    ]
    if f"{GA.partition('/')[0]}/BrokerListener" in installed:
        seeded += ga_defaults()
    for obj in seeded:
        if obj["apiVersion"].split("/")[0] + "/" + obj["kind"] in installed:
            objects.append(obj)
    return objects


def ga_defaults() -> list[dict[str, Any]]:
    """What a fresh GA install adds to its namespace, with the ClusterIssuer of its `default`
    listener's certificate."""
    meta = {"namespace": AIO_NAMESPACE}
    tls = {
        "mode": "Automatic",
        "certManagerCertificateSpec": {
            "issuerRef": {"name": GA_ISSUER, "kind": "ClusterIssuer", "group": "cert-manager.io"},
            "privateKey": {"algorithm": "Ec256", "rotationPolicy": "Always"},
        },
    }
    port = {"port": 18883, "protocol": "Mqtt", "authenticationRef": "default", "tls": tls}
    tokens = {
        "method": "ServiceAccountToken",
        "serviceAccountTokenSettings": {"audiences": ["aio-internal"]},
    }
    return [
        {"apiVersion": GA, "kind": "Broker", "metadata": {"name": "default", **meta}, "spec": {}},
        {
            "apiVersion": GA,
            "kind": "BrokerListener",
            "metadata": {"name": "default", **meta},
            "spec": {
                "brokerRef": "default",
                "serviceType": "ClusterIp",
                "serviceName": "aio-broker",
                "ports": [port],
            },
        },
        {
            "apiVersion": GA,
            "kind": "BrokerAuthentication",
            "metadata": {"name": "default", **meta},
            "spec": {"authenticationMethods": [tokens]},
        },
        {
            "apiVersion": "cert-manager.io/v1",
            "kind": "ClusterIssuer",
            "metadata": {"name": GA_ISSUER},
            "spec": {"ca": {"secretName": "aio-ca-key-pair-test-only"}},
        },
    ]


# --- commands ---------------------------------------------------------------------------------

CLUSTER = ClusterDir.from_env()


def components_running(cluster: ClusterDir) -> dict[str, int | None]:
    return {name: running_pid(cluster, name) for name in START_ORDER}


def up(sets: list[str], seed: bool) -> int:
    cluster = CLUSTER
    unknown = sorted(set(sets) - set(crd_sets()))
    if unknown:
        raise ClusterError(
            f"unknown CRD set(s) {', '.join(unknown)}; the sets are the directories under "
            f"{CRD_DIR}: {', '.join(crd_sets())}"
        )
    bin_dir = ensure_binaries()
    cluster.path.mkdir(parents=True, exist_ok=True)
    for sub in ("run", "logs"):
        (cluster.path / sub).mkdir(exist_ok=True)
    with _locked(cluster.path / ".lock", 300, "another local-cluster command on this directory"):
        _move_legacy_pki(cluster)
        state = cluster.read_state()
        running = components_running(cluster)
        port = (state.get("ports") or {}).get("apiserver")
        if all(running.values()) and port and apiserver_ready(cluster, port):
            if sorted(state.get("crdSets", [])) != sorted(sets):
                raise ClusterError(
                    f"the cluster in {cluster.path} runs with CRD sets "
                    f"{', '.join(state.get('crdSets', [])) or 'none'}, not {', '.join(sets)}; "
                    "run `tools/local-cluster down --purge` first, or set AIO_MQ_CLUSTER_DIR to "
                    "another directory"
                )
            log(f"reusing the cluster running in {cluster.path}")
            if seed:
                seed_aio_defaults(cluster, api_client(cluster), sets)
        else:
            if any(running.values()):
                log("a previous cluster is partly running; stopping it first")
            for name in reversed(START_ORDER):
                stop_process(cluster, name)
            try:
                start(cluster, bin_dir, state, sets, seed)
            except BaseException:
                # Nothing half-started is left running.
                for name in reversed(START_ORDER):
                    stop_process(cluster, name)
                raise
    print(cluster.kubeconfig)
    return 0


def _move_legacy_pki(cluster: ClusterDir) -> None:
    """A cluster directory from before 2026-12-06 holds its keys itself: move them out. The
    same keys, so the kubeconfig's token stays valid and running servers (which read them at
    start) go on; the next start reads them from their new place."""
    if not cluster.legacy_pki.is_dir():
        return
    if (cluster.pki / "complete").exists():
        shutil.rmtree(cluster.legacy_pki)
    else:
        shutil.rmtree(cluster.pki, ignore_errors=True)
        cluster.pki.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(cluster.legacy_pki, cluster.pki)
        cluster.pki.chmod(0o700)
    log(f"moved the cluster's keys out of {cluster.path} to {cluster.pki}")


def start(
    cluster: ClusterDir, bin_dir: Path, state: dict[str, Any], sets: list[str], seed: bool
) -> None:
    began = time.monotonic()
    # Ports are kept across restarts: etcd stores its peer URL in its data.
    ports: dict[str, int] = state.get("ports") or {}
    if ports and not all(port_is_free(port) for port in ports.values()):
        taken = ", ".join(
            f"{name} {port}" for name, port in ports.items() if not port_is_free(port)
        )
        raise ClusterError(
            f"the ports this cluster used before are taken ({taken}); free them, or start "
            "afresh with `tools/local-cluster down --purge` (deletes the cluster's data)"
        )
    if not ports:
        ports = {name: free_port() for name in ("etcd", "etcdPeer", "apiserver")}
    ensure_credentials(cluster)
    # Whether the defaults were seeded stays true across restarts: the data is the same.
    seeded = {"aioDefaults": True} if state.get("aioDefaults") else {}
    cluster.write_state({"ports": ports, "crdSets": sets, "binDir": str(bin_dir), **seeded})
    write_kubeconfig(cluster, ports["apiserver"])
    pki = cluster.pki
    etcd_url = f"http://127.0.0.1:{ports['etcd']}"
    peer_url = f"http://127.0.0.1:{ports['etcdPeer']}"

    etcd = start_process(
        cluster,
        "etcd",
        [
            str(bin_dir / "etcd"),
            "--name=aio-mq-local",
            f"--data-dir={cluster.path / 'etcd'}",
            f"--listen-client-urls={etcd_url}",
            f"--advertise-client-urls={etcd_url}",
            f"--listen-peer-urls={peer_url}",
            f"--initial-advertise-peer-urls={peer_url}",
            f"--initial-cluster=aio-mq-local={peer_url}",
            "--log-level=warn",
            # A disposable development store: durability is not worth an fsync per write.
            "--unsafe-no-fsync",
        ],
    )
    wait_for(
        "etcd to be healthy",
        lambda: http_ok(f"{etcd_url}/health"),
        ETCD_TIMEOUT,
        cluster,
        ("etcd", etcd),
    )
    log(f"[{time.monotonic() - began:.1f}s] etcd is healthy on {etcd_url}")

    apiserver = start_process(
        cluster,
        "kube-apiserver",
        [
            str(bin_dir / "kube-apiserver"),
            f"--etcd-servers={etcd_url}",
            "--bind-address=127.0.0.1",
            "--advertise-address=127.0.0.1",
            f"--secure-port={ports['apiserver']}",
            f"--cert-dir={pki}",
            f"--tls-cert-file={pki / 'apiserver.crt'}",
            f"--tls-private-key-file={pki / 'apiserver.key'}",
            f"--token-auth-file={pki / 'tokens.csv'}",
            "--authorization-mode=RBAC",
            "--anonymous-auth=false",
            "--service-cluster-ip-range=10.96.0.0/16",
            "--service-account-issuer=https://kubernetes.default.svc",
            f"--service-account-key-file={pki / 'service-account.key'}",
            f"--service-account-signing-key-file={pki / 'service-account.key'}",
            "--enable-priority-and-fairness=false",
            "--profiling=false",
        ],
    )
    wait_for(
        "the API server to be ready (/readyz)",
        lambda: apiserver_ready(cluster, ports["apiserver"]),
        APISERVER_TIMEOUT,
        cluster,
        ("kube-apiserver", apiserver),
    )
    log(
        f"[{time.monotonic() - began:.1f}s] the API server is ready on https://127.0.0.1:{ports['apiserver']}"
    )

    client = api_client(cluster)
    names = install_crds(cluster, client, sets)
    log(f"[{time.monotonic() - began:.1f}s] installed {len(names)} CRDs ({','.join(sets)})")

    # Only what Pulumi's deletes need: the garbage collector (foreground deletion) and the
    # namespace controller (deleting a namespace empties it). Nothing serves: no port to pick.
    controller_manager = start_process(
        cluster,
        "kube-controller-manager",
        [
            str(bin_dir / "kube-controller-manager"),
            f"--kubeconfig={cluster.kubeconfig}",
            "--controllers=garbagecollector,namespace",
            "--secure-port=0",
            "--leader-elect=false",
            "--profiling=false",
        ],
    )
    garbage_collector_works(cluster, client, controller_manager)
    log(f"[{time.monotonic() - began:.1f}s] the garbage collector works")

    if seed:
        seed_aio_defaults(cluster, client, sets)
    log(f"ready in {time.monotonic() - began:.1f}s; kubeconfig {cluster.kubeconfig}")


def down(purge: bool) -> int:
    cluster = CLUSTER
    if not cluster.path.exists():
        log(f"no cluster in {cluster.path}")
        return 0
    with _locked(cluster.path / ".lock", 300, "another local-cluster command on this directory"):
        stopped = [name for name in reversed(START_ORDER) if stop_process(cluster, name)]
        log(
            f"stopped {', '.join(stopped)}" if stopped else f"nothing was running in {cluster.path}"
        )
        if purge:
            for sub in ("etcd", "run", "logs"):
                shutil.rmtree(cluster.path / sub, ignore_errors=True)
            for pki in (cluster.pki, cluster.legacy_pki):
                shutil.rmtree(pki, ignore_errors=True)
            for path in (cluster.kubeconfig, cluster.state_file):
                path.unlink(missing_ok=True)
            log(f"deleted the cluster's data in {cluster.path}")
    return 0


def status() -> int:
    cluster = CLUSTER
    state = cluster.read_state()
    running = components_running(cluster) if cluster.path.exists() else dict.fromkeys(START_ORDER)
    for name, pid in running.items():
        print(f"{name}: " + (f"running (pid {pid})" if pid else "stopped"))
    port = (state.get("ports") or {}).get("apiserver")
    ready = bool(port and all(running.values()) and apiserver_ready(cluster, port))
    print(
        f"api server: {'ready' if ready else 'not ready'}"
        + (f" at https://127.0.0.1:{port}" if port else "")
    )
    print(f"CRD sets: {', '.join(state.get('crdSets', [])) or 'none'}")
    print(f"kubeconfig: {cluster.kubeconfig} (context {CONTEXT})")
    return 0 if ready else 3


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="tools/local-cluster",
        description="A local Kubernetes API server for aio-mq (data in $AIO_MQ_CLUSTER_DIR, "
        "default .local-cluster/).",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    up_parser = commands.add_parser(
        "up", help="start (or reuse) the cluster; print the kubeconfig path"
    )
    up_parser.add_argument(
        "--crds",
        default=None,
        help=f"comma-separated CRD sets to install (directories under crds/; default all: "
        f"{','.join(crd_sets())}); 'none' for no CRDs",
    )
    up_parser.add_argument(
        "--aio-defaults",
        action="store_true",
        help="also create what a fresh Azure IoT Operations install has (once per cluster, "
        "where absent: never over objects that exist)",
    )
    down_parser = commands.add_parser("down", help="stop every process the cluster started")
    down_parser.add_argument("--purge", action="store_true", help="also delete the cluster's data")
    commands.add_parser("status", help="say what runs; exit 0 when the API server is ready")
    commands.add_parser("build", help="build the binaries if needed; print their directory")
    args = parser.parse_args(argv)
    try:
        if args.command == "up":
            sets = (
                crd_sets()
                if args.crds is None
                else [s for s in args.crds.split(",") if s and s != "none"]
            )
            return up(sets, args.aio_defaults)
        if args.command == "down":
            return down(args.purge)
        if args.command == "build":
            print(ensure_binaries())
            return 0
        return status()
    except ClusterError as exc:
        log(f"ERROR: {exc}")
        return 1
    except ApiException as exc:
        log(f"ERROR: the API server refused a request: {exc.status} {exc.reason}: {exc.body}")
        return 1
    except urllib3.exceptions.HTTPError as exc:
        log(f"ERROR: cannot reach the API server: {exc}")
        return 1
    except KeyboardInterrupt:
        log("interrupted")
        return 130


if __name__ == "__main__":
    sys.exit(main())
