# %% [markdown]
# # 03 · Inside the registry
#
# Notebook 02 showed the registry's files: `blobs/` and `repositories/`, "multiple SHA
# directories". Here you open them up. You push an image of several layers, ask the registry's
# HTTP API about it and read the same facts from the disk, follow a tag by hand all the way to the
# bytes, check a digest yourself, and watch two images share one layer.
#
# ## Overview
# By the end you will be able to:
# 1. find any image's bytes on disk by hand: tag → `current/link` → manifest → config and layers → `data`;
# 2. say why a blob's folder is named by the sha256 of its bytes (*content addressing*), and check it;
# 3. show that a layer two images share is stored once and linked twice (*deduplication*);
# 4. compare what the HTTP API v2 answers with what the disk holds, and page through the catalog.
#
# ## Prerequisites
# - Notebooks 01 and 02 (run, tag, push; volumes and bind mounts; `link` files).
# - About 15 minutes.

# %%
from reglab import Lab, checks, start

lab = Lab("03")

# %% [markdown]
# ## Step 1 · A registry whose files you can open
# A bind mount puts the registry's storage in a folder on your machine, so you can `cat`, `ls` and
# `sha256sum` its files yourself. The lab runs the registry as you, so the files are yours.

# %%
registry = lab.run_registry(port=5000, bind="registry-data")

# %% [markdown]
# ## Step 2 · An image with three layers
# `hello-world` has one layer; real images have several. The lab makes one in Python — three layers,
# each a single file of random bytes (`/base/os.bin`, `/app/lib.bin`, `/app/main.bin`) — writes it
# as a `docker save` archive and loads it, as `docker image load` would:

# %%
layered = lab.make_image(registry.ref("layered", "v1"),
                         [("base/os.bin", 1_000_000), ("app/lib.bin", 300_000), ("app/main.bin", 50_000)])

# %%
pushed = lab.push(registry.ref("layered", "v1"))

# %% [markdown]
# Docker compressed each layer with gzip and sent it as a **blob**, then sent the image config
# (another blob) and last the **manifest**: a small JSON document naming the config and the layers by
# digest. The digest it printed is the manifest's.

# %% [markdown]
# ## Step 3 · What the API says, what the disk holds
# The registry's HTTP API v2 is all that `docker push` and `docker pull` speak. Ask it for the tags,
# the manifest and the size of each blob (`HEAD` requests: headers only), then read the same facts
# from the files. The lab sends these requests itself and sets the answers beside the files:

# %%
rows = lab.storage.api_and_disk("layered", "v1")

# %% [markdown]
# The API's `Docker-Content-Digest` header is the digest in the tag's `current/link` file, and
# every `Content-Length` is the size of a `data` file: the API answers from these files.
#
# Those requests named the manifest types Docker accepts (`Accept:`), as `docker pull` does. Leave
# them out, and registry:3 still sends the manifest as it was pushed:

# %%
as_stored = lab.storage.without_accept("layered", "v1")

# %% [markdown]
# Two things do sit between the API and the files:
# - the manifest's type and the `Accept` header: an OCI manifest (what Docker's containerd image
#   store often pushes) goes only to a client that names its type, `application/vnd.oci.image.manifest.v1+json`;
#   without it registry:3 answers 404 (`OCI manifest found, but accept header does not support OCI
#   manifests`). registry:2 also rewrote a Docker manifest asked for by tag without the schema-2
#   type into the old *schema 1* format, under another digest (notebook A · registry:2 and
#   registry:3; notebook 04 shows why the digest you ask for matters);
# - `HEAD` requests for blobs are answered from an in-memory cache of *blob descriptors* (digest,
#   size, media type) that the registry fills as it works: a blob it has seen once, it does not
#   look for on disk again until it restarts. "Going further" below shows what that means when a
#   file vanishes underneath it.

# %% [markdown]
# ## Step 4 · Follow a tag to its bytes
# This is the path the registry walks for every `docker pull layered:v1`. Each step prints the
# command that does it by hand:

# %%
paths = lab.storage.follow_tag("layered", "v1")

# %% [markdown]
# 1. A **tag** is a folder with a `current/link` file: 71 bytes, `sha256:` and a digest.
# 2. The repository also lists that manifest under `_manifests/revisions/`: a repository may only
#    serve what it links to, even if the blob exists for another repository.
# 3. The digest names a folder under `blobs/sha256/<first two hex digits>/`, and its `data` file
#    is the manifest itself.
# 4. The manifest names the config and the layers by digest, and each of those is a folder in
#    `blobs/` too.
#
# Look inside. The manifest, as the registry stores it:

