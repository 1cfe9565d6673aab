"""operator-double: a TEST DOUBLE of the Azure IoT Operations broker operator, for the local
API server (tools/local-cluster), which has no broker.

    tools/operator-double                         # accept everything, LoadBalancers at 127.0.0.1
    tools/operator-double --reject-port 1884='port 1884 is reserved'
    tools/operator-double --no-load-balancer-address

What it does, and all it does: it watches the GA BrokerListeners, BrokerAuthentications and
BrokerAuthorizations (mqttbroker.iotoperations.azure.com/v1) of every namespace, and for each
generation it has not answered yet it
- creates or updates the listener's Service (type, ports, node ports; owned by the listener, so
  deleting the listener deletes it) and, for a LoadBalancer, sets its load-balancer ingress;
- writes `status.provisioningStatus` through the status subresource: `Succeeded`, or `Failed`
  with `error {code, message}` for a listener with a port named by `--reject-port`; with
  `status.observedGeneration`, so a waiting client can tell a stale answer.

What it is not: the broker. It runs no MQTT, checks no certificate, authentication or
authorization rule and issues no certificate; its only refusals are the ones asked for. It
exists so `up` can be proven to wait, fail and report endpoints the way it would against the
real operator (the status shape follows the GA fact sheet).

Runs in the foreground until interrupted; waits for the cluster to come up first. The cluster is
$AIO_MQ_CLUSTER_DIR/kubeconfig (default .local-cluster/ in the project), context aio-mq-local.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import urllib3
from kubernetes import client as k8s
from kubernetes import config, dynamic
from kubernetes.client.exceptions import ApiException

from tools.project import ROOT

GROUP, VERSION = "mqttbroker.iotoperations.azure.com", "v1"
PLURALS = ("brokerlisteners", "brokerauthentications", "brokerauthorizations")
CONTEXT = "aio-mq-local"
SERVICE_TYPES = {"clusterip": "ClusterIP", "loadbalancer": "LoadBalancer", "nodeport": "NodePort"}
FIELD_MANAGER = "aio-mq-operator-double"


def log(message: str) -> None:
    print(f"operator-double: {message}", file=sys.stderr, flush=True)


class Double:
    """One pass over the GA objects answers every generation not answered yet."""

    def __init__(
        self,
        api: k8s.ApiClient,
        rejected_ports: dict[int, str],
        load_balancer_ip: str | None,
    ) -> None:
        self.custom = k8s.CustomObjectsApi(api)
        self.core = k8s.CoreV1Api(api)
        resources = dynamic.DynamicClient(api).resources  # type: ignore[no-untyped-call]
        self.services = resources.get(api_version="v1", kind="Service")
        self.rejected_ports = rejected_ports
        self.load_balancer_ip = load_balancer_ip

    def run_once(self) -> int:
        answered = 0
        for plural in PLURALS:
            found: Any = self.custom.list_cluster_custom_object(GROUP, VERSION, plural)
            for obj in found["items"]:
                generation = obj["metadata"].get("generation")
                if (obj.get("status") or {}).get("observedGeneration") == generation:
                    continue
                self.answer(plural, obj)
                answered += 1
        return answered

    def answer(self, plural: str, obj: dict[str, Any]) -> None:
        meta = obj["metadata"]
        provisioning: dict[str, Any] = {"status": "Succeeded"}
        if plural == "brokerlisteners":
            ports = [p.get("port") for p in obj["spec"].get("ports") or []]
            refused = [p for p in ports if p in self.rejected_ports]
            if refused:
                provisioning = {
                    "status": "Failed",
                    "error": {
                        "code": "InvalidArgument",
                        "message": self.rejected_ports[refused[0]],
                    },
                }
            else:
                self.serve(obj)
        status = {"observedGeneration": meta.get("generation"), "provisioningStatus": provisioning}
        self.custom.patch_namespaced_custom_object_status(
            GROUP, VERSION, meta["namespace"], plural, meta["name"], {"status": status}
        )
        log(f"{plural[:-1]} {meta['namespace']}/{meta['name']}: {provisioning['status']}")

    def serve(self, listener: dict[str, Any]) -> None:
        """The listener's Service, as the broker's operator would create it."""
        meta, spec = listener["metadata"], listener["spec"]
        namespace = meta["namespace"]
        name = spec.get("serviceName") or meta["name"]
        service_type = SERVICE_TYPES[str(spec.get("serviceType") or "ClusterIp").lower()]
        ports = [
            {
                "name": f"port-{p['port']}",
                "port": p["port"],
                "targetPort": p["port"],
                **({"nodePort": p["nodePort"]} if p.get("nodePort") else {}),
            }
            for p in spec.get("ports") or []
        ]
        body = {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {
                "name": name,
                "namespace": namespace,
                "labels": {"app.kubernetes.io/managed-by": FIELD_MANAGER},
                "ownerReferences": [
                    {
                        "apiVersion": f"{GROUP}/{VERSION}",
                        "kind": "BrokerListener",
                        "name": meta["name"],
                        "uid": meta["uid"],
                    }
                ],
            },
            "spec": {"type": service_type, "ports": ports, "selector": {"app": "aio-broker"}},
        }
        self.services.server_side_apply(
            body=body,
            name=name,
            namespace=namespace,
            field_manager=FIELD_MANAGER,
            force_conflicts=True,
        )
        if service_type == "LoadBalancer" and self.load_balancer_ip:
            ingress = {"status": {"loadBalancer": {"ingress": [{"ip": self.load_balancer_ip}]}}}
            self.core.patch_namespaced_service_status(
                name, namespace, ingress, _content_type="application/merge-patch+json"
            )


def cluster_client(kubeconfig: Path, context: str, patience: float) -> k8s.ApiClient:
    """A client for the cluster, once its kubeconfig exists and the GA API is served."""
    deadline = time.monotonic() + patience
    said = False
    while True:
        try:
            api: k8s.ApiClient = config.new_client_from_config(  # type: ignore[no-untyped-call]
                config_file=str(kubeconfig), context=context
            )
            k8s.CustomObjectsApi(api).list_cluster_custom_object(GROUP, VERSION, PLURALS[0])
            return api
        except (OSError, ApiException, urllib3.exceptions.HTTPError, config.ConfigException):
            if time.monotonic() > deadline:
                raise
        if not said:
            log(f"waiting for a cluster serving {GROUP}/{VERSION} ({kubeconfig}, {context})")
            said = True
        time.sleep(0.5)


def parse_rejections(items: Sequence[str]) -> dict[int, str]:
    rejected = {}
    for item in items:
        port, _, message = item.partition("=")
        if not port.isdigit() or not message:
            raise SystemExit(f"operator-double: --reject-port wants PORT=MESSAGE, got {item!r}")
        rejected[int(port)] = message
    return rejected


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="tools/operator-double", description=(__doc__ or "").split("\n\n")[0]
    )
    cluster_dir = Path(os.environ.get("AIO_MQ_CLUSTER_DIR") or ROOT / ".local-cluster")
    parser.add_argument("--kubeconfig", type=Path, default=cluster_dir / "kubeconfig")
    parser.add_argument("--context", default=CONTEXT)
    parser.add_argument(
        "--reject-port",
        action="append",
        default=[],
        metavar="PORT=MESSAGE",
        help="answer Failed, with MESSAGE, for a listener with this port (repeatable)",
    )
    parser.add_argument("--load-balancer-ip", default="127.0.0.1")
    parser.add_argument(
        "--no-load-balancer-address",
        action="store_true",
        help="leave LoadBalancer Services without an ingress address",
    )
    parser.add_argument("--interval", type=float, default=0.2, help="seconds between passes")
    parser.add_argument("--patience", type=float, default=600, help="seconds to wait for a cluster")
    args = parser.parse_args(argv)
    rejected = parse_rejections(args.reject_port)
    try:
        api = cluster_client(args.kubeconfig, args.context, args.patience)
        double = Double(
            api, rejected, None if args.no_load_balancer_address else args.load_balancer_ip
        )
        log(f"answering for the broker on {args.kubeconfig} (a test double, not the broker)")
        while True:
            try:
                double.run_once()
            except ApiException as exc:
                # Objects come and go while a pass runs: the next pass sees the new state.
                log(f"the API server refused a request ({exc.status} {exc.reason}); retrying")
            time.sleep(args.interval)
    except KeyboardInterrupt:
        return 0
    except (OSError, ApiException, urllib3.exceptions.HTTPError, config.ConfigException) as exc:
        log(f"ERROR: no cluster to answer for: {exc}")
        return 1


if __name__ == "__main__":
    sys.exit(main())
