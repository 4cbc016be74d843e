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
# 1. run the registry (the CNCF *distribution* project, image `registry:2`) on port 5000;
# 2. read an image name as `host/repository:tag` and say where it will be pushed;
# 3. tag, push, remove and pull an image with your own registry;
# 4. check that what came back is identical, by its **digest**;
# 5. explain why Docker lets you talk plain HTTP to `127.0.0.1` but, unless you list it, to no other host.
#
# ## Prerequisites
# - A Docker engine (`make lab` starts one on Debian; `python -m reglab doctor` checks). No Docker
#   here (Binder, a locked-down laptop)? The lab then runs the registry binary itself — the
#   *daemonless engine*: every step works the same and prints the same docker twins; the one step
#   that needs a container runtime (running `hello-world`) shows what Docker prints, and with no
#   daemon to ask for its `insecure-registries`, the lab answers with Docker 20.10's built-in rule
#   (`127.0.0.0/8`) and says so in one line.
# - About 10 minutes.
# - The outputs saved in this notebook were made with reglab's *stand-in* images, built from Debian
#   packages. If your `registry:2` and `hello-world` came from Docker Hub, the lab says so in one
#   line, and the digests, sizes and `hello-world`'s greeting you see differ: that is expected.
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
from reglab import Lab, checks

lab = Lab("01")

# %% [markdown]
# ## Step 1 · Run the registry
# The registry is itself an image. We publish its port 5000 on `127.0.0.1` only, so nothing
# outside this machine can reach it. If another program already uses port 5000 (on macOS,
# AirPlay does), the lab picks the next free port and every later command uses it.

# %%
registry = lab.run_registry(port=5000)

# %% [markdown]
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
# ## Check your work
# `reglab.checks` looks at the live registry, not at your code: whatever way you got there counts.

# %%
lab.check(checks.registry_answers, registry)

# %%
lab.check(checks.image_in_registry, registry, "hello-world")

# %% [markdown]
# ## Summary
# - The registry is a container of the `registry:2` image: a web API (`/v2/…`) plus storage.
# - An image's name says where it goes: `127.0.0.1:5000/hello-world:latest` is pushed to the
#   registry at `127.0.0.1:5000`; without a host, names mean Docker Hub.
# - `docker image tag` adds a name, `docker image push` uploads, `docker image rm` removes a name,
#   `docker image pull` downloads; equal digests prove the content is identical.
# - Docker speaks plain HTTP only to `127.0.0.0/8` (from Docker 28 also `::1`) and to registries
#   you list as insecure: **secure by default**.
#
# ## Going further
# - Notebook 02: the registry you just ran keeps its data *inside the container*. Remove the
#   container and the images are gone — unless you give it a volume.
# - Read the manifest yourself while the registry runs, with the header `docker pull` sends:
#   `curl -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' -H 'Accept:
#   application/vnd.oci.image.manifest.v1+json' http://127.0.0.1:5000/v2/hello-world/manifests/latest`.
#   It is plain JSON naming the config and the layer by digest. Leave the `Accept` headers out and
#   registry 2.8 answers by tag with an old *schema 1* rewrite of it, under another digest — and an
#   OCI manifest (what Docker's containerd image store, the default of fresh Docker 29 installs,
#   often pushes) answers 404. Notebook 04 shows why the digest you ask for matters.
#
# ## Clean up
# Remove everything this notebook created (it also happens when the kernel stops). The twins are
# what you type if you followed along in a terminal — or notebook 02 finds port 5000 still taken:

# %%
removed = lab.cleanup()

# %%
lab.check(checks.nothing_left)