# %%
manifest = lab.storage.show_blob(pushed.digest)

# %% [markdown]
# The config it names — the image's settings and the `diff_ids`, the digests of the *uncompressed*
# layers (the blobs hold them gzipped, hence other digests):

# %%
config = lab.storage.show_blob(manifest["config"]["digest"])

# %% [markdown]
# And the first layer: a gzipped tar of the files it adds to the image.

# %%
base = manifest["layers"][0]["digest"]
files = lab.storage.show_blob(base)

# %% [markdown]
# ## Step 5 · Check a digest by hand
# A blob's folder is named by the sha256 of its bytes. That is *content addressing*: the name
# says what the content is, so anyone can check it. `sha256sum` hashes the bytes; compare what it
# prints with the folder's name:

# %%
computed = lab.storage.verify_blob(base)

# %% [markdown]
# And with nothing but Python's `hashlib`, reading the file from the bind-mounted folder:

# %%
import hashlib

data = lab.storage.blob_path(base).read_bytes()
"sha256:" + hashlib.sha256(data).hexdigest() == base

# %% [markdown]
# If one byte of a layer changed on disk, its hash would no longer match its name, and a client
# pulling it would refuse it. Check every blob (and every link) at once:

# %%
checked = lab.storage.verify_blobs()

# %% [markdown]
# ## Step 6 · Two images, one shared layer
# A second image under another name reuses the same base layer — same file, same bytes, so the
# same digest — and adds one layer of its own:

# %%
sibling = lab.make_image(registry.ref("sibling", "v1"), [("base/os.bin", 1_000_000), ("tools/extra.bin", 200_000)])

# %%
pushed_sibling = lab.push(registry.ref("sibling", "v1"))

# %% [markdown]
# Only one layer was sent. Docker knew the registry had the base layer already (it had just pushed
# it to `layered`), so it asked the registry to *mount* it into `sibling` — a cross-repository
# blob mount — instead of uploading 1 MB again. Where does the base layer live now?

# %%
found = lab.storage.where_is(base)

# %% [markdown]
# One folder in `blobs/` holds the bytes; each repository has a small `link` to it in `_layers/`.
# That is *deduplication*: what two images would weigh stored apart, and what the disk really holds:

# %%
usage = lab.storage.disk_usage()

# %% [markdown]
# ## Step 7 · Page through the catalog
# `GET /v2/_catalog` lists repositories in name order. A registry with thousands of them answers
# page by page: ask for `n` names, and the `Link` header says where the next page starts
# (`last=`). Push three more small images so there is something to page through:

# %%
for name in ["alpha", "bravo", "charlie"]:
    lab.make_image(registry.ref(name), [(f"{name}.txt", 1_000)])
    lab.push(registry.ref(name))

# %%
pages = lab.storage.catalog_pages(n=2)

# %% [markdown]
# Each answer held at most two names and a `Link` header to the next page; the last page has none.
# (`curl -si` prints the status line and every header before the body; `grep` keeps the two lines
# that matter here.)
# `docker` never needs this, but tools that list a registry (and your own scripts) must follow it:
# without `n`, registry:3 answers at most **100** names and a `Link` header (`defaultReturnedEntries`
# in `registry/handlers/catalog.go`; measured with 106 repositories: 100 names, `Link: </v2/_catalog?last=…&n=100>`).
# You may ask for up to `catalog.maxentries` names at once (1000 unless configured); `n` above it is
# refused with `400 PAGINATION_NUMBER_INVALID`, as is a negative `n`. registry 2.8.2 pages the same
# way but reads a negative `n` as "the default" (notebook A · registry:2 and registry:3).

# %% [markdown]
# ## Step 8 · Explore
# Browse on your own: pick a repository, a tag, the manifest, a config or a layer, then its
# `data` file. Below the columns: what each item is, its size, its path on disk, and a preview —
# the JSON of manifests and configs, the file list of a layer. "check sha256" hashes a file as
# `sha256sum` does. In a terminal, `cd` into the folder and use `ls` and `cat` the same way. (The
# explorer needs a running kernel: run the notebook to use it.)

# %%
lab.storage.explore()

