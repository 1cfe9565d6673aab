"""The Kubernetes target's shared part: the provider (rendering or a cluster) and the stack's
cert-manager issuers, which every stack of either API creates the same way."""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from ..config import KubernetesTarget, StackBase, render_directory
from ..issuer import cert_manager_issuer
from ..metadata import resource_name
from ..registry import ProgramListeners


def kubernetes_provider(
    target: KubernetesTarget, opts: pulumi.ResourceOptions | None = None
) -> k8s.Provider:
    render_to = render_directory(target)
    if render_to:
        return k8s.Provider("kubernetes", render_yaml_to_directory=render_to, opts=opts)
    return k8s.Provider(
        "kubernetes", context=target.context, kubeconfig=target.kubeconfig, opts=opts
    )


def earlier_names(name: str, pulumi_name: str, pulumi_names: set[str]) -> tuple[str, ...]:
    """The plain name, for a resource named `<namespace>/<name>` since namespaces became part
    of the name, unless another resource of the stack now has the plain name."""
    return (name,) if pulumi_name != name and name not in pulumi_names else ()


def renamed(name: str, pulumi_name: str, pulumi_names: set[str]) -> pulumi.ResourceOptions:
    """Aliases to the `earlier_names` of a resource."""
    earlier = earlier_names(name, pulumi_name, pulumi_names)
    return pulumi.ResourceOptions(aliases=[pulumi.Alias(name=n) for n in earlier] or None)


def provider_and_issuers(
    stack: StackBase, registry: ProgramListeners, parent: pulumi.Resource | None
) -> tuple[
    k8s.Provider | None, dict[tuple[str, str, str | None], k8s.apiextensions.CustomResource]
]:
    """The Kubernetes provider (none under a parent) and the stack's issuers, by (kind, name,
    namespace: None for a ClusterIssuer)."""
    provider = (
        kubernetes_provider(stack.kubernetes, pulumi.ResourceOptions(depends_on=registry.gate()))
        if parent is None
        else None
    )
    issuers: dict[tuple[str, str, str | None], k8s.apiextensions.CustomResource] = {}
    issuer_names = {
        resource_name(i.name, i.namespace or stack.namespace, stack.namespace)
        for i in stack.issuers
        if i.kind == "Issuer"
    }
    for issuer in stack.issuers:
        namespace = (issuer.namespace or stack.namespace) if issuer.kind == "Issuer" else None
        name = resource_name(issuer.name, namespace or stack.namespace, stack.namespace)
        issuers[(issuer.kind, issuer.name, namespace)] = cert_manager_issuer(
            issuer.model_copy(update={"namespace": namespace}),
            pulumi.ResourceOptions.merge(
                pulumi.ResourceOptions(
                    provider=provider, parent=parent, depends_on=registry.gate()
                ),
                renamed(issuer.name, name, issuer_names),
            ),
            resource_name=name,
        )
    return provider, issuers
