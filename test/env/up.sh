#!/usr/bin/env bash
# Starts a real etcd + kube-apiserver on free loopback ports for tests (and for people).
#   bash test/env/up.sh DIR    → DIR/kubeconfig (admin, context "testenv"), DIR/env (KEY=value lines)
# A test that needs more: DIR/extra-tokens.csv (token,user,uid,"groups" lines) adds users, and the words of
# $TESTENV_APISERVER_ARGS are added to kube-apiserver's flags (e.g. an audit webhook).
# test/env/apiserver.sh stop/start DIR restarts only its kube-apiserver (etcd keeps the data).
# Exits 0 only when the API answers /readyz. Builds the binaries first when the cache is empty. The aggregator
# proxies to API servers of the tests (test/env/aggregated-api.ts) with a front-proxy client certificate, and
# with --enable-aggregator-routing resolves a Service to the Endpoints the test writes (no controller-manager).
set -euo pipefail
dir=${1:?usage: up.sh DIR}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$dir"; dir=$(cd "$dir" && pwd)
bin=$(bash "$here/build.sh")

free_port() { # a random loopback port that nothing answers on
  local p
  for _ in $(seq 1 50); do
    p=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return; fi
  done
  echo "no free port found" >&2; return 1
}

pki=$dir/pki; mkdir -p "$pki"
if [ ! -f "$pki/ca.crt" ]; then
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=kubetrail-testenv-ca" \
    -keyout "$pki/ca.key" -out "$pki/ca.crt" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=kube-apiserver" -keyout "$pki/server.key" -out "$pki/server.csr" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes.default.svc\nextendedKeyUsage=serverAuth\n' > "$pki/server.ext"
  openssl x509 -req -in "$pki/server.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -CAcreateserial -days 3650 \
    -extfile "$pki/server.ext" -out "$pki/server.crt" 2>/dev/null
  openssl genrsa -out "$pki/sa.key" 2048 2>/dev/null
  openssl rsa -in "$pki/sa.key" -pubout -out "$pki/sa.pub" 2>/dev/null
fi
if [ ! -f "$pki/front-proxy-ca.crt" ]; then # the aggregator's identity towards aggregated API servers
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=kubetrail-testenv-front-proxy-ca" \
    -keyout "$pki/front-proxy-ca.key" -out "$pki/front-proxy-ca.crt" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=front-proxy-client" \
    -keyout "$pki/front-proxy-client.key" -out "$pki/front-proxy-client.csr" 2>/dev/null
  printf 'extendedKeyUsage=clientAuth\n' > "$pki/front-proxy-client.ext"
  openssl x509 -req -in "$pki/front-proxy-client.csr" -CA "$pki/front-proxy-ca.crt" -CAkey "$pki/front-proxy-ca.key" \
    -CAcreateserial -days 3650 -extfile "$pki/front-proxy-client.ext" -out "$pki/front-proxy-client.crt" 2>/dev/null
fi
admin_token=admin-$(openssl rand -hex 16)
nobody_token=nobody-$(openssl rand -hex 16)
printf '%s,admin,admin-uid,"system:masters"\n%s,nobody,nobody-uid\n' "$admin_token" "$nobody_token" > "$pki/tokens.csv"
if [ -f "$dir/extra-tokens.csv" ]; then cat "$dir/extra-tokens.csv" >> "$pki/tokens.csv"; fi
read -r -a extra_args <<< "${TESTENV_APISERVER_ARGS:-}"

# A port found free can be taken before etcd or kube-apiserver binds it (other test servers start at the same
# time): such a start is retried on new ports.
for attempt in 1 2 3; do
etcd_port=$(free_port); peer_port=$(free_port); api_port=$(free_port)
rm -rf "$dir/etcd"; mkdir -p "$dir/etcd" "$dir/logs"
"$bin/etcd" --name testenv --data-dir "$dir/etcd" \
  --listen-client-urls "http://127.0.0.1:$etcd_port" --advertise-client-urls "http://127.0.0.1:$etcd_port" \
  --listen-peer-urls "http://127.0.0.1:$peer_port" --initial-advertise-peer-urls "http://127.0.0.1:$peer_port" \
  --initial-cluster "testenv=http://127.0.0.1:$peer_port" --unsafe-no-fsync --quota-backend-bytes 8589934592 \
  > "$dir/logs/etcd.log" 2>&1 &
