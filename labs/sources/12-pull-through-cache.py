# %% [markdown]
# # Lab 12 · A pull-through cache
#
# **The situation.** Every machine of the class pulls the same images from the hub (the lab's
# stand-in for Docker Hub): the same bytes cross the network once per machine, and when the hub
# is down nobody can pull. The team wants a registry of its own in front of the hub that keeps
# what it fetched.
#
# **Your job.** Run a registry as a pull-through cache of the hub, pull `app:v1` through it, and
# show that it serves `app:v1` from its own disk with the hub down.
#
# **You need** notebook 06 · **about 15 minutes** · works with Docker and without it. The cache
# must reach the hub from *inside its container*: `print(sheet.upstream)` gives the hub's URL as
# the cache sees it, `print(sheet.network_options)` the `docker container run` options that put the
# cache on the hub's network (none without Docker, which has no networks). The registry is
# `registry:3`.
#
# ## Set-up
# The hub holds `app:v1`; this machine has never pulled it.

# %%
from reglab.tasks import start

sheet = start("lab-12")

# %% [markdown]
# ## Task 1 · A cache of the hub
# `sheet.proxy` answers at `sheet.address`, keeps its storage in the volume `sheet.volume`, and fetches
# what it does not have from the hub.

# %%
# solution
# !docker container run -d --name {sheet.proxy} -p {sheet.address}:5000 {sheet.network_options} -v {sheet.volume}:/var/lib/registry -e REGISTRY_PROXY_REMOTEURL={sheet.upstream} registry:3 > /dev/null
# !curl -s -o /dev/null --retry 30 --retry-delay 1 --retry-all-errors http://{sheet.address}/v2/

# %%
sheet.q1.check()

# %% [markdown] tags=["solution"]
# `proxy.remoteurl` turns a registry into a cache: it fetches from the upstream what it lacks, and
# refuses pushes. Inside a container, `127.0.0.1` is the container itself: the cache names the
# hub as the lab's network knows it. The `curl` waits until the cache answers: a pull typed at
# once may meet "connection reset".

# %% [markdown]
# ## Task 2 · Pull through it

# %%
# solution
# !docker image pull --quiet {sheet.address}/app:v1

# %%
sheet.q2.check()

# %% [markdown] tags=["solution"]
# The cache fetched the manifest and each blob from the hub while it served them, and wrote them
# to its own storage, laid out as any registry's: `blobs/` and `repositories/`.

# %% tags=["solution"]
# !docker container exec {sheet.proxy} find /var/lib/registry/docker -name data | wc -l

# %% [markdown]
# ## Task 3 · The hub is down
# Stop the hub, remove your copy of `app:v1`, and pull it again through the cache.

# %%
# solution
# !docker container stop {sheet.hub} > /dev/null
# !docker image rm {sheet.address}/app:v1 > /dev/null
# !docker image pull --quiet {sheet.address}/app:v1

# %%
sheet.q3.check()

# %% [markdown] tags=["solution"]
# While the hub answers, every pull by tag still asks it what the tag names now (a `HEAD`); only
# the blobs come from the cache's disk. With the hub down, the cache answers the tag from what it
# kept. It keeps each manifest and blob for `proxy.ttl` — 168 h unless set — and then deletes
# it: `registry:3`'s own configuration has deletes on. (A `registry:2` cache, deletes off by
# default, could never delete anything: it kept everything forever.) A tag it was never asked
# for, it cannot serve while the hub is down.

# %% [markdown]
# ## Clean up

# %%
sheet.cleanup()
