# %% [markdown]
# # 07 · When one registry is not enough
#
# So far the registry was one container writing to one disk. A team's registry outgrows that:
# production registries keep their blobs in **S3-compatible object storage**, run several
# **replicas** behind a **load balancer**, and share a **cache** of what the blobs are. That is
# also where the classic failures live — a push that dies with `blob upload unknown`, garbage
# collection that must stop every replica, a cache that serves what storage no longer has. In
# this notebook you build that set-up live, break it the way it breaks at work, and fix it.
#
# ## Overview
# By the end you will be able to:
# 1. run a registry on an object store (SeaweedFS's S3 gateway) and read its storage tree as
#    object keys;
# 2. run replicas behind nginx, explain `blob upload unknown`, and fix it with one shared
#    `http.secret` — and say why sticky sessions are the weaker fix;
# 3. share the blob descriptor cache in redis, and clear it when it lies;
# 4. say what a client sees when a replica dies half-way through a download, and how it recovers;
# 5. collect garbage safely across replicas;
# 6. read what a second replica buys — on one machine, and on several.
#
# ## Prerequisites
# - Notebooks 01–04 (push and pull, the storage tree, deleting and garbage collection).
# - A Docker engine, or the daemonless engine (see notebook 01). With Docker every part is a
#   container on a network of the lab's own, and the parts find each other by container name.
#   Without Docker each part is the same program run as a process on 127.0.0.1 — SeaweedFS's
#   `weed`, nginx, redis-server, the registry — and where a setting names another part
#   (`reglab-07-seaweedfs:8333`), that process is given the other's address on this machine.
# - The registry is `registry:3`; registry 2.8 (`registry:2`) does everything here too, with the
#   small differences said where they come up (notebook A · registry:2 and registry:3 shows them
#   live).
# - About 15 minutes.

# %%
from reglab import Lab, checks, plots, start

lab = Lab("07")

# %% [markdown]
# ## Step 1 · An object store of your own
# At work this is Amazon S3, Google Cloud Storage, Azure Blob Storage, or an S3-compatible store
# in your own data centre. Here it is **SeaweedFS**, an S3-compatible store released under the
# Apache 2.0 licence, written in Go like the registry (its `weed` program is built from the Go
# module proxy, as registry 3 is). Its image is `chrislusf/seaweedfs`.
#
# A SeaweedFS cluster is four kinds of server: a **master** (which volume holds what), **volume
# servers** (the bytes), a **filer** (names and folders) and the **S3 gateway** (the API). In
# production each runs on its own (`weed master`, `weed volume`, `weed filer`, `weed s3`), several
# of each. `weed server -s3` starts all four in **one process**; its help says they "act exactly
# the same as starting them separately". Measured here, start to first write accepted, memory, and
# stop:
#
# | set-up | S3 answers after | first write accepted after | memory (RSS) | stops in |
# |---|---|---|---|---|
# | `weed server -s3` (one process) | 2.2 s | 11 s | 127–141 MiB | 15 s (SIGTERM) |
# | master + volume + filer + s3 (four processes) | 1.4 s | 15 s | 493–552 MiB | 0.5 s |
#
# One process it is: the same start, a quarter of the memory, one thing to stop (the lab stops it
# with SIGKILL: its data goes with the lab). The flags, each for a reason:
# - `-master.telemetry=false`: by default the master reports anonymous statistics to
#   `telemetry.seaweedfs.com` once 10 GiB are stored;
# - `-master.volumeSizeLimitMB=64 -master.volumePreallocate=false`: the image's entrypoint asks for
#   1 GiB volumes, preallocated, and the first write grows seven at once — 7 GiB of disk for a
#   few kilobytes; now `/data` holds what was written;
# - `-volume.preStopSeconds=0`: a volume server otherwise waits 10 s before it stops;
# - `-s3.autoCreateBucket=false`: SeaweedFS would create a missing bucket on the first write, which
#   S3 never does; here you create it, as at work.
#
# The S3 keys come from the environment. The secret one is never typed on the command line: the
# lab keeps it in a file of its folder (mode 0600) and the command reads it with `$(cat …)`.

