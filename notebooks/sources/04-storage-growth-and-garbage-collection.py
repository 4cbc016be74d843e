# %% [markdown]
# # 04 · Storage growth and garbage collection
#
# A registry a team uses keeps growing: every push adds what the registry does not have yet, and
# nothing leaves on its own. In this notebook you watch a registry's disk grow push by push, see
# why shared layers cost nothing twice, find out that deleting an image frees no blob — and take
# the space back with garbage collection, without falling into its best-known trap.
#
# ## Overview
# By the end you will be able to:
# 1. tell **logical** size (what your images weigh) from **physical** size (what the disk holds);
# 2. explain deduplication: a base layer shared by many images is stored once;
# 3. delete an image through the registry API — by its digest, and say why a tag is not enough —
#    and say why the disk does not shrink;
# 4. run `registry garbage-collect` safely (read-only mode, dry run first), and say what
#    `--delete-untagged` takes, and where it is unsafe;
# 5. recognise the "layer already exists" trap after garbage collection, and fix it.
#
# ## Prerequisites
# - Notebooks 01–02 (push, pull, volumes); notebook 03 helps (blobs, links, manifests).
# - About 20 minutes. The registry is `registry:3`; where `registry:2` behaves otherwise, the text
#   says so, and notebook A · registry:2 and registry:3 shows it live.

# %%
from reglab import Lab, checks, images, plots, start

lab = Lab("04")

# %% [markdown]
# ## Step 1 · A registry whose files we can measure
# A bind mount puts the registry's storage in a folder we can read directly. Deletes are on: the
# `registry:3` image turns them on in its own config (`storage: delete: enabled: true` in
# `/etc/distribution/config.yml`). The registry program's default keeps them off, and so does the
# `registry:2` image.

# %%
registry = lab.run_registry(port=5000, bind="registry-data")

# %% [markdown]
# ## Step 2 · A series of images that share a base
# Real images usually share a base layer (an OS, a language runtime) and differ in a thin layer on
# top. `images.growth_series` makes such a family offline, from fixed random bytes (so it is the
# same on every machine): six versions of `app` and two of `other-app` on one 20 MiB base, and
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
# folder really holds. The gap is deduplication at work. Below the figure, the numbers it draws:

# %%
plots.with_numbers(plots.growth(history))

# %% [markdown]
# What is the disk made of? Almost all of it is layer bytes; image configs, manifests and the
# `link` files of `repositories/` are tiny — note the log scale:

# %%
plots.with_numbers(plots.composition(history[-1]))

# %% [markdown]
# ## Step 4 · Deleting an image
# First, the storage as it is now:

# %%
before = lab.growth.measure("before delete")

# %% [markdown]
# The API deletes an image by its manifest's **digest**. Which digest? Ask as `docker pull` does,
# naming every manifest type — Docker's and OCI's, single images and multi-platform indexes — and
# read `Docker-Content-Digest`:

# %%
digest = lab.growth.manifest_digest(registry.ref("app", "v1"))

# %% [markdown]
# `registry:3` serves each manifest as it was pushed, whatever the request's `Accept` says: ask
# with none (curl then sends `*/*`) and the answer names the same document.

# %%
same = lab.growth.manifest_digest(registry.ref("app", "v1"), accept=None)

# %% [markdown]
# Where `Accept` still matters: an **OCI** manifest — what Buildah pushes, and BuildKit with
# `oci-mediatypes=true` — answers 404 `MANIFEST_UNKNOWN` to a request that does not name its type,
# in `registry:3` and `registry:2` alike (lab 08 meets it). And `registry:2` rewrote a Docker
# manifest asked for without `Accept` into the old *schema 1*, reporting the digest of a document
# it never stored (notebook A).
#
# A team's own config often turns deletes off. Recreate the registry with that setting —
# `REGISTRY_STORAGE_DELETE_ENABLED=false`, the environment form of `storage.delete.enabled` — and
# the same delete is refused:

# %%
registry = lab.restart_registry(REGISTRY_STORAGE_DELETE_ENABLED="false")

# %%
with lab.expect_failure():
    lab.growth.delete_image(registry.ref("app", "v1"))

# %% [markdown]
# Without the variable, the image's own config applies again: deletes on.

# %%
registry = lab.restart_registry(REGISTRY_STORAGE_DELETE_ENABLED=None)

# %% [markdown]
# Why the digest, when `registry:3` also takes a tag? A `DELETE` by tag removes **the tag only**
# (`registry:2` refuses it with 400). Remove the tag `other-app:v1` that way:

# %%
kept = lab.growth.delete_tag(registry.ref("other-app", "v1"))

# %% [markdown]
# The manifest is still stored, untagged — and with it everything it references; only a collection
# with `--delete-untagged` (step 5) takes it. A `DELETE` by digest deletes the manifest itself, and
# every tag that names it. Delete four versions of `app` that way, and measure again:

# %%
for version in ("v1", "v2", "v3", "v4"):
    lab.growth.delete_image(registry.ref("app", version))

# %%
deleted = lab.growth.measure("deleted")

# %% [markdown]
# The tagged images now weigh much less — but **no blob left the disk**. Deleting removed a few
# `link` files in `repositories/` (each manifest's revision link and its tags' folders: a few
# hundred bytes); every blob in `blobs/` is still there, now referenced by no stored manifest.
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
# `registry garbage-collect` reads the registry's configuration — `/etc/distribution/config.yml` in
# `registry:3` (`registry:2`'s image kept it at `/etc/docker/registry/config.yml`) — to find the
# storage, marks every blob a stored manifest still references, then sweeps the rest. It is
# **stop-the-world**: a push that lands between mark and sweep could lose a blob. So first make the
# registry read-only (`storage.maintenance.readonly`); pulls keep working, pushes are refused:

