#!/usr/bin/env bash
# Single-node Apache Kafka (KRaft, combined broker+controller) from Maven Central jars, no Docker.
#
# Usage: deploy/kafka/kafka.sh <command> [args...]
#   fetch                Copy the broker/tools/log4j jars into deploy/kafka/.dist/libs (idempotent).
#   start                Fetch, write config, format storage once, start in background, wait until it answers.
#   stop                 SIGTERM, wait up to 30 s, then SIGKILL. Data is kept; `start` resumes the same cluster.
#   status               Exit 0 if running, 1 if not.
#   topics               List topics.
#   deploy-secrets DIR SANS  Make a CA, the brokers' and an admin's certificate (DIR/tls) and a random
#                        password per principal (DIR/credentials) for deploy/compose and deploy/k8s.
#   secure-setup         (KAFKA_SECURITY=sasl_ssl, broker running) create the topics, one SCRAM-SHA-512
#                        principal per service and per locality, and exactly their ACLs (SecureSetup.java).
#                        Passwords are read from, or generated into, KAFKA_CREDENTIALS_DIR/<principal>.password.
#   tool CLASS ARGS...   Run any Kafka tool class on the libs classpath, e.g.
#                        tool org.apache.kafka.tools.consumer.group.ConsumerGroupCommand --bootstrap-server 127.0.0.1:19092 --list
#                        (on a secured broker add --command-config $KAFKA_DIR/admin.properties)
#
# Environment (defaults):
#   KAFKA_PORT=19092                    PLAINTEXT listener on 127.0.0.1
#   KAFKA_CONTROLLER_PORT=KAFKA_PORT+1  CONTROLLER listener on 127.0.0.1
#   KAFKA_DIR=<repo>/.data/kafka-$KAFKA_PORT   state: server.properties, logs/, broker.log, kafka.pid
#   KAFKA_HEAP="-Xmx512m -Xms256m"      broker JVM heap options (tools always use -Xmx256m)
#   KAFKA_START_TIMEOUT=90              seconds `start` waits for the broker to answer
#   KAFKA_SECURITY=plaintext            or sasl_ssl: the client listener takes SASL/SCRAM-SHA-512 over TLS, the
#                                       controller listener mutual TLS, and StandardAuthorizer is on (super-users
#                                       admin and broker). Chosen when the dir is formatted; kept in KAFKA_DIR/security.
#                                       A local CA and the broker's certificate are made in KAFKA_DIR/tls (ca.pem is
#                                       what clients trust); admin/broker passwords in KAFKA_DIR/secrets (0600).
#   KAFKA_TLS_SANS=""                   extra subjectAltNames of the broker certificate, e.g. "DNS:kafka,IP:10.0.0.5"
#   KAFKA_ADMIN_PASSWORD_FILE           file holding the super-user's password (default: generated into secrets/)
#   KAFKA_CREDENTIALS_DIR=KAFKA_DIR/credentials   secure-setup's <principal>.password files
#   KAFKA_TOPIC_PREFIX=tongban  KAFKA_PRINCIPAL_PREFIX=KAFKA_TOPIC_PREFIX  KAFKA_LOCALITIES="310110 320505 331000 341600"
#   KAFKA_SERVICES="catalogue routing authorization delivery dashboard webhooks"  KAFKA_TOPIC_PARTITIONS=3
#                                       what secure-setup creates (principals <prefix>-<service>, <prefix>-locality-<code>)
# Requires java (17+) and mvn on PATH. Ports/dir of an existing KAFKA_DIR cannot be changed later.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$SCRIPT_DIR/../.." && pwd)"
DIST="$SCRIPT_DIR/.dist"
LIBS="$DIST/libs"
LOG4J_CONF="$SCRIPT_DIR/log4j2.properties"