# %%
store = lab.scale.run_store()

# %% [markdown]
# The store answers at once, but accepts its first write only some seconds later: right after it
# starts, the master holds back allocating volumes. So build everything else meanwhile; the bucket
# comes last, just before the first push.
#
# ## Step 2 · A registry on the bucket
# The registry's storage driver is `s3`, pointed at the store by `regionendpoint`. One config
# file for every replica; it holds the store's keys, so it is readable by you alone (0600):

# %%
config = lab.scale.config()

# %% [markdown]
# What each line is for:
# - `s3:` — the driver's name in both registries. (Its package in the source is `s3-aws`, and a
#   config naming `s3-aws` stops the registry at start: `panic: StorageDriver not registered`.)
# - `forcepathstyle: true` — registry 3 otherwise asks for `http://registry.reglab-07-seaweedfs:8333`
#   (the bucket as a host name, as Amazon does), which no DNS knows. Registry 2.8 has no such
#   key: a `regionendpoint` makes it use paths.
# - `redirect: disable: true` — else a pull is redirected to the store itself, which your
#   clients may not reach (here: a container name).
# - `rootdirectory: /` — keys start at the bucket's top, as the folder of notebook 02 did.
#
# Now one replica, with nginx in front of it at the lab's address. nginx sends each request to the
# next replica in turn (round-robin); `X-Upstream` tells which one answered.

# %%
balancer = lab.scale.run_replicas(1)

# %% [markdown]
# An image to push: one 512 KiB layer, the same in every version of `team/app`, and a config that
# names its version.

# %%
app = lab.scale.make_app("v1")

# %% [markdown]
# Last, the bucket. Neither registry creates its own: both start happily without one, and the
# first push then fails with `500 … NoSuchBucket`. Create it in SeaweedFS's own shell; the lab then
# waits until the store accepts a write (an object put into the bucket with `curl`, and deleted).

# %%
lab.scale.create_bucket()

# %%
pushed = lab.push(app)

# %% [markdown]
# ## Step 3 · The tree as object keys
# Ask the store for the bucket's keys through the S3 API (`ListObjectsV2`), signed with its keys
# as every S3 client does — here with `curl --aws-sigv4`:

# %%
keys = lab.scale.bucket()

# %% [markdown]
# Push the same image to a registry that keeps its data in a folder (as in notebook 02) and list
# its files:

# %%
files = lab.scale.compare_with_folder(app)

# %%
same = lab.scale.same_layout(keys, files)

# %% [markdown]
# The same tree: the driver decides only where the bytes go. Blobs under `blobs/sha256/<2 hex>/`,
# links under `repositories/` — everything notebook 03 showed you holds on S3, except that there
# are no folders: only keys that look like paths.
#
# ## Step 4 · Two replicas, and a push that fails
# One replica is one point of failure. Run two on the same bucket, behind the same nginx:

# %%
balancer = lab.scale.run_replicas(2)

# %% [markdown]
# A new version of the app: its layer is in the bucket already, only its config is new.

# %%
app_v2 = lab.scale.make_app("v2")

# %%
with lab.expect_failure():
    lab.push(app_v2)

# %% [markdown]
# This is the push that fails at work. The docker CLI prints just `blob upload unknown` (measured
# with Docker 20.10: at once when only the config is new; with new layers it retries each for up
# to 50 s first, a retry sometimes getting through). The replicas' logs say why:

# %%
logged = lab.scale.upload_errors()

