source "$(dirname "$0")/lib.sh"
cd $W
L=$(layer i1 1048576)
minimal up 5830
start up $R2
$CRANE append --insecure -f $L -t 127.0.0.1:5830/library/demo:latest >/dev/null 2>&1
for v in 2 3; do
  bin=R$v; p=583$((v+1)); d=584$v
  minimal pm$v $p 'proxy:' '  remoteurl: http://127.0.0.1:5830'
  python3 - $W/pm$v.yml $d <<'PY'
import sys; p=sys.argv[1]; t=open(p).read().replace("http:\n", "http:\n  debug:\n    addr: 127.0.0.1:%s\n    prometheus:\n      enabled: true\n      path: /metrics\n" % sys.argv[2]); open(p,'w').write(t)
PY
  start pm$v ${!bin} OTEL_TRACES_EXPORTER=none
  $CRANE pull --insecure 127.0.0.1:$p/library/demo:latest /dev/null >/dev/null 2>&1
  $CRANE pull --insecure 127.0.0.1:$p/library/demo:latest /dev/null >/dev/null 2>&1
  echo "################ registry $v proxy, two pulls: its counters"
  echo "\$ curl -s http://127.0.0.1:$d/debug/vars | python3 -c '...[\"registry\"][\"proxy\"]'"
  curl -s http://127.0.0.1:$d/debug/vars | python3 -c 'import json,sys; d=json.load(sys.stdin); print(json.dumps(d.get("registry",{}).get("proxy"), sort_keys=True))'
  echo "\$ curl -s http://127.0.0.1:$d/metrics | grep '^registry_proxy_'"
  curl -s http://127.0.0.1:$d/metrics | grep '^registry_proxy_' || echo "(none)"
  stop pm$v
done
