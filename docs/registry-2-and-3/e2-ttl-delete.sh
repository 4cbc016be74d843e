source "$(dirname "$0")/lib.sh"
cd $W
L=$(layer e2)
minimal up 5750
start up $R2
$CRANE append --insecure -f $L -t 127.0.0.1:5750/library/demo:latest >/dev/null 2>&1
echo "################ registry 3, proxy.ttl: 15s and storage.delete.enabled: true"
rm -rf $W/ttl3d-data
printf 'version: 0.1\nlog:\n  level: info\nstorage:\n  delete:\n    enabled: true\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: 127.0.0.1:5755\nproxy:\n  remoteurl: http://127.0.0.1:5750\n  ttl: 15s\n' $W/ttl3d-data > $W/ttl3d.yml
run cat $W/ttl3d.yml
start ttl3d $R3 OTEL_TRACES_EXPORTER=none
$CRANE pull --insecure 127.0.0.1:5755/library/demo:latest /dev/null >/dev/null 2>&1
echo "blobs in the proxy's storage: $(find $W/ttl3d-data/docker/registry/v2/blobs -name data | wc -l)"
sleep 25
echo "--- after 25 s"
sed -e 's/^time="[^"]*" //' -e 's/ go.version=.*//' $W/ttl3d.log | grep -i "sched\|expir\|delet\|vacuum" | cut -c1-250
echo "blobs in the proxy's storage: $(find $W/ttl3d-data/docker/registry/v2/blobs -name data 2>/dev/null | wc -l)"
run cat $W/ttl3d-data/scheduler-state.json; echo
mark=$(wc -l < $W/up.log)
$CRANE pull --insecure 127.0.0.1:5755/library/demo:latest /dev/null >/dev/null 2>&1
echo "pulling again fetches from upstream: $(tail -n +$((mark+1)) $W/up.log | grep -c '"GET /v2/library/demo/blobs/') blob GETs"
