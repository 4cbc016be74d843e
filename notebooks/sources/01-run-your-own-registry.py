# %% [markdown]
# # 01 · Run your own registry
#
# A **registry** is where images live when they are not on your machine: Docker Hub is one,
# and in this notebook you run your own. You will start the registry container, push an image
# into it, delete every local copy, and pull it back — the registry gave you back exactly
# what you put in.
#
# ## Overview
# By the end you will be able to:
# 1. run the registry (the CNCF *distribution* project, image `registry:3`) on port 5000;
# 2. read an image name as `host/repository:tag` and say where it will be pushed;
# 3. tag, push, remove and pull an image with your own registry;
# 4. check that what came back is identical, by its **digest**;
# 5. explain why Docker lets you talk plain HTTP to `127.0.0.1` but, unless you list it, to no other host;
# 6. say whose bytes a digest names: ask a registry for a tag's digest, and copy an image so that its
#    digest stays the same, with `crane`.
#
# ## Prerequisites
# - A Docker engine (`make lab` starts one on Debian; `python -m reglab doctor` checks). No Docker
#   here (Binder, a locked-down laptop)? The lab then runs the registry binary itself — the
#   *daemonless engine*: every step works the same and prints the same docker twins; the one step
#   that needs a container runtime (running `hello-world`) shows what Docker prints, and with no
#   daemon to ask for its `insecure-registries`, the lab answers with Docker 20.10's built-in rule
#   (`127.0.0.0/8`) and says so in one line.
# - About 20 minutes.
# - `crane`, a small registry client from Google's go-containerregistry, for step 7: `make lab` builds
#   it (v0.22.1) and puts it on the `PATH` of JupyterLab's terminals, so its twins type as printed. On
#   your own machine: `go install github.com/google/go-containerregistry/cmd/crane@v0.22.1`, or a
#   binary from its [releases](https://github.com/google/go-containerregistry/releases).
# - The outputs saved in this notebook were made with reglab's *stand-in* images, built on this
#   machine (registry 3.1.2 built with Go, `hello-world` from Debian packages). If your `registry:3`
#   and `hello-world` came from Docker Hub, the lab says so in one line, and the digests, sizes and
#   `hello-world`'s greeting you see differ: that is expected.
#
# Every step below prints first its **docker CLI twin** — the exact command, with the real names
# and ports, that you would type in a terminal — then one line saying what happened. Where the
# command's own output matters (`docker image ls`, `curl`), you see it exactly as the command prints
# it, and the lab's explanation follows on a line starting `lab:`.

# %% [markdown]
# ## Your sandbox
# `Lab("01")` is this notebook's sandbox. Everything it creates is named `reglab-01-…` and carries
# the label `reglab.lab=01` (the twins leave that label out to stay readable), so it can remove
# exactly its own things at the end — and nothing of yours. If an earlier run was interrupted, it
# clears that run's leftovers first.

# %%
from reglab import Lab, checks, start

lab = Lab("01")

# %% [markdown]
# ## Step 1 · Run the registry
# The registry is itself an image. We publish its port 5000 on `127.0.0.1` only, so nothing
# outside this machine can reach it. If another program already uses port 5000 (on macOS,
# AirPlay does), the lab picks the next free port and every later command uses it.

# %%
registry = lab.run_registry(port=5000)

# %% [markdown]
# `registry:3` is distribution 3 (what `registry:latest` has meant since April 2025); teams still
# running `registry:2` meet a few differences, shown live in notebook A · registry:2 and registry:3.
#
# The lab waited until the registry answered `GET /v2/` — the first request every client sends.
# At its core a registry is just that: **a web API plus storage**. Ask it what it holds; an empty
# list, since nobody has pushed anything yet:

# %%
repositories = lab.catalog()

# %% [markdown]
# ## Step 2 · Run an image to have something to push
# `hello-world` is a tiny image whose one program prints a greeting.

# %%
run = lab.run("hello-world")

# %% [markdown]
# ## Step 3 · Names say where images go
# An image name has three parts: `host/repository:tag`. When there is no host, Docker means
# Docker Hub; when there is no tag, it means `latest`.

# %%
lab.explain_name("hello-world")

# %% [markdown]
# To push into *our* registry, the image needs a name that starts with our registry's address.
# `registry.ref("hello-world")` builds that name for you:

# %%
lab.explain_name(registry.ref("hello-world"))

# %% [markdown]
# Tagging does not copy anything: it gives the same image (same image ID) a second name.

# %%
lab.tag("hello-world", registry.ref("hello-world"))

# %%
images = lab.images()

# %% [markdown]
# ## Step 4 · Push
# `docker push` reads the host from the name and uploads the layers, then the manifest that
# lists them. The registry answers with the manifest's **digest**: the sha256 of its bytes, a
# name for this exact content.

# %%
pushed = lab.push(registry.ref("hello-world"))

# %%
repositories = lab.catalog()

# %%
tags = lab.tags("hello-world")

