#!/usr/bin/env bash
# Regenerates test/fixtures/keystores/keytool/: every kind of key and trust store Java's keytool
# makes for a Kafka client (RSA, EC, EdDSA, DSA and RSASSA-PSS keys; JKS, JCEKS and PKCS12;
# PKCS12 in Java 17's default PBES2/AES-256 encryption, in the legacy 3DES/RC2 one and in the
# other algorithms the keystore.pkcs12.* properties select), each beside what keytool itself
# says is inside it: `<store>.chain.pem` (keytool -list -rfc of the key entry, leaf first; e.g.
# rsa.jks.chain.pem), `<store>.key.pem` (the key, copied by keytool -importkeystore into a
# PKCS12 that openssl turns into PKCS#8) and, for a truststore, `<store>.certs.pem`. The tests
# of lib/config/keystore.ts compare TigerStream's PEM with these, so they need neither keytool
# nor openssl. Keys and certificates are new each run.
#
# Needs keytool (Debian: apt-get install openjdk-17-jre-headless) and openssl.
# Usage: bash scripts/make-keystores.sh
set -euo pipefail
cd "$(dirname "$0")/.."
for tool in keytool openssl; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "make-keystores: $tool is not installed (Debian: apt-get install openjdk-17-jre-headless openssl)" >&2
    exit 1
  fi
done

OUT=test/fixtures/keystores/keytool
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
rm -rf "$OUT"
mkdir -p "$OUT"

# The passwords the tests use (test/unit/config/keystore.test.ts). JKS and JCEKS keys get a key
# password distinct from the store password; PKCS12 has one password (keytool ignores -keypass).
STORE_PASS=store-pass-1
KEY_PASS=key-pass-2
TRUST_PASS=trust-pass-3
CA_PASS=ca-pass-0
VALIDITY=36500 # days: the fixtures must not expire under the tests

# keytool, quiet unless it fails (it prints warnings about JKS on every run).
kt() {
  if ! keytool "$@" >"$WORK/keytool.out" 2>&1; then
    echo "make-keystores: keytool $1 failed:" >&2
    cat "$WORK/keytool.out" >&2
    return 1
  fi
}
# The PEM blocks of keytool's output, nothing else.
pem_blocks() { sed -n '/-----BEGIN CERTIFICATE-----/,/-----END CERTIFICATE-----/p' "$WORK/keytool.out"; }

# A root CA, an intermediate CA it signs (the client certificates' issuer, so every keystore
# holds a chain of three) and a second, EC, root for the truststores.
kt -genkeypair -keystore "$WORK/ca.p12" -storepass "$CA_PASS" -alias root -keyalg RSA \
  -keysize 2048 -dname "CN=TigerStream Test Root CA" -ext bc:c -validity "$VALIDITY"
kt -exportcert -rfc -keystore "$WORK/ca.p12" -storepass "$CA_PASS" -alias root -file "$WORK/root.pem"
kt -genkeypair -keystore "$WORK/ca.p12" -storepass "$CA_PASS" -alias intermediate -keyalg RSA \
  -keysize 2048 -dname "CN=TigerStream Test Intermediate CA" -validity "$VALIDITY"
kt -certreq -keystore "$WORK/ca.p12" -storepass "$CA_PASS" -alias intermediate -file "$WORK/intermediate.csr"
kt -gencert -keystore "$WORK/ca.p12" -storepass "$CA_PASS" -alias root -rfc -ext bc:c=ca:true,pathlen:0 \
  -validity "$VALIDITY" -infile "$WORK/intermediate.csr" -outfile "$WORK/intermediate.pem"
kt -importcert -noprompt -keystore "$WORK/ca.p12" -storepass "$CA_PASS" -alias intermediate \
  -file "$WORK/intermediate.pem"
kt -genkeypair -keystore "$WORK/other-ca.p12" -storepass "$CA_PASS" -alias other -keyalg EC \
  -groupname secp384r1 -dname "CN=TigerStream Other Test Root CA" -ext bc:c -validity "$VALIDITY"
