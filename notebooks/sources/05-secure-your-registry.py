# %% [markdown]
# # 05 · Secure your registry
#
# Notebook 01 pushed over plain HTTP to `127.0.0.1`, and Docker let it: that address never
# leaves your machine. A registry other people use is reached at another address, and there
# Docker refuses plain HTTP — **secure by default**. The registry image can do better, but
# TLS and logins "are not enabled by default". In this notebook you switch both on.
#
# ## Overview
# By the end you will be able to:
# 1. watch Docker refuse a plain-HTTP registry at an address that is not loopback, and say why
#    `insecure-registries` is a shortcut (and how to undo it properly);
# 2. make a certificate authority (CA) and a server certificate with **subject alternative
#    names**, start the registry with TLS, and make Docker trust it for that one registry;
# 3. recognise the three TLS errors: unknown authority, legacy Common Name, and HTTP answering
#    HTTPS;
# 4. add a user with `htpasswd` (bcrypt), start the registry with a login, `docker login` to it,
#    and read what `docker login` stores — and why the popular recipe for it fails;
# 5. say what basic auth does not give you (roles), and what a registry needs before production.
#
# ## Prerequisites
# - Notebook 01 (run, tag, push, pull).
# - A Docker engine, or the daemonless engine (see notebook 01). Without Docker there is no
#   container network: the registry then listens on the IPv6 loopback `[::1]`, which the
#   daemonless engine's client — following Docker 20.10's list, `127.0.0.0/8` only — does not
#   count as local, so every step below fails and succeeds the same way. The outputs below came from Docker, where the
#   registry's address is its container address on the lab's network (such as `172.18.0.2:5000`).
# - What this notebook changes outside its own folders, and puts back at the end: the Docker
#   daemon's `daemon.json` — only if `make lab` started that daemon, else it shows you the
#   change instead —, one file in `/etc/docker/certs.d/`, and the `DOCKER_CONFIG` variable of
#   this kernel (your own `~/.docker/config.json` is never touched). The clean-up prints the
#   commands that undo each of them, for what you typed yourself.
# - The registry image is `registry:3`; the Docker engine and CLI are the 20.10 this course
#   installs (where Docker 28 or later differs, the text says so).
# - **Docker Desktop and rootless Docker** differ in three places. Docker Desktop runs the
#   daemon in a virtual machine: its `daemon.json` is edited in *Settings › Docker Engine* (it
#   restarts the daemon), and a CA for one registry goes to `~/.docker/certs.d/<host:port>/ca.crt`
#   on the Mac or Windows side; container addresses such as `172.18.0.2` are inside that machine
#   and not reachable from yours. Rootless Docker reads `~/.config/docker/daemon.json` and
#   `~/.config/docker/certs.d/` (no `sudo`), is reloaded with `systemctl --user`, and its
#   container addresses live in its own network namespace. Name the registry by a host name or
#   a published port there.
# - About 20 minutes.

# %%
from reglab import Lab, checks, start

lab = Lab("05")

# %% [markdown]
# ## Part 1 · Secure by default, live
# ### A registry at an address that is not loopback
# The lab creates a network of its own and starts the registry on it. Docker gives the
# container an address on that network; we name the registry by that address, as colleagues
# would name yours by its host name. (Its data goes to a volume, so the images outlive the
# re-creations below.) A registry takes a moment to listen: the `curl` after each start waits
# until it answers — a command typed at once may meet "connection reset" or "EOF".

# %%
registry = lab.secure.run_plain()

# %% [markdown]
# Give `hello-world` a name at that address, and push:

# %%
lab.tag("hello-world", registry.ref("hello-world"))

# %%
with lab.expect_failure():
    lab.push(registry.ref("hello-world"))

# %% [markdown]
# Docker spoke HTTPS to the registry — it always does first — and the registry answered in plain
# HTTP: `http: server gave HTTP response to HTTPS client`. For `127.0.0.1` Docker would then
# have fallen back to plain HTTP; for any other address it stops there, so that nobody on the
# way can read your credentials or swap your images.
#
# ### The shortcut: `insecure-registries`
# You can tell the daemon to speak plain HTTP to one more registry, in `daemon.json`. A
# `SIGHUP` makes the daemon re-read the file: no restart, no container stopped. (The lab does
# this only to a daemon its own set-up started; on any other daemon it shows you the change.)

# %%
change = lab.secure.allow_plain_http()

# %%
allowed = lab.secure.insecure_registries()

