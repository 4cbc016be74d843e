source "$(dirname "$0")/lib.sh"
cd $W
L=$(layer d1 4194304)
echo "################ upstream: registry 2.8 on 127.0.0.1:5740 with library/demo:latest (one 4 MiB layer)"
minimal up 5740
start up $R2
$CRANE append --insecure -f $L -t 127.0.0.1:5740/library/demo:latest 2>&1 | tail -1
LAYER=$($CRANE manifest --insecure 127.0.0.1:5740/library/demo:latest | python3 -c 'import json,sys; print(json.load(sys.stdin)["layers"][0]["digest"])')
CONFIG=$($CRANE manifest --insecure 127.0.0.1:5740/library/demo:latest | python3 -c 'import json,sys; print(json.load(sys.stdin)["config"]["digest"])')
echo "layer $LAYER config $CONFIG"
for v in 2 3; do
  port=574$v; bin=R$v; name=proxy$v
  minimal $name $port 'proxy:' '  remoteurl: http://127.0.0.1:5740'
  start $name ${!bin} OTEL_TRACES_EXPORTER=none
  echo "################ proxy: registry $v on 127.0.0.1:$port (proxy.remoteurl http://127.0.0.1:5740)"
  grep -o 'msg="[^"]*"' $W/$name.log | grep -iv "redis\|purge\|secret\|formatter"
  mark=$(wc -l < $W/up.log)
  run $CRANE pull --insecure 127.0.0.1:$port/library/demo:latest $W/pulled-$v.tar
  sleep 2
  echo "--- upstream's log, requests from the proxy (access log lines):"
  tail -n +$((mark+1)) $W/up.log | grep -E '"(GET|HEAD) /v2/' | sed -E 's/^([^ ]+) - - \[[^]]*\] /\1 /'
  echo "--- counts: layer GETs=$(tail -n +$((mark+1)) $W/up.log | grep -c "\"GET /v2/library/demo/blobs/$LAYER") layer HEADs=$(tail -n +$((mark+1)) $W/up.log | grep -c "\"HEAD /v2/library/demo/blobs/$LAYER") config GETs=$(tail -n +$((mark+1)) $W/up.log | grep -c "\"GET /v2/library/demo/blobs/$CONFIG")"
  echo "--- proxy's own log lines about the scheduler / proxying:"
  grep -o 'msg="[^"]*"' $W/$name.log | grep -i "schedul\|ttl\|proxy\|expir" | sort | uniq -c
  mark=$(wc -l < $W/up.log)
  echo "--- second pull through the proxy (cached):"
  $CRANE pull --insecure 127.0.0.1:$port/library/demo:latest $W/pulled-$v-2.tar >/dev/null 2>&1
  sleep 1
  tail -n +$((mark+1)) $W/up.log | grep -E '"(GET|HEAD) /v2/' | sed -E 's/^([^ ]+) - - \[[^]]*\] /\1 /'
  echo "--- a push to the proxy"
  run $CRANE append --insecure -f $L -t 127.0.0.1:$port/library/mine:1
  stop $name
done
