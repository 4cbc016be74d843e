import pytest

from reglab.errors import BadReference
from reglab.reference import parse


@pytest.mark.parametrize(
    "text, registry, repository, tag, tagged",
    [
        ("hello-world", "docker.io", "library/hello-world", None, "hello-world:latest"),
        ("registry:2", "docker.io", "library/registry", "2", "registry:2"),
        ("user/app:v1", "docker.io", "user/app", "v1", "user/app:v1"),
        ("127.0.0.1:5000/hello-world", "127.0.0.1:5000", "hello-world", None, "127.0.0.1:5000/hello-world:latest"),
        ("localhost/a/b:x", "localhost", "a/b", "x", "localhost/a/b:x"),
        ("reg.example:443/team/app:1.0", "reg.example:443", "team/app", "1.0", "reg.example:443/team/app:1.0"),
    ],
)
def test_parse(text, registry, repository, tag, tagged):
    ref = parse(text)
    assert (ref.registry, ref.repository, ref.tag, ref.tagged) == (registry, repository, tag, tagged)
    assert str(ref) == text


def test_digest_reference():
    digest = "sha256:" + "ab" * 32
    ref = parse(f"127.0.0.1:5000/app@{digest}")
    assert ref.digest == digest and ref.tag is None and str(ref).endswith(digest)


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("Hello-World", "lowercase"),
        ("hello world", "spaces"),
        ("127.0.0.1:5000/", "missing"),
        ("app:bad/tag!", "host name"),
        ("app:-x", "tag"),
        ("app@sha256:123", "64 hex"),
        ("", "empty"),
        ("a__-b", "lowercase"),
    ],
)
def test_bad_references_say_why(text, fragment):
    with pytest.raises(BadReference) as info:
        parse(text)
    message = str(info.value)
    assert fragment in message
    assert "\n" not in message and message.endswith(".")


def test_uppercase_hint_suggests_the_fix():
    with pytest.raises(BadReference, match="try 'hello-world'"):
        parse("Hello-World")


def test_explain_names_every_part():
    text = parse("hello-world").explain()
    assert "docker.io" in text and "library/hello-world" in text and "latest" in text
    assert "where push and pull go" in parse("127.0.0.1:5000/hello-world:v2").explain()
