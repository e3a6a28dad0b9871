"""Kafka between kgrca's sources and its builder.

* ``KafkaSink`` (a GraphWriter) publishes observations: ``kgrca watch --sink kafka``, the webhook receivers.
* ``producer(cfg)`` wraps it in the ``send``/``close`` form ``kgrca trace --sink kafka`` uses.
* ``kgrca build`` (``kgrca.bus.consumer.Builder``) consumes them and writes the graph, committing offsets
  only after Neo4j committed.

Topics and message schemas: docs/kafka-topics.md.
"""

from kgrca.bus.producer import KafkaSink, Publisher, producer
from kgrca.bus.topics import Topics, ensure_topics, topics_for

__all__ = ["KafkaSink", "Publisher", "Topics", "ensure_topics", "producer", "topics_for"]
