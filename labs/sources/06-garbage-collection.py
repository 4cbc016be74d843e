# %% [markdown]
# # Lab 06 · Garbage collection
#
# Notebook 04 deleted images and took the space back. Your turn, the safe way: delete two images
# by digest, stop writes, collect, and push again.
#
# **You need** notebook 04 · **about 20 minutes** · works with Docker and without it.
#
# **How this lab works** (as in lab 01): each task says what must be true at the end; the check
# reads the live registry and its files. `sheet.q1.hint()` and `sheet.q1.solution()` help.
#
# ## Set-up
# The set-up runs a `registry:3`, its data in `sheet.folder` — deletes are on, as `registry:3`'s own
# config has them — and pushes `app:v1` to `app:v4`: one shared base layer, and a thin layer of
# each version's own. It also loads `app:v5` on your machine (not pushed).

# %%
from reglab.tasks import start

sheet = start("lab-06")

# %% [markdown]
# ## Task 1 · Delete two images
# Delete the images `app:v1` and `app:v2` through the registry's API — the images, not only their
# tags. `app:v3` and `app:v4` must stay whole.

# %%
# solution
# head = !curl -sI -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' http://{sheet.address}/v2/app/manifests/v1
digest = next(line.split()[1] for line in head if line.lower().startswith("docker-content-digest"))
# !curl -sSf -X DELETE http://{sheet.address}/v2/app/manifests/{digest}
# head = !curl -sI -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' http://{sheet.address}/v2/app/manifests/v2
digest = next(line.split()[1] for line in head if line.lower().startswith("docker-content-digest"))
# !curl -sSf -X DELETE http://{sheet.address}/v2/app/manifests/{digest}


# %%
sheet.q1.check()

# %% [markdown]
# ## Task 2 · No more writes
# Garbage collection must not race a push. Make the registry read-only — same name, address,
# data folder — so that pulls keep working and pushes are refused by the registry's maintenance
# mode.

# %%
# solution
# !docker container rm -f -v {sheet.registry}
# !docker container run -d --name {sheet.registry} -p {sheet.address}:5000 --user "$(id -u):$(id -g)" -v {sheet.folder}:/var/lib/registry -e "REGISTRY_STORAGE_MAINTENANCE_READONLY=enabled: true" registry:3

# %%
sheet.q2.check()

# %% [markdown]
# ## Task 3 · Collect
# Take back the space: no blob may remain that no manifest references. Look before you leap.

# %%
# solution
# !docker container exec {sheet.registry} registry garbage-collect --dry-run /etc/distribution/config.yml 2>&1 | grep 'blobs marked'
# !docker container exec {sheet.registry} registry garbage-collect /etc/distribution/config.yml 2>&1 | grep 'blobs marked'

# %%
sheet.q3.check()

# %% [markdown] tags=["solution"]
# `grep` keeps the summary line: the full output lists every manifest and blob marked, then each
# blob deleted (and, on `registry:3`, the `_layers` link of each). The dry run came first: it
# deletes nothing and shows what would go. The base layer survived: `app:v3` and `app:v4` still
# reference it.

# %% [markdown]
# ## Task 4 · Back in business
# Make the registry writable again and push `app:v5` (a rollback: `app:v1`'s code again).

# %%
# solution
# !docker container rm -f -v {sheet.registry}
# !docker container run -d --name {sheet.registry} -p {sheet.address}:5000 --user "$(id -u):$(id -g)" -v {sheet.folder}:/var/lib/registry registry:3
# !curl -s -o /dev/null --retry 10 --retry-delay 1 --retry-all-errors http://{sheet.address}/v2/
# !docker image push --quiet {sheet.address}/app:v5

# %%
sheet.q4.check()

# %% [markdown] tags=["solution"]
# `app:v5`'s top layer is the very layer the collection deleted with `app:v1`. The new registry
# process starts with an empty blob cache, so it answered "not here" and Docker sent the layer
# again. A registry that kept running through the collection would have said "already exists".
# The recreated registry needs no `REGISTRY_STORAGE_DELETE_ENABLED`: `registry:3`'s own config
# keeps deletes on (on `registry:2` it would have to be given again, or deletes would be off).

# %% [markdown]
# ## Clean up

# %%
sheet.cleanup()
