"""The last lines of a container's log, classified: what the process said as it died (docs/container-logs.md).

Pure functions, no I/O: the graph writer classifies the lines an observation carries (kg_builder/facts_logs.py),
and a source may use the same bounds. A class is only ever claimed from a line that says it, and each finding
carries that line verbatim with the host, port, file or lease the line itself names (never a guess):

=====================  ====================================================================================
class                  lines that say it (examples from public issue threads in tests/test_log_lines.py)
=====================  ====================================================================================
panic                  Go ``panic: ...`` / ``fatal error: ...`` / ``Observed a panic``, Rust ``panicked at``
exception              a Python traceback's last line, Java ``Exception in thread "main" ...`` or a
                       ``java.x.YException: ...`` followed by ``at`` frames, Node's unhandled rejection
database               postgres / mysql / redis / mongo words with a failure to connect (refused, DNS,
                       timeout, authentication): ``engine`` names which, ``detail`` which failure
dns_failure            ``lookup HOST: no such host``, ``getaddrinfo ENOTFOUND HOST``, ``NXDOMAIN``,
                       ``Temporary failure in name resolution``, ``UnknownHostException: HOST``
connection_refused     ``dial tcp HOST:PORT: connect: connection refused``, ``ECONNREFUSED HOST:PORT``
timeout                a connection timing out *to a named host* (``dial tcp HOST:PORT: i/o timeout``)
http_5xx               a burst: at least ``HTTP_BURST`` lines with a 5xx status; ``status`` lists the codes
leader_election_lost   ``leader election lost``, ``leaderelection lost``, ``failed to renew lease NS/NAME``
permission_denied      ``permission denied`` / ``EACCES`` with the file where the line names one
out_of_memory          ``java.lang.OutOfMemoryError``, ``JavaScript heap out of memory``, ``MemoryError``,
                       ``runtime: out of memory``, ``Cannot allocate memory``
missing_file           ``no such file or directory`` / ``FileNotFoundError`` / ``ENOENT`` with the file
=====================  ====================================================================================

``classify`` returns at most one finding per class: the last line of that class (the last words), except a
panic and an exception, whose first decisive line is kept (what follows is their stack). ``RANK`` orders the
classes from the most specific cause to the most generic: a traceback that ends in ``ConnectionRefusedError``
is told as the refused connection, with the exception beside it.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Iterator

# What the graph keeps of one container's log (kg_builder/facts_logs.py); a source asks for less (config).
MAX_LINES = 200
MAX_LINE_CHARS = 2000
HTTP_BURST = 5  # this many 5xx lines in the last lines make a burst

CLASSES: tuple[str, ...] = ("out_of_memory", "panic", "leader_election_lost", "database", "dns_failure",
                            "connection_refused", "timeout", "permission_denied", "missing_file", "exception",
                            "http_5xx")
RANK = {name: index for index, name in enumerate(CLASSES)}

# A leading time a runtime or `kubectl logs --timestamps` puts before the line, and a CRI log's stream tag.
_PREFIX = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d) (?:(?:stdout|stderr) [FP] )?")

_HOST = r"(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?)"
_PORT = r"(?P<port>\d{1,5})"
# a host that starts a match: only at the start of a token, or every position of a long line is a new try
_HOST_AT = r"(?<![A-Za-z0-9_.\[\]-])" + _HOST


@dataclasses.dataclass(frozen=True)
class Finding:
    """One class found in the lines: the line that says it (verbatim), its 1-based number among the lines,
    how many lines said it, and what that line names (None where it names nothing)."""

    cls: str
    line: str
    number: int
    count: int = 1
    host: str | None = None
    port: str | None = None
    file: str | None = None
    lease: str | None = None
    engine: str | None = None
    detail: str | None = None
    status: str | None = None

    @property
    def rank(self) -> int:
        return RANK[self.cls]


@dataclasses.dataclass(frozen=True)
class _Match:
    cls: str
    host: str | None = None
    port: str | None = None
    file: str | None = None
    lease: str | None = None
    engine: str | None = None
    detail: str | None = None
    status: str | None = None


def _groups(match: re.Match[str], *names: str) -> dict[str, str | None]:
    found = match.groupdict()
    return {name: found.get(name) for name in names}


# --- the rules: (regex, what it names) per class, tried in order; the first that matches names the facts --------

_DNS = [
    re.compile(r"lookup " + _HOST + r"(?: on [0-9A-Fa-f.:\[\]]+)?: no such host"),
    re.compile(r"getaddrinfo (?:ENOTFOUND|EAI_AGAIN) " + _HOST),
    re.compile(r'could not translate host name "(?P<host>[^"]+)" to address'),
    re.compile(r"UnknownHostException: " + _HOST),
    re.compile(r"Error -?\d+ connecting to " + _HOST + r":" + _PORT + r"\. (?:Name or service not known|"
               r"Temporary failure in name resolution)"),
    re.compile(r"(?:Temporary failure in name resolution|Name or service not known|nodename nor servname provided|"
               r"NXDOMAIN|no such host|server misbehaving)"),
]
_REFUSED = [
    re.compile(r"dial (?:tcp|udp)[46]? " + _HOST + r":" + _PORT + r": connect: connection refused"),
    re.compile(r"ECONNREFUSED " + _HOST + r":" + _PORT),
    re.compile(r"Error -?\d+ connecting to " + _HOST + r":" + _PORT + r"\. Connection refused"),
    re.compile(_HOST_AT + r":" + _PORT + r": \[Errno 111\] Connection refused"),
    re.compile(r"[Cc]onnection refused.{0,40}?\b(?:to|at|on) " + _HOST + r":" + _PORT),
    re.compile(r"(?:[Cc]onnection refused|ECONNREFUSED)"),
]
_TIMEOUT = [
    re.compile(r"dial (?:tcp|udp)[46]? " + _HOST + r":" + _PORT + r": (?:i/o timeout|connect: connection timed out)"),
    re.compile(r"(?:ETIMEDOUT|ESOCKETTIMEDOUT) " + _HOST + r":" + _PORT),
    re.compile(r"(?:[Cc]onnect(?:ion)? tim(?:ed out|eout)|ConnectTimeout(?:Error|Exception)?).{0,60}?"
               r"\b(?:to|connecting to|host=?) ?'?" + _HOST + r"'?(?::" + _PORT + r")?"),
    re.compile(_HOST_AT + r":" + _PORT + r": (?:timed out|i/o timeout)"),
]
_DB_ENGINES = [
    ("postgres", re.compile(r"postgres|\bpsql\b|\bpq: |libpq|PSQLException|asyncpg|psycopg", re.IGNORECASE)),
    ("mysql", re.compile(r"mysql|mariadb|Communications link failure|Access denied for user", re.IGNORECASE)),
    ("redis", re.compile(r"redis", re.IGNORECASE)),
    ("mongo", re.compile(r"mongo|ServerSelectionTimeoutError|MongoServerSelectionError", re.IGNORECASE)),
]
_DB_PORTS = {"5432": "postgres", "3306": "mysql", "6379": "redis", "27017": "mongo"}
_DB_FAILURE = [
    ("authentication", re.compile(r"password authentication failed|Access denied for user|NOAUTH|WRONGPASS|"
                                  r"Authentication failed", re.IGNORECASE)),
    ("dns_failure", re.compile(r"could not translate host name|no such host|ENOTFOUND|Name or service not known|"
                               r"Temporary failure in name resolution|UnknownHostException", re.IGNORECASE)),
    ("connection_refused", re.compile(r"connection refused|ECONNREFUSED|Errno 111|Communications link failure|"
                                      r"could not connect to server|is the server running", re.IGNORECASE)),
    ("timeout", re.compile(r"timed? ?out|ETIMEDOUT|ServerSelectionTimeout", re.IGNORECASE)),
]
_DB_HOST = [
    re.compile(r'connection to server at "(?P<host>[^"]+)"(?: \([^)]*\))?, port ' + _PORT),
    re.compile(r'could not translate host name "(?P<host>[^"]+)"'),
    re.compile(r"dial (?:tcp|udp)[46]? " + _HOST + r":" + _PORT),
    re.compile(r"(?:ECONNREFUSED|ETIMEDOUT|ENOTFOUND) " + _HOST + r"(?::" + _PORT + r")?"),
    re.compile(r"connecting to " + _HOST + r":" + _PORT),
    re.compile(r"(?:mongodb|postgres(?:ql)?|mysql|redis)(?:\+srv)?://(?:[^@/\s]*@)?" + _HOST + r"(?::" + _PORT + r")?"),
    re.compile(r"(?:on|to) '" + _HOST + r":" + _PORT + r"'"),
    re.compile(_HOST_AT + r":" + _PORT + r": \[Errno"),
]
_PANIC = re.compile(r"^(?:panic: |fatal error: |goroutine \d+ \[running\]:$)|Observed a panic"
                    r"|thread '[^']*' panicked at|\bpanic: ")
_PANIC_OOM = re.compile(r"fatal error: runtime: out of memory")
_JAVA_MAIN = re.compile(r'Exception in thread "[^"]+" (?P<exc>[\w.$]+)')
_JAVA_EXC = re.compile(r"^(?:Caused by: )?(?P<exc>(?:[a-z_][\w$]*\.)+[A-Z][\w$]*(?:Exception|Error))(?::|$)")
_PY_TRACEBACK = re.compile(r"^Traceback \(most recent call last\):")
_PY_EXC = re.compile(r"^(?P<exc>(?:[A-Za-z_][\w]*\.)*[A-Z][\w]*(?:Error|Exception|Exit|Interrupt|Warning|Failure)"
                     r"|[A-Z]\w*Error)(?::|$)")
_NODE_REJECTION = re.compile(r"UnhandledPromiseRejection|Unhandled (?:promise )?rejection|ERR_UNHANDLED_REJECTION|"
                             r"uncaughtException|Uncaught (?:\w+Error|exception)")
_NODE_ERROR = re.compile(r"^(?P<exc>[A-Z]\w*Error)(?: \[\w+\])?: ")
_FRAME = re.compile(r"^\s+(?:at |File \"|\.\.\. \d+ more)")
_OOM = re.compile(r"java\.lang\.OutOfMemoryError|JavaScript heap out of memory|runtime: out of memory|"
                  r"^MemoryError\b|Cannot allocate memory|std::bad_alloc|out of memory: Killed process|OOMKilled")
_LEADER = [
    re.compile(r"failed to renew lease (?P<lease>[\w.-]+/[\w.-]+)"),
    re.compile(r"leader ?election lost|leaderelection lost|lost leadership|stopped leading|[Ll]eader lease lost"),
]
_PERMISSION = [
    re.compile(r"(?:open|mkdir|stat|chmod|chown|create|remove|unlink|rename|write|read) (?P<file>/[^\s:'\"]+): "
               r"(?:permission denied|operation not permitted|read-only file system)", re.IGNORECASE),
    re.compile(r"can't create (?P<file>/[^\s:]+): Permission denied"),
    re.compile(r"cannot (?:create directory|open|touch|remove) ['‘`\"](?P<file>[^'’`\"]+)['’`\"]: "
               r"(?:Permission denied|Read-only file system)"),
    re.compile(r"\[Errno (?:13|30)\] (?:Permission denied|Read-only file system): '(?P<file>[^']+)'"),
    re.compile(r"EACCES: permission denied, \w+ '(?P<file>[^']+)'"),
    re.compile(r"(?P<file>/[^\s:'\"]+): (?:Permission denied|Read-only file system)"),
    re.compile(r"permission denied|EACCES|Operation not permitted|Read-only file system", re.IGNORECASE),
]
_MISSING = [
    re.compile(r'exec: "(?P<file>[^"]+)": executable file not found in \$PATH'),
    re.compile(r"(?:open|stat|lstat|readlink|chdir) (?P<file>[^\s:'\"]+): no such file or directory"),
    re.compile(r"\[Errno 2\] No such file or directory: '(?P<file>[^']+)'"),
    re.compile(r"ENOENT: no such file or directory, \w+ '(?P<file>[^']+)'"),
    re.compile(r"FileNotFoundException: (?P<file>\S+) \(No such file or directory\)"),
    re.compile(r"(?P<file>/[^\s:'\"]+): [Nn]o such file or directory"),
    re.compile(r"[Nn]o such file or directory|FileNotFoundError|ENOENT"),
]
_HTTP_5XX = [
    re.compile(r'HTTP/\d(?:\.\d)?"? (?P<status>5\d\d)\b'),
    re.compile(r'"\s(?P<status>5\d\d)\s\d+'),
    re.compile(r"\b(?:status|status_code|statusCode|code|http_status|response_code)\"?\s*[=:]\s*\"?(?P<status>5\d\d)\b"),
    re.compile(r"\b(?P<status>5\d\d) (?:Internal Server Error|Bad Gateway|Service Unavailable|Gateway Time-?out)"),
]


def _first(rules: list[re.Pattern[str]], text: str, *names: str) -> dict[str, str | None] | None:
    for rule in rules:
        match = rule.search(text)
        if match:
            return _groups(match, *names)
    return None


def _database(text: str) -> _Match | None:
    engine = next((name for name, rule in _DB_ENGINES if rule.search(text)), None)
    named = _first(_DB_HOST, text, "host", "port")
    if engine is None and named and named.get("port") in _DB_PORTS:
        engine = _DB_PORTS[named["port"]]
    if engine is None:
        return None
    detail = next((name for name, rule in _DB_FAILURE if rule.search(text)), None)
    if detail is None:
        return None
    named = named or {}
    return _Match("database", host=named.get("host"), port=named.get("port"), engine=engine, detail=detail)


# Every rule below needs one of these words: a line without any is skipped at the cost of one search.
_TRIGGER = re.compile(r"panic|fatal|refused|time[d ]?\s?out|timeout|no such|denied|memory|lookup|resolution|nxdomain|"
                      r"enotfound|eai_again|econn|etimedout|esockettimedout|eacces|enoent|leader|lease|permission|"
                      r"read-only|not permitted|unknownhost|name or service|alloc|oomkilled|errno|misbehaving|"
                      r"nodename|translate host|communications link|authentication|access denied|noauth|wrongpass|"
                      r"could not connect|server running|serverselection|not found in \$path|filenotfound|"
                      r"can't create|cannot create|stopped leading", re.IGNORECASE)


def line_classes(text: str) -> list[_Match]:
    """The classes one line says on its own (a burst of 5xx and an exception's frames need the lines around)."""
    found: list[_Match] = []
    if not _TRIGGER.search(text):
        return found
    if _OOM.search(text):
        found.append(_Match("out_of_memory"))
    if _PANIC.search(text) and not _PANIC_OOM.search(text):
        found.append(_Match("panic"))
    if (leader := _first(_LEADER, text, "lease")) is not None:
        found.append(_Match("leader_election_lost", lease=leader["lease"]))
    database = _database(text)
    if database is not None:
        found.append(database)
    else:  # a database's refused connection is told as the database's, not twice
        if (dns := _first(_DNS, text, "host", "port")) is not None:
            found.append(_Match("dns_failure", host=dns["host"], port=dns["port"]))
        elif (refused := _first(_REFUSED, text, "host", "port")) is not None:
            found.append(_Match("connection_refused", host=refused["host"], port=refused["port"]))
        elif (timeout := _first(_TIMEOUT, text, "host", "port")) is not None and timeout["host"]:
            found.append(_Match("timeout", host=timeout["host"], port=timeout["port"]))
    if (denied := _first(_PERMISSION, text, "file")) is not None:
        found.append(_Match("permission_denied", file=denied["file"]))
    if (missing := _first(_MISSING, text, "file")) is not None:
        found.append(_Match("missing_file", file=missing["file"]))
    return found


def strip_prefix(line: str) -> str:
    """The line without the time and stream tag a runtime or ``kubectl logs --timestamps`` puts before it."""
    return _PREFIX.sub("", line, count=1)


def bounded(lines: Iterable[str], max_lines: int = MAX_LINES, max_chars: int = MAX_LINE_CHARS) -> list[str]:
    """The last ``max_lines`` lines, each cut to ``max_chars`` characters, line ends removed."""
    kept = [str(line).rstrip("\r\n")[:max_chars] for line in lines]
    return kept[-max_lines:] if max_lines > 0 else []


def _exceptions(texts: list[str]) -> Iterator[tuple[int, str]]:
    """(index, exception name) of each line that reports an uncaught exception, from the lines around it."""
    in_traceback = False
    for index, text in enumerate(texts):
        following = texts[index + 1] if index + 1 < len(texts) else ""
        if _PY_TRACEBACK.match(text):
            in_traceback = True
            continue
        if in_traceback and not text.startswith((" ", "\t")) and text.strip():
            in_traceback = False
            match = _PY_EXC.match(text)
            if match:
                yield index, match.group("exc")
                continue
        if (main := _JAVA_MAIN.search(text)) is not None:
            yield index, main.group("exc")
        elif (java := _JAVA_EXC.match(text)) is not None and _FRAME.match(following):
            yield index, java.group("exc")
        elif _NODE_REJECTION.search(text):
            yield index, "unhandled rejection"
        elif (node := _NODE_ERROR.match(text)) is not None and _FRAME.match(following) and \
                following.lstrip().startswith("at "):
            yield index, node.group("exc")


def classify(lines: Iterable[str]) -> list[Finding]:
    """Each class the lines say, at most one finding per class, ordered by ``RANK`` (most specific first)."""
    raw = list(lines)
    texts = [strip_prefix(line) for line in raw]
    seen: dict[str, Finding] = {}
    counts: dict[str, int] = {}

    def keep(cls: str, index: int, match: _Match | None = None, first: bool = False, **extra: str | None) -> None:
        counts[cls] = counts.get(cls, 0) + 1
        if first and cls in seen:
            return
        facts = dataclasses.asdict(match) if match else {}
        facts.pop("cls", None)
        facts.update({k: v for k, v in extra.items() if v is not None})
        seen[cls] = Finding(cls, raw[index], index + 1, **facts)

    for index, text in enumerate(texts):
        for match in line_classes(text):
            keep(match.cls, index, match, first=match.cls == "panic")
    for index, name in _exceptions(texts):
        keep("exception", index, first=True, detail=name)
    statuses: list[tuple[int, str]] = []
    for index, text in enumerate(texts):
        status = _first(_HTTP_5XX, text, "status")
        if status is not None:
            statuses.append((index, status["status"] or ""))
    if len(statuses) >= HTTP_BURST:
        last = statuses[-1][0]
        codes = ",".join(sorted({code for _, code in statuses if code}))
        seen["http_5xx"] = Finding("http_5xx", raw[last], last + 1, status=codes)
        counts["http_5xx"] = len(statuses)
    return sorted((dataclasses.replace(f, count=counts.get(f.cls, 1)) for f in seen.values()),
                  key=lambda f: (f.rank, f.number))
