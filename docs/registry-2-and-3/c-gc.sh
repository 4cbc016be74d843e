source "$(dirname "$0")/lib.sh"
cd $W
L1=$(layer c1); L2=$(layer c2); L3=$(layer c3); L4=$(layer c4); LA=$(layer ca); LB=$(layer cb)
delconf() { rm -rf $W/$1-data; printf 'version: 0.1\nlog:\n  level: info\nstorage:\n  delete:\n    enabled: true\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: 127.0.0.1:%s\n' "$W/$1-data" "$2" > $W/$1.yml; }
layers() { find $W/$1-data/docker/registry/v2/repositories/$2/_layers -name link 2>/dev/null | awk -F/ '{print substr($(NF-1),1,12)}' | sort | tr '\n' ' '; echo; }
for v in 2 3; do
  port=57${v}3; bin=R$v; name=gc$v
  echo "################ registry ${v}: GC, _layers, --delete-untagged, port $port"
  delconf $name $port
  start $name ${!bin} OTEL_TRACES_EXPORTER=none
  $CRANE append --insecure -f $L1 -t 127.0.0.1:$port/app:v1 >/dev/null 2>&1
  $CRANE append --insecure -f $L2 -t 127.0.0.1:$port/app:v2 >/dev/null 2>&1
  echo "layers: c1=$(sha256sum < <(gzip -c -n $L1) | cut -c1-12)..."
  D1=$($CRANE digest --insecure 127.0.0.1:$port/app:v1)
  run curl -s -o /dev/null -w 'DELETE app@v1-digest: HTTP %{http_code}\n' -X DELETE http://127.0.0.1:$port/v2/app/manifests/$D1
  # an image re-pushed under the same tag leaves its old manifest untagged
  $CRANE append --insecure -f $L3 -t 127.0.0.1:$port/app:v3 >/dev/null 2>&1
  $CRANE append --insecure -f $L4 -t 127.0.0.1:$port/app:v3 >/dev/null 2>&1
  # a multi-platform image: two untagged per-platform manifests under a tagged index
  # (built in another repository, "scratch": in multi, the per-platform manifests are untagged)
  $CRANE append --insecure -f $LA -t 127.0.0.1:$port/scratch:a >/dev/null 2>&1; A=$($CRANE mutate --insecure --set-platform linux/amd64 127.0.0.1:$port/scratch:a 2>/dev/null)
  $CRANE append --insecure -f $LB -t 127.0.0.1:$port/scratch:b >/dev/null 2>&1; B=$($CRANE mutate --insecure --set-platform linux/arm64 127.0.0.1:$port/scratch:b 2>/dev/null)
  run $CRANE index append --insecure -m $A -m $B -t 127.0.0.1:$port/multi:latest
  run curl -s http://127.0.0.1:$port/v2/multi/tags/list
  stop $name
  echo "app _layers before GC: $(layers $name app)"
  echo "multi _layers before GC: $(layers $name multi)"
  run env OTEL_TRACES_EXPORTER=none ${!bin} garbage-collect $W/$name.yml
  echo "app _layers after GC: $(layers $name app)"
  echo "--- now --delete-untagged"
  run env OTEL_TRACES_EXPORTER=none ${!bin} garbage-collect --delete-untagged $W/$name.yml
  echo "app _layers after GC -m: $(layers $name app)"
  echo "multi _layers after GC -m: $(layers $name multi)"
  start $name ${!bin} OTEL_TRACES_EXPORTER=none
  run $CRANE manifest --insecure 127.0.0.1:$port/multi:latest
  for p in linux/amd64 linux/arm64; do run $CRANE digest --insecure --platform $p 127.0.0.1:$port/multi:latest; run $CRANE config --insecure --platform $p 127.0.0.1:$port/multi:latest; done
  stop $name
done
