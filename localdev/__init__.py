"""Development and demo infrastructure: the local Neo4j and Kafka servers and the local Kubernetes cluster.

Only the faces (``kgrca servers``, ``kgrca cluster``, ``kgrca record``) and the tests use it; the product's layers
never do, so a deployment without it (compose.yaml, the chart) runs the same code.
"""
