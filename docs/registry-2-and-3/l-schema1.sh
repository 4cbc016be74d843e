source "$(dirname "$0")/lib.sh"
cd $W
L=$(layer l1 4096)
minimal s1src 5870; start s1src $R2
$CRANE append --insecure -f $L -t 127.0.0.1:5870/demo:v1 >/dev/null 2>&1
curl -s -o $W/schema1.json http://127.0.0.1:5870/v2/demo/manifests/v1
for v in 2 3; do
  bin=R$v; p=587$v
  minimal s1$v $((p+5)); start s1$v ${!bin} OTEL_TRACES_EXPORTER=none
  $CRANE append --insecure -f $L -t 127.0.0.1:$((p+5))/demo:v1 >/dev/null 2>&1
  echo "################ registry $v: PUT the signed schema 1 manifest 2.8 served (its blobs are there)"
  run curl -s -w '\nHTTP %{http_code}\n' -X PUT -H 'Content-Type: application/vnd.docker.distribution.manifest.v1+prettyjws' --data-binary @$W/schema1.json http://127.0.0.1:$((p+5))/v2/demo/manifests/s1
  stop s1$v
done
