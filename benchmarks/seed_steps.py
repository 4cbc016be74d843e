"""The seed sequence done by reglab in-process vs. by the docker CLI in a shell script.

Both do the same steps against the same daemon and registry image: run a registry and wait
until /v2/ answers, tag, push, remove the tag, pull, kill and remove the registry, recreate
it on a volume (ready again), push, clean up. Rounds alternate which side goes first
(CLI then reglab, reglab then CLI, …) so neither always meets a warm or a cold daemon, and drift
hits both alike. The last line prints the median ratio; below 1.0 means reglab is faster than
the script.

What the ratio measures: the daemon's own work (starting containers, pushing, pulling) is the
same on both sides and is most of each ~1 s round; the difference is how each side drives it —
the script starts a docker CLI process per command (~15 ms each here, ``docker image inspect``,
median of 10: about 0.2 s per round for its ~12 commands) and polls readiness with curl, where
reglab keeps one SDK session in one process. A ratio near 1 says the course adds no cost over
typing the commands; it is not a measure of transfer speed.

    REGLAB_OFFLINE=1 python benchmarks/seed_steps.py [--rounds 7]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import time

from reglab import Lab, images, ports
from reglab.engines import get_engine

CLI_SCRIPT = r"""
set -eu
P=$1; NAME=reglab-bench-cli-registry; VOL=reglab-bench-cli-data; REF=127.0.0.1:$P/hello-world
ready() { until curl -sf "http://127.0.0.1:$P/v2/" >/dev/null; do sleep 0.01; done; }
docker container run -d -p 127.0.0.1:$P:5000 --name $NAME --label reglab.lab=bench-cli registry:2 >/dev/null
ready
docker image tag hello-world $REF
docker image push $REF >/dev/null
docker image rm $REF >/dev/null
docker image pull $REF >/dev/null
docker container kill $NAME >/dev/null
docker container rm -v $NAME >/dev/null
docker volume create --label reglab.lab=bench-cli $VOL >/dev/null
docker container run -d -p 127.0.0.1:$P:5000 --name $NAME --label reglab.lab=bench-cli \
    -v $VOL:/var/lib/registry registry:2 >/dev/null
ready
docker image push $REF >/dev/null
docker container rm -f -v $NAME >/dev/null
docker volume rm $VOL >/dev/null
docker image rm $REF >/dev/null
"""


def cli_round(port: int) -> float:
    start = time.perf_counter()
    subprocess.run(["sh", "-c", CLI_SCRIPT, "sh", str(port)], check=True)
    return time.perf_counter() - start


def reglab_round(engine, port: int) -> float:
    start = time.perf_counter()
    lab = Lab("bench", engine=engine, echo=False, ensure_images=False)
    registry = lab.run_registry(port=port)
    ref = registry.ref("hello-world")
    lab.tag("hello-world", ref)
    lab.push(ref)
    lab.remove_image(ref)
    lab.pull(ref)
    lab.kill_registry()
    lab.remove_registry()
    registry = lab.run_registry(volume="data")
    lab.push(ref)
    lab.cleanup()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    os.environ.setdefault("REGLAB_OFFLINE", "1")
    engine = get_engine("docker")
    images.ensure(engine)
    port = ports.choose(5100)
    cli_round(port), reglab_round(engine, port)  # warm-up: page cache, image layers
    cli, ours = [], []
    for i in range(args.rounds):
        if i % 2:  # every other round reglab goes first
            ours.append(reglab_round(engine, port))
            cli.append(cli_round(port))
            print(f"round {i + 1} (reglab first): docker CLI {cli[-1]:.3f} s, reglab {ours[-1]:.3f} s")
            continue
        cli.append(cli_round(port))
        ours.append(reglab_round(engine, port))
        print(f"round {i + 1}: docker CLI {cli[-1]:.3f} s, reglab {ours[-1]:.3f} s")
    print(f"median: docker CLI {statistics.median(cli):.3f} s, reglab {statistics.median(ours):.3f} s")
    print(f"ratio reglab/cli: {statistics.median(ours) / statistics.median(cli):.2f}")


if __name__ == "__main__":
    main()
