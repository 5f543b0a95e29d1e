#!/usr/bin/env bash
# HTTPS CA certificates on any distribution's layout (issue 13): the bundled
# OpenSSL looks where the build host's distribution keeps them (Debian:
# /usr/lib/ssl); where that holds nothing, the bundle's ssl uses the first of
# the places the major distributions use (Go's crypto/x509 list). In the
# no-Python sandbox, with /etc/ssl, /etc/pki, /usr/lib/ssl (and the bundled
# OpenSSL's own directory) replaced by a tmpfs laid out like:
#   debian   /etc/ssl/certs/ca-certificates.crt (+ hash links, /usr/lib/ssl links)
#   rhel     /etc/pki/tls/certs/ca-bundle.crt only (needs overlayfs over /etc
#            where the host has no /etc/pki)
#   suse     /etc/ssl/ca-bundle.pem only
#   alpine   /etc/ssl/cert.pem only
#   hashdir  /etc/ssl/certs/HASH.0 only (a c_rehash'ed directory, no bundle file)
#   none     nothing: 0 certificates, the handshake is rejected, no crash
# and SSL_CERT_FILE (one certificate; Debian layout) or SSL_CERT_DIR (SUSE
# layout) set by the user: OpenSSL's own rules, nothing added.
# The bundle file is the host's ca-certificates.crt plus a test CA; the app
# counts ssl.create_default_context()'s certificates and verifies, in memory,
# a TLS handshake with a server whose certificate that CA signed (directory
# certificates load only when a handshake looks them up). A child process
# must see no SSL_CERT_* variable that the user did not set.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
need_bundle
find_python
need_sandbox
mkwork ca
cd "$WORK" || exit 1

HOST_CA=/etc/ssl/certs/ca-certificates.crt
[[ -s $HOST_CA ]] || skip "no $HOST_CA on this host to copy (apt-get install ca-certificates)"
command -v openssl >/dev/null 2>&1 || skip "no openssl(1) to make the test CA (apt-get install openssl)"


