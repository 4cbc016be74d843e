source "$(dirname "$0")/lib.sh"
cd $W
L=$(layer a)
for v in 2 3; do
  port=57${v}1; bin=R$v; name=min$v
  echo "################ registry ${v} ($(${!bin} --version)) minimal config, port $port"
  minimal $name $port
  start $name ${!bin} OTEL_TRACES_EXPORTER=none
  grep -o 'msg="listening on[^"]*"' $W/$name.log
  run $CRANE append --insecure -f $L -t 127.0.0.1:$port/demo:v1
  D=$($CRANE digest --insecure 127.0.0.1:$port/demo:v1)
  run $CRANE manifest --insecure 127.0.0.1:$port/demo:v1
  echo "--- GET by tag without Accept"
  run curl -s -D - -o $W/get-noaccept-$v.json http://127.0.0.1:$port/v2/demo/manifests/v1
  run head -c 400 $W/get-noaccept-$v.json; echo
  run sha256sum $W/get-noaccept-$v.json
  echo "--- DELETE by digest (deletes off by default in the binary)"
  run curl -s -w '\nHTTP %{http_code}\n' -X DELETE http://127.0.0.1:$port/v2/demo/manifests/$D
  stop $name
done
