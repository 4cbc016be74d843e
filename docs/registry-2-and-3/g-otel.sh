source "$(dirname "$0")/lib.sh"
cd $W
echo "################ registry 3 without OTEL_TRACES_EXPORTER, nothing on 127.0.0.1:4318"
minimal otel 5810
start otel $R3
run curl -s -o /dev/null -w 'GET /v2/: HTTP %{http_code}\n' http://127.0.0.1:5810/v2/
sleep 12
sed -e 's/^time="[^"]*" //' $W/otel.log | grep -iv "response completed\|^127.0.0.1 \|redis not\|purge\|No HTTP secret\|formatter\|blob descriptor" | cut -c1-400
stop otel
echo "################ the same with a listener on 127.0.0.1:4318 (records what arrives)"
python3 - <<'PY' > $W/otel-listener.log 2>&1 &
import http.server
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        print("POST", self.path, self.headers.get("Content-Type"), len(body), "bytes", flush=True)
        self.send_response(200); self.send_header("Content-Length", "0"); self.end_headers()
    def log_message(self, *a): pass
s = http.server.HTTPServer(("127.0.0.1", 4318), H)
s.timeout = 1
import time; end = time.time() + 25
while time.time() < end: s.handle_request()
PY
LP=$!
sleep 1
minimal otel2 5811
start otel2 $R3
curl -s -o /dev/null http://127.0.0.1:5811/v2/
sleep 12
run cat $W/otel-listener.log
sed -e 's/^time="[^"]*" //' $W/otel2.log | grep -i "trace\|otel\|export\|span" | cut -c1-300 | head -5
echo "(log lines mentioning traces/spans: $(grep -ci 'trace\|span' $W/otel2.log))"
stop otel2
wait $LP
echo "################ with OTEL_TRACES_EXPORTER=none"
minimal otel3 5812
start otel3 $R3 OTEL_TRACES_EXPORTER=none
curl -s -o /dev/null http://127.0.0.1:5812/v2/
sleep 8
echo "(log lines mentioning traces/spans/4318: $(grep -ci 'trace\|span\|4318' $W/otel3.log))"
sed -e 's/^time="[^"]*" //' $W/otel3.log | grep -i "trace\|span\|4318" | cut -c1-300 | head -3
stop otel3
