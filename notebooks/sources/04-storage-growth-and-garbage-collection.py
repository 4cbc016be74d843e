# %% [markdown]
# # 04 · Storage growth and garbage collection
#
# A registry you run yourself keeps every image on your own disk, so keep track of its storage
# space. In this notebook you watch a registry's disk grow push by push, see why shared layers cost
# nothing twice, find out that deleting a tag frees nothing — and take the space back with garbage
# collection, without falling into its best-known trap.
#
# ## Overview
# By the end you will be able to:
# 1. tell **logical** size (what your images weigh) from **physical** size (what the disk holds);
# 2. explain deduplication: a base layer shared by many images is stored once;
# 3. delete an image through the registry API — with the right digest — and say why the disk does
#    not shrink;
# 4. run `registry garbage-collect` safely (read-only mode, dry run first), and say when
#    `--delete-untagged` is unsafe;
# 5. recognise the "layer already exists" trap after garbage collection, and fix it.
#
# ## Prerequisites
# - Notebooks 01–02 (push, pull, volumes); notebook 03 helps (blobs, links, manifests).
# - About 15 minutes.

# %%
from reglab import Lab, checks, images, plots

lab = Lab("04")

# %% [markdown]
# ## Step 1 · A registry whose files we can measure
# A bind mount puts the registry's storage in a folder we can read directly. Deletes are off, as
# in the upstream image's default configuration.

# %%
registry = lab.run_registry(port=5000, bind="registry-data")

# %% [markdown]
# ## Step 2 · A series of images that share a base
# Real images usually share a base layer (an OS, a language runtime) and differ in a thin layer on
# top. `images.growth_series` makes such a family offline, from pseudo-random bytes that are the
# same on every machine: six versions of `app` and two of `other-app` on one 20 MiB base, and
# one `unrelated` image with a base of its own.

# %%
series = images.growth_series(registry.address, versions=6, second_app_versions=2)
tags = lab.load_images(series)

# %% [markdown]
# ## Step 3 · Push them one by one, measuring after each push

# %%
history = lab.growth.push_series(tags)

# %% [markdown]
# The first push sent both layers; every later `app` and `other-app` push found the base *already
# there* and sent only its own top layer. The whole story as a table:

# %%
history

# %% [markdown]
# **Logical** counts every image in full, as if each were stored alone; **physical** is what the
# folder really holds. The gap is deduplication at work:

# %%
plots.growth(history)

# %% [markdown]
# What is the disk made of? Almost all of it is layer bytes; image configs, manifests and the
# `link` files of `repositories/` are tiny — note the log scale:

# %%
plots.composition(history[-1])

# %% [markdown]
# ## Step 4 · Deleting an image
# Deletion is done through the API, and the upstream registry refuses it unless you allow it:

# %%
with lab.expect_failure():
    lab.growth.delete_image(registry.ref("app", "v1"))

# %% [markdown]
# Recreate the registry on the same folder with `REGISTRY_STORAGE_DELETE_ENABLED=true`:

# %%
registry = lab.restart_registry(REGISTRY_STORAGE_DELETE_ENABLED="true")

# %% [markdown]
# The API deletes a manifest **by digest**, not by tag. Which digest? Ask without an `Accept`
# header (curl then sends `*/*`) and registry 2.8 rewrites the schema-2 manifest into the old
# *schema 1* format, and reports the digest of that rewrite — a document it does not store
# (`DELETE` with that digest answers 404 `MANIFEST_UNKNOWN`):

# %%
old_digest = lab.growth.manifest_digest(registry.ref("app", "v1"), accept=None)

# %% [markdown]
# Ask as `docker pull` does, naming every manifest type — Docker's and OCI's, single images and
# multi-platform indexes — and you get the manifest as stored, whatever its type, with its digest.
# (Naming only Docker's schema-2 type is not enough: an OCI manifest then answers 404, and a
# multi-platform manifest list answers with its linux/amd64 manifest instead.)

# %%
digest = lab.growth.manifest_digest(registry.ref("app", "v1"))

# %% [markdown]
# Measure, delete four versions of `app`, measure again:

# %%
before = lab.growth.measure("before delete")

# %%
for version in ("v1", "v2", "v3", "v4"):
    lab.growth.delete_image(registry.ref("app", version))

# %%
deleted = lab.growth.measure("4 deleted")

# %% [markdown]
# The tagged images now weigh much less — but **not one byte left the disk**. Deleting removed the
# manifests' `link` files in `repositories/`; the blobs in `blobs/` are still there, now unreferenced.
#
# One more kind of garbage: rebuild `app:v6` and push it under the same tag. The tag moves to the new
# manifest, and the old one stays behind *untagged*:

# %%
tags = lab.load_images([images.rebuilt(series[5], seed=1)])

# %%
pushed = lab.push(registry.ref("app", "v6"))

# %%
repushed = lab.growth.measure("v6 rebuilt")

# %% [markdown]
# ## Step 5 · Garbage collection
# `registry garbage-collect` reads the registry's configuration — `/etc/docker/registry/config.yml`
# in `registry:2`; `registry:3` reads `/etc/distribution/config.yml` — to find the storage, marks
# every blob a manifest still references, then sweeps the rest. It is **stop-the-world**: a push that lands between mark and sweep could lose a blob. So first make the
# registry read-only (`storage.maintenance.readonly`); pulls keep working, pushes are refused:

# %%
lab.growth.read_only()

# %%
with lab.expect_failure():
    lab.push(registry.ref("unrelated", "v1"))

# %% [markdown]
# Always look before you leap — a dry run lists what would go:

