# %% [markdown]
# # Lab 07 · Fix: 405 on delete
#
# **The situation.** `app:v1` must go from the team's registry `sheet.registry`. The delete is sent
# as the API says — and the registry answers **405 Method Not Allowed**.
#
# **Your job.** Find why, allow deletes without losing an image, and delete `app:v1`.
#
# **You need** notebook 04 · **about 10 minutes** · works with Docker and without it.
#
# ## Set-up
# The registry keeps its data in `sheet.folder` and runs as you; it holds `app:v1` and `app:v2`.

# %%
from reglab.tasks import start

sheet = start("lab-07")

# %% [markdown] tags=["solution"]
# Try the delete and read the registry's answer.

# %% tags=["solution"]
# head = !curl -sI -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' http://{sheet.address}/v2/app/manifests/v1
digest = next(line.split()[1] for line in head if line.lower().startswith("docker-content-digest"))
# !curl -s -X DELETE http://{sheet.address}/v2/app/manifests/{digest}

# %% [markdown]
# ## Task 1 · Deletes allowed, images kept
# `sheet.registry` still answers at `sheet.address` with its images, and accepts deletes.

# %%
# solution
# !docker container rm -f {sheet.registry}
# !docker container run -d --name {sheet.registry} -p {sheet.address}:5000 --user "$(id -u):$(id -g)" -v {sheet.folder}:/var/lib/registry -e REGISTRY_STORAGE_DELETE_ENABLED=true registry:2

# %%
sheet.q1.check()

# %% [markdown] tags=["solution"]
# `UNSUPPORTED`: deletes are off unless the configuration says `storage: delete: enabled: true`
# (environment: `REGISTRY_STORAGE_DELETE_ENABLED=true`). Environment variables are fixed when a
# container is created, so it was recreated — on the same folder, so nothing was lost.

# %% [markdown]
# ## Task 2 · Delete app:v1

# %%
# solution
# head = !curl -sI -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' http://{sheet.address}/v2/app/manifests/v1
digest = next(line.split()[1] for line in head if line.lower().startswith("docker-content-digest"))
# !curl -sSf -X DELETE http://{sheet.address}/v2/app/manifests/{digest}


# %%
sheet.q2.check()

# %% [markdown]
# ## Clean up

# %%
sheet.cleanup()