# %%
pushed = lab.push(registry.ref("hello-world"))

# %% [markdown]
# It works — and everything, credentials included, now crosses the network in clear text.
# Undo it. Careful: deleting the line and sending `SIGHUP` is **not** enough, because a reload
# only changes the keys present in the file; the running daemon would keep the entry until
# its next restart. Nor is an empty list safe: on Docker 29.10 and later,
# `"insecure-registries": []` also drops the built-in loopback entry (moby#53868), and pushes to
# `127.0.0.1` stop working. Write the list `docker info` showed before, explicitly, reload, then
# put the original file back — or restart the daemon from the original file:

# %%
restored = lab.secure.restore_daemon()

# %%
allowed = lab.secure.insecure_registries()

# %% [markdown]
# ## Part 2 · TLS
# ### A certificate authority and a certificate
# A registry's certificate must be signed by someone its clients trust. Inside a company that
# is often a private **certificate authority (CA)**; here the lab makes one. Each step shows the
# `openssl` command doing the same (OpenSSL 3); the lab uses Python's `cryptography`.
#
# The certificate must name the registry in its **subject alternative names** (SANs): an `IP:`
# entry for an address, a `DNS:` entry for a host name. Both private keys are written with
# mode `0600`: only you can read them. (`openssl req` does not make folders: `mkdir -p` first.)

# %%
server = lab.secure.make_certificates()

# %%
lab.secure.show_certificate()

# %% [markdown]
# ### The registry with TLS
# Two settings switch TLS on: `REGISTRY_HTTP_TLS_CERTIFICATE` and `REGISTRY_HTTP_TLS_KEY`, the
# paths of the certificate and its (unencrypted) key inside the container. Only the folder with
# the server's files is mounted, read-only — the CA's key stays out of the registry.

# %%
registry = lab.secure.run_tls()

# %%
with lab.expect_failure():
    lab.push(registry.ref("hello-world"))

# %% [markdown]
# The registry speaks TLS now, but its certificate is signed by a CA Docker has never heard of:
# `x509: certificate signed by unknown authority`. (At `127.0.0.1` the same push would have
# worked: for the addresses it treats as local, Docker does not check certificates at all —
# one more reason this notebook names the registry by its network address.) Trust the CA **for
# this registry only**: Docker looks for `/etc/docker/certs.d/<host:port>/ca.crt` on every push
# and pull.

# %%
trusted = lab.secure.trust()

# %%
pushed = lab.push(registry.ref("hello-world"))

# %% [markdown]
# ### Why the SANs matter
# Older recipes put the host name in the certificate's *Common Name* only. For a host **name**,
# clients used to fall back to the Common Name when a certificate had no SANs; Go — the language
# of Docker and of the registry — stopped doing so in Go 1.15 (2020). For an IP **address**, Go
# never looked at the Common Name at all: only an `IP:` SAN names an address. Either way, a
# certificate without SANs gets the same error from Docker. Here is the same registry with such
# a certificate, signed by the same trusted CA (`curl`, built on OpenSSL, still accepts it: it
# falls back to the Common Name — one more reason to test with the client that matters):

# %%
registry = lab.secure.run_tls(legacy=True)

# %%
with lab.expect_failure():
    lab.pull(registry.ref("hello-world"))

# %% [markdown]
# ## Part 3 · A login
# ### A password, in a file of its own
# Alice's password goes into a file only she can read (mode `0600`, `umask 077`), in a folder the
# registry will never see. Every later command reads it from there: it never appears in a
# command line, where `ps` and your shell's history would show it.

# %%
password_file = lab.secure.new_password("alice")

# %% [markdown]
# ### The recipe that no longer works
# Many tutorials make the password file with the registry image itself:
# `docker run --entrypoint htpasswd registry:2 -Bbn testuser testpassword > auth/htpasswd`.
# Here the same, with the password on standard input (`-i`) instead of the command line:

# %%
with lab.expect_failure():
    lab.secure.htpasswd_in_registry_image("alice")

# %% [markdown]
# The registry images ship the registry alone: `htpasswd` went in June 2020, when the official
# image was rebuilt — even the existing `2.7.1` tag changed (distribution-library-image issue
# #107) — and `registry:3` has none either. The registry's own documentation now uses Apache's
# image, `httpd:2`, for it. With the password kept off the command line, that reads:
#
# ```
# docker run --rm -i --entrypoint htpasswd httpd:2 -Bin alice < secrets/alice.password > auth/htpasswd
# ```
#
# (not run here: this machine has no Docker Hub). Or use `htpasswd` from Apache's
# `apache2-utils` on your machine, or Python's `bcrypt`, as the lab does. The registry accepts
# **bcrypt** hashes only (`-B`; without it every login fails), and checks one on every request: a
# low cost (5) keeps it quick.

