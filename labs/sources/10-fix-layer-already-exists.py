# %% [markdown]
# # Lab 10 · Fix: "Layer already exists", yet the image will not pull
#
# **The situation.** Yesterday someone deleted `scratch:v1` and `scratch:old` from the team's
# registry and ran garbage collection while it kept serving. This morning `scratch:v1` was pushed
# again: every layer "already exists", the push succeeded. Now nobody can pull it: the pull stops
# with "unexpected EOF". The team's other image, `tools:v1`, must not suffer from the fix.
#
# **Your job.** Find out why, and make `scratch:v1` pullable again. (`scratch:v1` is on your
# machine: the set-up loaded it.)
#
# **You need** notebook 04 (step 6) · **about 10 minutes** · works with Docker and without it.
#
# ## Set-up

# %%
from reglab.tasks import start

sheet = start("lab-10")

# %% [markdown] tags=["solution"]
# The tag is listed and its manifest is served (the push sent the manifest again); what does the
# registry say about the layer the manifest names, and what does the folder hold?

# %% tags=["solution"]
import json

# !curl -s http://{sheet.address}/v2/scratch/tags/list
# manifest = !curl -s -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' http://{sheet.address}/v2/scratch/manifests/v1
layer = json.loads("\n".join(manifest))["layers"][0]["digest"]
# !curl -sI http://{sheet.address}/v2/scratch/blobs/{layer} | grep -i -e '^HTTP' -e '^content-length'
# !curl -s http://{sheet.address}/v2/scratch/blobs/{layer} | wc -c
# !find {sheet.folder} -path "*{layer[7:]}*" -name data | wc -l

# %% [markdown] tags=["solution"]
# `HEAD` says the layer is there, with its length; a `GET` sends those headers and then not one
# byte, and the folder has no such blob. The registry keeps an in-memory cache of the blobs it has
# seen. The collection deleted files behind its back, so it still answers "present" for blobs that
# are gone — and the push skipped them. A new process has an empty cache.

# %% [markdown]
# ## Task 1 · A registry that forgets
# The registry must stop believing in blobs the collection deleted.

# %%
# solution
# !docker container restart {sheet.registry}

# %%
sheet.q1.check()

# %% [markdown]
# ## Task 2 · scratch:v1, whole again

# %%
# solution
# !curl -s -o /dev/null --retry 10 --retry-delay 1 --retry-all-errors http://{sheet.address}/v2/
# !docker image push --quiet {sheet.address}/scratch:v1

# %%
sheet.q2.check()

# %% [markdown] tags=["solution"]
# Next time: make the registry read-only (or stop it) before collecting, and restart it after.
# This holds for `registry:3` as for `registry:2`: v3's collection also removes the repositories'
# `_layers` links, but the in-memory cache answers before any link is read.

# %% [markdown]
# ## Clean up

# %%
sheet.cleanup()
