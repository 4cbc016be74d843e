# %% [markdown]
# # Lab 08 · Fix: manifest unknown on delete
#
# **The situation.** A colleague wrote `sheet.script` to delete images from the team's registry. It
# "worked with the old registry". Here, `sh <sheet.script> app v1` ends in a **404**: the registry
# says it has no such manifest — right after telling the script its digest.
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
# Run the script, then ask for the manifest's headers the way it does and the way Docker does.

# %% tags=["solution"]
# !sh {sheet.script} app v1
# !curl -sI http://{sheet.address}/v2/app/manifests/v1 | grep -i -e '^content-type' -e '^docker-content-digest'
# !curl -sI -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' http://{sheet.address}/v2/app/manifests/v1 | grep -i -e '^content-type' -e '^docker-content-digest'

# %% [markdown] tags=["solution"]
# Two digests for one tag. Asked with curl's default `Accept: */*`, a 2.x registry converts the
# manifest to the old *schema 1* (`…manifest.v1+prettyjws`) and reports the digest of that
# converted document, which it never stored — so `DELETE` by that digest finds nothing.

# %% [markdown]
# ## Task 1 · Delete app:v1

# %%
# solution
# head = !curl -sI -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' http://{sheet.address}/v2/app/manifests/v1
digest = next(line.split()[1] for line in head if line.lower().startswith("docker-content-digest"))
# !curl -sSf -X DELETE http://{sheet.address}/v2/app/manifests/{digest}

# %%
sheet.q1.check()

# %% [markdown]
# ## Task 2 · Fix the script, then delete app:v2 with it

# %%
# solution
# !sed -i "s|curl -sI |curl -sI -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' |" {sheet.script}
# !sh {sheet.script} app v2

# %%
sheet.q2.check()

# %% [markdown] tags=["solution"]
# A script meant for OCI images too would send both types:
# `-H 'Accept: application/vnd.oci.image.manifest.v1+json' -H 'Accept: application/vnd.docker.distribution.manifest.v2+json'`.

# %% [markdown]
# ## Clean up

# %%
sheet.cleanup()