kt -exportcert -rfc -keystore "$WORK/other-ca.p12" -storepass "$CA_PASS" -alias other -file "$WORK/other-root.pem"

# make_keystore FILE STORETYPE "KEY ARGS" [-J-D... properties for every write]
# A key pair made by keytool -genkeypair, its certificate signed by the intermediate CA and
# imported as a reply over the root (trusted entry "caroot", as Kafka's SSL guides do it).
make_keystore() {
  local file=$1 type=$2 keyargs=$3
  shift 3
  local props=("$@") store="$OUT/$file" name=$file
  local keypass=()
  if [ "$type" != PKCS12 ]; then keypass=(-keypass "$KEY_PASS"); fi
  # shellcheck disable=SC2086 # keyargs is a list of keytool options
  kt "${props[@]}" -genkeypair -keystore "$store" -storetype "$type" -storepass "$STORE_PASS" \
    "${keypass[@]}" -alias client $keyargs -dname "CN=tigerstream-$name,OU=TigerStream test fixtures" \
    -validity "$VALIDITY"
  kt -certreq -keystore "$store" -storepass "$STORE_PASS" "${keypass[@]}" -alias client -file "$WORK/$name.csr"
  kt -gencert -keystore "$WORK/ca.p12" -storepass "$CA_PASS" -alias intermediate -rfc \
    -ext ku:c=digitalSignature,keyEncipherment -ext eku=clientAuth -validity "$VALIDITY" \
    -infile "$WORK/$name.csr" -outfile "$WORK/$name.crt"
  cat "$WORK/$name.crt" "$WORK/intermediate.pem" >"$WORK/$name.reply.pem"
  kt "${props[@]}" -importcert -noprompt -keystore "$store" -storepass "$STORE_PASS" -alias caroot \
    -file "$WORK/root.pem"
  kt "${props[@]}" -importcert -keystore "$store" -storepass "$STORE_PASS" "${keypass[@]}" -alias client \
    -file "$WORK/$name.reply.pem"

  # What keytool says is inside: the key entry's chain, and its key.
  kt -list -rfc -keystore "$store" -storepass "$STORE_PASS" -alias client
  pem_blocks >"$OUT/$name.chain.pem"
  kt -exportcert -rfc -keystore "$store" -storepass "$STORE_PASS" -alias client -file "$WORK/$name.leaf.pem"
  if ! diff -q <(sed -n '1,/-----END CERTIFICATE-----/p' "$OUT/$name.chain.pem") "$WORK/$name.leaf.pem" >/dev/null; then
    echo "make-keystores: $file: keytool -list -rfc and -exportcert disagree on the leaf" >&2
    exit 1
  fi
  kt -importkeystore -noprompt -srckeystore "$store" -srcstorepass "$STORE_PASS" "${keypass[@]/#-keypass/-srckeypass}" \
    -srcalias client -destkeystore "$WORK/$name.export.p12" -deststoretype PKCS12 \
    -deststorepass "$CA_PASS" -destalias client
  openssl pkcs12 -in "$WORK/$name.export.p12" -passin "pass:$CA_PASS" -nocerts -nodes 2>/dev/null |
    openssl pkey -out "$OUT/$name.key.pem"
}

# make_truststore FILE STORETYPE [-J-D... properties]: the two roots as trusted entries.
make_truststore() {
  local file=$1 type=$2
  shift 2
  local props=("$@") store="$OUT/$file" name=$file
  kt "${props[@]}" -importcert -noprompt -keystore "$store" -storetype "$type" -storepass "$TRUST_PASS" \
    -alias caroot -file "$WORK/root.pem"
  kt "${props[@]}" -importcert -noprompt -keystore "$store" -storepass "$TRUST_PASS" \
    -alias otherroot -file "$WORK/other-root.pem"
  kt -list -rfc -keystore "$store" -storepass "$TRUST_PASS"
  pem_blocks >"$OUT/$name.certs.pem"
}