# %% [markdown]
# ## Your turn
# Two tasks on this registry. For each: predict, then do it yourself — in the empty cell, each line
# starting with `!` (`{registry.address}` and `{registry.bind}` are replaced by the registry's
# address and data folder), or in a terminal. The check reads the live registry and its files.
# `practice.q1.hint()` helps; the hidden cell under yours holds one solution.

# %%
practice = start("03", lab)

# %% [markdown]
# ### 1 · A push that stores no new blob
# Push `layered:v1` again under another repository name, `copy:v1`. Predict: how many layers will
# Docker send, and how many new folders will `blobs/` get?

# %%
# your command here

# %% tags=["solution"] jupyter={"source_hidden": true}
# !docker image tag {registry.address}/layered:v1 {registry.address}/copy:v1
# !docker image push --quiet {registry.address}/copy:v1
# !find {registry.bind}/docker/registry/v2/blobs -name data | wc -l

# %%
practice.q1.check()

# %% [markdown]
# ### 2 · Delete a tag, keep its manifest
# Delete the tag `alpha:latest` through the HTTP API. Predict: which files go, and does the
# manifest's blob stay in `blobs/`?

# %%
# your command here

# %% tags=["solution"] jupyter={"source_hidden": true}
# !curl -s -o /dev/null -w '%{{http_code}}\n' -X DELETE http://{registry.address}/v2/alpha/manifests/latest
# !find {registry.bind}/docker/registry/v2/repositories/alpha -name link | wc -l

# %%
practice.q2.check()

# %% [markdown]
# ## Check your work

# %%
lab.check(checks.image_in_registry, registry, "layered", "v1")

# %%
lab.check(checks.image_in_registry, registry, "sibling", "v1")

# %%
lab.check(checks.storage_intact, registry)

# %% [markdown]
# ## Summary
# - A registry's disk has two halves: `blobs/sha256/<2 hex>/<digest>/data` holds every blob once
#   (layers, configs, manifests); `repositories/<name>/` holds only `link` files.
# - A tag is `_manifests/tags/<tag>/current/link`; from there: revision link → manifest blob →
#   config and layer blobs → their `data` files. `docker pull` asks the HTTP API for exactly these.
# - Blobs are *content-addressed*: the folder's name is the sha256 of the bytes (`sha256sum` checks
#   it), so identical layers are stored once, however many images and repositories link them.
# - The HTTP API v2 answers from those files: `Docker-Content-Digest` is the link's digest,
#   `Content-Length` the `data` file's size; `/v2/_catalog?n=…` pages with a `Link` header (100
#   names a page unless `n` says otherwise). registry:3 sends a manifest as stored; in between sit
#   the `Accept` header (an OCI manifest needs its type named) and a cache of blob descriptors that
#   answers `HEAD` requests.
# - A tag deleted through the API (registry:3) takes only its folder; the manifest and its blobs
#   stay on disk until garbage collection.
#
# ## Going further
# - Delete a layer's blob folder by hand (`rm -r …/blobs/sha256/72/725981…`) while the registry
#   runs. `curl -I` on that blob still answers `200 OK`: the blob descriptor cache remembers it. A
#   `GET` starts with `200 OK` and then breaks off (curl: `transfer closed with … bytes remaining to
#   read`), so a `docker pull` without a local copy retries and fails with `unexpected EOF`.
#   Pushing the image again does not repair it: Docker asks first, the cache says the layer is
#   there, and the push reports `Layer already exists`. Restart the registry (a new process starts
#   with an empty cache), push again, and the layer is really sent. Notebook 04 meets the same
#   cache after garbage collection.
# - `lab.storage.tree()` on a registry with a *named volume* reads the same tree through Docker's archive API
#   (`docker cp`): the model is the same.
# - Notebook 04: what happens to these blobs when images are deleted, and how garbage collection
#   finds the blobs no manifest references (*orphans*).
#
# ## Clean up
# The explorer above reads the registry's files each time you click, so this notebook leaves them
# in place: keep exploring. When you are done, shut the kernel down (*Kernel › Shut Down Kernel*),
# which removes everything the lab created, or run `lab.cleanup()` in a new cell (then
# `lab.check(checks.nothing_left)` to see that nothing is left). Running the notebook again from the top
# also clears what the previous run left.
#
# Typed the steps in a terminal instead? These are the commands that undo them there. This cell
# only prints them, as `--dry-run` does for garbage collection in notebook 04; the explorer above
# still has its registry:

# %%
pending = lab.cleanup(dry_run=True)
