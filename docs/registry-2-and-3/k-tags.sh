source "$(dirname "$0")/lib.sh"
cd $W
L=$(layer k1 4096)
for v in 2 3; do
  bin=R$v; p=586$v
  echo "################ registry $v: tags list paging, five tags"
  minimal tags$v $p
  start tags$v ${!bin} OTEL_TRACES_EXPORTER=none
  $CRANE append --insecure -f $L -t 127.0.0.1:$p/demo:t1 >/dev/null 2>&1
  for t in t2 t3 t4 t5; do $CRANE tag --insecure 127.0.0.1:$p/demo:t1 $t >/dev/null 2>&1; done
  run curl -s -D - "http://127.0.0.1:$p/v2/demo/tags/list?n=2"
  run curl -s "http://127.0.0.1:$p/v2/demo/tags/list?n=2&last=t2"
  stop tags$v
done
