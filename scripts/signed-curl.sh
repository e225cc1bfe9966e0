#!/bin/sh
# Signs one ledger API request (docs/authentication.md) and sends it with curl. The answer's body goes
# to stdout, its HTTP status ("HTTP 201") to stderr; the exit status is 0 for a 2xx answer, else 1.
# Commands (POST, PUT) carry an Idempotency-Key: $LEDGER_IDEMPOTENCY_KEY, or a fresh one, printed on
# stderr: send the same request again with LEDGER_IDEMPOTENCY_KEY set to it to retry safely.
# Usage: signed-curl.sh METHOD PATH_WITH_QUERY [BODY]
set -eu
: "${LEDGER_URL:=http://127.0.0.1:3000}"
: "${LEDGER_KEY_ID:?set LEDGER_KEY_ID to <entityId>/<keyNo>}"
: "${LEDGER_KEY_FILE:?set LEDGER_KEY_FILE to the private key PEM}"
METHOD=$1
PATH_Q=$2
BODY=${3-}

TS=$(date -u +%Y-%m-%dT%H:%M:%SZ)
NONCE=$(openssl rand -base64 24 | tr '+/' '-_' | tr -d '=\n')
BODY_SHA=$(printf '%s' "$BODY" | openssl dgst -sha256 -r | cut -d' ' -f1)
TO_SIGN=$(mktemp)
ANSWER=$(mktemp)
trap 'rm -f "$TO_SIGN" "$ANSWER"' EXIT
printf '%s\n%s\n%s\n%s\n%s' "$METHOD" "$PATH_Q" "$TS" "$NONCE" "$BODY_SHA" > "$TO_SIGN"
SIG=$(openssl pkeyutl -sign -inkey "$LEDGER_KEY_FILE" -rawin -in "$TO_SIGN" \
  | openssl base64 -A | tr '+/' '-_' | tr -d '=')

# --globoff: the path is sent as signed; curl would otherwise expand [] and {} into several requests.
set -- -sS --globoff -o "$ANSWER" -w '%{http_code}' -X "$METHOD" \
  -H "X-Ledger-Key-Id: $LEDGER_KEY_ID" -H "X-Ledger-Timestamp: $TS" \
  -H "X-Ledger-Nonce: $NONCE" -H "X-Ledger-Signature: $SIG"
case $METHOD in
  POST | PUT)
    KEY=${LEDGER_IDEMPOTENCY_KEY:-$(openssl rand -hex 16)}
    echo "Idempotency-Key: $KEY" >&2
    set -- "$@" -H "Idempotency-Key: $KEY"
    ;;
esac
# The body goes from stdin, byte for byte: the signature covers exactly these bytes.
if [ -n "$BODY" ]; then set -- "$@" -H 'Content-Type: application/json' --data-binary @-; fi
STATUS=$(printf '%s' "$BODY" | curl "$@" "$LEDGER_URL$PATH_Q")
echo "HTTP $STATUS" >&2
cat "$ANSWER"
echo
case $STATUS in
  2??) exit 0 ;;
  *) exit 1 ;;
esac
