"""The log classifier (kgrca/log_lines.py) on real lines from public issue threads: each row names its thread.

A class is claimed only from a line that says it, and the host, port, file or lease it carries is taken from that
line; lines that only look alarming (an INFO line naming a database, a single 503) claim nothing.
"""

from __future__ import annotations

import pytest

from kgrca import log_lines
from kgrca.log_lines import classify

# (thread, lines, class expected first, facts it must carry, the quoted line's 1-based number)
CASES = [
    ("github.com/libopenstorage/stork/issues/45",
     ["I0317 22:00:39.137524       1 snapshot-controller.go:169] Starting snapshot controller",
      "panic: runtime error: invalid memory address or nil pointer dereference",
      "[signal SIGSEGV: segmentation violation code=0x1 addr=0x8 pc=0x108178b]",
      "goroutine 29 [running]:"],
     "panic", {}, 2),
    ("github.com/outscale/cluster-api-provider-outscale/issues/345 (kubectl logs --prefix)",
     ["manager panic: runtime error: invalid memory address or nil pointer dereference [recovered]",
      "manager     panic: runtime error: invalid memory address or nil pointer dereference"],
     "panic", {}, 1),
    ("github.com/Mailu/helm-charts/issues/363 (a traceback ending in a refused redis connection)",
     ["Traceback (most recent call last):",
      '  File "/app/venv/lib/python3.12/site-packages/redis/connection.py", line 627, in _connect',
      "    sock.connect(socket_address)",
      "ConnectionRefusedError: [Errno 111] Connection refused"],
     "connection_refused", {"host": None}, 4),
    ("github.com/prometheus-community/postgres_exporter/issues/345",
     ['ERRO[0006] Error opening connection to database (postgresql://postgres:PASSWORD_REMOVED@"db.hostname.eu-west-1'
      '.rds.amazonaws.com:5432/postgres/?sslmode=disable"): dial tcp: lookup db.hostname.eu-west-1.rds.amazonaws.com:'
      ' no such host  source="postgres_exporter.go:1474"'],
     "database", {"engine": "postgres", "detail": "dns_failure"}, 1),
    ("github.com/bitnami/charts/issues/28129",
     ['psql: could not translate host name "lake-sql-postgres-gis-2f7bd64aec-postgresql-0.lake-sql-postgres-gis-'
      '2f7bd64aec-postgresql-headless.default.svc.cluster.local" to address: Name or service not known'],
     "database", {"engine": "postgres", "detail": "dns_failure",
                  "host": "lake-sql-postgres-gis-2f7bd64aec-postgresql-0.lake-sql-postgres-gis-2f7bd64aec-postgresql-"
                          "headless.default.svc.cluster.local"}, 1),
    ("github.com/OT-CONTAINER-KIT/redis-operator/issues/1056",
     ['{"level":"error","ts":"2024-09-04T21:44:43Z","logger":"controllers.RedisCluster","msg":"Error in getting Redis '
      'cluster nodes","error":"dial tcp :6379: connect: connection refused"}'],
     "database", {"engine": "redis", "detail": "connection_refused"}, 1),
    ("github.com/disney/meteor-base/issues/83",
     ["MongoServerSelectionError: connect ECONNREFUSED 127.0.0.1:27017"],
     "database", {"engine": "mongo", "detail": "connection_refused", "host": "127.0.0.1", "port": "27017"}, 1),
    ("github.com/F43nd1r/Acrarium/issues/503",
     ["2024-03-08 07:47:51.873 ERROR 1 --- [           main] com.zaxxer.hikari.pool.HikariPool        : HikariPool-1 -"
      " Exception during pool initialization.",
      "",
      "com.mysql.cj.jdbc.exceptions.CommunicationsException: Communications link failure",
      "",
      "The last packet sent successfully to the server was 0 milliseconds ago. The driver has not received any packets "
      "from the server.",
      "\tat com.mysql.cj.jdbc.exceptions.SQLError.createCommunicationsException(SQLError.java:174) ~[mysql-connector-"
      "java-8.0.30.jar:8.0.30]"],
     "database", {"engine": "mysql", "detail": "connection_refused"}, 3),
    ("github.com/kubernetes-sigs/controller-runtime/issues/3298 and kubernetes/test-infra/issues/21005",
     ['E0822 08:45:07.492385       1 leaderelection.go:436] error retrieving resource lock '
      'default/prow-sinker-leaderlock: Get "https://10.111.240.1:443/api/v1/namespaces/default/configmaps/'
      'prow-sinker-leaderlock": dial tcp 10.111.240.1:443: connect: connection refused',
      'F0822 08:45:10.000000       1 main.go:187] failed to start manager: leader election lost'],
     "leader_election_lost", {}, 2),
    ("github.com/kubeovn/kube-ovn/pull/28 (klog.Fatalf after failing to renew)",
     ["E0511 10:00:01.000000       1 leaderelection.go:330] failed to renew lease kube-system/ovn-config: timed out "
      "waiting for the condition",
      "F0511 10:00:01.000001       1 election.go:71] leaderelection lost"],
     "leader_election_lost", {}, 2),
    ("github.com/netdata/helmchart/issues/43",
     ["/usr/libexec/netdata/plugins.d/anonymous-statistics.sh: line 28: can't create /tmp/as.log: Permission denied"],
     "permission_denied", {"file": "/tmp/as.log"}, 1),
    ("github.com/lensesio/fast-data-dev/issues/106",
     ["mkdir: cannot create directory ‘/var/run/zookeeper’: Permission denied"],
     "permission_denied", {"file": "/var/run/zookeeper"}, 1),
    ("github.com/kubernetes/kubernetes/issues/37833",
     ['Exception in thread "main" java.net.UnknownHostException: cassandra-0.cassandra: Name or service not known',
      "\tat java.net.Inet4AddressImpl.lookupAllHostAddr(Native Method)"],
     "dns_failure", {"host": "cassandra-0.cassandra"}, 1),
    ("github.com/kubernetes-client/javascript/issues/416",
     ["(node:1) UnhandledPromiseRejectionWarning: Unhandled promise rejection. This error originated either by "
      "throwing inside of an async function without a catch block, or by rejecting a promise which was not handled "
      "with .catch(). (rejection id: 1)"],
     "exception", {"detail": "unhandled rejection"}, 1),
    ("github.com/Yooooomi/your_spotify/issues/126",
     ["MongooseServerSelectionError: getaddrinfo ENOTFOUND mongo",
      "    at NativeConnection.Connection.openUri (/app/node_modules/mongoose/lib/connection.js:807:32)"],
     "database", {"engine": "mongo", "detail": "dns_failure", "host": "mongo"}, 1),
    ("github.com/argoproj/argo-cd (a Go program that cannot find its config file)",
     ["time=\"2024-01-01T00:00:00Z\" level=fatal msg=\"open /app/config/settings.yaml: no such file or directory\""],
     "missing_file", {"file": "/app/config/settings.yaml"}, 1),
    ("github.com/nodejs/node (the V8 heap limit)",
     ["FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory"],
     "out_of_memory", {}, 1),
]


