# %% [markdown]
# # Lab 04 · Fix: port is already allocated
#
# **The situation.** The team's images are in the volume `lab.volume`. Start the team's registry
# `lab.registry` on it, answering at `lab.address`:
#
# ```
# docker container run -d --name <lab.registry> -p <lab.address>:5000 -v <lab.volume>:/var/lib/registry registry:2
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

lab = start("lab-04")

# %% [markdown]
# Try it:

# %% tags=["nbval-ignore-output"]
# !docker container run -d --name {lab.registry} -p {lab.address}:5000 -v {lab.volume}:/var/lib/registry registry:2

# %% [markdown] tags=["solution"]
# Who publishes the port? (A failed `docker container run` leaves a created container behind under
# Docker: remove it too, or the next run says the name is in use.)

# %% tags=["solution", "nbval-ignore-output"]
# !docker container ls --all
# !docker container rm {lab.registry}

# %% [markdown]
# ## Task 1 · The team's registry, on its port
# `lab.registry` answers at `lab.address` and serves the team's `app:1.0` from `lab.volume`.

# %%
# solution
# !docker container rm -f -v {lab.old}
# !docker container run -d --name {lab.registry} -p {lab.address}:5000 -v {lab.volume}:/var/lib/registry registry:2

# %%
lab.q1.check()

# %% [markdown]
# ## Task 2 · No trace of the squatter
# The container that held the port is gone, and so is its data.

# %%
lab.q2.check()

# %% [markdown] tags=["solution"]
# `docker container ls` shows published ports; `ss -ltnp` (or `lsof -i :<port>`) shows any program
# listening, containers or not. A registry started without `-v` and forgotten is a classic holder.

# %% [markdown]
# ## Clean up

# %%
lab.cleanup()