# %% [markdown]
# An upload is several requests: `POST` starts it, `PATCH` sends bytes, `PUT` ends it. The replica
# that answers the `POST` hands the client a URL holding the upload's state (`_state=…`), signed
# with its **`http.secret`**. Nobody set one, so each replica made up its own at start (the first
# log line). nginx sent the next request to the other replica, which cannot verify that signature:
# `invalid secret`, answered as `404 BLOB_UPLOAD_INVALID` — which the docker CLI words
# `blob upload unknown`. (The upload's bytes are in the bucket; only its state does not verify.)
#
# ## Step 5 · Two fixes, one of them weak
# **Sticky sessions**: nginx sends each client to one replica, always the same (`ip_hash`). Then
# every request of an upload lands where it started, and the push works:

# %%
balancer = lab.scale.run_replicas(2, sticky=True)

# %%
pushed = lab.push(app_v2)

# %% [markdown]
# Now redeploy the replicas — a new version, a new node, a crash — while a client is half-way
# through an upload. The lab's own HTTP client sends a 48 KiB blob in three `PATCH`es and restarts
# both replicas after the first:

# %%
upload = lab.scale.upload_with_a_redeploy()

# %% [markdown]
# The restarted replica made up a new secret, so the upload it started is lost; at work, so is
# every upload in flight on a replica that dies. Sticky sessions also balance by client address,
# not by load: here every client is this machine, so one replica does all the work.
#
# **One shared `http.secret`** (`REGISTRY_HTTP_SECRET`, the same value on every replica): any
# replica can verify any upload's state, and the state itself is in the bucket. Back to
# round-robin:

# %%
balancer = lab.scale.run_replicas(2, secret="shared")

# %%
upload = lab.scale.upload_with_a_redeploy()

# %%
lab.check(checks.served, balancer, "team/app", "v2")

# %% [markdown]
# ## Step 6 · A cache every replica shares
# A registry remembers what it learned about blobs — that a digest exists, its size and media
# type — in its **blob descriptor cache**, by default in its own memory. With replicas, put it in
# **redis**: each replica learns from the others' uploads, and a replica that restarts starts warm.

# %%
cache = lab.scale.run_cache()

# %%
balancer = lab.scale.run_replicas(2, secret="shared", cache=True)

# %% [markdown]
# Registry 3 is given the cache's address as a list, `REGISTRY_REDIS_ADDRS=[host:port]`; registry
# 2.8 as one address, `REGISTRY_REDIS_ADDR=host:port`. Push a scratch image and look into redis:

# %%
scratch = lab.scale.make_scratch()

# %%
pushed = lab.push(scratch)

# %%
cache_keys = lab.scale.cache_keys()

# %% [markdown]
# ### The stale-cache trap, shared
# Notebook 04 showed a registry whose in-memory cache still believed in blobs garbage collection
# had deleted. Do it again with the cache shared: delete the image, and collect garbage while both
# replicas keep serving (the wrong way — Step 8 shows the right one):

# %%
digest = lab.growth.delete_image(scratch)

# %%
collected = lab.scale.garbage_collect()

# %% [markdown]
# The blobs are gone from the bucket. Ask each replica for the layer:

# %%
answers = lab.scale.blob_answers(scratch)

# %% [markdown]
# Both say `200` and promise 256 KiB — redis told them the blob exists — then send nothing. Push the
# image again: every layer "already exists", so nothing is sent, and the image stays broken.

# %%
pushed = lab.push(scratch)

# %% [markdown]
# In notebook 04 a restart cured it. Not now:

# %%
lab.scale.restart_replicas()

# %%
answers = lab.scale.blob_answers(scratch)

# %% [markdown]
# The replicas forgot nothing they needed to forget: the lie is in redis. Clear it, then push:

# %%
lab.scale.flush_cache()

# %%
pushed = lab.push(scratch)

# %%
lab.check(checks.served, balancer, "team/scratch", "v1")

