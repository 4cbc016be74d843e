# %% [markdown]
# # 06 · The registry as a pull-through cache
#
# The classic registry tutorial ends on one line: *"`--registry-mirror` acts as a way to cache hub
# images inside registry to optimize bandwidth by enabling proxy mode."* In this notebook you put
# a registry in **proxy mode** in front of a hub, let a class of learners pull through it, and
# measure — from each registry's own log — what crosses the wire. Docker Hub is never contacted: a
# second registry of the lab plays its part. Both are `registry:3`; where `registry:2` behaves
# otherwise, the text says so, and the appendix notebook *A · registry:2 and registry:3* shows
# both side by side.
#
# ## Overview
# By the end you will be able to:
# 1. start a pull-through cache: a registry with `proxy.remoteurl` pointing at an upstream;
# 2. measure what each pull costs the upstream, from its access log, and say when a cache pays
#    off — from the second pull of the same layers;
# 3. tell what still reaches the upstream (tag look-ups) and what a cache refuses (pushes);
# 4. point Docker's `registry-mirrors` at it — it applies to Docker Hub names only — and undo that
#    exactly;
# 5. set how long a cache keeps what it fetched (`proxy.ttl`), say what it does when its upstream
#    goes away, and when a mirror is the wrong tool.
#
# ## Prerequisites
# - Notebooks 01–03 (push, pull, image names, the storage tree).
# - A Docker engine, or the daemonless engine (see notebook 01): there the cache reaches the hub
#   at its loopback address instead of its container name, and `registry-mirrors` is the engine's
#   own list for this lab.
# - What this notebook changes outside its own folders, and puts back at the end: the Docker
#   daemon's `daemon.json` (`registry-mirrors`) — only if `make lab` started that daemon, else it
#   shows you the change instead.
# - About 15 minutes.

# %%
from reglab import Lab, checks, start

lab = Lab("06")

# %% [markdown]
# ## Step 1 · A hub of your own
# Behind most `docker pull`s stands Docker Hub. Here a plain registry plays that part — the
# **hub** — on a network of the lab, where other containers reach it by its name.

# %%
hub = lab.mirror.run_hub()

# %% [markdown]
# Someone publishes three versions of an app on the hub. Like real images, they share a base
# layer (think of an operating system, 20 MiB) and add a layer of their own. This machine then
# forgets them, as a learner's laptop has never seen them.

# %%
published = lab.mirror.publish()

# %% [markdown]
# ## Step 2 · A registry in proxy mode
# One setting turns any registry into a **pull-through cache**: `proxy.remoteurl`
# (`REGISTRY_PROXY_REMOTEURL`). It answers pulls like any registry; what it does not have yet it
# fetches from that upstream, hands to the client, and keeps.
#
# Two more settings, both measured here:
# - `REGISTRY_STORAGE_DELETE_ENABLED=true`: the cache deletes what it keeps once it expires
#   (Step 9). The `registry:3` image's own configuration turns deletes on already; the setting
#   keeps them on whatever configuration you mount. With deletes off — the registry program's
#   default, and `registry:2`'s — every expiry fails and the cache keeps everything forever;
# - `--dns-opt ndots:1`: Docker's network DNS answers the hub's name itself and never asks the
#   outside world's DNS about it. That matters once the hub is gone (Step 10): on a machine without
#   a DNS server, the question only times out, ten seconds for every request.

# %%
proxy = lab.mirror.run_proxy()

# %% [markdown]
# ## Step 3 · The first pull goes to the hub
# One engine plays every learner's machine here: before each pull, reglab removes the images that
# learner has not pulled yet (and puts back those they have), so each pull downloads exactly what
# their own machine would. Learner A pulls `app:v1` through the cache, which holds nothing yet:

# %%
a = lab.mirror.pull_as("A", "app:v1")

# %% [markdown]
# Every blob crossed from the hub **once**. The hub's own access log says so — each of its lines
# ends with the number of bytes it sent:

# %%
seen = lab.mirror.hub_saw(a)

