source "$(dirname "$0")/lib.sh"
cd $W
L=$(layer f1 4096)
for v in 2 3; do
  bin=R$v; p=576$v; d=577$v
  echo "################ registry $v: debug server on 127.0.0.1:$d with prometheus"
  minimal dbg$v $p '  debug:' "    addr: 127.0.0.1:$d" '    prometheus:' '      enabled: true' '      path: /metrics'
  run cat $W/dbg$v.yml
  start dbg$v ${!bin} OTEL_TRACES_EXPORTER=none
  grep -o 'msg="[^"]*debug[^"]*"\|msg="[^"]*metrics[^"]*"' $W/dbg$v.log
  $CRANE append --insecure -f $L -t 127.0.0.1:$p/demo:1 >/dev/null 2>&1
  run curl -s -o /dev/null -w '/debug/vars: HTTP %{http_code}\n' http://127.0.0.1:$d/debug/vars
  run curl -s -o /dev/null -w '/debug/health: HTTP %{http_code}\n' http://127.0.0.1:$d/debug/health
  run curl -s -o /dev/null -w '/metrics: HTTP %{http_code}\n' http://127.0.0.1:$d/metrics
  echo "metric families: $(curl -s http://127.0.0.1:$d/metrics | grep '^# TYPE registry_' | awk '{print $3}' | tr '\n' ' ')"
  curl -s http://127.0.0.1:$d/metrics | grep -E '^registry_(http_requests_total|storage_action_seconds_count)' | head -4
  stop dbg$v
done
for v in 2 3; do
  bin=R$v; p=578$v
  echo "################ registry $v: storage.maintenance.readonly.enabled: true"
  minimal ro$v $p
  start ro$v ${!bin} OTEL_TRACES_EXPORTER=none; $CRANE append --insecure -f $L -t 127.0.0.1:$p/demo:1 >/dev/null 2>&1; stop ro$v
  python3 - $W/ro$v.yml <<'PY'
import sys; p=sys.argv[1]; t=open(p).read().replace("storage:\n", "storage:\n  maintenance:\n    readonly:\n      enabled: true\n"); open(p,'w').write(t)
PY
  start ro$v ${!bin} OTEL_TRACES_EXPORTER=none
  run curl -s -w '\nHTTP %{http_code}\n' -X POST http://127.0.0.1:$p/v2/demo/blobs/uploads/
  run curl -s -o /dev/null -w 'pull manifest: HTTP %{http_code}\n' -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' http://127.0.0.1:$p/v2/demo/manifests/1
  stop ro$v
done
for v in 2 3; do
  bin=R$v; p=579$v
  echo "################ registry $v: auth.htpasswd with a missing file"
  rm -f $W/htpasswd$v
  minimal auth$v $p 'auth:' '  htpasswd:' '    realm: lab-realm' "    path: $W/htpasswd$v"
  start auth$v ${!bin} OTEL_TRACES_EXPORTER=none
  grep -o 'msg="[^"]*htpasswd[^"]*"\|msg="[^"]*provision[^"]*"' $W/auth$v.log | sed 's/password": "[^"]*"/password": "<hidden>"/'
  run head -c 12 $W/htpasswd$v; echo
  run curl -s -D - http://127.0.0.1:$p/v2/
  run curl -s -D - -o - -u nobody:wrong http://127.0.0.1:$p/v2/demo/tags/list
  stop auth$v
done
for v in 2 3; do
  bin=R$v; p=580$v
  echo "################ registry $v: catalog paging, catalog.maxentries: 3, five repositories"
  minimal cat$v $p 'catalog:' '  maxentries: 3'
  start cat$v ${!bin} OTEL_TRACES_EXPORTER=none
  for r in a b c d e; do $CRANE append --insecure -f $L -t 127.0.0.1:$p/r$r:1 >/dev/null 2>&1; done
  run curl -s -D - http://127.0.0.1:$p/v2/_catalog
  run curl -s -w '\nHTTP %{http_code}\n' "http://127.0.0.1:$p/v2/_catalog?n=5"
  run curl -s -w '\nHTTP %{http_code}\n' "http://127.0.0.1:$p/v2/_catalog?n=2"
  run curl -s -w '\nHTTP %{http_code}\n' "http://127.0.0.1:$p/v2/_catalog?n=0"
  run curl -s -w '\nHTTP %{http_code}\n' "http://127.0.0.1:$p/v2/_catalog?n=-1"
  stop cat$v
  echo "--- registry $v without a catalog section: n=2000"
  minimal catd$v $p
  start catd$v ${!bin} OTEL_TRACES_EXPORTER=none
  $CRANE append --insecure -f $L -t 127.0.0.1:$p/ra:1 >/dev/null 2>&1
  run curl -s -w '\nHTTP %{http_code}\n' "http://127.0.0.1:$p/v2/_catalog?n=2000"
  run curl -s -w '\nHTTP %{http_code}\n' "http://127.0.0.1:$p/v2/_catalog?n=1000"
  stop catd$v
done
