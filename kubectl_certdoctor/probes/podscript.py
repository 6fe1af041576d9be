"""Portable shell scripts that run inside the debug pod.

Every input arrives as an environment variable (never interpolated into the
script), every string output goes through ``js`` (JSON string escaping), and
the one JSON object is written to ``$CERTDOCTOR_RESULT`` (the termination
message, capped at 4096 bytes by the kubelet, so outputs stay small). Only
POSIX sh, curl, dig, sed, tr, awk, head, grep, cmp and mktemp are used (all in
nicolaka/netshoot and in the tests' probe image, hack/node/images.py).
"""

from __future__ import annotations

import json
from typing import Any

PRELUDE = r"""
set -u
T=${TIMEOUT:-5}
OUT=${CERTDOCTOR_RESULT:-/dev/termination-log}
js() { printf '%s' "$1" | head -c "${2:-200}" | tr -d '\000-\010\013\014\016-\037' \
  | tr '\n\r\t' '   ' | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g'; }
finish() { printf '%s' "$1" > "$OUT"; printf '%s\n' "$1"; }
W1='%{http_code} %{remote_ip} %{time_connect} %{time_appconnect} %{time_total}'
W1="$W1 %{num_redirects}"
# fetch URL [curl args...] -> one JSON object (status, address, timings, server, body,
# exact: the raw body byte-for-byte equal to $KEY, null without a KEY). Like
# cert-manager's self-check: redirects followed, TLS not verified (-k).
# The proxy is decided by the tool with Go's rules (noproxy.py), never by curl's own:
# PROXY_VAR names the pod's variable holding the proxy URL (its real value, references
# resolved by the kubelet), or is empty for a direct connection.
fetch() {
  _u=$1; shift
  if [ -n "${PROXY_VAR-}" ]; then
    # --noproxy '': curl would otherwise still apply the pod's NO_PROXY with its own rules
    eval "_px=\${$PROXY_VAR-}"; set -- --proxy "$_px" --noproxy '' "$@"
  else
    set -- --noproxy '*' "$@"
  fi
  _b=$(mktemp)
  _m=$(curl -sS -k -L --max-redirs 10 -m "$T" -o "$_b" -H 'User-Agent: kubectl-certdoctor' \
    -w "$W1"'\n%{url_effective}\n%header{server}\n%{errormsg}' \
    "$@" "$_u" 2>/dev/null)
  _rc=$?
  _x=null
  if [ -n "${KEY-}" ]; then
    _k=$(mktemp); printf '%s' "$KEY" > "$_k"
    if cmp -s "$_k" "$_b"; then _x=true; else _x=false; fi
    rm -f "$_k"
  fi
  _l1=$(printf '%s\n' "$_m" | sed -n 1p)
  printf '{"rc":%s,"w":"%s","url":"%s","server":"%s","err":"%s","exact":%s,"body":"%s"' \
    "$_rc" "$(js "$_l1")" "$(js "$(printf '%s\n' "$_m" | sed -n 2p)")" \
    "$(js "$(printf '%s\n' "$_m" | sed -n 3p)")" "$(js "$(printf '%s\n' "$_m" | sed -n 4p)")" \
    "$_x" "$(js "$(cat "$_b")" "${BODY_MAX:-160}")"
  if [ -n "${MATCH-}" ]; then  # one extended-regex match from the whole body
    printf ',"match":"%s"' "$(js "$(grep -oE "$MATCH" "$_b" | head -n1)" 400)"
  fi
  printf '}'
  rm -f "$_b"
}
"""

HTTP01 = PRELUDE + r"""
r=$(fetch "$URL")
finish "{\"fetch\":$r}"
"""

BACKENDS = PRELUDE + r"""
c=""
for a in ${CANDIDATES-}; do
  r=$(BODY_MAX=60 fetch "$URL" --connect-to "::$a")
  c="$c${c:+,}{\"addr\":\"$(js "$a")\",\"r\":$r}"
done
codes=""
i=0
while [ "$i" -lt "${SAMPLES:-20}" ]; do
  k=$(curl -s --noproxy '*' -o /dev/null -m "$T" -w '%{http_code}' "$URL" 2>/dev/null)
  codes="$codes${codes:+ }${k:-000}"
  i=$((i+1))
done
finish "{\"candidates\":[$c],\"samples\":\"$(js "$codes" 400)\"}"
"""

