# %% [markdown]
# # Lab 07 · Fix: 405 on delete
#
# **The situation.** `app:v1` must go from the team's registry `sheet.registry`. The delete is sent
# as the API says — and the registry answers **405 Method Not Allowed**. Odd: the `registry:3`
# image turns deletes on in its own config. But this registry runs with the platform team's config
# file, `sheet.config`, mounted over the image's own.
#
# **Your job.** Find why, allow deletes without losing an image or the team's config, and delete
# `app:v1`.
#
# **You need** notebook 04 · **about 10 minutes** · works with Docker and without it.
#
# ## Set-up
# The registry keeps its data in `sheet.folder` and runs as you; it holds `app:v1` and `app:v2`.

# %%
from reglab.tasks import start

sheet = start("lab-07")

# %% [markdown] tags=["solution"]
# Try the delete and read the registry's answer; then look at what the container reads.

# %% tags=["solution"]
# head = !curl -sI -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' http://{sheet.address}/v2/app/manifests/v1
digest = next(line.split()[1] for line in head if line.lower().startswith("docker-content-digest"))
# !curl -s -X DELETE http://{sheet.address}/v2/app/manifests/{digest}
# !grep -A1 'delete:' {sheet.config}

# %% [markdown]
# ## Task 1 · Deletes allowed, images and config kept
# `sheet.registry` still answers at `sheet.address` with its images, still reads the team's
# config, and accepts deletes.

# %%
# solution
# !sed -i 's/enabled: false/enabled: true/' {sheet.config}
# !docker container restart {sheet.registry}

# %%
sheet.q1.check()

# %% [markdown] tags=["solution"]
# `UNSUPPORTED`: deletes are off unless the config the registry reads says `storage: delete:
# enabled: true`. The team's file says `false` — the registry program's own default, and what
# `registry:2`'s image config leaves it at (notebook A · registry:2 and registry:3). A mounted file
# is read when the container starts, so the container was restarted; the data folder never moved.
# Overriding one setting works too: recreate the container, same folder, port, `--user` and
# config, with `-e REGISTRY_STORAGE_DELETE_ENABLED=true` — an environment variable wins over the
# file.

# %% [markdown]
# ## Task 2 · Delete app:v1

# %%
# solution
# head = !curl -sI -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' http://{sheet.address}/v2/app/manifests/v1
digest = next(line.split()[1] for line in head if line.lower().startswith("docker-content-digest"))
# !curl -sSf -X DELETE http://{sheet.address}/v2/app/manifests/{digest}

# %%
sheet.q2.check()

# %% [markdown] tags=["solution"]
# By digest: that deletes the manifest, and with it every tag that named it. On `registry:3`,
# `DELETE /v2/app/manifests/v1` (by tag) also answers 202 — but removes only the tag, and the
# image stays in the registry, untagged.

# %% [markdown]
# ## Clean up

# %%
sheet.cleanup()
