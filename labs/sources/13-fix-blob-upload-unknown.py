# %% [markdown]
# # Lab 13 · Fix: blob upload unknown
#
# **The situation.** The team's registry outgrew one container: its blobs are in an object store
# (SeaweedFS, S3), two replicas serve them, and nginx sends each request to the next replica in
# turn. Since the second replica joined, pushes fail: `blob upload unknown`. Pulls still work.
#
# **Your job.** Find out why, fix it so that an upload can go on from one replica to the other,
# and push `team/app:v1` (it is on your machine: the set-up loaded it).
#
# **You need** notebook 07 (steps 4 and 5) · **about 15 minutes** · works with Docker and without
# it (then every part is a process on this machine, and `docker` in this notebook is reglab's).
#
# ## Set-up

# %%
from reglab.tasks import start

sheet = start("lab-13")

# %% [markdown] tags=["solution"]
# The push fails at its config: the layer is in the bucket already, the config is new. The
# replicas' logs say why one of them refused the rest of an upload the other one started.

# %% tags=["solution"]
# !docker image push --quiet {sheet.address}/team/app:v1
# !sh -c "docker container logs {sheet.replica1}; docker container logs {sheet.replica2}" 2>&1 | grep -o 'msg="[^"]*secret[^"]*"' | sort | uniq -c

# %% [markdown] tags=["solution"]
# An upload is a `POST`, then `PATCH`es, then a `PUT`. The state of an upload travels in the URL
# the replica gives back, signed with its `http.secret`; nobody set one, so each replica made one
# up at start. nginx passed the next request to the other replica, which cannot verify the
# signature: `invalid secret`, answered `404 BLOB_UPLOAD_INVALID` (the docker CLI says
# `blob upload unknown`).

# %% [markdown]
# ## Task 1 · One secret for both replicas
# An upload started on either replica must go on on the other; nginx keeps sending requests to
# both.

# %%
# solution
# !python3 -c 'import secrets; print(secrets.token_hex(32))' > {sheet.secret}
# !docker container rm -f -v {sheet.replica1} {sheet.replica2} > /dev/null
# !docker container run -d -p 127.0.0.1:{sheet.port1}:5000 --name {sheet.replica1} --network {sheet.network} -v {sheet.config}:{sheet.config_path}:ro -e REGISTRY_HTTP_SECRET="$(cat {sheet.secret})" {sheet.image} > /dev/null
# !docker container run -d -p 127.0.0.1:{sheet.port2}:5000 --name {sheet.replica2} --network {sheet.network} -v {sheet.config}:{sheet.config_path}:ro -e REGISTRY_HTTP_SECRET="$(cat {sheet.secret})" {sheet.image} > /dev/null
# !docker container restart {sheet.nginx} > /dev/null

# %%
sheet.q1.check()

# %% [markdown] tags=["solution"]
# nginx was restarted because it looks its replicas' addresses up when it starts: a container run
# again may have another one. Two weaker fixes, which the check refuses: a *different* secret on
# each replica (the same failure), and nginx sending everything to one replica — one left out of
# its `upstream` block, or sticky sessions (`ip_hash`): the push goes through until that replica
# restarts with its in-flight uploads.

# %% [markdown]
# ## Task 2 · Push team/app:v1

# %%
# solution
# !curl -s -o /dev/null --retry 10 --retry-delay 1 --retry-connrefused http://{sheet.address}/v2/
# !docker image push --quiet {sheet.address}/team/app:v1

# %%
sheet.q2.check()

# %% [markdown]
# ## Clean up

# %%
sheet.cleanup()
