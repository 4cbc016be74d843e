# %% [markdown]
# # A · registry:2 and registry:3
#
# `docker container run -d -p 5000:5000 --name registry registry` pulls `registry:latest`, which has
# been **registry 3** (distribution v3) since v3.0.0, April 2025; the distribution project's own
# deploying guide runs `registry:3`. This
# course runs `registry:3`; many teams still run `registry:2` (distribution 2.8). In this appendix
# both run side by side, get the same commands, and you read their answers: every difference a
# learner meets when moving from one to the other, live, each with the change that made it.
#
# ## Overview
# By the end you will be able to say, for registry 2.8 and registry 3:
# 1. where each image reads its config, and which `garbage-collect` command fits it;
# 2. why a `DELETE` that works on `registry:3` answers 405 on `registry:2`;
# 3. which manifest a tag gives without an `Accept` header (the schema 1 rewrite), and whether a
#    tag can be deleted;
# 4. what garbage collection leaves in `_layers/`;
# 5. what a pull-through cache of each costs its upstream, whether `proxy.ttl` counts, and what
#    `/metrics` tells;
# 6. what to change in a team's set-up when moving from 2.8 to 3.
#
# ## Prerequisites
# - Notebooks 01 (push), 03 (the storage tree, manifests by digest), 04 (deleting, garbage
#   collection) and 06 (a pull-through cache, measured from the hub's log).
# - Versions: offline, `registry:2` is Debian's distribution 2.8.2 and `registry:3` distribution
#   v3.1.2, built from its Go module; the outputs below were made with these (Docker Hub's images
#   are the latest 2.8.x and 3.x). Under the daemonless engine each is that same program, run as a
#   process; the caches reach the hub at its loopback address, and `docker container exec` runs its
#   command on the registry's own folder and address.
# - About 10 minutes.
#
# Every fact here is also measured, with the scripts that produced it, in the project's
# `docs/registry-2-and-3.md`.

# %%
from reglab import Lab, checks, plots

lab = Lab("a")

# %% [markdown]
# ## Step 1 · Two registries side by side
# The same `docker container run`, two images, each with its own image's config:

# %%
registries = lab.versions.run_both()

# %% [markdown]
# An image gives its registry the path of its config as the container's command. Ask each:

# %%
paths = lab.versions.config_path()

# %% [markdown]
# registry 3 moved the config to `/etc/distribution/config.yml` (distribution
# [PR #4365](https://github.com/distribution/distribution/pull/4365), v3.0.0-beta.1 release notes;
# the image: distribution-library-image commit a1a8847). A team that mounts its own `config.yml`
# at the old path gets no error: registry:3 runs on its image's config instead, and every
# `docker container exec … registry garbage-collect` must name the new path.
#
# ## Step 2 · The same image in both

# %%
digests = lab.versions.push_both()

# %% [markdown]
# One image, one manifest: the same digest in both registries.
#
# ## Step 3 · A tag fetched without `Accept`
# `curl` sends no manifest type it accepts. Ask each registry for `hello-world:latest` that way,
# as notebook 03 did:

# %%
rewritten = lab.versions.schema1_rewrite()

# %% [markdown]
# registry 2.8 converts a schema 2 manifest into the old, signed **schema 1** for a client that
# does not say it accepts schema 2 — a different document with a different digest. registry 3 has
# no schema 1 at all (distribution [PR #4023](https://github.com/distribution/distribution/pull/4023)
# "remove schema1 manifest", v3.0.0-alpha.1 release notes): it serves what was pushed. So the
# "digest trap" of notebook 04 — deleting by the digest `curl` printed fails — is a registry:2
# trap. On registry:2, send `-H 'Accept: application/vnd.docker.distribution.manifest.v2+json'`
# (and the OCI types) to get the digest a `DELETE` takes.
#
# ## Step 4 · Deletes: off in registry:2, on in registry:3's image
# Delete the manifest by its digest — the way the API deletes — from each:

# %%
codes = lab.versions.deletes_by_default()

# %% [markdown]
# Both programs keep deletes off unless their config turns them on (`storage.delete.enabled`).
# The difference is in the images: registry:3's `config.yml` turns them on
# (distribution-library-image commit a1a8847, its `config-example.yml`), registry:2's does not.
# A registry:3 that must refuse deletes needs `REGISTRY_STORAGE_DELETE_ENABLED=false` (or its own
# config).
#
# ## Step 5 · Delete by tag
# A team's registry:2 usually runs with deletes on. Start it again that way (no volume: it starts
# empty), push `hello-world` to both under two tags, `latest` and `old`:

# %%
registry2 = lab.versions.turn_deletes_on()

# %%
digests = lab.versions.push_both(tags=("latest", "old"))

# %% [markdown]
# Now delete by the **tag** `old`, then ask for it again:

# %%
codes = lab.versions.delete_by_tag()

# %% [markdown]
# The registry API of 2.8 deletes manifests by digest only; a tag is not a digest
# (`DIGEST_INVALID`). registry 3 added deleting a tag (distribution
# [PR #3427](https://github.com/distribution/distribution/pull/3427) "Add tag delete API"): only
# the tag goes, the manifest stays for `latest`. On registry:2 a tag only moves (push another
# image under it) or goes with its manifest — and with that, every tag naming it.
#
# ## Step 6 · Garbage collection and `_layers/`
# Delete the manifest by digest in both (deletes are on in both now), look at the repository's
# layer links, collect garbage (in each container, with its own config path), and look again:

# %%
collected = lab.versions.gc_and_layers()

# %% [markdown]
# Both print the same summary line and delete the same three blobs. registry 2.8 leaves each
# deleted blob's link file in the repository's `_layers/`; registry 3 deletes the link with the
# blob (distribution [PR #4344](https://github.com/distribution/distribution/pull/4344) "remove
# layer's link file by gc"). The folders `_layers/sha256/<digest>/` stay in both. The restart
# after a collection that notebook 04 teaches is still needed on registry 3: its in-memory blob
# cache answers before the storage does.
#
# ## Step 7 · A pull-through cache of each: one fetch or two?
# As in notebook 06: a hub with one image, and in front of it a cache of each version, configured
# alike — `proxy.ttl` of 2 hours, and a debug server with Prometheus metrics on a loopback port
# (Steps 8 and 9):

# %%
caches = lab.versions.run_caches()

# %% [markdown]
# Pull the image once through each cache, each time onto a machine that has none of it, and read
# the hub's access log meanwhile:

# %%
fetches = lab.versions.proxy_double_fetch()

# %% [markdown]
# Notebook 06's measurement for both, as a table and a figure:

# %%
print(fetches)
plots.fetches_by_version(fetches)

# %% [markdown]
# A 2.8 cache streams a blob it lacks from the upstream to the client and, at the same time,
# downloads it again to store it: every first pull costs the upstream twice the image. registry 3
# fetches it once, storing what it streams (distribution
# [PR #3569](https://github.com/distribution/distribution/pull/3569)). For a class pulling large
# images through a cache, that halves what the cache's first pulls cost.
#
# ## Step 8 · `proxy.ttl`
# Both caches were started with `REGISTRY_PROXY_TTL=2h`. Each one's log says how long it keeps
# what it fetched:

# %%
kept = lab.versions.proxy_ttl()

# %% [markdown]
# registry 2.8 has no such setting: it warns that it ignores the variable and keeps everything
# 168 hours, a constant in its code (`repositoryTTL`). registry 3 reads `proxy.ttl`
# (distribution [PR #3880](https://github.com/distribution/distribution/pull/3880)); `0` turns
# expiry off. Expiry deletes from the cache's storage, so it needs deletes on — on in
# registry:3's image, off in a 2.8 cache unless its config says so (notebook 06, Step 9).
#
# ## Step 9 · `/metrics`
# registry:3's image turns a debug server on at port 5001 with Prometheus metrics on `/metrics`
# (its `config.yml`: `http.debug.addr: :5001`); registry:2's image has none. Both programs take
# the same two settings, so here each cache got them explicitly, on a loopback port of the lab's:
# `REGISTRY_HTTP_DEBUG_ADDR` and `REGISTRY_HTTP_DEBUG_PROMETHEUS_ENABLED=true`. Ask each from
# inside its container:

# %%
families = lab.versions.metrics()

