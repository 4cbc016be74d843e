# %% [markdown]
# # Lab 09 · Fix: the disk did not shrink
#
# **The situation.** The team's registry is filling its disk. Yesterday someone deleted `data:v1`
# and `data:v2` through the API (by digest, as it should be), and rebuilt and pushed
# `tools:latest` again. The folder `sheet.folder` is as big as before, but for a few link files.
#
# **Your job.** Take the space back — all of it — and leave the registry safe to push to.
#
# **You need** notebook 04 and lab 06 · **about 15 minutes** · works with Docker and without it.
#
# ## Set-up

# %%
from reglab.tasks import start

sheet = start("lab-09")

# %% [markdown] tags=["solution"]
# How many blobs does the disk hold, and what do the repositories still list?

# %% tags=["solution"]
# !find {sheet.folder} -name data | wc -l
# !curl -s http://{sheet.address}/v2/data/tags/list

# %% [markdown]
# ## Task 1 · Free what the deleted images hold
# Every blob of `data:v1` and `data:v2` — manifests, configs, layers — must leave the disk;
# `data:v3` stays whole.

# %%
# solution
# !docker container rm -f -v {sheet.registry}
# !docker container run -d --name {sheet.registry} -p {sheet.address}:5000 --user "$(id -u):$(id -g)" -v {sheet.folder}:/var/lib/registry -e "REGISTRY_STORAGE_MAINTENANCE_READONLY=enabled: true" registry:3
# !docker container exec {sheet.registry} registry garbage-collect --dry-run /etc/distribution/config.yml 2>&1 | grep 'blobs marked'
# !docker container exec {sheet.registry} registry garbage-collect /etc/distribution/config.yml 2>&1 | grep 'blobs marked'

# %%
sheet.q1.check()

# %% [markdown]
# ## Task 2 · Free the old tools:latest too
# The layer of the `tools:latest` that was replaced must leave the disk as well.

# %%
# solution
# !docker container exec {sheet.registry} registry garbage-collect --dry-run --delete-untagged /etc/distribution/config.yml 2>&1 | grep -e 'eligible for deletion: {{' -e 'blobs marked'
# !docker container exec {sheet.registry} registry garbage-collect --delete-untagged /etc/distribution/config.yml 2>&1 | grep 'blobs marked'
# !find {sheet.folder} -name data | wc -l

# %%
sheet.q2.check()

# %% [markdown] tags=["solution"]
# Pushing a tag again moves the tag; the old manifest stays in `_manifests/revisions/`, and plain
# garbage collection keeps everything a manifest references. `--delete-untagged` removes manifests
# no tag points to first. The dry run names the one it would take, with its repository and, in
# brackets, that repository's tags (whose history the collection cleans of that manifest).
#
# **Before you use it on your own registry:** on `registry:3` (distribution v3, PR #4285) it keeps
# the per-platform manifests of a multi-platform image, which only its index names. Registry 2.8
# (`registry:2`) counts them as untagged and deletes them, and the image no longer pulls
# (distribution issue #3178): there, use it only where no multi-platform images live (notebook A ·
# registry:2 and registry:3).

# %% [markdown]
# ## Task 3 · Safe to push to
# Writable again, deletes still on, and no memory of the blobs that were collected.

# %%
# solution
# !docker container rm -f -v {sheet.registry}
# !docker container run -d --name {sheet.registry} -p {sheet.address}:5000 --user "$(id -u):$(id -g)" -v {sheet.folder}:/var/lib/registry registry:3

# %%
sheet.q3.check()

# %% [markdown]
# ## Clean up

# %%
sheet.cleanup()