# %% [markdown]
# `FLUSHDB` empties the whole cache: harmless (the replicas ask the bucket again and refill it),
# and the only fix once it lies. After every garbage collection on a registry with a shared cache,
# flush it before the replicas take writes again.
#
# ## Step 7 · A replica dies during a pull
# A client downloads a 16 MiB layer through nginx. To give the lab time to act, nginx sends at
# most 8 MiB/s to a client (`limit_rate 8m`, with `proxy_buffering` on and no temporary file, so
# nginx does not read the whole blob ahead). A quarter of the way, the replica sending it is
# killed:

# %%
pull = lab.scale.pull_with_a_kill()

# %% [markdown]
# What the client sees: the body stops before its `Content-Length` — a broken connection right
# away when the replica's process dies, silence until the client's timeout when its container and
# network vanish. nginx cannot help with the answer it had begun: it hands on the broken one. A
# client that asks for the rest (`Range: bytes=<what it has>-`) gets `206 Partial Content` from the
# other replica, and the whole blob checks. Requests that start after the kill never see it: nginx
# tries the dead replica, gets no connection, and passes them to the next one
# (`proxy_next_upstream`, on by default, here within `proxy_connect_timeout 1s`).
#
# The docker CLI does the same more slowly: measured with Docker 20.10, a `docker pull` of a 64 MiB
# layer whose replica was killed half a second in printed `Retrying in 5 seconds`, downloaded the
# whole layer again from the other replica, and finished in 6.2 s instead of 1.9 s.
#
# ## Step 8 · Garbage collection across replicas
# `registry garbage-collect` reads the bucket, marks what some manifest references, and deletes
# the rest. A replica that takes a push meanwhile can lose it: its blobs are uploaded before its
# manifest, and until that manifest arrives nothing references them. So, the right way:
# 1. every replica read-only (`REGISTRY_STORAGE_MAINTENANCE_READONLY`): pulls work, pushes get 405;

# %%
balancer = lab.scale.run_replicas(2, secret="shared", cache=True, read_only=True)

# %%
app_v3 = lab.scale.make_app("v3")

# %%
with lab.expect_failure():
    lab.push(app_v3)

# %% [markdown]
# 2. collect, from any one replica's container (they share the bucket):

# %%
collected = lab.scale.garbage_collect()

# %% [markdown]
# 3. empty the shared cache — redis still describes what was just deleted. **Your turn** (the
# first of this notebook's practice tasks): type it yourself, with `!` in a cell or in a terminal.

# %%
practice = start("07", lab)

# %%
# your command here

# %% tags=["solution"] jupyter={"source_hidden": true}
# !docker container exec reglab-07-redis redis-cli FLUSHDB

# %%
practice.q1.check()

# %% [markdown]
# 4. writable again:

# %%
balancer = lab.scale.run_replicas(2, secret="shared", cache=True)

# %% [markdown]
# What goes wrong otherwise, reproduced step by step: a push is half done (its blobs uploaded,
# its manifest not yet sent) when garbage collection runs on writable replicas.

# %%
inflight = lab.scale.push_during_collection()

# %% [markdown]
# With the cache in each replica's memory, the manifest's `PUT` is usually refused
# (`400 MANIFEST_BLOB_UNKNOWN`) and the client at least learns its push failed. With a shared cache
# it is accepted: a tag now names blobs that no longer exist.
#
# ## Step 9 · What a second replica buys
# `benchmarks/scale_out.py` runs this set-up (one store, redis, nginx, processes on 127.0.0.1) and
# lets 4 client processes push, then pull, 5 images each (two 1 MiB layers of their own) through
# 1, 2 and 3 replicas. Its figures, measured on a 2-core machine:

# %%
measured = plots.scale_out("../benchmarks/results/scale-out.json")

