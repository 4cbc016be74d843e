# %% [markdown]
# # Lab 03 · Fix: images that die with the container
#
# **The situation.** A colleague started the team's registry `sheet.registry` months ago, and the
# team pushed `app:1.0` and `app:1.1` to it. Today it must be recreated (a new version, new
# settings) — and it was started **without a volume**: its images live in the container.
#
# **Your job.** Move it onto the volume `sheet.volume` without losing an image, and leave nothing
# behind. Careful: remove the container before the images are safe and they are gone (then run
# the set-up cell again to start over).
#
# **You need** notebook 02 and lab 02 · **about 15 minutes** · works with Docker and without it.
#
# ## Set-up

# %%
from reglab.tasks import start

sheet = start("lab-03")

# %% [markdown]
# ## Task 1 · Onto the volume, every image kept
# In the end `sheet.registry` answers at `sheet.address`, keeps its data in `sheet.volume`, and serves
# `app:1.0` and `app:1.1` — the very same images (the same image IDs).

# %%
# solution
# !docker image pull --quiet {sheet.address}/app:1.0
# !docker image pull --quiet {sheet.address}/app:1.1
# !docker container rm -f -v {sheet.registry}
# !docker container run -d --name {sheet.registry} -p {sheet.address}:5000 -v {sheet.volume}:/var/lib/registry registry:3
# !curl -s -o /dev/null --retry 10 --retry-delay 1 --retry-all-errors http://{sheet.address}/v2/
# !docker image push --quiet {sheet.address}/app:1.0
# !docker image push --quiet {sheet.address}/app:1.1

# %%
sheet.q1.check()

# %% [markdown]
# ## Task 2 · Nothing left behind
# The old container kept its data in an anonymous volume of its own. It must not linger.

# %%
sheet.q2.check()

# %% [markdown] tags=["solution"]
# `docker container rm -v` removed the old container's anonymous volume with it. Without `-v` it
# stays, nameless (64 hex digits in `docker volume ls`), holding data no container will ever use:
# `docker volume rm` it. Another way out: `docker container cp` the old `/var/lib/registry` out
# before removing the container.
#
# Task 1's check also said whether the manifest digests stayed the same. They did here, but not
# because "the bytes did not change": `docker image push` compresses every layer again, and the
# result matched only because these layers had been compressed the same way before (by Docker
# 20.10's gzip, which reglab's daemonless engine reproduces). Images built elsewhere may come back
# with the same image IDs under new manifest digests — which breaks anything that pinned
# `app@sha256:…`. `crane copy` (notebook 01) moves the blobs untouched and keeps the digests.

# %% [markdown]
# ## Clean up

# %%
sheet.cleanup()
