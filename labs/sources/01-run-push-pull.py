# %% [markdown]
# # Lab 01 · Run, push, pull
#
# Notebook 01 ran a registry for you. Now **you** do it: run a registry, push an image into it,
# copy an image from another registry, and run an image straight from yours.
#
# **You need** notebook 01 · **about 15 minutes** · works with Docker and without it.
#
# ## How this lab works
# - Each task says what must be true at the end, not which buttons to press. Type docker commands
#   in a terminal (*File → New → Terminal*) or in the code cell under the task, each line starting
#   with `!` (`!docker image ls`). In a cell, `{sheet.address}` is replaced by your address; in a
#   terminal, type the names the set-up prints.
# - Then run the task's check. It looks at the **live** state — the registry's API, the containers,
#   the files — not at your code: `✔` means done, `✘` says what is still missing.
# - Stuck? `sheet.q1.hint()` gives a hint, `sheet.q1.solution()` one way to do it.
#
# ## Set-up
# Run this cell first. It clears what an earlier run of this lab left, starts the team's registry
# with one image in it, and prints the names and ports that are yours in this lab.

# %%
from reglab.tasks import start

sheet = start("lab-01")

# %% [markdown]
# ## Task 1 · Run your registry
# Run a registry container named `sheet.registry`, in the background, answering at `sheet.address`
# (published on `127.0.0.1` only: nobody else on the network needs it).

# %%
# solution
# !docker container run -d --name {sheet.registry} -p {sheet.address}:5000 registry:3

# %%
sheet.q1.check()

# %% [markdown]
# ## Task 2 · Push hello-world into your registry
# Your registry must serve `hello:v1`: the image `hello-world` you already have, under the
# repository `hello` with the tag `v1`.

# %%
# solution
# !docker image tag hello-world {sheet.address}/hello:v1
# !docker image push --quiet {sheet.address}/hello:v1

# %%
sheet.q2.check()

# %% [markdown] tags=["solution"]
# The name says where an image goes: `127.0.0.1:<port>/hello:v1` goes to the registry at
# `127.0.0.1:<port>`. Tagging gave the same image a second name; nothing was copied until the push.

# %% [markdown]
# ## Task 3 · Copy the team's image
# The team's registry at `sheet.team` holds `team/motd:1.0`; you do not have it locally yet. Your
# registry must serve the very same image as `motd:1.0` — same manifest digest.

# %%
# solution
# !docker image pull --quiet {sheet.team}/team/motd:1.0
# !docker image tag {sheet.team}/team/motd:1.0 {sheet.address}/motd:1.0
# !docker image push --quiet {sheet.address}/motd:1.0

# %%
sheet.q3.check()

# %% [markdown] tags=["solution"]
# Registries do not talk to each other: images travel through a client. The manifest digest stayed
# the same, and that is less obvious than it looks. `docker image push` (Docker 20.10) compresses
# each layer again as it sends it; the result is byte for byte the team's blob only because the
# team's layers were compressed the same way in the first place (reglab made them as Docker 20.10
# and reglab's daemonless engine both compress). An image another tool pushed — `crane`, BuildKit
# with other compression settings — comes out of `docker pull` + `docker push` with the same
# content (same image ID) under **another** manifest digest. `crane copy {sheet.team}/team/motd:1.0
# {sheet.address}/motd:1.0` copies the blobs as they are and keeps the digest whatever made them
# (notebook 01 shows both, live).

# %% [markdown]
# ## Task 4 · Run an image from your registry
# Run `hello:v1` from your registry — the image name that starts with your registry's address — in
# a container named `sheet.hello`.

# %%
# solution
# !docker container run --name {sheet.hello} {sheet.address}/hello:v1

# %%
sheet.q4.check()

# %% [markdown]
# ## Clean up
# Remove everything this lab created, your containers and images included (starting the lab again
# does it too).

# %%
sheet.cleanup()