# %% [markdown]
# ### With Docker 28 or 29: the containerd image store
# Fresh installs of Docker Engine 29 and of Docker Desktop (4.34 on) keep images in the *containerd
# image store* ([docs](https://docs.docker.com/engine/storage/containerd/)). It keeps what it pulled
# as it came, and `hello-world` from Docker Hub came as a multi-platform index naming one image per
# platform, of which it fetched yours only. Tag it for your registry and push, and the push can stop
# with `missing content: content digest sha256:…: not found` and a note that the index *references
# multiple platform specific manifests, but not all of them are available locally*
# ([docker/cli#4959](https://github.com/docker/cli/issues/4959)). The way out is `--platform`:
# `docker image push --platform linux/amd64 127.0.0.1:5000/hello-world` pushes just that platform's
# image (Docker 27 and later, [docker/cli#4984](https://github.com/docker/cli/pull/4984)). `--platform`
# on the pull alone (`docker image pull --platform linux/amd64 hello-world`) is not enough: the
# issue's own steps pull that way and still fail. None of this is tested here — no such engine runs
# on this course's machines: the engine it installs is Docker 20.10, whose classic store keeps one
# platform's image and pushes it as a single image, as above.

# %% [markdown]
# ### Secure by default
# That push went over plain HTTP. Docker only allows this for addresses it considers local —
# `127.0.0.0/8` — plus any you list yourself as `insecure-registries` in `daemon.json`. Ask the
# daemon for its list:

# %%
allowed = lab.insecure_registries()

# %% [markdown]
# That is the rule of Docker 20.10, the engine this course installs; from Docker 28 on, the IPv6
# loopback `::1` is on the built-in list too, and from Docker 29.10 on, a `daemon.json` that lists
# any `insecure-registries` replaces the loopback ones: list `127.0.0.1:5000` there as well. Names
# you list appear in `docker info` under *Insecure Registries*. Any other host must speak HTTPS, so that credentials
# and images cannot be read or changed on the way. A registry others use should get TLS and a
# login — [notebook 05](05-secure-your-registry.ipynb) does exactly that; listing it as insecure is
# a shortcut that teaches the wrong habit.

# %% [markdown]
# ## Step 5 · Remove every local copy
# The stopped `hello-world` container still uses the image, so it goes first; then both names.
# When the last name goes, the image itself is deleted.

# %%
lab.remove_container("hello")

# %%
lab.remove_image("hello-world")

# %%
lab.remove_image(registry.ref("hello-world"))

# %%
images = lab.images()

# %% [markdown]
# ## Step 6 · Pull it back from your registry

# %%
pulled = lab.pull(registry.ref("hello-world"))

# %% [markdown]
# Is it the same image? The digest answers that: it is computed from the content, so equal
# digests mean identical bytes.

# %%
pushed.digest == pulled.digest

# %% [markdown]
# And it still runs:

# %%
run = lab.run(registry.ref("hello-world"), name="hello-again")

# %% [markdown]
# ## Step 7 · Whose bytes does a digest name?
# A digest is the sha256 of the **manifest**, and the manifest names the config and every layer by
# their own digests: one digest pins every byte of the image. But the manifest and the compressed
# layers are written by whoever pushes: `docker image push` writes the manifest itself and gzips
# each layer as it sends it. Another client does it its own way.
#
# `crane` is such a client (Google's go-containerregistry): it speaks the registry's HTTP API
# directly, with no engine and no local image store. First, what the docker CLI has no plain command
# for — the digest a tag has *in the registry*, without pulling (`docker manifest inspect --insecure
# --verbose` prints it deep inside a JSON document; without `--insecure` it says `no such manifest`
# for a plain-HTTP registry):

# %%
digest = lab.crane.digest(registry.ref("hello-world"))

# %% [markdown]
# The same digest `docker image push` printed in step 4. Now one image, pushed twice: the lab makes a
# small image (one file, `/etc/motd`) and loads it; Docker pushes it as `motd:docker`, and crane
# pushes the very same archive as `motd:crane`:

# %%
motd = lab.make_image(registry.ref("motd", "docker"), [("etc/motd", 2_000)])

# %%
pushed_motd = lab.push(registry.ref("motd", "docker"))

# %%
crane_digest = lab.crane.push(registry.ref("motd", "docker"), registry.ref("motd", "crane"))

# %% [markdown]
# Two digests for one image. The manifests say why:

# %%
manifests = lab.crane.compare(registry.ref("motd", "docker"), registry.ref("motd", "crane"))

# %% [markdown]
# Same config — the same image ID, the same files — but Docker wrote its manifest indented and
# gzipped the layer its way, crane wrote compact JSON and gzipped the layer another way: other
# bytes, other digests. Both are right; neither is *the* digest of the image.
#
# Copying is where it matters. `crane copy` moves the manifest and the blobs as they are, so the
# copy keeps the digest (here within one registry, so the blobs are *mounted*: linked, not sent):

# %%
copied = lab.crane.copy(registry.ref("motd", "crane"), registry.ref("copies/motd", "crane"))