# %% [markdown]
# The cache streamed each blob it lacked from the hub to the client and into its own storage at
# the same time. (`registry:2` downloaded it a second time in the background to store it, so the
# first pull through a 2.8 cache cost the hub twice the blob; distribution pull request #3569
# made the cache fetch each blob once, in registry 3 — the appendix notebook measures both.)
# Before each of its calls the cache also sent the hub a `GET /v2/`: it asks the upstream how to
# log in before every request.
#
# ## Step 4 · The next learner pulls from the cache

# %%
b = lab.mirror.pull_as("B", "app:v1")

# %%
seen = lab.mirror.hub_saw(b)

# %% [markdown]
# Not one byte of a blob came from the hub — but the hub was still **asked**: a `HEAD` of the tag.
# A tag can move (push a new `app:v1` and it names another manifest), so the cache asks the
# upstream what `app:v1` is *now*; the manifest and the blobs it already has come from its disk.
#
# ## Step 5 · A class, and a new release
# Two more learners pull `app:v1`; then `app:v2` comes out, and everyone pulls it. Their machines
# already hold the shared base layer, so only the new layer and the image config travel:

# %%
for learner in ("C", "D"):
    cost = lab.mirror.pull_as(learner, "app:v1")

# %%
for learner in ("A", "B", "C", "D"):
    cost = lab.mirror.pull_as(learner, "app:v2")

# %% [markdown]
# ## Step 6 · What the hub sent, measured
# For every pull: what the cache served to the learner (its access log) — which is also what the
# hub would have sent without a cache — and what the hub did send (the hub's access log):

# %%
lab.mirror.ledger

# %% [markdown]
# The same pulls as a picture, orange for what the hub sends without a cache and green for what
# it sends with one, in both panels. On the left, summed pull after pull: the first pull of each
# layer costs the hub the same with the cache as without it, and every later pull of it costs
# nothing, so the saving grows with every learner. On the right, each pull on its own. The
# numbers the figure draws come first, as a table:

# %%
lab.mirror.figure()

# %% [markdown]
# ### Check your work
# The cache keeps what it fetched on its own disk, like any registry. A check that reads its
# storage directly (not through its API, which would ask the hub):

# %%
lab.check(checks.cached, proxy, "app", "v2")

# %% [markdown]
# ## Step 7 · What reaches the hub, and what a cache refuses
# Look an image up by **tag** through the cache, then by **digest**, and read the hub's log each
# time:

# %%
by_tag = lab.mirror.look_up("app", "v1")

# %%
by_digest = lab.mirror.look_up("app", by_tag.digest)

# %% [markdown]
# A digest names one exact manifest, forever: once cached, it never needs the upstream again. A
# tag may move, so every pull by tag still costs one small request to the upstream.
#
# A cache only serves what its upstream has; it stores nothing you send it. Give a pulled image a
# new tag and push it back (the progress bar stops red where the registry refused):

# %%
lab.tag(proxy.ref("app", "v2"), proxy.ref("app", "mine"))

# %%
with lab.expect_failure():
    lab.push(proxy.ref("app", "mine"))

# %% [markdown]
# Docker found every layer *already there* (the cache has them), then the manifest `PUT` got
# `405 UNSUPPORTED`. With layers the cache does not have, Docker 20.10 retries the upload five
# times — about fifty seconds — before giving up with the same word, `unsupported`. Publish to
# the hub instead (`docker image push 127.0.0.1:5000/app:mine`). Drop the refused tag:

# %%
lab.remove_image(proxy.ref("app", "mine"))

# %% [markdown]
#
# ## Step 8 · Docker's `registry-mirrors` — for Docker Hub names only
# The tutorial's `--registry-mirror` is the daemon's `registry-mirrors` setting. Docker sends a pull to
# a mirror only for an image of Docker Hub (`docker.io`): `docker pull hello-world` may go through
# it, `docker pull 127.0.0.1:5000/app` never does. If every mirror fails, Docker goes on to Docker
# Hub itself.
#
# Our hub plays Docker Hub, which keeps its official images under `library/`: `hello-world` is
# `docker.io/library/hello-world:latest`. Publish a small image there:

# %%
published = lab.mirror.publish_hub_name("reglab-hello")

# %% [markdown]
# Add the cache to `registry-mirrors` and reload the daemon with `SIGHUP` (no restart, no container
# stopped). The lab does this only to a daemon its own set-up started; on any other daemon it shows
# you the change.

# %%
change = lab.mirror.use_as_docker_mirror()

# %%
mirrors = lab.mirror.registry_mirrors()

# %% [markdown]
# Now pull by the short Docker Hub name, as the tutorial does. Before pulling, the lab makes sure the
# cache can serve it — else Docker would go on to Docker Hub, which this lab never contacts:

# %%
arrived = lab.mirror.pull_hub_name("reglab-hello")

# %% [markdown]
# The pull named no registry, and yet it arrived at the cache — which fetched it from its upstream.
# In a real set-up that upstream is `https://registry-1.docker.io`, and every machine whose
# `daemon.json` lists the cache shares one copy of each Docker Hub layer (and stays below Docker
# Hub's pull rate limits).
#
# Undo it. As with `insecure-registries` (notebook 05), deleting the line and reloading is not
# enough: a reload changes only the keys present in the file. The list `docker info` showed
# before (here, none) explicitly first, then the original file:

# %%
restored = lab.mirror.restore_daemon()

# %%
lab.check(checks.daemon_as_before)

# %% [markdown]
# ## Step 9 · The cache on disk
# A cache stores what it fetched in an ordinary storage tree — blobs, repositories, tags, links —
# as in notebook 03:

# %%
disk = lab.mirror.cache_on_disk()

# %% [markdown]
# Every manifest and blob it stores gets an expiry date, written in its log as it fetches them:
# `proxy.ttl` (`REGISTRY_PROXY_TTL`), 168 hours (seven days) unless set — `0` turns expiry off.
# (`registry:2` has no such setting: it always keeps 168 hours.)

# %%
hours = lab.mirror.kept_for()

# %% [markdown]
# At expiry the cache deletes its copy through the storage API, so it needs deletes on (as in the
# `registry:3` image); the next pull fetches it from the hub again. With deletes off, every expiry
# fails — its log says `Scheduler error returned from OnExpire(app@sha256:…): operation
# unsupported` — and the cache keeps everything: it never takes a moved tag's old layers off its
# disk. A tag itself never waits for expiry: every pull by tag asks the hub (Step 7).
#
# ## Your turn
# A second cache of the same hub that forgets after 15 seconds, to watch expiry happen. In a cell,
# `{practice.address}` stands for `practice.address`; do each task yourself with the docker CLI
# (`!` in a cell, or a terminal), then check it.

# %%
practice = start("06", lab)

# %% [markdown]
# **1 · Run it.** `registry:3` as a cache of `practice.upstream`, named `practice.cache`, at
# `practice.address`, with `practice.network_options` — and `proxy.ttl` set to 15 seconds.

# %%
# your command here

# %% tags=["solution"] jupyter={"source_hidden": true}
# !docker container run -d --name {practice.cache} -p {practice.address}:5000 {practice.network_options} -e REGISTRY_PROXY_REMOTEURL={practice.upstream} -e REGISTRY_PROXY_TTL=15s registry:3 > /dev/null
# !curl -s -o /dev/null --retry 30 --retry-delay 1 --retry-all-errors http://{practice.address}/v2/

# %%
practice.q1.check()

# %% [markdown]
# **2 · Pull `app:v2` through it.** Predict first: how many bytes will the hub send for it — the
# notebook's cache has `app:v2` already, does that help this one? Then read its log's scheduler
# lines.

# %%
# your command here

# %% tags=["solution"] jupyter={"source_hidden": true}
# !docker image pull --quiet {practice.address}/app:v2
# !docker container logs {practice.cache} 2>&1 | grep -c 'Adding new scheduler entry'

# %%
practice.q2.check()