# %%
dry = lab.growth.garbage_collect(dry_run=True)

# %%
collected = lab.growth.garbage_collect()

# %%
after_gc = lab.growth.measure("after GC")

# %% [markdown]
# The untagged old `app:v6` survived: plain garbage collection keeps every manifest that was ever
# pushed and not deleted. `--delete-untagged` removes those too.
#
# **Careful:** in registry 2.8 it also deletes the per-platform manifests of every multi-platform
# image (a manifest list or OCI index). Only the index carries the tag, so each platform's manifest
# counts as untagged, is deleted, and the image no longer pulls (distribution issues #3178 and
# #3004, fixed only in v3). Use it only on a registry that holds single-platform images, like this
# one:

# %%
collected = lab.growth.garbage_collect(delete_untagged=True)

# %%
untagged = lab.growth.measure("--delete-untagged")

# %%
lab.growth.read_only(False)

# %% [markdown]
# The whole story in one picture:

# %%
plots.collection([before, deleted, repushed, after_gc, untagged])

# %% [markdown]
# Every image still tagged pulls as before. Remove the local copy of `app:v5` and pull it back:

# %%
lab.remove_image(registry.ref("app", "v5"))

# %%
pulled = lab.pull(registry.ref("app", "v5"))

# %% [markdown]
# ## Step 6 · The trap: "Layer already exists"
# The registry keeps an **in-memory cache** of the blobs it has seen. Run garbage collection while it
# keeps serving — the wrong way — and the cache still remembers blobs that are gone. Watch it happen
# with a small image whose layer no other image shares:

# %%
scratch = images.synthetic_image(registry.ref("scratch", "v1"), [images.random_layer("scratch.bin", 2 * images.MiB, "scratch")])
tags = lab.load_images([scratch])

# %%
pushed = lab.push(registry.ref("scratch", "v1"))

# %%
digest = lab.growth.delete_image(registry.ref("scratch", "v1"))

# %%
collected = lab.growth.garbage_collect()

# %% [markdown]
# The layer, the config and the manifest of `scratch:v1` are gone from disk. Push it again — the
# registry answers from its cache that the layer *already exists*, so Docker sends nothing:

# %%
pushed = lab.push(registry.ref("scratch", "v1"))

# %% [markdown]
# The push "succeeded", yet the registry cannot serve the image. A check that asks the registry for
# the manifest and every blob sees it at once:

# %%
lab.check(checks.image_in_registry, registry, "scratch", "v1")

# %% [markdown]
# And so does Docker, once it has no local copy to fall back on:

# %%
lab.remove_image(registry.ref("scratch", "v1"))

# %%
with lab.expect_failure():
    lab.pull(registry.ref("scratch", "v1"))

# %% [markdown]
# The fix: restart the registry (a new process starts with an empty cache) — better, run garbage
# collection only on a read-only registry and restart it afterwards, as in Step 5. That is the
# in-memory cache (`blobdescriptor: inmemory`, the image's default). A Redis cache
# (`blobdescriptor: redis`) survives a restart: flush the registry's Redis database as well. Then
# push again:

# %%
registry = lab.restart_registry()

# %%
tags = lab.load_images([scratch])

# %%
pushed = lab.push(registry.ref("scratch", "v1"))

# %%
lab.remove_image(registry.ref("scratch", "v1"))

# %%
pulled = lab.pull(registry.ref("scratch", "v1"))

# %%
lab.check(checks.image_in_registry, registry, "scratch", "v1")

# %% [markdown]
# This time the layers were really sent, and the pull works.
#
# ## Check your work
# What is still tagged pulls whole, and nothing on disk is garbage any more:

# %%
lab.check(checks.image_in_registry, registry, "app", "v5")

# %%
lab.check(checks.image_in_registry, registry, "scratch", "v1")

# %%
lab.check(checks.no_garbage, registry)

# %% [markdown]
# ## Summary
# - Physical storage grows by the layers a push adds that the registry does not have yet; shared
#   layers are stored once, so logical size can be many times the physical size.
# - Deleting (API `DELETE /v2/<name>/manifests/<digest>`, enabled by
#   `REGISTRY_STORAGE_DELETE_ENABLED=true`) removes links, not bytes. Delete the digest
#   `Docker-Content-Digest` reports when you ask with an `Accept` header naming every manifest type
#   (Docker's and OCI's, images and indexes): the manifest as stored. With Docker's schema-2 type
#   alone an OCI manifest answers 404 and a manifest list its linux/amd64 manifest; with none, you
#   get a schema-1 rewrite's digest.
# - `registry garbage-collect` frees the bytes. Make the registry read-only first, dry-run, collect,
#   add `--delete-untagged` for manifests that lost their tag — only where no multi-platform images
#   live, since 2.8 deletes their platform manifests — then restart the registry.
# - After collecting, restart the registry (and flush a Redis blob cache), or its blob cache can make
#   pushes skip layers that are gone.
#
# ## Going further
# - `storage.cache.blobdescriptor` in `/etc/docker/registry/config.yml` selects the cache
#   (`inmemory` in the image's configuration, or `redis`); without it there is nothing to go stale,
#   at some speed cost.
# - Count what you would save before deleting: `history` holds the numbers; try other series with
#   `images.growth_series(registry.address, versions=20, base_mib=50)`.
#
# ## Clean up
# The twins remove by hand what the lab created, including the old `app:v6` image that lost its
# tag when the rebuilt one was loaded (`<none>` in `docker image ls`):

# %%
removed = lab.cleanup()

# %%
lab.check(checks.nothing_left)
