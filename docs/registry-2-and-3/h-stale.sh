source "$(dirname "$0")/lib.sh"
cd $W
L=$(layer h1 65536)
for v in 2 3; do
  bin=R$v; p=582$v; name=stale$v
  echo "################ registry $v: GC while it runs (blobdescriptor: inmemory), then the same image pushed again"
  rm -rf $W/$name-data
  printf 'version: 0.1\nlog:\n  level: info\nstorage:\n  delete:\n    enabled: true\n  cache:\n    blobdescriptor: inmemory\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: 127.0.0.1:%s\n' $W/$name-data $p > $W/$name.yml
  start $name ${!bin} OTEL_TRACES_EXPORTER=none
  $CRANE append --insecure -f $L -t 127.0.0.1:$p/app:1 >/dev/null 2>&1
  LAYER=$($CRANE manifest --insecure 127.0.0.1:$p/app:1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["layers"][0]["digest"])')
  D=$($CRANE digest --insecure 127.0.0.1:$p/app:1)
  curl -s -o /dev/null -X DELETE http://127.0.0.1:$p/v2/app/manifests/$D
  env OTEL_TRACES_EXPORTER=none ${!bin} garbage-collect $W/$name.yml | grep "eligible for deletion$\|marked"
  run curl -s -o /dev/null -w 'HEAD the collected layer: HTTP %{http_code}\n' -I http://127.0.0.1:$p/v2/app/blobs/$LAYER
  run $CRANE append --insecure -f $L -t 127.0.0.1:$p/app:1
  run curl -s -o /dev/null -w 'GET the layer after the push: HTTP %{http_code}\n' http://127.0.0.1:$p/v2/app/blobs/$LAYER
  echo "layer's data file on disk: $(ls $W/$name-data/docker/registry/v2/blobs/sha256/${LAYER:7:2}/${LAYER:7}/data 2>&1 | tail -1)"
  stop $name
done