KAFKA_PORT="${KAFKA_PORT:-19092}"
[[ "$KAFKA_PORT" =~ ^[0-9]+$ ]] || { echo "kafka.sh: KAFKA_PORT must be a number, got '$KAFKA_PORT'" >&2; exit 2; }
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-$((KAFKA_PORT + 1))}"
[[ "$KAFKA_CONTROLLER_PORT" =~ ^[0-9]+$ ]] || { echo "kafka.sh: KAFKA_CONTROLLER_PORT must be a number, got '$KAFKA_CONTROLLER_PORT'" >&2; exit 2; }
KAFKA_DIR="$(realpath -m -- "${KAFKA_DIR:-$REPO/.data/kafka-$KAFKA_PORT}")"
KAFKA_HEAP="${KAFKA_HEAP:--Xmx512m -Xms256m}"
KAFKA_START_TIMEOUT="${KAFKA_START_TIMEOUT:-90}"
PID_FILE="$KAFKA_DIR/kafka.pid"
BROKER_LOG="$KAFKA_DIR/broker.log"
BOOTSTRAP="127.0.0.1:$KAFKA_PORT"
TLS_DIR="$KAFKA_DIR/tls"
SECRETS_DIR="$KAFKA_DIR/secrets"
ADMIN_CONFIG="$KAFKA_DIR/admin.properties"
if [[ -n "${KAFKA_SECURITY:-}" ]]; then
    SECURITY="$KAFKA_SECURITY"
elif [[ -f "$KAFKA_DIR/security" ]]; then
    SECURITY="$(cat "$KAFKA_DIR/security")"
else
    SECURITY=plaintext
fi
[[ "$SECURITY" == plaintext || "$SECURITY" == sasl_ssl ]] \
    || { echo "kafka.sh: KAFKA_SECURITY must be plaintext or sasl_ssl, got '$SECURITY'" >&2; exit 2; }

die() { echo "kafka.sh: error: $*" >&2; exit 1; }
log() { echo "kafka.sh: $*" >&2; }

require_cmd() {
    local c
    for c in "$@"; do
        command -v "$c" >/dev/null 2>&1 || die "'$c' not found on PATH (install it: Java 17+ and Maven are required)"
    done
}

have_jars() {
    compgen -G "$LIBS/kafka_2.13-*.jar" >/dev/null && compgen -G "$LIBS/kafka-tools-*.jar" >/dev/null \
        && compgen -G "$LIBS/log4j-core-*.jar" >/dev/null
}

cmd_fetch() {
    require_cmd java
    if have_jars; then return 0; fi
    require_cmd mvn flock
    mkdir -p "$DIST"
    # Serialise concurrent fetches (e.g. two test sessions starting brokers at once).
    exec 9>"$DIST/.fetch.lock"
    flock 9
    if ! have_jars; then
        log "fetching Kafka jars from Maven Central into $LIBS ..."
        rm -rf "$LIBS.tmp"
        # (sed strips the stray colour escapes Maven 3.8 prints even in -q -B mode; pipefail keeps mvn's status)
        if ! mvn -q -B -f "$SCRIPT_DIR/pom.xml" dependency:copy-dependencies \
                -DoutputDirectory="$LIBS.tmp" -DincludeScope=runtime 2>&1 \
                | sed -e 's/\x1b\[[0-9;]*m//g' -e '/^[[:space:]]*$/d' >&2; then
            rm -rf "$LIBS.tmp"
            die "mvn dependency:copy-dependencies failed (see output above)"
        fi
        rm -rf "$LIBS"
        mv "$LIBS.tmp" "$LIBS"
        have_jars || die "jars missing in $LIBS after mvn (expected kafka_2.13, kafka-tools, log4j-core)"
    fi
    flock -u 9
    exec 9>&-
}

require_log4j_conf() {
    [[ -f "$LOG4J_CONF" ]] || die "missing $LOG4J_CONF (it is part of the repo; restore it with git)"
}

java_tool() {  # java_tool CLASS ARGS...  (tools JVM)
    java -Xmx256m -Dlog4j2.configurationFile="$LOG4J_CONF" -cp "$LIBS/*" "$@"
}

read_pid() {
    [[ -f "$PID_FILE" ]] || return 1
    local pid
    pid="$(cat "$PID_FILE" 2>/dev/null || true)"
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    echo "$pid"
}

is_running() {  # prints pid and returns 0 if the broker of this KAFKA_DIR is alive
    local pid
    pid="$(read_pid)" || return 1
    kill -0 "$pid" 2>/dev/null || return 1
    # Guard against pid reuse: must be our kafka.Kafka with our config file.
    local cmdline
    cmdline="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)" || return 1
    [[ "$cmdline" == *"kafka.Kafka $KAFKA_DIR/server.properties"* ]] || return 1
    echo "$pid"
}

