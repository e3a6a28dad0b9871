// Argo CD Applications (kg_builder/gitops_argocd.py; docs/gitops-argocd.md).
// An object's tracking annotation or instance label names an Application: found by name, never created.
CREATE INDEX application_name IF NOT EXISTS FOR (n:Application) ON (n.name);
// An Application written after the objects it manages finds them by the instance name they are tracked under.
CREATE INDEX object_argocd_instance IF NOT EXISTS FOR (n:Object) ON (n.argocd_instance);
