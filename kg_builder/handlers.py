"""The one map from observation kind to the mapper that turns it into rows.

Adding a source is one mapper module and one line here.
"""

from __future__ import annotations

from kg_builder import facts_logs, k8s_objects, operations, webhook_context
from kg_builder.statements import Mapper

MAPPERS: dict[str, Mapper] = {
    "k8s": k8s_objects.rows,
    "helm_process": operations.rows,
    "kubectl_process": operations.rows,
    "webhook": webhook_context.rows,
    "container_log": facts_logs.rows,
}