listeners_line() {
    if [[ "$SECURITY" == sasl_ssl ]]; then
        echo "SASL_SSL://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT"
    else
        echo "PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT"
    fi
}

write_server_properties() {
    local props="$KAFKA_DIR/server.properties"
    local listeners
    listeners="$(listeners_line)"
    if [[ -f "$KAFKA_DIR/logs/meta.properties" && -f "$props" ]] \
            && ! grep -qxF "listeners=$listeners" "$props"; then
        die "$KAFKA_DIR was formatted with other ports or security ($(grep '^listeners=' "$props")); use the same KAFKA_PORT/KAFKA_CONTROLLER_PORT/KAFKA_SECURITY or another KAFKA_DIR"
    fi
    (
        umask 077
        cat >"$props.tmp" <<EOF
# Generated by deploy/kafka/kafka.sh on every start; edits are overwritten.
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=127.0.0.1:$KAFKA_CONTROLLER_PORT
listeners=$listeners
advertised.listeners=$listeners
controller.listener.names=CONTROLLER
log.dirs=$KAFKA_DIR/logs
num.partitions=3
default.replication.factor=1
auto.create.topics.enable=false
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
EOF
        if [[ "$SECURITY" == sasl_ssl ]]; then
            cat >>"$props.tmp" <<EOF
# Clients: SASL/SCRAM-SHA-512 over TLS. Controller: mutual TLS (the broker's certificate, CN=broker).
listener.security.protocol.map=CONTROLLER:SSL,SASL_SSL:SASL_SSL
inter.broker.listener.name=SASL_SSL
sasl.enabled.mechanisms=SCRAM-SHA-512
sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="broker" password="$(cat "$SECRETS_DIR/broker.password")";
ssl.keystore.type=PKCS12
ssl.keystore.location=$TLS_DIR/broker.p12
ssl.keystore.password=$(cat "$SECRETS_DIR/keystore.password")
ssl.truststore.type=PEM
ssl.truststore.location=$TLS_DIR/ca.pem
ssl.enabled.protocols=TLSv1.3,TLSv1.2
listener.name.controller.ssl.client.auth=required
ssl.principal.mapping.rules=RULE:^CN=([A-Za-z0-9._-]+)\$/\$1/,DEFAULT
# Authorization: nothing is allowed that no ACL allows; admin (tools) and broker are super-users.
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
allow.everyone.if.no.acl.found=false
super.users=User:admin;User:broker
EOF
        else
            cat >>"$props.tmp" <<EOF
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
EOF
        fi
    )
    mv "$props.tmp" "$props"
}

