# %% [markdown]
# # 02 · Keep your images with volumes
#
# In notebook 01 the registry kept your image *inside its container*. Containers are meant to be
# thrown away and recreated — and a registry that forgets every image when that happens is not
# much of a registry. Here you lose an image on purpose, then give the registry a **volume** so
# its data outlives the container, and look at how it lays the data out on disk.
#
# ## Overview
# By the end you will be able to:
# 1. show that removing a registry container without a volume loses its images;
# 2. run the registry with a named volume, and with a bind mount (a folder you choose);
# 3. read the storage tree: `blobs/` holds the bytes, `repositories/` holds only links;
# 4. say what a `link` file contains, and prove an image survives a recreated registry.
#
# ## Prerequisites
# - Notebook 01 (tag, push, pull).
# - About 15 minutes.

# %%
from reglab import Lab, checks, start

lab = Lab("02")

# %% [markdown]
# ## Step 1 · A registry with one image
# The same start as notebook 01: run a registry, name `hello-world` for it, push.

# %%
registry = lab.run_registry(port=5000)

# %%
lab.tag("hello-world", registry.ref("hello-world"))

# %%
pushed = lab.push(registry.ref("hello-world"))

# %% [markdown]
# ## Step 2 · Kill and remove the registry
# `kill` stops it at once (SIGKILL); `rm` removes the container. The `registry:3` image declares
# `/var/lib/registry` as a volume, so without one of our own Docker made an *anonymous* volume;
# `-v` removes it with the container (without `-v` it would linger, nameless, on your disk).

# %%
lab.kill_registry()

# %%
lab.remove_registry()

# %% [markdown]
# ## Step 3 · A new registry has forgotten everything
# Start a fresh registry on the same port and ask for the image again:

# %%
registry = lab.run_registry()

# %%
repositories = lab.catalog()

# %%
with lab.expect_failure():
    lab.pull(registry.ref("hello-world"))

# %% [markdown]
# The image was in the anonymous volume Docker had made for `/var/lib/registry`, and `rm -v`
# removed that volume with the container. Without `-v` the volume would still be on your disk,
# nameless — but a new container gets a new anonymous volume, so the registry would have
# forgotten the image all the same. The fix is to keep `/var/lib/registry` in storage with a name,
# which outlives containers.

# %% [markdown]
# ## Step 4 · Recreate the registry with a named volume
# A **named volume** is storage Docker manages for you (under `/var/lib/docker/volumes/` on Linux).
# The usual command names it `registry-data`; the lab prefixes its own names with `reglab-02-` so it
# can never touch a volume of yours with that name. (Typed the twins in a terminal before? Then
# `reglab-02-registry-data` exists already, and `Lab("02")` above said how to remove it or hand it
# over.)

# %%
lab.kill_registry()
lab.remove_registry()

# %%
registry = lab.run_registry(volume="registry-data")

# %%
pushed = lab.push(registry.ref("hello-world"))

# %% [markdown]
# ## Step 5 · Look inside: the tree of SHA directories
# On Linux a named volume is a folder, `/var/lib/docker/volumes/<name>/_data` (`docker volume
# inspect` shows it as `Mountpoint`), that only root may read; with Docker Desktop it lies inside a
# virtual machine. Asking the registry's own container works everywhere: `find` lists every file
# under `/var/lib/registry`. The lab then draws the same files as a tree — read its right-hand
# column top to bottom:

# %%
tree = lab.storage.tree()

# %% [markdown]
# Two halves:
# - **`blobs/`** holds the content — the layer, the image config and the manifest — each in a
#   folder named by the sha256 of its bytes (*content addressing*). The same bytes pushed twice,
#   under any name, are stored once.
# - **`repositories/`** holds only names: small `link` files that point to blobs by digest.
#
# A tag is a link file. It holds the digest of the manifest the tag points to — the very digest
# the push printed:

# %%
link = lab.storage.show_link("hello-world", "latest")

# %%
link == pushed.digest

# %% [markdown]
# ## Step 6 · Recreate it: the image survives
# Kill and remove the registry again, then start a new one on the **same volume**:

# %%
lab.kill_registry()
lab.remove_registry()

# %%
registry = lab.run_registry(volume="registry-data")

