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
# 5. say what basic auth does not give you: roles.
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
#   this kernel (your own `~/.docker/config.json` is never touched).
# - About 15 minutes.

# %%
from reglab import Lab, checks

lab = Lab("05")

# %% [markdown]
# ## Part 1 · Secure by default, live
# ### A registry at an address that is not loopback
# The lab creates a network of its own and starts the registry on it. Docker gives the
# container an address on that network; we name the registry by that address, as colleagues
# would name yours by its host name. (Its data goes to a volume, so the images outlive the
# re-creations below.)

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
# its next restart. An explicit empty list first, then the original file:

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
# mode `0600`: only you can read them.

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
# Older recipes put the host name in the certificate's *Common Name* only. Go — the language of
# Docker and of the registry — has refused that since Go 1.15. Here is the same registry with
# such a certificate, signed by the same trusted CA:

# %%
registry = lab.secure.run_tls(legacy=True)

# %%
with lab.expect_failure():
    lab.pull(registry.ref("hello-world"))

# %% [markdown]
# ## Part 3 · A login
# ### The recipe that no longer works
# Many tutorials make the password file with the registry image itself:

# %%
with lab.expect_failure():
    lab.secure.htpasswd_in_registry_image("alice")

# %% [markdown]
# Since version 2.7.1 the `registry:2` image ships the registry alone: no `htpasswd`. Make the
# file on your machine instead — with `htpasswd` from Apache's `apache2-utils`, or with Python's
# `bcrypt`, as the lab does. The registry accepts **bcrypt** hashes only, and checks one on
# every request: a low cost (5) keeps it quick.

# %%
htpasswd_file = lab.secure.add_user("alice")

# %% [markdown]
# ### The registry with TLS and a login
# `REGISTRY_AUTH=htpasswd` switches the login on; the realm is the name clients are told.
# (Deletes are switched on too, for a point made below.)

# %%
registry = lab.secure.run_with_login()

# %% [markdown]
# Without credentials, the registry answers `401` and says how to log in — the
# `WWW-Authenticate` header:

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
# deletes it:

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
# ## Summary
# - Docker speaks plain HTTP only to `127.0.0.0/8` and to registries listed in
#   `insecure-registries`; anywhere else a plain registry fails with `http: server gave HTTP
#   response to HTTPS client`. `SIGHUP` reloads `daemon.json`, but a removed key stays in the
#   running daemon: write an empty list first.
# - TLS: `REGISTRY_HTTP_TLS_CERTIFICATE` and `REGISTRY_HTTP_TLS_KEY`; the certificate names the
#   registry in its SANs (`IP:`, `DNS:`); a certificate from your own CA is trusted per registry
#   in `/etc/docker/certs.d/<host:port>/ca.crt`, read on every push — no restart.
# - Errors to recognise: `x509: certificate signed by unknown authority` (trust the CA),
#   `x509: certificate relies on legacy Common Name field, use SANs instead` (re-issue it).
# - Login: `REGISTRY_AUTH=htpasswd` with bcrypt hashes; `docker login` stores base64, not
#   encryption — use a credential helper; `registry:2` has no `htpasswd` since 2.7.1.
# - Basic auth is all or nothing: any user may push and delete anywhere.
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
# in `certs.d`, and `DOCKER_CONFIG` as it was.

# %%
removed = lab.cleanup()

# %%
lab.check(checks.nothing_left)