# %% [markdown]
# **3 · Watch it forget.** Predict: once 15 seconds have passed, which files are left in its
# storage? Then wait, and count the files that hold blobs.

# %%
# your command here

# %% tags=["solution"] jupyter={"source_hidden": true}
# !sleep 20
# !docker container exec {practice.cache} find /var/lib/registry/docker -name data | wc -l

# %%
practice.q3.check()

# %% [markdown]
# ## Step 10 · When the hub goes away

# %%
lab.mirror.stop_hub()

# %% [markdown]
# A new learner, E, pulls `app:v2`: the cache cannot ask the hub what the tag names now, so it
# answers from what it kept.

# %%
e = lab.mirror.pull_as("E", "app:v2")

# %% [markdown]
# `app:v3` was published on the hub but nobody pulled it while the hub answered:

# %%
with lab.expect_failure():
    lab.mirror.pull_as("E", "app:v3")

# %% [markdown]
# ## When a mirror is the wrong tool
# - **Your own images.** A cache serves only what its upstream has, and refuses pushes: keep your
#   images in an ordinary registry (notebooks 01–02). One registry cannot be both.
# - **Registries other than Docker Hub**, for the daemon: `registry-mirrors` covers `docker.io`
#   only. For another upstream, name the cache in the image (`127.0.0.1:5001/app:v1`), as above.
# - **An upstream that wants a password — with care.** `registry:3` logs in to its upstream with
#   `proxy.username` and `proxy.password` (`REGISTRY_PROXY_USERNAME`, `REGISTRY_PROXY_PASSWORD`;
#   basic or token authentication, distribution PR #4263) or a credential helper (`proxy.exec`,
#   PR #4438); `registry:2` speaks only token authentication. But the cache then pulls **as that
#   account** for everyone who can reach it: every private repository the account may read is
#   readable through the cache, without a password. Give the cache an account that sees only what
#   all its users may see, and put a login (notebook 05) on the cache itself.
# - **A tag that must be fresh the moment it moves**: a cache asks the upstream for tags, but
#   while the upstream is down it serves what it kept — possibly an old `latest`.
#
# ## Summary
# - `proxy.remoteurl` (`REGISTRY_PROXY_REMOTEURL`) makes a registry a pull-through cache: it
#   fetches what it lacks from the upstream and keeps it for `proxy.ttl` (168 h unless set; fixed
#   in 2.8) — and only lets it go if deletes are on (as in the `registry:3` image).
# - Measured on the upstream's own access log: a `registry:3` cache fetches each new blob
#   **once** (2.8: twice), then never again while it keeps it, each call preceded by a `GET /v2/`;
#   it saves from the second pull of the same layers, and a base layer shared by several images is
#   fetched once for all of them.
# - Tag look-ups still reach the upstream (`HEAD`); digests do not. Pushes get
#   `405 UNSUPPORTED`. With the upstream down, what was cached still pulls; the rest fails.
# - Docker's `registry-mirrors` (`daemon.json`, reloaded by `SIGHUP`) applies to Docker Hub
#   names only; to undo it, write an empty list and reload before restoring the file.
#
# ## Going further
# - Put a cache in front of the real Docker Hub: `REGISTRY_PROXY_REMOTEURL=https://registry-1.docker.io`,
#   with `REGISTRY_PROXY_USERNAME` and `REGISTRY_PROXY_PASSWORD` for an account's higher pull limit
#   — an account with no private repositories (see above).
# - A larger class: `for learner in "EFGH": lab.mirror.pull_as(learner, "app:v1")` before Step 10,
#   then `lab.mirror.ledger` again.
# - Other registries than Docker Hub: Harbor and Zot cache several upstreams; containerd (and so
#   Kubernetes nodes) can send any registry's pulls to a mirror through `hosts.toml`.
#
# ## Clean up
# Everything this notebook created goes: containers (yours from *Your turn* too), network, images,
# folders. The daemon's configuration was put back in Step 8; had a cell been skipped, the
# clean-up would put it back too, and print the commands that do it by hand.

# %%
removed = lab.cleanup()

# %%
lab.check(checks.nothing_left)
