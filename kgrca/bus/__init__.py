"""Kafka between kgrca's sources and its builder.

``KafkaSink`` (a GraphWriter) publishes observations; ``kgrca build`` (``kgrca.bus.consumer.Builder``)
consumes them and writes the graph, committing offsets only after Neo4j committed. Topics and message
schemas: docs/kafka-topics.md.
"""

from kgrca.bus.producer import KafkaSink
from kgrca.bus.topics import Topics, ensure_topics, topics_for

__all__ = ["KafkaSink", "Topics", "ensure_topics", "topics_for"]
