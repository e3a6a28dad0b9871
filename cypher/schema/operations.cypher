// helm and kubectl operations traced with eBPF (bpf/, kg_builder/operations.py; docs/ebpf.md).
CREATE CONSTRAINT helm_operation_id IF NOT EXISTS FOR (n:HelmOperation) REQUIRE n.operation_id IS UNIQUE;
CREATE CONSTRAINT kubectl_operation_id IF NOT EXISTS FOR (n:KubectlOperation) REQUIRE n.operation_id IS UNIQUE;
CREATE INDEX helm_operation_release IF NOT EXISTS FOR (n:HelmOperation) ON (n.release_key);
CREATE INDEX helm_operation_started IF NOT EXISTS FOR (n:HelmOperation) ON (n.started_at);
CREATE INDEX helm_operation_status IF NOT EXISTS FOR (n:HelmOperation) ON (n.status);
CREATE INDEX kubectl_operation_started IF NOT EXISTS FOR (n:KubectlOperation) ON (n.started_at);