RSA="-keyalg RSA -keysize 2048"
EC="-keyalg EC -groupname secp256r1"
LEGACY=-J-Dkeystore.pkcs12.legacy
P12=-J-Dkeystore.pkcs12

make_keystore rsa.jks JKS "$RSA"
make_keystore ec.jks JKS "$EC"
make_keystore rsa.jceks JCEKS "$RSA"
make_keystore ec.jceks JCEKS "$EC"
make_keystore rsa.p12 PKCS12 "$RSA"
make_keystore ec.p12 PKCS12 "$EC"
make_keystore ec384.p12 PKCS12 "-keyalg EC -groupname secp384r1"
make_keystore ed25519.p12 PKCS12 "-keyalg Ed25519"
make_keystore rsa-legacy.p12 PKCS12 "$RSA" "$LEGACY"
make_keystore ec-legacy.p12 PKCS12 "$EC" "$LEGACY"
make_keystore rsa-rc4-128.p12 PKCS12 "$RSA" "$P12.keyProtectionAlgorithm=PBEWithSHA1AndRC4_128" \
  "$P12.certProtectionAlgorithm=PBEWithSHA1AndRC2_128" "$P12.macAlgorithm=HmacPBESHA384"
make_keystore ec-rc4-40.p12 PKCS12 "$EC" "$P12.keyProtectionAlgorithm=PBEWithSHA1AndRC4_40" \
  "$P12.certProtectionAlgorithm=PBEWithSHA1AndDESede" "$P12.macAlgorithm=HmacPBESHA512"
make_keystore ec-aes128-nomac.p12 PKCS12 "$EC" "$P12.keyProtectionAlgorithm=PBEWithHmacSHA512AndAES_128" \
  "$P12.certProtectionAlgorithm=NONE" "$P12.macAlgorithm=NONE"
make_keystore rsa-aes128-sha1.p12 PKCS12 "$RSA" "$P12.keyProtectionAlgorithm=PBEWithHmacSHA1AndAES_128" \
  "$P12.certProtectionAlgorithm=PBEWithHmacSHA1AndAES_128" "$P12.macAlgorithm=HmacPBESHA1"
make_keystore ec-rc2-40.p12 PKCS12 "$EC" "$P12.keyProtectionAlgorithm=PBEWithSHA1AndRC2_40" \
  "$P12.certProtectionAlgorithm=PBEWithSHA1AndRC4_128" "$P12.macAlgorithm=HmacPBESHA224"
make_keystore ec-sha512-256.p12 PKCS12 "$EC" "$P12.keyProtectionAlgorithm=PBEWithHmacSHA224AndAES_256" \
  "$P12.certProtectionAlgorithm=PBEWithHmacSHA384AndAES_256" "$P12.macAlgorithm=HmacPBESHA512/256"
make_keystore ed448.p12 PKCS12 "-keyalg Ed448"
make_keystore ed25519.jks JKS "-keyalg Ed25519"
make_keystore dsa.jks JKS "-keyalg DSA -keysize 2048"
make_keystore rsassa-pss.p12 PKCS12 "-keyalg RSASSA-PSS -keysize 2048"

make_truststore truststore.jks JKS
make_truststore truststore.jceks JCEKS
make_truststore truststore.p12 PKCS12
make_truststore truststore-legacy.p12 PKCS12 "$LEGACY"
# No encryption and no MAC (what keytool writes for -J-Dkeystore.pkcs12.certProtectionAlgorithm=NONE):
# Java and Kafka read it without a password.
make_truststore truststore-plain.p12 PKCS12 "$P12.certProtectionAlgorithm=NONE" "$P12.macAlgorithm=NONE"

# Two key entries: a Kafka client's PEM keys hold one key, so TigerStream must refuse this.
kt -genkeypair -keystore "$OUT/two-keys.p12" -storepass "$STORE_PASS" -alias first $RSA \
  -dname "CN=tigerstream-first" -validity "$VALIDITY"
