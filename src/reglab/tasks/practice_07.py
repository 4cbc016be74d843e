"""Notebook 07's "Your turn": empty the shared cache after garbage collection; add a replica."""

from __future__ import annotations

from ..checks import balanced, cache_empty, missing
from ..exercises import Practice, task


class Practice07(Practice):
    id = "07"
    title = "When one registry is not enough"

    def setup(self) -> None:
        scope = self.lab.scope
        self.name("cache", scope.object_name("redis"), "the cache every replica shares")
        self.name("nginx", scope.object_name("nginx"), "the load balancer")
        self.new_container("third", "registry-3", "the replica you add (the notebook's clean-up removes it)")
        self.name("port", str(self.new_port()), "a port of 127.0.0.1 kept for your replica until the clean-up")
        self.name("conf", str(self.lab.workdir / "nginx" / "default.conf"),
                  "nginx's site file, mounted in its container")

    @task("Empty the cache the replicas share",
          hint="The cache is redis, in the container {cache}; redis-cli, in that container, talks to it. Which "
               "redis command empties the current database? (A restart of the replicas does not do it: Step 6.)",
          solution="docker container exec {cache} redis-cli FLUSHDB")
    def q1(self):
        return cache_empty(self.engine, self.cache)

    @task("A third replica behind the load balancer",
          hint="Copy the twin of reglab-07-registry-2 from the last run_replicas step: another --name and port, the "
               "same config file, the same REGISTRY_HTTP_SECRET (read from the same file), the same cache settings. "
               "nginx only sends requests to the servers its upstream block lists, and reads {conf} when it starts.",
          solution="docker container run -d -p 127.0.0.1:{port}:5000 --name {third} --network reglab-07-net "
                   "-v <the lab's folder>/registry/config-v3.yml:/etc/distribution/config.yml:ro "
                   "-e REGISTRY_HTTP_SECRET=\"$(cat <the lab's folder>/secrets/http-secret)\" "
                   "-e REGISTRY_STORAGE_CACHE_BLOBDESCRIPTOR=redis -e REGISTRY_REDIS_ADDRS=[{cache}:6379] registry:3\n"
                   "add `server {third}:5000;` to the upstream block of {conf}\n"
                   "docker container restart {nginx}")
    def q2(self):
        balancer = self.lab.scale.balancer
        if balancer is None:
            return missing("this notebook's load balancer is not running: run its steps first")
        replicas = [self.scope.object_name(f"registry-{i}") for i in (1, 2, 3)]
        return balanced(self.engine, balancer.address, replicas)
