"""The stand-ins for chrislusf/seaweedfs, nginx and redis (reglab.service_images), read back from
their docker-save archives: the program at the real image's path is this machine's program, byte for
byte; its libraries are there; entrypoint, command, ports, volume and label are the real image's."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import tarfile
from pathlib import Path

import pytest

from reglab import service_images
from reglab.naming import STANDIN_LABEL

pytestmark = pytest.mark.daemonless  # (make test runs it beside the Docker tests)


def read_archive(data: bytes) -> tuple[dict, dict, dict[str, tarfile.TarInfo], tarfile.TarFile]:
    with tarfile.open(fileobj=io.BytesIO(data)) as outer:
        manifest = json.load(outer.extractfile("manifest.json"))[0]
        config = json.load(outer.extractfile(manifest["Config"]))
        layer_bytes = outer.extractfile(manifest["Layers"][0]).read()
    layer = tarfile.open(fileobj=io.BytesIO(layer_bytes))  # noqa: SIM115 (read after return)
    return manifest, config, {m.name: m for m in layer.getmembers()}, layer


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def needs(program: str | None) -> Path:
    if not program or not Path(program).exists():
        pytest.skip(f"{program or 'the program'} is not on this machine")
    return Path(program).resolve()


def test_seaweedfs_standin_is_weed_behind_the_image_entrypoint():
    weed = needs(str(service_images.weed_binary() or ""))
    manifest, config, members, layer = read_archive(service_images.seaweedfs_standin_archive())
    assert manifest["RepoTags"] == ["chrislusf/seaweedfs:latest"]
    c = config["config"]
    assert c["Entrypoint"] == ["/entrypoint.sh"] and "Cmd" not in c
    assert c["WorkingDir"] == "/data" and c["Volumes"] == {"/data": {}}
    assert set(c["ExposedPorts"]) == {f"{p}/tcp" for p in (7333, 8080, 8333, 8888, 9333, 18080, 18888, 19333)}
    assert c["Labels"][STANDIN_LABEL] == "true"
    assert sha(layer.extractfile("usr/bin/weed").read()) == sha(weed.read_bytes())
    script = layer.extractfile("entrypoint.sh").read().decode()
    assert "-dir=/data" in script and "exec /usr/bin/weed" in script
    assert members["entrypoint.sh"].mode & 0o111 and members["bin/sh"].issym()


def test_nginx_standin_reads_nginx_conf_and_conf_d():
    nginx = needs(shutil.which("nginx"))
    _, config, members, layer = read_archive(service_images.nginx_standin_archive())
    c = config["config"]
    assert c["Entrypoint"] == ["/docker-entrypoint.sh"] and c["Cmd"] == ["nginx", "-g", "daemon off;"]
    assert c["ExposedPorts"] == {"80/tcp": {}} and c["StopSignal"] == "SIGQUIT"
    assert sha(layer.extractfile("usr/sbin/nginx").read()) == sha(nginx.read_bytes())
    assert "include /etc/nginx/conf.d/*.conf;" in layer.extractfile("etc/nginx/nginx.conf").read().decode()
    assert "listen       80;" in layer.extractfile("etc/nginx/conf.d/default.conf").read().decode()
    assert members["var/log/nginx/access.log"].linkname == "/dev/stdout"
    assert "lib/x86_64-linux-gnu/libpcre2-8.so.0" in members or any("libpcre2-8" in m for m in members)


def test_redis_standin_runs_redis_server_with_redis_cli_beside_it():
    server = needs(shutil.which("redis-server"))
    needs(shutil.which("redis-cli"))
    _, config, members, layer = read_archive(service_images.redis_standin_archive())
    c = config["config"]
    assert c["Entrypoint"] == ["docker-entrypoint.sh"] and c["Cmd"] == ["redis-server"]
    assert c["ExposedPorts"] == {"6379/tcp": {}} and c["WorkingDir"] == "/data"
    assert sha(layer.extractfile("usr/local/bin/redis-server").read()) == sha(server.read_bytes())
    assert "usr/local/bin/redis-cli" in members
    assert "--protected-mode no" in layer.extractfile("usr/local/bin/docker-entrypoint.sh").read().decode()