# %%
lab.growth.read_only()

# %%
with lab.expect_failure():
    lab.push(registry.ref("unrelated", "v1"))

# %% [markdown]
# Each repository keeps a `link` file in its `_layers` folder for every blob it may serve. `app`'s,
# before collecting:

# %%
links = lab.growth.layer_links("app")

# %% [markdown]
# Always look before you leap — a dry run lists what would go:

# %%
dry = lab.growth.garbage_collect(dry_run=True)

# %%
collected = lab.growth.garbage_collect()

# %%
after_gc = lab.growth.measure("after GC")

# %%
links = lab.growth.layer_links("app")

# %% [markdown]
# `registry:3` also removed each deleted blob's `link` from the repositories' `_layers` folders
# (distribution PR #4344); `registry:2` leaves them behind, naming blobs that are gone.
#
# The untagged manifests survived — the old `app:v6`, and `other-app:v1`'s: plain garbage collection
# keeps every manifest still stored. `--delete-untagged` first removes the manifests no tag names,
# then the blobs only they referenced.
#
# **Careful on `registry:2`:** a multi-platform image is an index (or manifest list) that names one
# manifest per platform; only the index carries the tag. Registry 2.8 counts the per-platform
# manifests as untagged, deletes them, and the image no longer pulls (distribution issue #3178). On
# `registry:3` the index's manifests count as referenced and stay (distribution PR #4285, in
# v3.0.0; notebook A's table of differences lists it, not run here: the course's images have one
# platform each). On a `registry:2`, use `--delete-untagged` only where no
# multi-platform images live. Dry run first, again:

# %%
dry = lab.growth.garbage_collect(dry_run=True, delete_untagged=True)

# %%
collected = lab.growth.garbage_collect(delete_untagged=True)

# %%
untagged = lab.growth.measure("--delete-untagged")

# %%
lab.growth.read_only(False)

# %% [markdown]
# The whole story in one picture, and its numbers:

# %%
plots.with_numbers(plots.collection([before, deleted, repushed, after_gc, untagged]))

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
# The push "succeeded", and stored the manifest again. Ask the registry about the layer it names:

# %%
lab.growth.blob_answers(registry.ref("scratch", "v1"))

# %% [markdown]
# `HEAD` says the layer is there, with its length — the cache's answer; a `GET` gets the same
# headers, then not one byte: the file is gone (typed in a terminal, that `curl` also exits with
# status 18, "partial file": the answer ended before the bytes its `Content-Length` promised). A
# check that downloads every blob and hashes it sees it at once:

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
# in-memory cache (`storage.cache.blobdescriptor: inmemory`, in `registry:3`'s config as in
# `registry:2`'s). A Redis cache (`blobdescriptor: redis`) survives a restart: flush the registry's
# Redis database as well. Then push again:

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
# ## Your turn
# Two tasks on this registry, done by you with curl and the docker CLI — in a terminal, or in a
# cell with `!` (in a `!` command, `{registry.address}` is the registry's address and
# `{registry.name}` its container). Each check reads the registry as it is; `.hint()` and
# `.solution()` help, and the hidden cell under yours holds one solution.

# %%
practice = start("04", lab)

# %% [markdown]
# ### Task 1 · Delete `other-app:v2` yourself
# **Predict:** after a `DELETE` by tag, would a collection free `other-app:v2`'s own layer? Then
# delete the image `other-app:v2` — the image, not only its tag — with curl.

# %%
# your command here

# %% tags=["solution"] jupyter={"source_hidden": true}
# head = !curl -sI -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' http://{registry.address}/v2/other-app/manifests/v2
digest = next(line.split()[1] for line in head if line.lower().startswith("docker-content-digest"))
# !curl -sSf -X DELETE http://{registry.address}/v2/other-app/manifests/{digest}

# %%
practice.q1.check()

# %% [markdown]
# ### Task 2 · Take its space back, safely
# **Predict:** how many blobs will the collection delete (the base layer is `app:v5`'s too)? Then
# collect with `docker container exec` — dry run first — and leave the registry safe to push to.

# %%
# your command here

# %% tags=["solution"] jupyter={"source_hidden": true}
# !docker container exec {registry.name} registry garbage-collect --dry-run /etc/distribution/config.yml 2>&1 | grep 'blobs marked'
# !docker container exec {registry.name} registry garbage-collect /etc/distribution/config.yml 2>&1 | grep 'blobs marked'
# !docker container restart {registry.name}

# %%
practice.q2.check()

# %% [markdown]
# ## Summary
# - Physical storage grows by the layers a push adds that the registry does not have yet; shared
#   layers are stored once, so logical size can be many times the physical size.
# - `registry:3`'s image has deletes on; the registry program's default, `registry:2` and many
#   teams' configs have them off (405 `UNSUPPORTED`; `REGISTRY_STORAGE_DELETE_ENABLED=true` or
#   `storage.delete.enabled: true` turns them on).
# - `DELETE /v2/<name>/manifests/<digest>` deletes an image: its manifest, and every tag naming it.
#   By tag, `registry:3` removes only the tag. Take the digest from `Docker-Content-Digest`, asking
#   with an `Accept` header naming every manifest type (an OCI manifest answers 404 without its
#   type). Deleting removes links, not blobs.
# - `registry garbage-collect /etc/distribution/config.yml` frees the blobs. Make the registry
#   read-only first, dry-run, collect; add `--delete-untagged` for manifests that lost their tag
#   (on `registry:2` only where no multi-platform images live) — then restart the registry.
# - After collecting, restart the registry (and flush a Redis blob cache), or its blob cache can make
#   pushes skip layers that are gone, and pulls stop half-way.
#
# ## Going further
# - `storage.cache.blobdescriptor` in `/etc/distribution/config.yml` selects the cache
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