# %% [markdown]
# A second replica bought little: 1.10 times what one carried (both versions) — in a run during
# which other programs took more and more of the machine (the file records its CPU pressure); a
# quieter run gave 0.92. Nowhere near the 2 that a second registry would give if the registry were
# the limit. The two cores were full: the store, the registries, the clients and nginx used 6–7
# CPU seconds of the 10 or so the cores had during a run, other programs the rest. A second
# registry process brings more work to the same cores, not a core of its own.
#
# On separate hosts it would pay. From the one-replica runs, one image pushed or pulled costs about
# 0.045 CPU seconds in a replica of registry 3 (0.062 in 2.8), 0.085 in the store and 0.027 in the
# client: a core carries about 22 images a second in a replica (16 with 2.8), and 12 in the store.
# With the clients elsewhere and each replica on a core of its own, two replicas carry twice what
# one does — as long as the store keeps up: two replicas of registry 3 need about 3.7 cores of
# store. So the store is what runs out next; scale it too (more volume servers, filers and S3
# gateways). It also counted its own S3 requests: 66 for one push of a two-layer image (62 with
# 2.8; the docker CLI's uploads, a `PATCH` and a `PUT` per blob, take about 20 more), and 3 for a
# pull once the cache is warm — the cache, not the replica count, is what spares the store.
#
# ## Your turn
# A third replica joins. Run it with the same config file and the same secret as the others
# (`docker container run …`, as in the twins above, with `--name reglab-07-registry-3` and a
# port of its own: `practice.port`, kept for you), add it to nginx's `default.conf`, and restart
# nginx. The check pushes through nginx and looks at every replica's log: each must have served a
# part.

# %%
# your command here

# %% tags=["solution"] jupyter={"source_hidden": true}
# !docker container run -d -p 127.0.0.1:{practice.port}:5000 --name reglab-07-registry-3 --network reglab-07-net -v {lab.workdir}/registry/config-v3.yml:/etc/distribution/config.yml:ro -e REGISTRY_HTTP_SECRET="$(cat {lab.workdir}/secrets/http-secret)" -e REGISTRY_STORAGE_CACHE_BLOBDESCRIPTOR=redis -e REGISTRY_REDIS_ADDRS=[reglab-07-redis:6379] registry:3
# !sed -i 's/^\(    server reglab-07-registry-2:5000;\)$/\1\n    server reglab-07-registry-3:5000;/' {lab.workdir}/nginx/default.conf
# !docker container restart reglab-07-nginx

# %%
practice.q2.check()

# %% [markdown]
# ## Summary
# - A registry on S3: `storage.s3` with `regionendpoint`, `bucket`, the keys, `rootdirectory`,
#   and on registry 3 `forcepathstyle: true`; create the bucket yourself. Its keys are the storage
#   tree of notebook 03.
# - Replicas need **one shared `http.secret`**. Without it an upload started on one replica is
#   refused by the next (`404 BLOB_UPLOAD_INVALID`, "blob upload unknown"). Sticky sessions hide
#   that until a replica restarts, and balance by address, not load.
# - A blob descriptor cache in redis serves every replica; it survives their restarts — including
#   its mistakes. After garbage collection, `FLUSHDB`.
# - A replica that dies mid-download breaks that download; a retry with `Range` (or the docker
#   CLI's own retry) completes it through another replica, and nginx keeps new requests away.
# - Garbage collection across replicas: all read-only, collect, flush the cache, writable again.
# - On one machine a second replica adds no capacity; on separate hosts it does, until the store
#   is the bottleneck.
#
# ## Going further
# - The four SeaweedFS servers apart: `weed master`, `weed volume -master=…`, `weed filer
#   -master=…`, `weed s3 -filer=…` — each can then have replicas of its own.
# - Health checks: nginx's open-source edition only notices a dead replica when a request fails
#   (`max_fails`, `fail_timeout`); HAProxy, Traefik or a Kubernetes Service check `GET /v2/` on
#   their own.
# - The registry's own metrics (`http.debug.prometheus`) and the store's (`-metricsPort`) show
#   where the time goes.
#
# ## Clean up
# Every container (or process), the network, the images and the lab's folders — the bucket's data
# included — go.

# %%
removed = lab.cleanup()

# %%
lab.check(checks.nothing_left)
