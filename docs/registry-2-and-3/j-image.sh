# Run on a Docker daemon of your own, from the repository root:
#   .venv/bin/python tests/second_dockerd.py --pool 10.221.0.0/16 /tmp/dockerd -- bash docs/registry-2-and-3/j-image.sh
run() { echo "\$ $*"; "$@" 2>&1; echo "[exit $?]"; }
export REGLAB_REGISTRY_IMAGE=registry:3 REGLAB_OFFLINE=1
.venv/bin/python -m reglab images >/dev/null
mkdir -p /tmp/gt-research/j && printf 'version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: /var/lib/registry\nhttp:\n  addr: :5000\n  headers:\n    X-Registry-Lab: [old-path]\n' > /tmp/gt-research/j/config.yml
echo "################ registry:3 with a config mounted at registry:2's path"
run docker run -d --name gt-old -p 127.0.0.1:5095:5000 -v /tmp/gt-research/j/config.yml:/etc/docker/registry/config.yml:ro registry:3
sleep 2
run curl -s -D - -o /dev/null http://127.0.0.1:5095/v2/
run docker exec gt-old registry garbage-collect /etc/docker/registry/config.yml
echo "--- the same file at /etc/distribution/config.yml"
run docker run -d --name gt-new -p 127.0.0.1:5096:5000 -v /tmp/gt-research/j/config.yml:/etc/distribution/config.yml:ro registry:3
sleep 2
run curl -s -D - -o /dev/null http://127.0.0.1:5096/v2/
echo "################ registry:3 with REGISTRY_STORAGE_DELETE_ENABLED=false (a team's config turning deletes off)"
run docker run -d --name gt-nodel -p 127.0.0.1:5097:5000 -e REGISTRY_STORAGE_DELETE_ENABLED=false registry:3
sleep 2
docker tag hello-world 127.0.0.1:5097/hello-world >/dev/null; docker push -q 127.0.0.1:5097/hello-world >/dev/null 2>&1
D=$(curl -sI -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' http://127.0.0.1:5097/v2/hello-world/manifests/latest | tr -d '\r' | awk -F': ' 'tolower($1)=="docker-content-digest"{print $2}')
run curl -s -w '\nHTTP %{http_code}\n' -X DELETE http://127.0.0.1:5097/v2/hello-world/manifests/$D
echo "--- GET by tag without Accept (docker push wrote schema 2)"
run curl -s -D - -o /dev/null http://127.0.0.1:5097/v2/hello-world/manifests/latest
echo "################ the debug port: EXPOSE 5000 only; /metrics when 5001 is published"
run docker image inspect registry:3 --format '{{json .Config.ExposedPorts}}'
run docker run -d --name gt-dbg -p 127.0.0.1:5098:5000 -p 127.0.0.1:5099:5001 registry:3
sleep 2
run curl -s -o /dev/null -w '/metrics on the published 5001: HTTP %{http_code}\n' http://127.0.0.1:5099/metrics
docker rm -f gt-old gt-new gt-nodel gt-dbg >/dev/null
