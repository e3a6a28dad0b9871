// Flux objects (kg_builder/gitops_flux.py; docs/gitops-flux.md): a HelmRelease is found by the release it deploys.
CREATE INDEX flux_helm_release_key IF NOT EXISTS FOR (n:HelmRelease) ON (n.release_key);