# %%
repositories = lab.catalog()

# %% [markdown]
# To be sure the image comes from the registry and not from a local copy, remove both local names
# first:

# %%
lab.remove_image(registry.ref("hello-world"))

# %%
lab.remove_image("hello-world")

# %%
pulled = lab.pull(registry.ref("hello-world"))

# %%
pulled.digest == pushed.digest

# %% [markdown]
# ## Step 7 · A bind mount: a folder you can open
# A **bind mount** maps a folder of yours into the container. On Linux the lab runs the registry
# as you (`--user "$(id -u):$(id -g)"`), so the files it writes are yours to read and delete
# without `sudo`.

# %%
lab.kill_registry()
lab.remove_registry()

# %%
registry = lab.run_registry(bind="registry-data")

# %%
pushed = lab.push(registry.ref("hello-world"))

# %% [markdown]
# Now the files lie in an ordinary folder of yours, so the same `find` runs right here, no
# `docker container exec` needed. (`tree` draws such a folder as a tree, if you install it:
# `sudo apt install tree`, `brew install tree`.)

# %%
tree = lab.storage.tree(explain=False)

# %% [markdown]
# Same layout as in the volume, byte for byte the same blobs: the digests depend on the
# content only, not on where it is stored.

# %% [markdown]
# ## Your turn
# Two tasks on the registry you just ran on a folder. For each: predict, then do it yourself — in the
# empty cell, each line starting with `!` (`{registry.address}` and `{registry.bind}` are replaced by
# the registry's address and folder), or in a terminal. The check reads the live registry, its
# container and its files. `practice.q1.hint()` helps; the hidden cell under yours holds one solution.

# %%
practice = start("02", lab)

# %% [markdown]
# ### 1 · A second tag, as a file
# Push the image you have, `127.0.0.1:5000/hello-world`, again as `hello-world:v2`. Predict: which new
# files will appear in the folder, and will `blobs/` grow?

# %%
# your command here

# %% tags=["solution"] jupyter={"source_hidden": true}
# !docker image tag {registry.address}/hello-world {registry.address}/hello-world:v2
# !docker image push --quiet {registry.address}/hello-world:v2
# !find {registry.bind} -path '*/tags/*' -name link | sort | sed 's|.*/repositories/|…/repositories/|'

# %%
practice.q1.check()

# %% [markdown]
# ### 2 · Recreate the registry yourself
# With the docker CLI alone, remove the container `reglab-02-registry` and run it again: same name,
# same port, the same folder at `/var/lib/registry`, running as you. Predict: will `hello-world:v2`
# still be there?

# %%
# your command here

# %% tags=["solution"] jupyter={"source_hidden": true}
# !docker container rm -f -v {practice.registry}
# !docker container run -d --name {practice.registry} -p {registry.address}:5000 --user "$(id -u):$(id -g)" -v {registry.bind}:/var/lib/registry registry:3 >/dev/null
# !curl -s -o /dev/null --retry 10 --retry-delay 1 --retry-all-errors http://{registry.address}/v2/

# %%
practice.q2.check()

# %% [markdown]
# ## Check your work

# %%
lab.check(checks.keeps_data, registry)

# %%
lab.check(checks.image_in_registry, registry, "hello-world")

# %%
lab.check(checks.storage_intact, registry)

# %% [markdown]
# ## Summary
# - Without a volume of your own, a registry's images live in an anonymous volume that
#   `docker container rm -v` removes with the container.
# - `-v registry-data:/var/lib/registry` (named volume) or `-v "$PWD/registry-data":/var/lib/registry`
#   (bind mount) keeps them: recreate the container on the same storage and every image is back.
# - On disk, `blobs/sha256/<2 hex>/<digest>/data` holds each blob once; `repositories/<name>/`
#   holds `link` files: `_layers/` (blobs the repository may serve), `_manifests/revisions/`
#   (every manifest pushed) and `_manifests/tags/<tag>/current/link` (what the tag means now).
#
# ## Going further
# - Notebook 03 follows a tag all the way to the layer's bytes and checks a digest by hand.
#
# ## Clean up
# The twins remove by hand what the lab created, if you followed along in a terminal:

# %%
removed = lab.cleanup()

# %%
lab.check(checks.nothing_left)
