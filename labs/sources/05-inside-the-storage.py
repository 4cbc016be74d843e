# %% [markdown]
# # Lab 05 · Inside the storage
#
# Notebook 03 followed a tag down to the bytes. Here you change the storage yourself: watch a
# shared layer be stored once, make a tag and share a layer through the HTTP API alone, and delete
# one tag of a manifest without deleting the manifest.
#
# **You need** notebook 03 · **about 20 minutes** · works with Docker and without it · tools: `curl`,
# `find`, `cat` (or Python) · registry:3 (task 4: registry:2 cannot delete a tag through the API).
#
# **How this lab works** (as in lab 01): each task says what must be true at the end; the check
# reads the live registry and its files. `sheet.q1.hint()` and `sheet.q1.solution()` help.
#
# ## Set-up
# The set-up runs a registry whose data folder is `sheet.folder` (it runs as you, so the files are
# yours), pushes `layered:v1` and `layered:old` (three layers, the same image twice) and loads
# `sibling:v1` on your machine, without pushing it.

# %%
from reglab.tasks import start

sheet = start("lab-05")

# %% [markdown]
# ## Task 1 · One layer, stored once
# `sibling:v1` shares its base layer with `layered:v1`. Push it, then look at the disk: the base
# layer must be one blob, linked from both repositories.

# %%
# solution
# !docker image push --quiet {sheet.address}/sibling:v1
# !find {sheet.folder} -path '*_layers*' -name link | sort

# %%
sheet.q1.check()

# %% [markdown] tags=["solution"]
# `sibling`'s `_layers/` got a link to the base layer's blob; `blobs/` did not grow by its size:
# Docker asked the registry to *mount* the blob it had instead of uploading it again.

# %% [markdown]
# ## Task 2 · A tag made with the HTTP API
# Without `docker`, give `layered:v1` a second tag, `stable`: the same manifest, byte for byte.

# %%
# solution
# !curl -s -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' http://{sheet.address}/v2/layered/manifests/v1 | curl -sS -X PUT -H 'Content-Type: application/vnd.docker.distribution.manifest.v2+json' --data-binary @- http://{sheet.address}/v2/layered/manifests/stable


# %%
sheet.q2.check()

# %% [markdown] tags=["solution"]
# Retagging is a `GET` and a `PUT` of the same bytes: no layer moves. The `Accept` header matters:
# registry:3 sends a Docker schema 2 manifest as stored whatever `Accept` says, but an OCI manifest
# only to a client that names its type (404 otherwise), and registry:2 (2.8) answers a `GET` by tag
# without it with a converted schema-1 manifest: another document, another digest (notebook A ·
# registry:2 and registry:3).

# %% [markdown]
# ## Task 3 · A layer mounted into a new repository
# Make the repository `base` able to serve the base layer of `layered:v1` (its first layer)
# without uploading a byte.

# %%
# solution
import json

# manifest = !curl -s -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' http://{sheet.address}/v2/layered/manifests/v1
base = json.loads(manifest.n)["layers"][0]["digest"]
# !curl -si -X POST 'http://{sheet.address}/v2/base/blobs/uploads/?mount={base}&from=layered' | head -n 1

# %%
sheet.q3.check()

# %% [markdown]
# ## Task 4 · Delete one tag, keep the manifest
# `layered:old` must go, through the registry's HTTP API, and `layered:v1` — the very same manifest
# — must stay.

# %%
# solution
# !curl -s -o /dev/null -w '%{{http_code}}\n' -X DELETE http://{sheet.address}/v2/layered/manifests/old
# !curl -s http://{sheet.address}/v2/layered/tags/list

# %%
sheet.q4.check()

# %% [markdown] tags=["solution"]
# On registry:3 a `DELETE` by tag removes that tag only: its folder
# `repositories/layered/_manifests/tags/old` goes, the manifest and its blobs stay, reachable by
# digest and by every other tag. A `DELETE` by digest would have removed the manifest, and with it
# `v1` and `stable`. Removing the tag's folder with `rm -r` leaves the same files — but behind the
# registry's back: on object storage, or with several replicas, there is no folder to remove, and
# the registry's log has no trace of it (the check reads that log). registry:2 (2.8) refuses a
# delete by tag (`400 DIGEST_INVALID`); there, the folder was the only way (notebook A · registry:2
# and registry:3).

# ## Clean up

# %%
sheet.cleanup()
