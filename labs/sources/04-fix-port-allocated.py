# %% [markdown]
# # Lab 04 · Fix: port is already allocated
#
# **The situation.** The team's images are in the volume `sheet.volume`. Start the team's registry
# `sheet.registry` on it, answering at `sheet.address`:
#
# ```
# docker container run -d --name <sheet.registry> -p <sheet.address>:5000 -v <sheet.volume>:/var/lib/registry registry:3
# ```
#
# It fails: *port is already allocated*.
#
# **Your job.** Find what holds the port, free it, and start the team's registry. What held the
# port turns out to be useless: remove it completely.
#
# **You need** notebooks 01–02 · **about 10 minutes** · works with Docker and without it.
#
# ## Set-up

# %%
from reglab.tasks import start

sheet = start("lab-04")

# %% [markdown]
# Try it:

# %% tags=["nbval-ignore-output"]
# !docker container run -d --name {sheet.registry} -p {sheet.address}:5000 -v {sheet.volume}:/var/lib/registry registry:3

# %% [markdown] tags=["solution"]
# Who publishes the port? (A failed `docker container run` leaves a created container behind under
# Docker: remove it too, or the next run says the name is in use.)

# %% tags=["solution", "nbval-ignore-output"]
# !docker container ls --all
# !docker container rm {sheet.registry}

# %% [markdown]
# ## Task 1 · The team's registry, on its port
# `sheet.registry` answers at `sheet.address` and serves the team's `app:1.0` from `sheet.volume`.

# %%
# solution
# !docker container rm -f -v {sheet.old}
# !docker container run -d --name {sheet.registry} -p {sheet.address}:5000 -v {sheet.volume}:/var/lib/registry registry:3

# %%
sheet.q1.check()

# %% [markdown]
# ## Task 2 · No trace of the squatter
# The container that held the port is gone, and so is its data.

# %%
sheet.q2.check()

# %% [markdown] tags=["solution"]
# `docker container ls` shows published ports; `ss -ltnp` (or `lsof -i :<port>`) shows any program
# listening, containers or not. A registry started without `-v` and forgotten is a classic holder.

# %% [markdown]
# ## Clean up

# %%
sheet.cleanup()