@pytest.mark.parametrize("thread,lines,cls,facts,number", CASES, ids=[c[0].split(" ")[0] for c in CASES])
def test_real_lines_are_classified_with_what_they_name(thread, lines, cls, facts, number):
    found = classify(lines)
    assert found, f"{thread}: nothing classified"
    first = found[0]
    assert first.cls == cls, f"{thread}: {[f.cls for f in found]}"
    assert first.line == lines[number - 1] and first.number == number
    for key, value in facts.items():
        assert getattr(first, key) == value, f"{thread}: {key} is {getattr(first, key)!r}"
    for finding in found:  # whatever a finding names is in its own line
        for value in (finding.host, finding.port, finding.file, finding.lease):
            assert value is None or value in finding.line


def test_a_timeout_is_a_class_only_with_a_host():
    found = classify(["dial tcp 10.96.0.10:53: i/o timeout"])
    assert [(f.cls, f.host, f.port) for f in found] == [("timeout", "10.96.0.10", "53")]
    assert classify(["waiting for the condition: timed out"]) == []


def test_a_java_exception_needs_its_stack_and_a_traceback_its_last_line():
    lines = ["java.lang.IllegalStateException: Failed to load ApplicationContext",
             "\tat org.springframework.test.context.cache.DefaultCacheAwareContextLoaderDelegate.loadContext("
             "DefaultCacheAwareContextLoaderDelegate.java:132)"]
    assert [(f.cls, f.detail, f.number) for f in classify(lines)] == [
        ("exception", "java.lang.IllegalStateException", 1)]
    assert classify(["the class java.lang.IllegalStateException is documented here"]) == []
    traceback = ["Traceback (most recent call last):", '  File "/app/main.py", line 4, in <module>',
                 "    import settings", "KeyError: 'DATABASE_URL'"]
    assert [(f.cls, f.detail, f.line) for f in classify(traceback)] == [("exception", "KeyError", traceback[3])]


def test_a_5xx_burst_needs_several_lines_and_names_the_codes():
    access = '10.244.1.7 - - [20/Nov/2026:10:00:0{i} +0000] "GET /api/orders HTTP/1.1" {code} 0 "-" "curl/8.5.0"'
    one = [access.format(i=0, code=503)] + [access.format(i=i, code=200) for i in range(1, 9)]
    assert classify(one) == []
    burst = [access.format(i=i, code=503 if i % 2 else 502) for i in range(log_lines.HTTP_BURST)]
    found = classify(burst)
    assert [(f.cls, f.count, f.status, f.number) for f in found] == [("http_5xx", 5, "502,503", 5)]


def test_healthy_lines_that_mention_failure_words_claim_nothing():
    lines = ["2026-11-20T10:00:00Z INFO connected to postgres at db:5432",
             "INFO retrying in 5s",
             "level=info msg=\"leader election won\"",
             "GET /healthz 200"]
    assert classify(lines) == []


def test_a_time_prefix_is_read_past_and_kept_in_the_quoted_line():
    line = "2026-11-20T10:00:01.123456789Z stderr F panic: assignment to entry in nil map"
    found = classify([line])
    assert [(f.cls, f.line) for f in found] == [("panic", line)]


def test_bounded_keeps_the_last_lines_cut_to_length():
    kept = log_lines.bounded([f"line {i}\n" for i in range(10)] + ["x" * 50], max_lines=3, max_chars=20)
    assert kept == ["line 8", "line 9", "x" * 20]