kt -genkeypair -keystore "$OUT/two-keys.p12" -storepass "$STORE_PASS" -alias second $EC \
  -dname "CN=tigerstream-second" -validity "$VALIDITY"

# Stores with no entry at all: a key pair made, then deleted.
for empty in empty.jks:JKS empty.p12:PKCS12; do
  kt -genkeypair -keystore "$OUT/${empty%:*}" -storetype "${empty#*:}" -storepass "$STORE_PASS" \
    -alias gone $RSA -dname "CN=tigerstream-gone" -validity "$VALIDITY"
  kt -delete -keystore "$OUT/${empty%:*}" -storepass "$STORE_PASS" -alias gone
done

# Record how each store was made, in words a reviewer can check against keytool -list -v.
# field NAME: the distinct values of openssl's "NAME: value" lines on stdin, joined by "; ".
field() { sed -n "s/^$1: //p" | sort -u | paste -sd ';' - | sed 's/;/; /g'; }
describe() {
  local file=$1
  local pass=$STORE_PASS
  case "$file" in truststore*) pass=$TRUST_PASS ;; esac
  local type
  type=$(keytool -list -keystore "$OUT/$file" -storepass "$pass" 2>/dev/null | sed -n 's/^Keystore type: //p')
  local mac='' key='' certs=''
  if [ "$type" = PKCS12 ]; then
    local info
    info=$(openssl pkcs12 -info -legacy -noout -in "$OUT/$file" -passin "pass:$pass" 2>&1 |
      sed 's/, Iteration [0-9]*//')
    mac=$(field 'MAC' <<<"$info")
    key=$(field 'Shrouded Keybag' <<<"$info")
    certs=$(field 'PKCS7 Encrypted data' <<<"$info")
    : "${mac:=none}" "${key:=none}" "${certs:=none}"
  else
    mac=n/a key=n/a certs=n/a
  fi
  echo "| \`$file\` | $type | $mac | $key | $certs |"
}

{
  cat <<'EOF'
# Key and trust stores made by keytool

Generated by `bash scripts/make-keystores.sh` (do not edit by hand; run it again to renew every
key and certificate). The tests in `test/unit/config/keystore.test.ts` convert each store with
`storeToPem` and compare the result with what keytool itself exported, so they need neither
keytool nor openssl.

- `<store>.chain.pem` (e.g. `rsa.jks.chain.pem`): `keytool -list -rfc -alias client`, the key
  entry's chain, leaf first (leaf, TigerStream Test Intermediate CA, TigerStream Test Root CA).
- `<store>.key.pem`: the private key, copied by `keytool -importkeystore` into a PKCS12 that
  `openssl pkcs12 -nocerts -nodes | openssl pkey` writes as PKCS#8.
- `<store>.certs.pem`: `keytool -list -rfc` of a truststore (two roots, RSA and EC P-384).
  `truststore-plain.p12` has neither encryption nor MAC, so it opens with no password.
- Passwords: store `store-pass-1`; key `key-pass-2` (JKS and JCEKS; PKCS12 has one password);
  truststores `trust-pass-3`. Each store also has the root as a trusted entry `caroot`.
- `two-keys.p12`: two key entries, which a Kafka client's PEM keys cannot hold (refused).
- `empty.jks`, `empty.p12`: no entry at all (a key pair made, then deleted; refused).

Made with:

```
EOF
  keytool -J-version 2>&1
  echo "openssl: $(openssl version)"
  cat <<'EOF'
```

PKCS12 algorithms as `openssl pkcs12 -info` names them (JKS and JCEKS protect keys with Sun's
own algorithms and check the store with a SHA-1 digest):

| Store | Type | PKCS12 MAC | PKCS12 key encryption | PKCS12 certificate encryption |
| ----- | ---- | ---------- | --------------------- | ----------------------------- |
EOF
  for f in "$OUT"/*.jks "$OUT"/*.jceks "$OUT"/*.p12; do describe "$(basename "$f")"; done
} >"$OUT/README.md"
echo "make-keystores: wrote $(find "$OUT" -type f | wc -l) files to $OUT"