# %% [markdown]
# registry 3 counts what a cache does — requests, hits, misses, bytes pulled from upstream and
# sent to clients (distribution [PR #4047](https://github.com/distribution/distribution/pull/4047),
# fixed counts in [PR #4045](https://github.com/distribution/distribution/pull/4045)); 2.8's
# counters in `/debug/vars` do not count a cache's misses. The image's Dockerfile still exposes
# only port 5000: to scrape `/metrics` of a `registry:3` container, publish 5001 too
# (`-p 127.0.0.1:5001:5001`).
#
# ## What to change when you move from 2.8 to 3
#
# | in a 2.8 set-up | with registry 3 | source |
# | --- | --- | --- |
# | config mounted at `/etc/docker/registry/config.yml` | mount it at `/etc/distribution/config.yml` (the old path is ignored, silently) | distribution PR #4365; library image a1a8847 |
# | `registry garbage-collect /etc/docker/registry/config.yml` | `… /etc/distribution/config.yml` | the same |
# | deletes off unless turned on | on in the image's config: set `REGISTRY_STORAGE_DELETE_ENABLED=false` to refuse them | library image a1a8847 |
# | a tag without `Accept` gives a schema 1 rewrite, another digest | the manifest as stored; schema 1 is gone (a schema 1 push is refused) | distribution PR #4023, v3.0.0-alpha.1 notes |
# | a tag cannot be deleted (400 `DIGEST_INVALID`) | `DELETE /v2/<name>/manifests/<tag>` removes the tag alone | distribution PR #3427 |
# | garbage collection leaves `_layers` link files | it removes them with the blobs | distribution PR #4344 |
# | `--delete-untagged` breaks multi-platform images | it keeps an index's per-platform manifests | distribution PR #4285 |
# | a cache fetches each new blob twice | once | distribution PR #3569 |
# | a cache keeps everything 168 h | `proxy.ttl` (`REGISTRY_PROXY_TTL`) | distribution PR #3880 |
# | a cache's upstream: token auth only | also basic auth (`proxy.username`, `proxy.password`) or a credential helper | distribution PRs #4263, #4438 |
# | no debug server unless configured | the image's debug server on 5001 with `/metrics` (publish it to scrape it) | library image a1a8847; PRs #4047, #4045 |
# | no tracing | the program exports traces to `localhost:4318` unless `OTEL_TRACES_EXPORTER=none` (set in images built after July 2025) | distribution PR #4188; library image PR #191 |
# | `tags/list` in storage order, `n` ignored | sorted and paged (`?n=…&last=…`, a `Link` header) | distribution PRs #4360, #4353 |
# | JSON answers say `application/json; charset=utf-8` | `application/json` | distribution commit 15b020475 |
# | the `oss` and `swift` storage drivers | gone: use `s3`, `azure`, `gcs` or `filesystem` | v3.0.0-alpha.1 notes |
#
# Sources: pull requests and commits of [distribution/distribution](https://github.com/distribution/distribution)
# (release notes under its `releases/`) and of
# [distribution-library-image](https://github.com/distribution/distribution-library-image), the
# official image's recipe.
#
# ## Summary
# - `registry:3` reads `/etc/distribution/config.yml`; `registry:2` `/etc/docker/registry/config.yml`.
# - Its image turns deletes **on**; registry:2's leaves them off (405).
# - registry 3 serves a manifest as stored: no schema 1 rewrite, one digest for every client.
# - registry 3 deletes a tag on its own; 2.8 only deletes manifests, by digest.
# - Garbage collection in registry 3 also removes the `_layers` links of the blobs it deletes.
# - A registry 3 cache fetches a new blob from its upstream once, where 2.8 fetches it twice, and
#   honours `proxy.ttl`; 2.8 keeps everything 168 hours.
# - Both serve `/metrics` when configured; registry 3 also counts what a cache does, and its
#   image turns the debug server on at port 5001.
#
# ## Going further
# - `docs/registry-2-and-3.md` in this project: every difference measured, with the scripts, and
#   more (garbage collection's output formats, paging, read-only mode and htpasswd, which are the
#   same).
# - The release notes of distribution v3.0.0 (breaking changes, deprecations) before an upgrade;
#   then push, pull, delete and collect on a copy of your storage with `registry:3`.
# - A registry 3 cache of Docker Hub with an account, for its pull limits:
#   `REGISTRY_PROXY_USERNAME` and `REGISTRY_PROXY_PASSWORD`.
#
# ## Clean up

# %%
removed = lab.cleanup()

# %%
lab.check(checks.nothing_left)
