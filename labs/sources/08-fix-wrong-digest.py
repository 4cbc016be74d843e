# %% [markdown]
# # Lab 08 · Fix: manifest unknown on delete
#
# **The situation.** A colleague wrote `sheet.script` to delete images from the team's registry. It
# "worked with my images" — images pushed with the docker CLI. The team's CI builds with a tool
# that pushes **OCI** image manifests (Buildah does by default, BuildKit with
# `oci-mediatypes=true`). Here, `sh <sheet.script> app v1` ends in a **404**, although
# `tags/list` lists `v1`.
#
# **Your job.** Delete `app:v1`, then fix the script so that it deletes `app:v2`. `app:v3` stays.
#
# **You need** notebook 04 · **about 15 minutes** · works with Docker and without it.
#
# ## Set-up

# %%
from reglab.tasks import start

sheet = start("lab-08")

# %% [markdown] tags=["solution"]
# Run the script, then ask for the manifest the way it does, and read the registry's answer.

# %% tags=["solution"]
# !sh {sheet.script} app v1
# !curl -s http://{sheet.address}/v2/app/tags/list
# !curl -s http://{sheet.address}/v2/app/manifests/v1

# %% [markdown] tags=["solution"]
# `MANIFEST_UNKNOWN` for a tag the registry lists: the manifest is an OCI manifest, and the
# request's `Accept` (curl sends `*/*`) does not name its type, so the registry does not serve it.
# The script's `HEAD` got the same 404, its `$digest` came out empty, and it sent
# `DELETE …/manifests/` — a URL the API does not have. Ask again, naming the type:

# %% tags=["solution"]
# !curl -sI -H 'Accept: application/vnd.oci.image.manifest.v1+json' http://{sheet.address}/v2/app/manifests/v1 | grep -i -e '^content-type' -e '^docker-content-digest'

# %% [markdown]
# ## Task 1 · Delete app:v1

# %%
# solution
# head = !curl -sI -H 'Accept: application/vnd.oci.image.manifest.v1+json' http://{sheet.address}/v2/app/manifests/v1
digest = next(line.split()[1] for line in head if line.lower().startswith("docker-content-digest"))
# !curl -sSf -X DELETE http://{sheet.address}/v2/app/manifests/{digest}

# %%
sheet.q1.check()

# %% [markdown]
# ## Task 2 · Fix the script, then delete app:v2 with it

# %%
# solution
# !sed -i "s|curl -sI |curl -sI -H 'Accept: application/vnd.oci.image.manifest.v1+json' -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' |" {sheet.script}
# !sh {sheet.script} app v2

# %%
sheet.q2.check()

# %% [markdown] tags=["solution"]
# Both types, because the team's registry holds both: images the docker CLI pushed (Docker's
# type) and images the CI pushed (OCI's). A script that may meet multi-platform images names the
# index types too (`application/vnd.oci.image.index.v1+json`,
# `application/vnd.docker.distribution.manifest.list.v2+json`), as `docker pull` does.
# On `registry:2` a missing `Accept` had one more trap: a Docker manifest came back rewritten into
# the old schema 1, with the digest of that rewrite (notebook A · registry:2 and registry:3).

# %% [markdown]
# ## Clean up

# %%
sheet.cleanup()