echo $! > "$dir/etcd.pid"

# The command line is kept in DIR/kube-apiserver.cmd (NUL-separated) for apiserver.sh to start it again.
api_cmd=("$bin/kube-apiserver" --etcd-servers "http://127.0.0.1:$etcd_port" \
  --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$api_port" \
  --tls-cert-file "$pki/server.crt" --tls-private-key-file "$pki/server.key" --client-ca-file "$pki/ca.crt" \
  --token-auth-file "$pki/tokens.csv" --authorization-mode RBAC \
  --service-account-issuer "https://127.0.0.1:$api_port" --service-account-key-file "$pki/sa.pub" \
  --service-account-signing-key-file "$pki/sa.key" --api-audiences "https://127.0.0.1:$api_port" \
  --service-cluster-ip-range 10.0.0.0/24 --disable-admission-plugins ServiceAccount \
  --cert-dir "$dir/certs" --enable-priority-and-fairness=false --endpoint-reconciler-type none \
  --requestheader-client-ca-file "$pki/front-proxy-ca.crt" --requestheader-allowed-names front-proxy-client \
  --requestheader-username-headers X-Remote-User --requestheader-group-headers X-Remote-Group \
  --requestheader-extra-headers-prefix X-Remote-Extra- \
  --proxy-client-cert-file "$pki/front-proxy-client.crt" --proxy-client-key-file "$pki/front-proxy-client.key" \
  --enable-aggregator-routing=true --watch-cache-sizes podtemplates#0 ${extra_args[@]+"${extra_args[@]}"})
printf '%s\0' "${api_cmd[@]}" > "$dir/kube-apiserver.cmd"
"${api_cmd[@]}" > "$dir/logs/kube-apiserver.log" 2>&1 &
echo $! > "$dir/kube-apiserver.pid"

url=https://127.0.0.1:$api_port
ready=
for i in $(seq 1 120); do
  if curl -sf --cacert "$pki/ca.crt" -H "Authorization: Bearer $admin_token" "$url/readyz" >/dev/null 2>&1; then ready=1; break; fi
  if ! kill -0 "$(cat "$dir/kube-apiserver.pid")" 2>/dev/null || ! kill -0 "$(cat "$dir/etcd.pid")" 2>/dev/null; then
    if [ "$attempt" -lt 3 ] && grep -qs "address already in use" "$dir/logs/"*.log; then
      echo "testenv: a port was taken meanwhile; starting again on other ports" >&2; bash "$here/down.sh" "$dir"; break
    fi
    echo "testenv: a process died; last log lines:" >&2; tail -n 20 "$dir/logs/"*.log >&2; bash "$here/down.sh" "$dir"; exit 1
  fi
  [ "$i" = 120 ] && { echo "testenv: /readyz did not answer in 60s" >&2; tail -n 20 "$dir/logs/kube-apiserver.log" >&2; bash "$here/down.sh" "$dir"; exit 1; }
  sleep 0.5
done
[ -n "$ready" ] && break
done

cat > "$dir/kubeconfig" <<KC
apiVersion: v1
kind: Config
clusters:
- name: testenv
  cluster:
    server: $url
    certificate-authority-data: $(base64 -w0 "$pki/ca.crt")
users:
- name: admin
  user:
    token: $admin_token
contexts:
- name: testenv
  context: {cluster: testenv, user: admin}
current-context: testenv
KC
cat > "$dir/env" <<ENV
KUBECONFIG=$dir/kubeconfig
APISERVER_URL=$url
ADMIN_TOKEN=$admin_token
NOBODY_TOKEN=$nobody_token
CA_FILE=$pki/ca.crt
CA_KEY_FILE=$pki/ca.key
ETCD_URL=http://127.0.0.1:$etcd_port
ENV
echo "testenv: kube-apiserver ready at $url (kubeconfig: $dir/kubeconfig)" >&2