# %%
htpasswd_file = lab.secure.add_user("alice")

# %% [markdown]
# ### The registry with TLS and a login
# `REGISTRY_AUTH=htpasswd` switches the login on; the realm is the name clients are told.
# Only the folder holding `htpasswd` goes into the container — the password files stay out.
# (Deletes are on, as in the `registry:3` image's own configuration, for a point made below.)

# %%
registry = lab.secure.run_with_login()

# %% [markdown]
# Without credentials, the registry answers `401` and says how to log in — the
# `WWW-Authenticate` header. (Over TLS, curl and the registry speak HTTP/2, which writes header
# names in lower case.)

# %%
status = lab.secure.anonymous()

# %% [markdown]
# Docker says the same in its words: it has no credentials for this registry yet.
# First, a `DOCKER_CONFIG` folder of this lab's own, so that logins made here do not land in
# your `~/.docker/config.json`:

# %%
docker_config = lab.secure.use_throwaway_docker_config()

# %%
with lab.expect_failure():
    lab.push(registry.ref("hello-world"))

# %% [markdown]
# ### `docker login`
# A wrong password first, then the right one, read from its file on standard input
# (`--password-stdin`), so it appears neither in the command nor in your shell's history:

# %%
with lab.expect_failure():
    lab.secure.login("alice", wrong=True)

# %%
lab.secure.login("alice")

# %% [markdown]
# The warning is worth reading. Without a *credential helper* (the system's keychain),
# `docker login` stores the credentials in `config.json` as `base64("user:password")`.
# Base64 is an encoding, not encryption: whoever reads the file has the password. (Both
# shown masked here.)

# %%
lab.secure.show_login()

# %%
pushed = lab.push(registry.ref("hello-world"))

# %% [markdown]
# ### All or nothing
# Basic auth has no roles (no RBAC): a user in the file may push to **any** repository and
# delete from any, like Apache's `htaccess`. Alice pushes to a repository that is not hers, then
# deletes it — with `curl`, which reads her password from its file: `printf` (a shell built-in,
# so no process shows its arguments) writes curl's `user = "alice:…"` option to standard input,
# where `-K -` reads it.

# %%
lab.tag("hello-world", registry.ref("team-b/hello-world"))

# %%
pushed = lab.push(registry.ref("team-b/hello-world"))

# %%
digest = lab.secure.delete(registry.ref("team-b/hello-world"))

# %% [markdown]
# ## Check your work
# These checks ask the live registry, not your code:

# %%
lab.check(checks.anonymous_refused, registry)

# %%
lab.check(checks.credentials_accepted, registry)

# %%
lab.check(checks.tls_verified, registry)

# %% [markdown]
# ## Your turn
# A second user, `bob`, joins the team. Setting up the tasks adds him to the registry's
# `htpasswd` file **while the registry runs**: it re-reads the file when the file changes, so
# adding a user needs no restart. `practice.bob_password` is his password file; in a cell,
# `{practice.address}` stands for `practice.address`. Do each task yourself — in a cell with `!`,
# or in a terminal (`export DOCKER_CONFIG=…` first, as printed) — then check it.

# %%
practice = start("05", lab)

# %% [markdown]
# **1 · Log in as bob.** Predict first: alice's login is stored for this registry already — what
# happens to it? Then log in as bob, the password on standard input.

# %%
# your command here

# %% tags=["solution"] jupyter={"source_hidden": true}
# !docker login --username {practice.user} --password-stdin {practice.address} < {practice.bob_password} 2>&1 | tail -1

# %%
practice.q1.check()

# %% [markdown]
# **2 · Push `hello-world` as `bob/hello:v1`.** Predict: may bob push into a repository named
# after him only, or anywhere?

# %%
# your command here

# %% tags=["solution"] jupyter={"source_hidden": true}
# !docker image tag hello-world {practice.address}/bob/hello:v1
# !docker image push {practice.address}/bob/hello:v1 > /dev/null

# %%
practice.q2.check()

# %% [markdown]
# **3 · Remove one tag, keep the image.** Push the same image as `bob/hello:old` too, then remove
# only the tag `old` with `curl` as bob (`registry:3` deletes tags: `DELETE
# /v2/bob/hello/manifests/old`), the password read from his file as above. Predict: what would a
# `DELETE` of the manifest's *digest* have removed?

