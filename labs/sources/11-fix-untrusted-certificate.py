# %% [markdown]
# # Lab 11 · Fix: x509 unknown authority, then 401 unauthorized
#
# **The situation.** The team secured its registry as notebook 05 does: TLS with a certificate
# signed by the team's own CA, and a login. Your push of `app:v1` fails with
# **x509: certificate signed by unknown authority** — and once that is fixed, with
# **401 Unauthorized** (`no basic auth credentials`).
#
# **Your job.** Trust the team's CA for this one registry, log in as `alice`, push `app:v1`.
# Nothing on this machine may trust the CA for any other registry, and the password must never
# show in a command line or an output.
#
# **You need** notebook 05 · **about 15 minutes** · works with Docker and without it. With
# Docker, trusting a CA writes under `/etc/docker/certs.d`, which only root may change: type
# those commands in a terminal with `sudo`; the cells below work as they are only where the
# notebook itself runs as root. Without Docker, reglab's engine reads a folder of its own instead
# (no `sudo`): `sheet.certs_d` names the right one either way. The registry is `registry:3`.
#
# ## Set-up
# The registry answers at `sheet.address`, an address on the lab's network that is not loopback:
# Docker verifies the certificate of every registry but loopback ones.

# %%
from reglab.tasks import start

sheet = start("lab-11")

# %% [markdown] tags=["solution"]
# Try the push and read the error.

# %% tags=["solution"]
# !docker image push {sheet.address}/app:v1 2>&1 | grep -o 'x509: [a-z ]*'

# %% [markdown]
# ## Task 1 · Trust the team's CA for this registry
# A CA is trusted per registry in `certs.d/<host:port>/ca.crt`: here, `sheet.certs_d`. In a
# terminal, with Docker: `sudo mkdir -p …` and `sudo cp …`.

# %%
# solution
# !mkdir -p {sheet.certs_d}
# !cp {sheet.ca} {sheet.certs_d}/ca.crt

# %%
sheet.q1.check()

# %% [markdown] tags=["solution"]
# The registry's certificate was fine all along: it names the registry's address and was signed
# by the team's CA. What was missing was the client's trust in that CA. A CA placed in
# `certs.d/<host:port>/` is trusted for that registry alone, and read on every push and pull (no
# restart). Listing the registry under `insecure-registries` would also have silenced the error —
# by not verifying anything.

# %% [markdown]
# ## Task 2 · Log in
# The push now reaches the registry, which answers 401: it wants a login. The password is in
# `sheet.password_file`. A login typed in a terminal counts too — with
# `export DOCKER_CONFIG=…` (`sheet.docker_config`) first, or in your own `~/.docker`.

# %%
# solution
# !docker login --username {sheet.user} --password-stdin {sheet.address} < {sheet.password_file} 2>&1 | tail -1

# %%
sheet.q2.check()

# %% [markdown] tags=["solution"]
# `--password-stdin` keeps the password off the command line (where `ps` and the shell's history
# would show it). `docker login` stores it, base64 — not encrypted — in `$DOCKER_CONFIG/config.json`
# (here the lab's own folder, `sheet.docker_config`): a credential helper would keep it in the
# system's keychain instead.

# %% [markdown]
# ## Task 3 · Push app:v1
# The image the set-up made — not another one under its name.

# %%
# solution
# !docker image push {sheet.address}/app:v1 > /dev/null

# %%
sheet.q3.check()

# %% [markdown]
# ## Clean up
# It removes the registry, the CA's file in `certs.d`, and the lab's `DOCKER_CONFIG` folder with
# your login.

# %%
sheet.cleanup()
