#!/usr/bin/env bash
# gen-certs.sh DIR — throw-away test certificates made with the openssl CLI.
#
# Writes into DIR (created if missing), all PEM, EC P-256 keys (fast to make):
#   ca.crt ca.key                 the test CA every "good" certificate chains to
#   server.crt server.key         server cert for DNS:localhost and IP:127.0.0.1 (signed by ca)
#   client.crt client.key         client cert, CN=mqttspec-client (signed by ca)
#   untrusted-ca.crt              a second CA that no test trusts
#   untrusted.crt untrusted.key   server cert for localhost/127.0.0.1 signed by untrusted-ca
#   wronghost.crt wronghost.key   server cert for DNS:other.example only (signed by ca)
#   expired.crt expired.key       server cert for localhost/127.0.0.1 that expired in 2020 (signed by ca)
#
# Keys are chmod 644: they protect nothing, and a broker that drops root privileges
# (mosquitto switches to user "mosquitto" before reading them) must be able to read them.
# The expired certificate is made with `openssl ca -startdate/-enddate` (OpenSSL 3.0's
# `x509` has no way to set dates in the past), so no faketime is needed.
set -euo pipefail

dir=${1:?usage: gen-certs.sh DIR}
mkdir -p "$dir"
cd "$dir"

key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

# make_ca NAME CN: self-signed CA certificate NAME.crt with key NAME.key
make_ca() {
    key "$1.key"
    openssl req -x509 -new -key "$1.key" -sha256 -days 3650 -subj "/O=mqttspec test/CN=$2" \
        -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
        -out "$1.crt"
}

# make_leaf NAME CA CN EXT: key NAME.key, CSR, certificate NAME.crt signed by CA with extensions EXT
make_leaf() {
    key "$1.key"
    openssl req -new -key "$1.key" -subj "/O=mqttspec test/CN=$3" -out "$1.csr"
    printf '%s\n' "$4" >"$1.ext"
    openssl x509 -req -in "$1.csr" -CA "$2.crt" -CAkey "$2.key" -CAcreateserial -sha256 -days 825 \
        -extfile "$1.ext" -out "$1.crt" 2>/dev/null
    rm -f "$1.csr" "$1.ext"
}

server_ext() {
    printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n'
    printf 'extendedKeyUsage=serverAuth\nsubjectAltName=%s' "$1"
}
client_ext='basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=clientAuth'

make_ca ca "mqttspec test CA"
make_ca untrusted-ca "mqttspec untrusted CA"
make_leaf server ca localhost "$(server_ext 'DNS:localhost,IP:127.0.0.1')"
make_leaf client ca mqttspec-client "$client_ext"
make_leaf untrusted untrusted-ca localhost "$(server_ext 'DNS:localhost,IP:127.0.0.1')"
make_leaf wronghost ca other.example "$(server_ext 'DNS:other.example')"

# Expired: `openssl ca` takes explicit start and end dates.
key expired.key
openssl req -new -key expired.key -subj "/O=mqttspec test/CN=localhost" -out expired.csr
mkdir -p ca-db
: >ca-db/index.txt
echo 1000 >ca-db/serial
cat >ca-db/ca.cnf <<EOF
[ ca ]
default_ca = test_ca
[ test_ca ]
database = ca-db/index.txt
serial = ca-db/serial
new_certs_dir = ca-db
certificate = ca.crt
private_key = ca.key
default_md = sha256
policy = any
copy_extensions = none
x509_extensions = server_ext
unique_subject = no
[ any ]
organizationName = optional
commonName = supplied
[ server_ext ]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost,IP:127.0.0.1
EOF
openssl ca -batch -notext -config ca-db/ca.cnf -startdate 20200101000000Z -enddate 20200201000000Z \
    -in expired.csr -out expired.crt 2>/dev/null
rm -rf expired.csr ca-db ./*.srl

chmod 644 ./*.key ./*.crt
chmod 755 .
