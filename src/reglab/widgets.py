"""An explorer for a registry's storage: repositories → tags → manifest → config and layers → file.

Column browser (like a file manager's column view) over a :class:`reglab.storage.Tree`. Each
selection opens the next column and shows, below, what the item is, its size, its path on disk
and a preview: pretty JSON for manifests and configs, the file list of a layer. The saved text
form of the widget is one fixed sentence, so notebooks with it stay comparable (nbval).

The explorer reads the registry's files when it is clicked. A widget that outlived its registry
(the lab was cleaned up, the kernel restarted) says so in the widget, and so does any other
failure: a widget callback's exception would otherwise reach only JupyterLab's log.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import ipywidgets as w

from . import errors
from .errors import ReglabError
from .media import short
from .storage import REPOS, Tree
from .units import human

COLUMN_WIDTH = "190px"
PREVIEW_FILES = 60  # lines of a layer's file list shown
GONE = errors.files_gone()


@dataclass
class Item:
    """One thing in a column: what it is, how it reads, what opens next."""

    label: str
    kind: str  # repository | tag | manifest | image index | config | layer | file | group | upload | note
    title: str
    facts: list[tuple[str, str]] = field(default_factory=list)
    preview: Callable[[], str] | None = None
    children: Callable[[], list[Item]] | None = None
    digest: str | None = None


def _sd(digest: str) -> str:
    algo, _, hexd = digest.partition(":")
    return f"{algo}:{short(hexd)}" if hexd else digest


class StorageModel:
    """Builds :class:`Item` columns from a tree (no widgets here: testable without a browser)."""

    def __init__(self, tree: Tree, top: str):
        self.tree, self.top = tree, top.rstrip("/")

    def on_disk(self, rel: str) -> str:
        return f"{self.top}/{rel}"

    def files_gone(self) -> bool:
        """Whether the files this tree was read from are gone (the lab was cleaned up): the
        folder of a bind mount no longer exists, or a blob no longer reads (a volume whose
        registry container was removed)."""
        root = getattr(self.tree.source, "root", None)
        if root is not None:
            return not Path(root).is_dir()
        if self.tree.source is None:
            return False
        blob = next(iter(self.tree.blobs().values()), None)
        if blob is None:
            return False
        try:
            with self.tree.source.open(blob.path):  # asks the engine again (reads may come from a cache)
                pass
        except Exception:  # noqa: BLE001 (whatever the engine raises for a container that is gone)
            return True
        return False

    def roots(self) -> list[Item]:
        tree = self.tree
        items = [self.repository(name) for name in tree.repositories()]
        orphans = tree.orphans()
        if orphans:
            items.append(Item(f"(orphans: {len(orphans)})", "group", "blobs no manifest references",
                              [("what", ("blobs stored in blobs/ that no manifest of any repository names; "
                                         "registry garbage-collect deletes them")),
                               ("size", human(sum(b.size for b in orphans)))],
                              children=lambda: [self.blob_item(b.digest, b.kind) for b in orphans]))
        uploads = tree.uploads()
        if uploads:
            items.append(Item(f"(uploads: {len(uploads)})", "group", "upload sessions in progress or abandoned",
                              [("what", ("pushes that started sending a blob and have not finished; the registry "
                                         "purges old ones"))],
                              children=lambda: [self.upload(u) for u in uploads]))
        if not items:
            items.append(Item("(empty)", "note", "nothing has been pushed yet",
                              [("what", "push an image, then open the explorer again")]))
        return items

    def repository(self, name: str) -> Item:
        repo = self.tree.repository(name)
        facts = [
            ("what", "a repository: a name under which images are pushed; it holds only links"),
            ("tags", ", ".join(sorted(repo.tags)) or "none"),
            ("manifests", str(len(repo.revisions))),
            ("blob links", f"{len(repo.layers)} (in _layers/: the blobs it may serve)"),
            ("path", self.on_disk(f"{REPOS}/{name}/")),
        ]
        return Item(name, "repository", f"repository {name}", facts, children=lambda: self.tags(name))

    def tags(self, name: str) -> list[Item]:
        repo = self.tree.repository(name)
        items = []
        for tag in sorted(repo.tags.values(), key=lambda t: t.name):
            target = tag.target
            facts = [("what", "a tag: a name for one manifest, kept in a small link file"),
                     ("points to", target or "nothing (no current/link)"),
                     ("path", self.on_disk(tag.current.path) if tag.current else "(missing)")]
            older = [d for d in sorted(tag.index) if d != target]
            if older:
                facts.append(("pointed before to", ", ".join(_sd(d) for d in older)))
            items.append(Item(tag.name, "tag", f"tag {name}:{tag.name}", facts,
                              preview=(lambda t=tag: f"$ cat {self.on_disk(t.current.path)}\n{t.current.target}")
                              if tag.current else None,
                              children=(lambda d=target: [self.manifest(name, d)]) if target else None))
        tagged = {t.target for t in repo.tags.values()}
        for digest in sorted(repo.revisions):
            if digest not in tagged:
                items.append(Item(f"(untagged) {_sd(digest)}", "manifest", "a manifest no tag points to",
                                  [("what", "pushed here once; a later push moved its tag elsewhere")],
                                  children=lambda d=digest: [self.manifest(name, d)]))
        return items

    def manifest(self, repository: str, digest: str) -> Item:
        tree = self.tree
        blob = tree.blob(digest)
        if blob is None:
            return Item(f"manifest {_sd(digest)} (missing!)", "note", "a link to a manifest that is not stored",
                        [("what", "blobs/ holds no such blob: pulls of this tag fail")])
        info = tree.manifest(digest)
        kind = info.kind if info else "manifest"
        facts = [("what", f"the {kind}: a small JSON document naming the config and layers by digest"
                  if kind == "manifest" else f"the {kind}: a JSON list of manifests, one per platform"),
                 ("digest", digest), ("media type", info.media_type if info else "(not valid JSON)"),
                 ("size", human(blob.size)), ("path", self.on_disk(blob.path))]

        def children() -> list[Item]:
            out = []
            if info is None:
                return [self.file(blob.digest)]
            if info.config:
                out.append(self.blob_item(info.config, "config"))
            for i, layer in enumerate(info.layers, 1):
                out.append(self.blob_item(layer, "layer", f"layer {i}"))
            for child in info.manifests:
                out.append(self.manifest(repository, child))
            out.append(self.file(digest, "manifest's own file"))
            return out

        return Item(f"{kind} {_sd(digest)}", kind, f"{kind} {digest}", facts,
                    preview=lambda: self.json_preview(digest), children=children, digest=digest)

    def blob_item(self, digest: str, kind: str, label: str | None = None) -> Item:
        tree = self.tree
        blob = tree.blob(digest)
        label = label or kind
        if blob is None:
            return Item(f"{label} {_sd(digest)} (missing!)", "note", f"{kind} not stored",
                        [("what", "the manifest names it, but blobs/ holds no such blob")])
        links = [link.path.split("/_layers/")[0][len(REPOS) + 1:] for link in tree.links_to(digest)
                 if "/_layers/" in link.path]
        facts = [("what", _KIND_WORDS.get(blob.kind, blob.kind) + (" — an orphan: no manifest names it"
                                                                    if blob.orphan else "")),
                 ("digest", digest), ("size", human(blob.size)),
                 ("media type", blob.media_type or "(not named by any manifest)"),
                 ("linked from", ", ".join(links) if links else "no repository"),
                 ("path", self.on_disk(blob.path))]
        preview = (lambda: self.json_preview(digest)) if blob.kind in ("config", "manifest", "image index") \
            else (lambda: self.layer_preview(digest))
        return Item(f"{label} {_sd(digest)}", blob.kind, f"{blob.kind} {digest}", facts, preview=preview,
                    children=lambda: [self.file(digest)], digest=digest)

    def file(self, digest: str, label: str = "data") -> Item:
        blob = self.tree.blob(digest)
        path = self.on_disk(blob.path)
        return Item(label, "file", f"the file {path}",
                    [("what", ("the bytes themselves: the only copy, whatever the number of repositories "
                               "and tags that use it")),
                     ("size", human(blob.size)), ("path", path),
                     ("check", f"sha256sum {path}  → must print {digest.partition(':')[2][:12]}…")],
                    digest=digest)

    def upload(self, upload) -> Item:
        return Item(upload.uuid[:13] + "…", "upload", f"upload {upload.uuid}",
                    [("what", f"an unfinished push to {upload.repository}"),
                     ("received", human(upload.size)), ("started", upload.started_at or "unknown"),
                     ("path", self.on_disk(upload.path))])

    def json_preview(self, digest: str) -> str:
        body = self.tree.json(digest)
        if body is None:
            if self.files_gone():
                raise errors.files_gone_error()
            return "(not JSON)"
        text = json.dumps(body, indent=2)
        lines = text.splitlines()
        return "\n".join(lines[:120] + ([f"… {len(lines) - 120} more lines"] if len(lines) > 120 else []))

    def layer_preview(self, digest: str) -> str:
        try:
            files = self.tree.layer_files(digest, limit=PREVIEW_FILES + 1)
        except ReglabError as exc:
            return str(exc)
        lines = [f"{'d' if kind == 'dir' else 'l' if kind == 'link' else '-'} {size:>10}  {name}"
                 for name, size, kind in files[:PREVIEW_FILES]]
        if len(files) > PREVIEW_FILES:
            lines.append("… more files")
        return "$ tar -tvzf data  (the layer is a gzipped tar of files)\n" + "\n".join(lines or ["(no files)"])


def _sentence(exc: Exception) -> str:
    """A reglab error as it reads; anything else with its type, so it is not mistaken for one."""
    return str(exc) if isinstance(exc, ReglabError) else f"{type(exc).__name__}: {exc}"


_KIND_WORDS = {
    "config": "the image config: JSON with the command, environment and the layers' diff ids",
    "layer": "a layer: a gzipped tar of files, unpacked one over another to make the container's filesystem",
    "manifest": "a manifest",
    "image index": "an image index",
}


def _problem_html(text: str) -> str:
    return f"<b style='color:#b22222'>✘ {html.escape(text, quote=False)}</b>"


def _detail_html(item: Item) -> str:
    rows = "".join(
        f"<tr><td style='padding-right:1em;vertical-align:top;white-space:nowrap'><b>{html.escape(k)}</b></td>"
        f"<td style='font-family:monospace;word-break:break-all'>{html.escape(v)}</td></tr>"
        for k, v in item.facts)
    return f"<h4 style='margin:0.3em 0'>{html.escape(item.title)}</h4><table>{rows}</table>"


class Explorer(w.VBox):
    """The column browser; ``Explorer(tree, top)`` or ``lab.explore()``."""

    def __init__(self, tree: Tree, top: str = "/var/lib/registry"):
        self.model = StorageModel(tree, top)
        self.tree = tree
        self.header = w.HTML(self._header_html())
        self.columns_box = w.HBox(layout=w.Layout(overflow="auto"))
        self.detail = w.HTML(layout=w.Layout(width="100%"))
        self.preview = w.Textarea(disabled=True, layout=w.Layout(width="100%", height="16em",
                                                                  display="none"))
        self.check = w.Button(description="check sha256", icon="check", layout=w.Layout(display="none"))
        self.check_result = w.HTML()
        self.check.on_click(self._on_check)
        self._columns: list[tuple[w.Select, list[Item]]] = []
        self._selected: Item | None = None
        super().__init__([self.header, self.columns_box, self.detail, w.HBox([self.check, self.check_result]),
                          self.preview])
        self._push_column(self.model.roots())
        self.detail.value = ("<i>Pick a repository, then a tag, then the manifest, then a config or a layer, "
                             "then its file: each choice shows what it is, its size and where it lies.</i>")

    def _header_html(self) -> str:
        t = self.tree
        return (f"<b>Registry storage</b> at <code>{html.escape(self.model.top)}</code>: "
                f"{len(t.repositories())} repositories, {t.blob_count} blobs ({human(t.blob_bytes)} on disk; "
                f"{human(t.logical_bytes)} if every image were stored apart), {t.file_count} files")

    # ------------------------------------------------------------------ columns

    def _push_column(self, items: list[Item]) -> None:
        select = w.Select(options=[(item.label, i) for i, item in enumerate(items)], value=None, rows=12,
                          layout=w.Layout(width=COLUMN_WIDTH))
        depth = len(self._columns)
        select.observe(lambda change, d=depth: self._on_select(d, change["new"]), names="value")
        self._columns.append((select, items))
        self.columns_box.children = tuple(s for s, _ in self._columns)

    def _on_select(self, depth: int, index: int | None) -> None:
        del self._columns[depth + 1:]
        self.columns_box.children = tuple(s for s, _ in self._columns)
        if index is None:
            return
        self.select_item(self._columns[depth][1][index])

    def select_item(self, item: Item) -> None:
        """Show an item and open its children as the next column."""
        self._selected = item
        self.check_result.value = ""
        if self.model.files_gone():
            self._show_problem(GONE)
            return
        self.detail.value = _detail_html(item)
        self.check.layout.display = "" if item.kind == "file" else "none"
        try:
            if item.preview is not None:
                try:
                    self.preview.value = item.preview()
                except ReglabError as exc:
                    self.preview.value = str(exc)
                self.preview.layout.display = ""
            else:
                self.preview.value = ""
                self.preview.layout.display = "none"
            if item.children is not None:
                children = item.children()
                if children:
                    self._push_column(children)
        except Exception as exc:  # noqa: BLE001 (shown in the widget, not lost in JupyterLab's log)
            self._show_problem(GONE if self.model.files_gone() else _sentence(exc))

    def _show_problem(self, text: str) -> None:
        self.detail.value = _problem_html(text)
        self.preview.value = ""
        self.preview.layout.display = "none"
        self.check.layout.display = "none"

    def choose(self, *labels: str) -> Item:
        """Select by labels, column after column (``choose("hello-world", "latest")``); for scripts and tests."""
        item = None
        for depth, label in enumerate(labels):
            select, items = self._columns[depth]
            matches = [i for i, it in enumerate(items) if it.label == label or it.label.startswith(label)]
            if not matches:
                raise errors.column_has_no(depth + 1, label, [it.label for it in items])
            select.value = matches[0]
            item = items[matches[0]]
        return item

    def _on_check(self, _button=None) -> None:
        item = self._selected
        if item is None or item.digest is None:
            return
        if self.model.files_gone():
            self.check_result.value = f"&nbsp;{_problem_html(GONE)}"
            return
        try:
            self.tree.verify([item.digest])
            self.check_result.value = f"&nbsp;✔ the sha256 of the bytes is {html.escape(item.digest)}"
        except Exception as exc:  # noqa: BLE001 (shown in the widget, not lost in JupyterLab's log)
            text = GONE if self.model.files_gone() else _sentence(exc)
            self.check_result.value = f"&nbsp;✘ {html.escape(text)}"

    # ------------------------------------------------------------------ text form

    def __repr__(self) -> str:
        t = self.tree
        return f"Explorer: {len(t.repositories())} repositories, {t.blob_count} blobs (browse it in a running kernel)"