secret_file() {  # secret_file NAME [SOURCE_FILE]: KAFKA_DIR/secrets/NAME.password, made once (0600)
    local target="$SECRETS_DIR/$1.password" source="${2:-}"
    if [[ -n "$source" ]]; then
        [[ -r "$source" ]] || die "cannot read $source"
        install -m 600 /dev/null "$target.tmp"
        tr -d '\r\n' <"$source" >"$target.tmp"
        mv "$target.tmp" "$target"
    elif [[ ! -s "$target" ]]; then
        install -m 600 /dev/null "$target.tmp"
        openssl rand -hex 24 >"$target.tmp"
        mv "$target.tmp" "$target"
    fi
    local value
    value="$(cat "$target")"
    [[ ${#value} -ge 12 && "$value" =~ ^[A-Za-z0-9._~+/=-]+$ ]] \
        || die "$1's password must be 12+ characters of [A-Za-z0-9._~+/=-]"
}

issue_certs() {  # issue_certs DIR PASSWORD_FILE SANS: a CA, the brokers' certificate (CN=broker), an admin's (CN=admin)
    local dir="$1" pass="$2" sans="$3" name
    require_cmd openssl
    (
        umask 077
        openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 3650 -subj "/CN=Tongban Kafka CA" \
            -keyout "$dir/ca.key" -out "$dir/ca.pem" \
            -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
        for name in broker admin; do
            openssl req -newkey rsa:2048 -nodes -sha256 -subj "/CN=$name" \
                -keyout "$dir/$name.key" -out "$dir/$name.csr" 2>/dev/null
            if [[ "$name" == broker ]]; then
                printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth,clientAuth\n' "$sans" >"$dir/$name.ext"
            else
                printf 'extendedKeyUsage=clientAuth\n' >"$dir/$name.ext"
            fi
            printf 'keyUsage=critical,digitalSignature,keyEncipherment\nbasicConstraints=CA:FALSE\n' >>"$dir/$name.ext"
            openssl x509 -req -sha256 -days 825 -in "$dir/$name.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" \
                -CAcreateserial -extfile "$dir/$name.ext" -out "$dir/$name.pem" 2>/dev/null
            openssl pkcs12 -export -name "$name" -in "$dir/$name.pem" -inkey "$dir/$name.key" \
                -certfile "$dir/ca.pem" -out "$dir/$name.p12" -passout "file:$pass"
            rm -f "$dir/$name.csr" "$dir/$name.ext"
        done
    ) || die "openssl could not make the certificates in $dir"
    chmod 644 "$dir/ca.pem"
}

make_tls() {  # the local broker's CA and certificates, once per KAFKA_DIR
    mkdir -p "$TLS_DIR" "$SECRETS_DIR"
    chmod 700 "$SECRETS_DIR"
    secret_file keystore
    secret_file broker
    secret_file admin "${KAFKA_ADMIN_PASSWORD_FILE:-}"
    [[ -f "$TLS_DIR/broker.p12" ]] && return 0
    log "making a local CA and the broker certificate in $TLS_DIR"
    issue_certs "$TLS_DIR" "$SECRETS_DIR/keystore.password" "IP:127.0.0.1,DNS:localhost${KAFKA_TLS_SANS:+,$KAFKA_TLS_SANS}"
}

cmd_deploy_secrets() {  # deploy-secrets OUT_DIR SANS: TLS material and passwords for compose / Kubernetes
    local out="${1:-}" sans="${2:-}" principal
    [[ -n "$out" && -n "$sans" ]] || die "usage: kafka.sh deploy-secrets OUT_DIR 'DNS:kafka-1,DNS:*.kafka-headless,...'"
    [[ -e "$out/tls/broker.p12" ]] && die "$out/tls already holds certificates (remove it to make new ones)"
    mkdir -p "$out/tls" "$out/credentials"
    chmod 700 "$out" "$out/tls" "$out/credentials"
    (umask 077; openssl rand -hex 24 >"$out/tls/keystore.password")
    issue_certs "$out/tls" "$out/tls/keystore.password" "$sans"
    local prefix="${KAFKA_PRINCIPAL_PREFIX:-${KAFKA_TOPIC_PREFIX:-tongban}}"
    local names=(topics ${KAFKA_SERVICES:-catalogue routing authorization delivery dashboard webhooks})
    for principal in "${names[@]/#/$prefix-}" ${KAFKA_LOCALITIES:-310110 320505 331000 341600}; do
        [[ "$principal" =~ ^[0-9]{6}$ ]] && principal="$prefix-locality-$principal"
        [[ -s "$out/credentials/$principal.password" ]] && continue
        (umask 077; openssl rand -hex 24 >"$out/credentials/$principal.password")
    done
    mv "$out/tls/ca.key" "$out/ca.key"
    rm -f "$out/tls/ca.srl" "$out/tls/broker.key" "$out/tls/admin.key"
    # The folders stay 0700; the files are 0644 so that containers (other uids) can read their
    # bind-mounted copies. Kubernetes users load them into Secrets and delete the folder.
    chmod 644 "$out"/tls/* "$out"/credentials/*
    echo "made $out/tls (ca.pem broker.p12 admin.p12 keystore.password), $out/credentials/*.password and $out/ca.key"
    echo "keep ca.key offline; hand each locality its <prefix>-locality-<code>.password and tls/ca.pem"
}

write_admin_config() {  # client properties of the super-user, for the tools (0600)
    (
        umask 077
        cat >"$ADMIN_CONFIG.tmp" <<EOF
security.protocol=SASL_SSL
sasl.mechanism=SCRAM-SHA-512
sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="$(cat "$SECRETS_DIR/admin.password")";
ssl.truststore.type=PEM
ssl.truststore.location=$TLS_DIR/ca.pem
EOF
    )
    mv "$ADMIN_CONFIG.tmp" "$ADMIN_CONFIG"
}

tool_security_args() {  # extra arguments of the tools on a secured broker
    if [[ "$SECURITY" == sasl_ssl ]]; then echo "--command-config $ADMIN_CONFIG"; fi
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

broker_answers() {
    # Cheap TCP check first, then a real metadata round-trip (quick-start JVM flags for the probe).
    port_open "$KAFKA_PORT" || return 1
    timeout 30 java -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
        -Dlog4j2.configurationFile="$LOG4J_CONF" -cp "$LIBS/*" \
        org.apache.kafka.tools.TopicCommand --bootstrap-server "$BOOTSTRAP" $(tool_security_args) --list >/dev/null 2>&1
}

fail_start() {
    echo "kafka.sh: error: $*" >&2
    if [[ -f "$BROKER_LOG" ]]; then
        echo "---- last 50 lines of $BROKER_LOG ----" >&2
        tail -n 50 "$BROKER_LOG" >&2
        echo "---- end of $BROKER_LOG ----" >&2
    fi
    exit 1
}

cmd_start() {
    local pid
    if pid="$(is_running)"; then
        echo "kafka already running (pid $pid) on $BOOTSTRAP, dir $KAFKA_DIR"
        return 0
    fi
    if port_open "$KAFKA_PORT"; then
        die "port $KAFKA_PORT is already in use by another process (not the broker of $KAFKA_DIR)"
    fi
    if port_open "$KAFKA_CONTROLLER_PORT"; then
        die "controller port $KAFKA_CONTROLLER_PORT is already in use by another process"
    fi
    cmd_fetch
    require_cmd setsid timeout
    require_log4j_conf
    mkdir -p "$KAFKA_DIR/logs"
    if [[ -f "$KAFKA_DIR/security" && "$(cat "$KAFKA_DIR/security")" != "$SECURITY" ]]; then
        die "$KAFKA_DIR was formatted with KAFKA_SECURITY=$(cat "$KAFKA_DIR/security"); use another KAFKA_DIR for $SECURITY"
    fi
    rm -f "$PID_FILE"
    if [[ "$SECURITY" == sasl_ssl ]]; then
        make_tls
        write_admin_config
    fi
    write_server_properties

    if [[ ! -f "$KAFKA_DIR/logs/meta.properties" ]]; then
        local cluster_id
        cluster_id="$(java_tool kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n 1 | tr -d '[:space:]')" \
            || die "kafka.tools.StorageTool random-uuid failed"
        [[ -n "$cluster_id" ]] || die "kafka.tools.StorageTool random-uuid printed nothing"
        log "formatting storage in $KAFKA_DIR/logs (cluster id $cluster_id)"
        local scram=()
        if [[ "$SECURITY" == sasl_ssl ]]; then
            # The super-users' SCRAM credentials go into the metadata log at format time (the broker
            # cannot authenticate anyone before they exist).
            scram=(--add-scram "SCRAM-SHA-512=[name=admin,password=$(cat "$SECRETS_DIR/admin.password")]"
                   --add-scram "SCRAM-SHA-512=[name=broker,password=$(cat "$SECRETS_DIR/broker.password")]")
        fi
        java_tool kafka.tools.StorageTool format --standalone -t "$cluster_id" "${scram[@]}" \
            -c "$KAFKA_DIR/server.properties" >"$KAFKA_DIR/format.log" 2>&1 || {
            cat "$KAFKA_DIR/format.log" >&2
            die "storage format failed"
        }
        echo "$SECURITY" >"$KAFKA_DIR/security"
    fi

    [[ -f "$BROKER_LOG" ]] && mv -f "$BROKER_LOG" "$BROKER_LOG.1"
    local t0=$SECONDS
    # The inner shell writes its own pid and execs java, so kafka.pid is exactly the JVM's pid.
    # shellcheck disable=SC2016,SC2086
    setsid nohup bash -c 'echo $$ >"$0"; exec "$@"' "$PID_FILE" \
        java $KAFKA_HEAP -Dlog4j2.configurationFile="$LOG4J_CONF" -cp "$LIBS/*" \
        kafka.Kafka "$KAFKA_DIR/server.properties" \
        >"$BROKER_LOG" 2>&1 </dev/null &
    local launcher=$!
    for _ in $(seq 50); do [[ -s "$PID_FILE" ]] && break; sleep 0.1; done
    pid="$(read_pid)" || fail_start "broker did not start (no pid written)"
    log "started kafka pid $pid, waiting up to ${KAFKA_START_TIMEOUT}s for $BOOTSTRAP ..."

    while true; do
        kill -0 "$pid" 2>/dev/null || { wait "$launcher" 2>/dev/null || true; rm -f "$PID_FILE"; fail_start "broker process $pid exited during startup"; }
        if broker_answers; then break; fi
        if (( SECONDS - t0 >= KAFKA_START_TIMEOUT )); then
            cmd_stop >&2 || true
            fail_start "broker did not answer on $BOOTSTRAP within ${KAFKA_START_TIMEOUT}s (stopped it again)"
        fi
        sleep 0.5
    done
    echo "kafka ready on $BOOTSTRAP (pid $pid, dir $KAFKA_DIR, $((SECONDS - t0))s)"
}

cmd_stop() {
    local pid
    if ! pid="$(is_running)"; then
        rm -f "$PID_FILE"
        echo "kafka not running (dir $KAFKA_DIR)"
        return 0
    fi
    kill -TERM "$pid" 2>/dev/null || true
    local i
    for ((i = 0; i < 300; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        log "broker pid $pid still alive after 30s, sending SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
        for ((i = 0; i < 100; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -0 "$pid" 2>/dev/null && die "could not kill broker pid $pid"
    fi
    rm -f "$PID_FILE"
    echo "kafka stopped (pid $pid, data kept in $KAFKA_DIR)"
}

cmd_status() {
    local pid
    if pid="$(is_running)"; then
        echo "kafka running (pid $pid) on $BOOTSTRAP, dir $KAFKA_DIR"
    else
        echo "kafka not running (dir $KAFKA_DIR)"
        return 1
    fi
}

cmd_topics() {
    cmd_fetch
    require_log4j_conf
    # shellcheck disable=SC2046
    java_tool org.apache.kafka.tools.TopicCommand --bootstrap-server "$BOOTSTRAP" $(tool_security_args) --list
}

cmd_secure_setup() {
    [[ "$SECURITY" == sasl_ssl ]] || die "secure-setup needs a broker started with KAFKA_SECURITY=sasl_ssl"
    is_running >/dev/null || die "the broker of $KAFKA_DIR is not running (start it first)"
    [[ -f "$ADMIN_CONFIG" ]] || die "missing $ADMIN_CONFIG (start the broker with KAFKA_SECURITY=sasl_ssl)"
    cmd_fetch
    require_log4j_conf
    local creds="${KAFKA_CREDENTIALS_DIR:-$KAFKA_DIR/credentials}"
    local prefix="${KAFKA_TOPIC_PREFIX:-tongban}"
    local localities="${KAFKA_LOCALITIES:-310110 320505 331000 341600}"
    local services="${KAFKA_SERVICES:-catalogue routing authorization delivery dashboard webhooks}"
    mkdir -p "$creds"
    chmod 700 "$creds"
    local config="$KAFKA_DIR/setup.properties"
    (umask 077; cp "$ADMIN_CONFIG" "$config"; echo "bootstrap.servers=$BOOTSTRAP" >>"$config")
    # shellcheck disable=SC2086
    java_tool "$SCRIPT_DIR/SecureSetup.java" --command-config "$config" --credentials-dir "$creds" \
        --topic-prefix "$prefix" --principal-prefix "${KAFKA_PRINCIPAL_PREFIX:-$prefix}" \
        --localities "$(echo $localities | tr ' ' ',')" --services "$(echo $services | tr ' ' ',')" \
        --partitions "${KAFKA_TOPIC_PARTITIONS:-3}" --replication 1
}

cmd_tool() {
    [[ $# -ge 1 ]] || die "usage: kafka.sh tool CLASS [ARGS...]"
    cmd_fetch
    require_log4j_conf
    java_tool "$@"
}

usage() {
    sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2
}

main() {
    local cmd="${1:-}"
    [[ $# -gt 0 ]] && shift
    case "$cmd" in
        fetch)  cmd_fetch; echo "kafka jars present in $LIBS" ;;
        start)  cmd_start ;;
        stop)   cmd_stop ;;
        status) cmd_status ;;
        topics) cmd_topics ;;
        secure-setup) cmd_secure_setup ;;
        deploy-secrets) cmd_deploy_secrets "$@" ;;
        tool)   cmd_tool "$@" ;;
        -h|--help|help) usage ;;
        "") usage; exit 2 ;;
        *) echo "kafka.sh: unknown command '$cmd'" >&2; usage; exit 2 ;;
    esac
}

main "$@"
