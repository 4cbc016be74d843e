source "$(dirname "$0")/lib.sh"
cd $W
L1=$(layer b1); L2=$(layer b2)
for v in 2 3; do
  port=57${v}2; bin=R$v; name=del$v
  echo "################ registry ${v}: storage.delete.enabled=true, port $port"
  minimal $name $port 'storage:' >/dev/null
  # rewrite with delete on
  rm -rf $W/$name-data
  printf 'version: 0.1\nlog:\n  level: info\nstorage:\n  delete:\n    enabled: true\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: 127.0.0.1:%s\n' "$W/$name-data" "$port" > $W/$name.yml
  start $name ${!bin} OTEL_TRACES_EXPORTER=none
  $CRANE append --insecure --oci-empty-base -f $L1 -t 127.0.0.1:$port/demo:oci >/dev/null 2>&1
  echo "--- GET an OCI manifest by tag without Accept"
  run curl -s -o /dev/null -w 'HTTP %{http_code} %{content_type}\n' http://127.0.0.1:$port/v2/demo/manifests/oci
  $CRANE append --insecure -f $L1 -t 127.0.0.1:$port/demo:v1 >/dev/null 2>&1
  $CRANE append --insecure -f $L2 -t 127.0.0.1:$port/demo:v2 >/dev/null 2>&1
  $CRANE tag --insecure 127.0.0.1:$port/demo:v2 keep >/dev/null 2>&1
  echo "--- DELETE by tag"
  run curl -s -w '\nHTTP %{http_code}\n' -X DELETE http://127.0.0.1:$port/v2/demo/manifests/v2
  run curl -s http://127.0.0.1:$port/v2/demo/tags/list
  run curl -s -o /dev/null -w 'GET by digest of the deleted tag: HTTP %{http_code}\n' -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' http://127.0.0.1:$port/v2/demo/manifests/$($CRANE digest --insecure 127.0.0.1:$port/demo:keep)
  echo "--- DELETE v1 by digest, then garbage-collect (registry stopped)"
  D1=$($CRANE digest --insecure 127.0.0.1:$port/demo:v1)
  run curl -s -o /dev/null -w 'HTTP %{http_code}\n' -X DELETE http://127.0.0.1:$port/v2/demo/manifests/$D1
  stop $name
  echo "_layers before GC:"; ls $W/$name-data/docker/registry/v2/repositories/demo/_layers/sha256 | sort
  run env OTEL_TRACES_EXPORTER=none ${!bin} garbage-collect --dry-run $W/$name.yml
  run env OTEL_TRACES_EXPORTER=none ${!bin} garbage-collect $W/$name.yml
  echo "_layers after GC:"; ls $W/$name-data/docker/registry/v2/repositories/demo/_layers/sha256 | sort
  echo "blobs after GC:"; find $W/$name-data/docker/registry/v2/blobs -name data | wc -l
  echo "--- GC with a config that does not exist"
  run ${!bin} garbage-collect /nonexistent/config.yml
  echo "--- GC twice in a row (nothing left)"
  run env OTEL_TRACES_EXPORTER=none ${!bin} garbage-collect -q $W/$name.yml
done