# The resolver search order of glibc/musl/Go: names with >= ndots dots (or a
# trailing dot) are tried as-is first; otherwise every search domain first.
DNS = PRELUDE + r"""
RC=${RESOLV_CONF:-/etc/resolv.conf}
S=${SEARCH-}
if [ -z "$S" ] && [ -r "$RC" ]; then
  S=$(awk '$1=="search"||$1=="domain"{s=""; for(i=2;i<=NF;i++) s=s" "$i} END{print s}' "$RC")
fi
ND=${NDOTS-}
if [ -z "$ND" ] && [ -r "$RC" ]; then
  ND=$(sed -n 's/.*ndots:\([0-9]*\).*/\1/p' "$RC" | tail -n1)
fi
ND=${ND:-1}
NSV=$( [ -r "$RC" ] && awk '$1=="nameserver"{print $2}' "$RC" | tr '\n' ' ')
q() {  # q NAME TYPE -> "STATUS|answer;answer"
  _o=$(dig +time=2 +tries=1 +noall +comments +answer ${NS:+@$NS} \
    ${DNS_PORT:+-p $DNS_PORT} "$1" "$2" 2>&1)
  _s=$(printf '%s\n' "$_o" | sed -n 's/.*status: \([A-Z]*\).*/\1/p' | head -n1)
  [ -n "$_s" ] || _s=ERROR
  _a=$(printf '%s\n' "$_o" \
    | awk '!/^;/ && NF>=5 {v=$5; for(i=6;i<=NF;i++) v=v" "$i; print $4" "v}' | tr '\n' ';')
  printf '%s|%s' "$_s" "$_a"
}
dots=$(printf '%s' "$NAME" | tr -cd . | wc -c | tr -d ' ')
case "$NAME" in
  *.) cands="$NAME" ;;
  *) if [ "$dots" -ge "$ND" ]; then
       cands="$NAME."; for s in $S; do cands="$cands $NAME.$s."; done
     else
       cands=""; for s in $S; do cands="$cands $NAME.$s."; done; cands="$cands $NAME."
     fi ;;
esac
tries=""
answered=""
for c in $cands; do
  for t in A AAAA; do
    r=$(q "$c" "$t")
    tries="$tries${tries:+,}{\"q\":\"$(js "$c")\",\"type\":\"$t\",\"r\":\"$(js "$r" 300)\"}"
    case "$r" in NOERROR\|?*) answered=${answered:-$c} ;; esac
  done
  [ -n "$answered" ] && break
done
recs=""
FQ="${NAME%.}."
for t in A AAAA CNAME CAA; do
  r=$(q "$FQ" "$t")
  recs="$recs${recs:+,}\"$t\":\"$(js "$r" 240)\""
done
r=$(q "_acme-challenge.$FQ" TXT)
recs="$recs,\"TXT\":\"$(js "$r" 240)\""
h="\"search\":\"$(js "$S")\",\"ndots\":\"$ND\",\"nameservers\":\"$(js "$NSV")\""
finish "{$h,\"tries\":[$tries],\"answered\":\"$(js "$answered")\",\"records\":{$recs}}"
"""

EGRESS = PRELUDE + r"""
CA=""
if [ -n "${CA_PEM-}" ]; then CA=$(mktemp); printf '%s\n' "$CA_PEM" > "$CA"; fi
one() {  # one URL MODE -> JSON
  _m=$(curl -sS -o /dev/null -m "$T" ${CA:+--cacert "$CA"} "$@" \
    -w '%{http_code} %{remote_ip} %{time_namelookup} %{time_connect} %{time_appconnect}'\
' %{time_total}\n%{errormsg}' 2>/dev/null)
  _rc=$?
  printf '{"rc":%s,"w":"%s","err":"%s"}' "$_rc" "$(js "$(printf '%s\n' "$_m" | sed -n 1p)")" \
    "$(js "$(printf '%s\n' "$_m" | sed -n 2p)")"
}
res=""
for u in $TARGETS; do
  d=$(one "$u" --noproxy '*')
  p='null'
  case "$u" in https:*) px=${PROBE_HTTPS_PROXY-} ;; *) px=${PROBE_HTTP_PROXY-} ;; esac
  # --noproxy '': the pod's own NO_PROXY must not turn "through the proxy" into direct
  if [ -n "$px" ]; then p=$(one "$u" -x "$px" --noproxy ''); fi
  e=$(one "$u")
  res="$res${res:+,}{\"url\":\"$(js "$u")\",\"direct\":$d,\"proxy\":$p,\"env\":$e}"
done
[ -n "$CA" ] && rm -f "$CA"
finish "{\"targets\":[$res]}"
"""

# The ACME directory as the controller's client fetches it (the proxy decided by the tool).
ACCOUNT = PRELUDE + r"""
r=$(BODY_MAX=0 MATCH='"newAccount"[[:space:]]*:[[:space:]]*"[^"]*"' fetch "$URL")
finish "{\"fetch\":$r}"
"""

# The pod's proxy variables as its process sees them (references resolved by the kubelet);
# credentials are masked here, in the pod: the termination message is readable by anyone
# who may read pods.
NOPROXY = PRELUDE + r"""
v() {
  eval "_v=\${$1-}"
  printf '"%s":"%s"' "$1" "$(js "$(printf '%s' "$_v" | sed 's#//[^@/]*@#//<redacted>@#')" 1000)"
}
finish "{\"env\":{$(v HTTP_PROXY),$(v http_proxy),$(v HTTPS_PROXY),$(v https_proxy),\
$(v NO_PROXY),$(v no_proxy)}}"
"""

SCRIPTS: dict[str, str] = {
    "http01": HTTP01,
    "hairpin": HTTP01,
    "http01-backends": BACKENDS,
    "dns": DNS,
    "egress": EGRESS,
    "account": ACCOUNT,
    "no-proxy": NOPROXY,
}


def parse_message(message: str) -> dict[str, Any]:
    """The pod's JSON result; a clear error dict when it is missing or cut off."""
    if not message.strip():
        return {"error": "the pod wrote no result to its termination message"}
    try:
        data = json.loads(message)
    except ValueError as e:
        return {"error": f"unreadable result ({e}); raw: {message[:200]}"}
    return data if isinstance(data, dict) else {"error": "result is not a JSON object"}


def curl_fields(w: str) -> dict[str, str]:
    """Split the first write-out line of ``fetch``/``one`` into named fields."""
    names = ("code", "ip", "t_connect", "t_tls", "t_total", "redirects")
    parts = w.split()
    return dict(zip(names, parts, strict=False))
