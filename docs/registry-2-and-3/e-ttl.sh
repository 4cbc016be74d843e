source "$(dirname "$0")/lib.sh"
cd $W
L=$(layer e1)
minimal up 5750
start up $R2
$CRANE append --insecure -f $L -t 127.0.0.1:5750/library/demo:latest >/dev/null 2>&1
echo "################ registry 2.8 with proxy.ttl: 20s"
minimal ttl2 5752 'proxy:' '  remoteurl: http://127.0.0.1:5750' '  ttl: 20s'
run cat $W/ttl2.yml
start ttl2 $R2 && { echo "started"; grep -o 'msg="[^"]*"' $W/ttl2.log | grep -i sched; $CRANE pull --insecure 127.0.0.1:5752/library/demo:latest /dev/null 2>&1; grep -o 'msg="Adding[^"]*"' $W/ttl2.log | head -1; stop ttl2; }
echo "################ registry 3 with proxy.ttl: 20s"
minimal ttl3 5753 'proxy:' '  remoteurl: http://127.0.0.1:5750' '  ttl: 20s'
start ttl3 $R3 OTEL_TRACES_EXPORTER=none
run $CRANE pull --insecure 127.0.0.1:5753/library/demo:latest $W/ttl3.tar
grep -o 'msg="Adding[^"]*"' $W/ttl3.log
echo "files in the proxy's storage before expiry: $(find $W/ttl3-data -type f | wc -l); blobs: $(find $W/ttl3-data/docker/registry/v2/blobs -name data | wc -l)"
run cat $W/ttl3-data/scheduler-state.json; echo
sleep 30
echo "--- after 30 s"
sed -e 's/^time="[^"]*" //' $W/ttl3.log | grep -iv "response completed\|^127.0.0.1\|redis\|purge\|secret\|formatter\|blob descriptor\|listening" | cut -c1-250
echo "files in the proxy's storage after expiry: $(find $W/ttl3-data -type f | wc -l); blobs: $(find $W/ttl3-data/docker/registry/v2/blobs -name data 2>/dev/null | wc -l)"
run cat $W/ttl3-data/scheduler-state.json; echo
stop ttl3
echo "################ registry 3 with proxy.ttl: 0 (never expire)"
minimal ttl0 5754 'proxy:' '  remoteurl: http://127.0.0.1:5750' '  ttl: 0s'
start ttl0 $R3 OTEL_TRACES_EXPORTER=none
$CRANE pull --insecure 127.0.0.1:5754/library/demo:latest /dev/null >/dev/null 2>&1
grep -o 'msg="[^"]*"' $W/ttl0.log | grep -i "sched\|ttl"; echo "(scheduler lines: $(grep -ci sched $W/ttl0.log))"; ls $W/ttl0-data
stop ttl0