# %%
# your command here

# %% tags=["solution"] jupyter={"source_hidden": true}
# !docker image tag hello-world {practice.address}/bob/hello:old
# !docker image push {practice.address}/bob/hello:old > /dev/null
# !printf 'user = "bob:%s"\n' "$(cat {practice.bob_password})" | curl -sS -K - -o /dev/null -w '%{{http_code}}\n' -X DELETE --cacert {practice.ca} https://{practice.address}/v2/bob/hello/manifests/old

# %%
practice.q3.check()

# %% [markdown]
# ## Before production
# This notebook's registry is secure for one machine. A registry a team relies on also needs:
# - **`--restart=always`** (or `unless-stopped`), so that it comes back after a reboot or a crash —
#   as in the registry's own deployment guide.
# - **One `REGISTRY_HTTP_SECRET` for all replicas.** The registry signs upload state with it;
#   without one, each replica makes its own at start, and a push whose requests land on two
#   replicas fails (`blob upload unknown`). Notebook 07 runs replicas behind a load balancer.
# - **Upload purging**, on by default: every 24 h it deletes uploads older than a week that never
#   finished (`storage.maintenance.uploadpurging`; its log says `Starting upload purge in …`).
#   Keep it on; give it a longer `age` if pushes of huge layers take days.
# - **Users without a restart**: the registry re-reads `htpasswd` when its modification time
#   changes (your turn above). Mount the file's *folder*, not the file: a tool that replaces the
#   file (most editors, `mv`) leaves a mounted single file pointing at the old one.
# - **TLS 1.2 at least**: `registry:3` refuses older versions by default (its log: `restricting
#   TLS version to tls1.2 or higher`); `http.tls.minimumtls: tls1.3` if every client speaks it.
#   Certificates expire (these after 30 days): renew them before, and restart the registry.
#
# ## Summary
# - Docker speaks plain HTTP only to `127.0.0.0/8` and to registries listed in
#   `insecure-registries`; anywhere else a plain registry fails with `http: server gave HTTP
#   response to HTTPS client`. `SIGHUP` reloads `daemon.json`, but a removed key stays in the
#   running daemon: write the list `docker info` showed before (not an empty one: Docker ≥ 29.10
#   then drops the loopback default too), reload, restore the file — or restart the daemon.
# - TLS: `REGISTRY_HTTP_TLS_CERTIFICATE` and `REGISTRY_HTTP_TLS_KEY`; the certificate names the
#   registry in its SANs (`IP:`, `DNS:`); a certificate from your own CA is trusted per registry
#   in `/etc/docker/certs.d/<host:port>/ca.crt`, read on every push — no restart.
# - Errors to recognise: `x509: certificate signed by unknown authority` (trust the CA),
#   `x509: certificate relies on legacy Common Name field, use SANs instead` (re-issue it with
#   SANs: an IP address is only ever matched against `IP:` entries).
# - Login: `REGISTRY_AUTH=htpasswd` with bcrypt hashes; `docker login` stores base64, not
#   encryption — use a credential helper; the registry images have had no `htpasswd` since June
#   2020 (use `httpd:2`, `apache2-utils` or `bcrypt`); keep passwords in files, never on a
#   command line.
# - Basic auth is all or nothing: any user may push and delete anywhere; `registry:3` deletes a
#   tag alone, a digest with every tag that names it.
#
# ## Going further
# - **Token authentication** (`auth.token`): the registry trusts tokens from a separate token
#   server (for example `cesanta/docker_auth`), which can grant `pull` or `push` per repository
#   and per user — what Docker Hub does.
# - **Harbor** (CNCF) wraps the same registry with projects, roles, LDAP/OIDC logins,
#   vulnerability scanning and replication.
# - **Zot** is an OCI-native registry with per-repository access control in its own config.
# - Client certificates: `certs.d/<host:port>/client.cert` and `client.key` let Docker prove
#   who it is to a registry that asks (`http.tls.clientcas`).
#
# ## Clean up
# Everything this notebook created goes: containers, volume, network, folders, the CA trusted
# in `certs.d`, and `DOCKER_CONFIG` as it was. The commands printed undo the same by hand —
# among them `sudo rm` for the file you copied into `certs.d` and `unset DOCKER_CONFIG`.

# %%
removed = lab.cleanup()

# %%
lab.check(checks.nothing_left)
