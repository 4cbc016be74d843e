# %% [markdown]
# # Lab 10 · Fix: "Layer already exists", yet the image will not pull
#
# **The situation.** Yesterday someone deleted `scratch:v1` and `scratch:old` from the team's
# registry and ran garbage collection while it kept serving. This morning `scratch:v1` was pushed
# again: every layer "already exists", the push succeeded. Now nobody can pull it.
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
# The tag is listed, but its manifest is not served: its blob is gone from disk.

# %% tags=["solution"]
# !curl -s http://{sheet.address}/v2/scratch/tags/list
# !curl -s -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' http://{sheet.address}/v2/scratch/manifests/v1
# !find {sheet.folder} -name data | wc -l

# %% [markdown] tags=["solution"]
# The registry keeps an in-memory cache of the blobs it has seen. The collection deleted files
# behind its back, so it still answers "present" (HEAD 200) for blobs that are gone, and the push
# skipped them. A new process has an empty cache.

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
# !curl -s -o /dev/null --retry 10 --retry-delay 1 --retry-connrefused http://{sheet.address}/v2/
# !docker image push --quiet {sheet.address}/scratch:v1

# %%
sheet.q2.check()

# %% [markdown] tags=["solution"]
# Next time: make the registry read-only (or stop it) before collecting, and restart it after.

# %% [markdown]
# ## Clean up

# %%
sheet.cleanup()