# %% [markdown]
# `docker image pull` then `docker image push` to another registry does not keep it: Docker 20.10
# keeps layers uncompressed in its store, so it gzips each layer the other registry lacks again,
# and it writes its own manifest. Measured with Docker 20.10.24: crane's `motd` pulled from one
# registry and pushed to another came out under another digest (and in another repository of the
# *same* registry too, where the layer was mounted but the manifest rewritten). The digest stays
# the same only when Docker's own push made the bytes in the first place — as with `hello-world`
# above, and with every image the course makes (reglab's daemonless engine compresses exactly as
# Docker 20.10 does). Docker's containerd image store keeps a pulled image's manifest and blobs as
# they came and pushes those (untested here), and so does the daemonless engine. A script that
# pins `image@sha256:…` wants `crane copy` (or `skopeo copy`), not pull + push; lab 01 copies an
# image between two registries.

# %% [markdown]
# ## Your turn
# Three small tasks on the registry you just ran. For each: predict what will happen, then do it
# yourself — in the empty cell, each line starting with `!` (`!docker image ls`; `{registry.address}`
# is replaced by your registry's address, `127.0.0.1:5000` unless the lab chose another port), or
# in a terminal. Then run the check: it reads the live registry and engine, not your code.
# `practice.q1.hint()` gives a hint; the hidden cell under yours holds one solution (click its `…`).

# %%
practice = start("01", lab)

# %% [markdown]
# ### 1 · A second tag of the same image
# Push the `hello-world` you pulled back in step 6 again, as `hello-world:v2`. Predict first: how
# many layers will the push send, and will its digest differ from the one step 4 printed?

# %%
# your command here

# %% tags=["solution"] jupyter={"source_hidden": true}
# !docker image tag {registry.address}/hello-world {registry.address}/hello-world:v2
# !docker image push --quiet {registry.address}/hello-world:v2

# %%
practice.q1.check()

# %% [markdown]
# ### 2 · A copy that keeps crane's digest
# Make `backup/motd:crane` a copy of `motd:crane` with the same digest. Predict: would `docker image
# pull`, `tag` and `push` keep it?

# %%
# your command here

# %% tags=["solution"] jupyter={"source_hidden": true}
# crane logs on stderr, one time-stamped line per step; the last names the digest
# !crane copy {registry.address}/motd:crane {registry.address}/backup/motd:crane 2>&1 | tail -n 1 | cut -d' ' -f3-

# %%
practice.q2.check()

# %% [markdown]
# ### 3 · Run hello-world by its digest
# Run `hello-world` from your registry in a container named `reglab-01-pinned`, naming the image by
# its digest (`…/hello-world@sha256:…`), not by a tag. Predict: which image ID will the container run?

# %%
# your command here

# %% tags=["solution"] jupyter={"source_hidden": true}
# !docker container run --name {practice.pinned} {registry.address}/hello-world@$(crane digest {registry.address}/hello-world)

# %%
practice.q3.check()

# %% [markdown]
# ## Check your work
# `reglab.checks` looks at the live registry, not at your code: whatever way you got there counts.

# %%
lab.check(checks.registry_answers, registry)

# %%
lab.check(checks.image_in_registry, registry, "hello-world")

# %% [markdown]
# ## Summary
# - The registry is a container of the `registry:3` image: a web API (`/v2/…`) plus storage.
# - An image's name says where it goes: `127.0.0.1:5000/hello-world:latest` is pushed to the
#   registry at `127.0.0.1:5000`; without a host, names mean Docker Hub.
# - `docker image tag` adds a name, `docker image push` uploads, `docker image rm` removes a name,
#   `docker image pull` downloads; equal digests prove the content is identical.
# - Docker speaks plain HTTP only to `127.0.0.0/8` (from Docker 28 also `::1`) and to registries
#   you list as insecure: **secure by default**.
# - A digest names the bytes someone wrote: `docker image push` writes its own manifest and gzips
#   layers its way; `crane digest` reads a tag's digest remotely, `crane copy` copies an image and
#   keeps its digest.
#
# ## Going further
# - Notebook 02: the registry you just ran keeps its data *inside the container*. Remove the
#   container and the images are gone — unless you give it a volume.
# - Read the manifest yourself while the registry runs, with the header `docker pull` sends:
#   `curl -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' -H 'Accept:
#   application/vnd.oci.image.manifest.v1+json' http://127.0.0.1:5000/v2/hello-world/manifests/latest`.
#   It is plain JSON naming the config and the layer by digest. registry:3 sends a Docker manifest
#   as stored whatever `Accept` says, but an OCI manifest (what Docker's containerd image store, the
#   default of fresh Docker 29 installs, often pushes) only to a client that names its type: without
#   it, 404. registry:2 answered a `GET` by tag without `Accept` with an old *schema 1* rewrite, under
#   another digest (notebook A · registry:2 and registry:3). Notebook 04 shows why the digest you ask
#   for matters.
#
# ## Clean up
# Remove everything this notebook created (it also happens when the kernel stops). The twins are
# what you type if you followed along in a terminal — or notebook 02 finds port 5000 still taken:

# %%
removed = lab.cleanup()

# %%
lab.check(checks.nothing_left)
