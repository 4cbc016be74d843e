# %% [markdown]
# # Lab 02 · Keep your images
#
# Notebook 02 showed a registry forgetting everything with its container, then keeping its
# images in a volume. Now you build it: a named volume, a registry on it, a replacement that finds
# the image still there, and a registry whose files you can open.
#
# **You need** notebook 02 and lab 01 · **about 15 minutes** · works with Docker and without it.
#
# **How this lab works** (as in lab 01): each task says what must be true at the end. Type docker
# commands in a terminal or in the cell under the task (`!docker …`; `{sheet.address}` is replaced
# by your address), then run the check: it reads the live state, `✔` done, `✘` what is missing.
# `sheet.q1.hint()` and `sheet.q1.solution()` help.
#
# ## Set-up

# %%
from reglab.tasks import start

sheet = start("lab-02")

# %% [markdown]
# ## Task 1 · A named volume
# Create the named volume `sheet.volume`.

# %%
# solution
# !docker volume create {sheet.volume}

# %%
sheet.q1.check()

# %% [markdown]
# ## Task 2 · A registry on the volume
# Run the registry `sheet.registry` at `sheet.address`, keeping its data (everything under
# `/var/lib/registry` inside the container) in the volume `sheet.volume`.

# %%
# solution
# !docker container run -d --name {sheet.registry} -p {sheet.address}:5000 -v {sheet.volume}:/var/lib/registry registry:3

# %%
sheet.q2.check()

# %% [markdown]
# ## Task 3 · Something worth keeping
# Push `hello-world` into it as `hello:v1`.

# %%
# solution
# !docker image tag hello-world {sheet.address}/hello:v1
# !docker image push --quiet {sheet.address}/hello:v1

# %%
sheet.q3.check()

# %% [markdown]
# ## Task 4 · Replace the container; the image stays
# Containers are meant to be thrown away. Remove `sheet.registry` for good, and run its replacement
# `sheet.replacement` at the same address on the same volume. Do not push again: `hello:v1` must be
# served from what the volume kept (the check reads the replacement's log: a push shows there).

# %%
# solution
# !docker container rm -f -v {sheet.registry}
# !docker container run -d --name {sheet.replacement} -p {sheet.address}:5000 -v {sheet.volume}:/var/lib/registry registry:3

# %%
sheet.q4.check()

# %% [markdown] tags=["solution"]
# Without `-v`, the registry image's `VOLUME /var/lib/registry` gives each container an anonymous
# volume of its own: a new container starts empty. A named volume is found again by its name.

# %% [markdown]
# ## Task 5 · Data you can open
# A volume's files belong to the engine. Run a second registry, `sheet.opened` at
# `sheet.opened_address`, that keeps its data in the folder `sheet.folder` (a bind mount), writing its
# files as you. Push `hello:v1` there too, then find the file that *is* the tag `v1`.

# %%
# solution
# !docker container run -d --name {sheet.opened} -p {sheet.opened_address}:5000 --user "$(id -u):$(id -g)" -v {sheet.folder}:/var/lib/registry registry:3
# !docker image tag hello-world {sheet.opened_address}/hello:v1
# !curl -s -o /dev/null --retry 10 --retry-delay 1 --retry-all-errors http://{sheet.opened_address}/v2/
# !docker image push --quiet {sheet.opened_address}/hello:v1
# !cat {sheet.folder}/docker/registry/v2/repositories/hello/_manifests/tags/v1/current/link

# %%
sheet.q5.check()

# %% [markdown] tags=["solution"]
# A tag is a small file: `repositories/hello/_manifests/tags/v1/current/link`, holding the digest
# of the manifest the push printed. The `curl --retry … --retry-all-errors` waits until the new
# registry answers: a container that has just started may not listen yet, and Docker's proxy
# already holds the port, so a client meets a reset connection, not a refused one.

# %% [markdown]
# ## Clean up

# %%
sheet.cleanup()