# --- a test CA and a server certificate it signed ---------------------------
cat >ca.cnf <<'EOF'
[req]
distinguished_name = dn
[dn]
[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[srv]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:bundle.test
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EOF
ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
openssl req -x509 -config ca.cnf -extensions ca "${ec[@]}" -keyout ca.key -out ca.pem \
    -days 2 -subj '/CN=bundle e2e test CA' 2>/dev/null
openssl req -new -config ca.cnf "${ec[@]}" -keyout srv.key -out srv.csr -subj '/CN=bundle.test' 2>/dev/null
openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -extfile ca.cnf \
    -extensions srv -days 2 -out srv.pem 2>/dev/null
HASH=$(openssl x509 -hash -noout -in ca.pem)
cat "$HOST_CA" ca.pem >bundle.pem
# how many CA certificates OpenSSL finds in it (the build python, outside the sandbox)
NB=$("$PY" -I -c 'import ssl, sys
c = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
c.load_verify_locations(sys.argv[1])
print(len(c.get_ca_certs()))' bundle.pem)
((NB > 1)) || fail "the copy of $HOST_CA holds $NB certificates"
mkdir cadir && cp ca.pem "cadir/$HASH.0"

# --- the layouts, as trees that mirror / -------------------------------------
L=$WORK/layouts
mkdir -p "$L/debian/etc/ssl/certs" "$L/debian/usr/lib/ssl" "$L/rhel/etc/pki/tls/certs" \
    "$L/suse/etc/ssl" "$L/alpine/etc/ssl" "$L/hashdir/etc/ssl/certs" "$L/none"
cp bundle.pem "$L/debian/etc/ssl/certs/ca-certificates.crt"
cp ca.pem "$L/debian/etc/ssl/certs/$HASH.0"
ln -s /etc/ssl/certs/ca-certificates.crt "$L/debian/usr/lib/ssl/cert.pem"
ln -s /etc/ssl/certs "$L/debian/usr/lib/ssl/certs"
cp bundle.pem "$L/rhel/etc/pki/tls/certs/ca-bundle.crt"
cp bundle.pem "$L/suse/etc/ssl/ca-bundle.pem"
cp bundle.pem "$L/alpine/etc/ssl/cert.pem"
cp ca.pem "$L/hashdir/etc/ssl/certs/$HASH.0"

# The dirs to replace: the distributions' and the bundled OpenSSL's own
# (OPENSSLDIR, as the build python reports it), none inside another.
OSSL=$("$PY" -I -c 'import os, ssl
p = ssl.get_default_verify_paths()
print(os.path.dirname(p.openssl_cafile), p.openssl_capath)')
STAGE=$WORK/.ca-stage
mkdir -p "$STAGE"
# overlayfs over /etc lets a host without /etc/pki have one in the namespace
CA_OVERLAY=0
# shellcheck disable=SC2016
if unshare --mount --propagation private -- /bin/sh -c 'mount -t tmpfs ca-probe "$1" &&
    mkdir "$1/u" "$1/w" && mount -t overlay ca-probe -o "lowerdir=/etc,upperdir=$1/u,workdir=$1/w" /etc' \
    _ "$STAGE" </dev/null >/dev/null 2>&1; then
    CA_OVERLAY=1
fi
CA_DIRS=
# shellcheck disable=SC2086
for d in $(printf '%s\n' /etc/ssl /etc/pki /usr/lib/ssl $OSSL | sort -u); do
    d=$(readlink -m "$d")
    [[ -d $d || ($CA_OVERLAY == 1 && $d == /etc/*) ]] || continue
    inside=0
    for o in $CA_DIRS; do [[ $d == "$o" || $d == "$o"/* ]] && inside=1; done
    ((inside)) || CA_DIRS+=" $d"
done
export CA_DIRS CA_OVERLAY
info "replacing:$CA_DIRS (overlay on /etc: $CA_OVERLAY)"

cat >layout.sh <<'SH'
# layout.sh SRC STAGE CMD...: in a new mount namespace, replace each dir of
# $CA_DIRS by a tmpfs filled from SRC (a tree that mirrors /), then exec CMD.
set -eu
src=$1 stage=$2
shift 2
mount -t tmpfs -o mode=0700,size=1m ca-stage "$stage"
if [ "$CA_OVERLAY" = 1 ]; then
    mkdir "$stage/u" "$stage/w"
    mount -t overlay ca-etc -o "lowerdir=/etc,upperdir=$stage/u,workdir=$stage/w" /etc
fi
for d in $CA_DIRS; do
    [ -d "$d" ] || mkdir "$d" # under /etc: in the overlay's upper layer only
    mount -t tmpfs -o mode=0755,size=8m ca-layout "$d"
    if [ -d "$src$d" ]; then cp -a "$src$d/." "$d/"; fi
done
exec "$@"
SH

# --- the app ------------------------------------------------------------------
cat >ca.py <<'PY'
import os
import ssl
import subprocess
import sys

ctx = ssl.create_default_context()
certs = len(ctx.get_ca_certs())
# a handshake in memory with a server whose certificate the test CA signed
srv = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
srv.load_cert_chain(sys.argv[1], sys.argv[2])
c_in, c_out, s_in, s_out = (ssl.MemoryBIO() for _ in range(4))
client = ctx.wrap_bio(c_in, c_out, server_hostname="bundle.test")
server = srv.wrap_bio(s_in, s_out, server_side=True)
try:
    for _ in range(8):
        for end, out, peer in ((client, c_out, s_in), (server, s_out, c_in)):
            try:
                end.do_handshake()
            except ssl.SSLWantReadError:
                pass
            peer.write(out.read())
    handshake = "verified" if client.getpeercert() else "unfinished"
except ssl.SSLCertVerificationError:
    handshake = "rejected"
env = subprocess.run(["/usr/bin/env"], stdout=subprocess.PIPE, check=True).stdout.decode()
ssl_env = [v for v in env.splitlines() if v.startswith("SSL_CERT_")]
print("certs=%d store=%d handshake=%s child_env=%s" % (
    certs, ctx.cert_store_stats()["x509"], handshake, ",".join(ssl_env) or "clean"))
PY
build_app ca.py
[[ -x dist/ca ]] || fail "no dist/ca"

# case NAME LAYOUT EXPECTED [K=V...]: run dist/ca with LAYOUT, the K=V in its environment
case_() {
    local name=$1 layout=$2 exp=$3 out rc=0
    shift 3
    local -a envs=()
    for kv in "$@"; do envs+=(--env "$kv"); done
    sandbox_cmd "${envs[@]}" --timeout 60 "$WORK/dist/ca" "$WORK/srv.pem" "$WORK/srv.key"
    out=$(unshare --mount --propagation private -- /bin/sh "$WORK/layout.sh" "$L/$layout" "$STAGE" \
        "${SANDBOX_CMD[@]}" </dev/null 2>"$WORK/err") || rc=$?
    if [[ $rc != 0 ]]; then
        soft_fail "$name: exited $rc; stderr: $(cat "$WORK/err")"
    elif [[ $out != "$exp" ]]; then
        soft_fail "$name: expected '$exp', got '$out'"
    else
        info "$name: $out"
    fi
}

FULL="certs=$NB store=$NB handshake=verified child_env=clean"
case_ debian debian "$FULL"
if [[ $CA_DIRS == *" /etc/pki"* ]]; then
    case_ rhel rhel "$FULL"
else
    info "rhel: skipped (no /etc/pki on this host and no overlayfs over /etc to make one)"
fi
case_ suse suse "$FULL"
case_ alpine alpine "$FULL"
case_ hashdir hashdir "certs=0 store=1 handshake=verified child_env=clean"
case_ none none "certs=0 store=0 handshake=rejected child_env=clean"
case_ SSL_CERT_FILE debian "certs=1 store=1 handshake=verified child_env=SSL_CERT_FILE=$WORK/ca.pem" \
    "SSL_CERT_FILE=$WORK/ca.pem"
case_ SSL_CERT_DIR suse "certs=0 store=1 handshake=verified child_env=SSL_CERT_DIR=$WORK/cadir" \
    "SSL_CERT_DIR=$WORK/cadir"

((${#FAILS[@]} == 0)) || fail "${#FAILS[@]} case(s) failed"
pass
