"""Image references: ``[host[:port]/]path[:tag][@digest]``.

The grammar is distribution's (``reference/regexp.go``): a first component holding a
``.`` or ``:`` (or ``localhost``) names the registry; everything else lives on Docker Hub,
where one-word names are short for ``library/<name>``. An IPv6 address in brackets
(``[::1]:5000``) names a registry too, as in ``github.com/distribution/reference`` ≥ 0.5
(Docker ≥ 25; Docker 20.10's older grammar refused it).
"""

import re
from dataclasses import dataclass

from . import errors

DOCKER_HUB = "docker.io"
DEFAULT_TAG = "latest"

_COMPONENT = re.compile(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$")
_DOMAIN = re.compile(
    r"^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?))*"
    r"(?::[0-9]+)?$"
)
_IPV6_DOMAIN = re.compile(r"^\[[a-fA-F0-9:]+\](?::[0-9]+)?$")
_TAG = re.compile(r"^[\w][\w.-]{0,127}$")
_DIGEST = re.compile(r"^sha256:[a-f0-9]{64}$")


@dataclass(frozen=True)
class Reference:
    """A parsed reference; ``str()`` gives it back in its shortest familiar form."""

    registry: str
    repository: str
    tag: str | None = None
    digest: str | None = None

    @classmethod
    def parse(cls, text: str) -> "Reference":
        if not isinstance(text, str) or not text.strip():
            raise errors.empty_reference()
        if text != text.strip() or any(c.isspace() for c in text):
            raise errors.reference_has_spaces(text)
        rest, digest = text, None
        if "@" in rest:
            rest, digest = rest.split("@", 1)
            if not _DIGEST.match(digest):
                raise errors.reference_bad_digest(text)
        tag = None
        slash = rest.rfind("/")
        colon = rest.rfind(":")
        if colon > slash:
            rest, tag = rest[:colon], rest[colon + 1 :]
            if not _TAG.match(tag):
                raise errors.reference_bad_tag(text, tag)
        registry, path = DOCKER_HUB, rest
        first, sep, remainder = rest.partition("/")
        if sep and ("." in first or ":" in first or first == "localhost"):
            if not (_DOMAIN.match(first) or _IPV6_DOMAIN.match(first)):
                raise errors.reference_bad_host(text, first)
            registry, path = first, remainder
        if not path:
            raise errors.reference_no_repository(text)
        for component in path.split("/"):
            if not _COMPONENT.match(component):
                raise errors.reference_bad_component(text, component)
        if registry == DOCKER_HUB and "/" not in path:
            path = f"library/{path}"
        if len(path) > 255:
            raise errors.reference_too_long(text)
        return cls(registry, path, tag, digest)

    @property
    def tag_or_default(self) -> str:
        return self.tag or DEFAULT_TAG

    @property
    def familiar_repository(self) -> str:
        """The repository as a learner types it (``hello-world``, ``127.0.0.1:5000/hello-world``)."""
        if self.registry == DOCKER_HUB:
            path = self.repository.removeprefix("library/")
            return path
        return f"{self.registry}/{self.repository}"

    @property
    def tagged(self) -> str:
        """``repo:tag``, with ``latest`` filled in (how the daemon names local images)."""
        return f"{self.familiar_repository}:{self.tag_or_default}"

    def explain(self) -> str:
        """The parts of the name, each with what it means (for learners)."""
        hub = self.registry == DOCKER_HUB
        lines = [
            f"registry:   {self.registry}" + ("   (none given, so Docker Hub)" if hub else "   (where push and pull go)"),
            f"repository: {self.repository}" + ("   (one-word Hub names live under library/)"
                                                if hub and self.repository.startswith("library/") else ""),
            f"tag:        {self.tag_or_default}" + ("   (none given, so latest)" if not self.tag else ""),
        ]
        if self.digest:
            lines.append(f"digest:     {self.digest}   (pins the exact content)")
        return "\n".join(lines)

    def __str__(self) -> str:
        text = self.familiar_repository
        if self.tag:
            text += f":{self.tag}"
        if self.digest:
            text += f"@{self.digest}"
        return text


def parse(text: "str | Reference") -> Reference:
    """A :class:`Reference` from text (or the reference itself)."""
    return text if isinstance(text, Reference) else Reference.parse(text)
