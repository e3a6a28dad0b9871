"""kgrca: knowledge-graph root-cause analysis for Helm releases on Kubernetes."""

__version__ = "0.1.0"
