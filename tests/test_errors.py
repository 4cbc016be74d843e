"""Every sentence reglab raises lives in ``reglab.errors``, reads as one sentence, and reads the same
under both engines.

- No module outside ``src/reglab/errors/`` builds an exception from a string literal or an
  f-string (read from the source, so a new inline sentence fails here at once).
- Every function of ``reglab.errors`` returns an error (or the ``str`` an exception is raised
  with) whose words are one line ending in a full stop (or a question mark), unless marked
  ``@fragment`` and its docstring says what it is part of.
- The engine errors a learner can meet under either engine are provoked live under the Docker
  engine and under the daemonless engine, and the two sentences compared word for word.
"""

from __future__ import annotations

import ast
import builtins
import importlib
import inspect
import os
import pkgutil
import socket
import types
import typing
from pathlib import Path

import pytest

from conftest import labs

import reglab.errors
from reglab import elf
from reglab import images as course_images
from reglab.engines.base import RegistryRun
from reglab.errors import ReglabError
from reglab.naming import Scope

SRC = Path(__file__).resolve().parent.parent / "src" / "reglab"
ERRORS = SRC / "errors"


# ----------------------------------------------------------------------------- no sentence outside reglab.errors


def _exception_names(sources: list[str]) -> set[str]:
    """Names that call an exception class: reglab's, Python's, and any class of ``sources`` derived
    from one of them (found from the source, so a new one counts too)."""
    names = {n for n, v in vars(reglab.errors).items() if isinstance(v, type) and issubclass(v, BaseException)}
    names |= {n for n, v in vars(builtins).items() if isinstance(v, type) and issubclass(v, BaseException)}
    classes = [node for source in sources for node in ast.walk(ast.parse(source)) if isinstance(node, ast.ClassDef)]
    while True:
        more = {c.name for c in classes if c.name not in names
                and any(ast.unparse(b).rsplit(".", 1)[-1] in names for b in c.bases)}
        if not more:
            return names
        names |= more


def _aliases(tree: ast.Module, names: set[str]) -> set[str]:
    """Module-level names bound to an exception class (``Usage = UsageError``)."""
    return {t.id for node in tree.body if isinstance(node, ast.Assign)
            and ast.unparse(node.value).rsplit(".", 1)[-1] in names
            for t in node.targets if isinstance(t, ast.Name)}


def _has_words(node: ast.AST, strings: set[str]) -> bool:
    """Words written in place: a string literal or f-string (``"…" + x``, ``"…".format()``, ``"%s" % x``
    too), or a name bound to one in the same function. The arguments of another call are values
    it is given (``errors.unknown_flag("run", flag)``), not the sentence."""
    if isinstance(node, ast.JoinedStr) or (isinstance(node, ast.Constant) and isinstance(node.value, str)):
        return True
    if isinstance(node, ast.Name):
        return node.id in strings
    if isinstance(node, ast.Call):
        return isinstance(node.func, ast.Attribute) and _has_words(node.func.value, strings)
    return any(_has_words(child, strings) for child in ast.iter_child_nodes(node))


def inline_sentences(source: str, names: set[str]) -> list[tuple[int, str]]:
    """``(line, code)`` of every exception built from words written in place, raised at once or
    kept to raise later: ``raise X(f"…")``, ``error = X("…")``, ``msg = "…"; raise X(msg)``."""
    tree = ast.parse(source)
    names = names | _aliases(tree, names)
    found = []
    scopes = [tree] + [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))]
    for scope in scopes:
        own = [n for stmt in (scope.body if isinstance(scope.body, list) else [scope.body]) for n in ast.walk(stmt)]
        strings = {t.id for node in own if isinstance(node, ast.Assign) and _has_words(node.value, set())
                   for t in node.targets if isinstance(t, ast.Name)}
        for node in own:
            if isinstance(node, ast.Call) and ast.unparse(node.func).rsplit(".", 1)[-1] in names:
                if any(_has_words(a, strings) for a in [*node.args, *(k.value for k in node.keywords)]):
                    found.append((node.lineno, ast.unparse(node)[:100]))
    return sorted(set(found))


def test_the_finder_finds_inline_sentences():
    """The check below can fail: each way of writing a sentence in place is found; a call of
    reglab.errors, or a value given to one, is not."""
    source = '''
class Slow(TooSlow):
    pass
Usage = EngineError
def f(x):
    raise EngineError(f"could not {x}.")
def g():
    error = ValueError("no " + "way")
    return error
def h(x):
    message = f"{x} is gone."
    raise EngineError(message)
def i():
    raise Usage("unknown flag")
def j():
    raise Slow("{} positions".format(3))
def k(x):
    raise EngineError(errors.no_container(x)) from None
def l(x):
    raise UsageError(errors.unknown_flag("run", x))
def m(x):
    raise errors.no_volume(x)
'''
    found = inline_sentences(source, _exception_names([source, "class TooSlow(Exception): pass"]))
    assert [line for line, _ in found] == [6, 8, 12, 14, 16]


def test_no_module_outside_reglab_errors_writes_a_sentence_of_its_own():
    files = sorted(SRC.rglob("*.py"))
    names = _exception_names([p.read_text() for p in files])
    outside = [p for p in files if ERRORS not in p.parents]
    found = [f"{p.relative_to(SRC)}:{line}: {code}" for p in outside
             for line, code in inline_sentences(p.read_text(), names)]
    assert found == [], "sentences belong in reglab.errors (one function per sentence):\n" + "\n".join(found)


# ----------------------------------------------------------------------------- every function says one sentence


def _topic_modules() -> list[types.ModuleType]:
    return [importlib.import_module(f"reglab.errors.{m.name}") for m in pkgutil.iter_modules(reglab.errors.__path__)]


def _functions() -> list[tuple[str, typing.Callable]]:
    found = [(f"reglab.errors.{name}", fn) for name, fn in vars(reglab.errors).items()
             if inspect.isfunction(fn) and fn.__module__ == "reglab.errors" and not name.startswith("_")
             and name != "fragment"]
    for module in _topic_modules():
        found += [(f"{module.__name__}.{name}", getattr(module, name)) for name in module.__all__]
    return found


_BY_NAME = {"kind": ["container", "volume", "network"], "argv": [["garbage-collect", "/etc/docker/registry/config.yml"]], "what": ["hub", "proxy"], "port": [5000], "first": [5000],
            "last": [5009], "objects": [[("volume", "reglab-01-data")],
                                                        [("container", "reglab-01-registry"), ("volume", "reglab-01-data")]],
            "bad": [[("docker/registry/v2/blobs/sha256/ab/ab…/data", "ab12…", "cd34…", True),
                     ("docker/registry/v2/repositories/app/_layers/sha256/ab…/link", "ab12…", "", False),
                     ("docker/registry/v2/blobs/sha256/ef/ef…/data", "ef56…", None, True)]]}


def _samples(hint) -> list:
    """Values of a parameter's type: every branch a sentence has (None and a value, both booleans)."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return [v for a in args for v in _samples(a)]
    if hint is type(None):
        return [None]
    if hint is bool:
        return [True, False]
    if hint is int:
        return [5000]
    if hint is float:
        return [2.5, 30.0]
    if origin is list:
        return [[v for v in _samples(args[0])][:1] * 2 if args else ["a", "b"], []]
    if origin is tuple:
        return [tuple(_samples(a)[0] for a in args)]
    return ["reglab-t-sample"]


def _calls(fn) -> list[dict]:
    hints = typing.get_type_hints(fn)
    calls = [{}]
    for name, param in inspect.signature(fn).parameters.items():
        values = _BY_NAME.get(name) or _samples(hints.get(name, str))
        if param.default is not inspect.Parameter.empty and param.default not in values:
            values = [param.default, *values]
        calls = [{**call, name: value} for call in calls for value in values]
    return calls


FUNCTIONS = _functions()


def test_every_topic_module_is_part_of_reglab_errors():
    """``from reglab import errors; errors.<sentence>()`` finds every sentence of every topic module."""
    for module in _topic_modules():
        assert module.__all__, module.__name__
        missing = [name for name in module.__all__ if getattr(reglab.errors, name, None) is not getattr(module, name)]
        assert missing == [], f"{module.__name__}: not re-exported by reglab.errors (from .x import *): {missing}"
        defined = sorted(name for name, fn in vars(module).items() if inspect.isfunction(fn)
                         and fn.__module__ == module.__name__ and not name.startswith("_"))
        assert sorted(set(module.__all__)) == defined, f"{module.__name__}: __all__ and its functions differ"
    assert len(FUNCTIONS) > 150


@pytest.mark.parametrize("qualname, fn", FUNCTIONS, ids=[q for q, _ in FUNCTIONS])
def test_every_sentence_is_one_line_ending_in_a_full_stop(qualname, fn):
    fragment = getattr(fn, "fragment", False)
    if fragment:
        assert (fn.__doc__ or "").strip(), f"{qualname} is marked a fragment: its docstring says what of"
    for call in _calls(fn):
        made = fn(**call)
        assert isinstance(made, ReglabError | str) or (fragment and isinstance(made, Exception)), (qualname, made)
        text = str(made)
        assert text and text == text.strip() and "\n" not in text, (qualname, call, text)
        assert "Traceback" not in text and len(text) < 500, (qualname, call, text)
        if not fragment:  # a question is a sentence too ("is it running and attached?")
            assert text.endswith((".", "?")), f"{qualname}{call} does not end in a full stop: {text!r}"


def test_a_sentence_given_as_a_string_is_raised_with_an_exception():
    """A function that returns its sentence as a ``str`` (and is no fragment) is the words of an
    exception: everywhere outside reglab.errors it is called as the argument of one
    (``raise NameConflict(errors.not_ours(...))``), never shown some other way."""
    words = sorted({q.rsplit(".", 1)[1] for q, fn in FUNCTIONS if not getattr(fn, "fragment", False)
                    and isinstance(fn(**_calls(fn)[0]), str)})
    assert "not_ours" in words and "one_data_folder" in words
    files = sorted(SRC.rglob("*.py"))
    names = _exception_names([p.read_text() for p in files])
    elsewhere, used = [], set()
    for path in (p for p in files if ERRORS not in p.parents):
        tree = ast.parse(path.read_text())
        names_here = names | _aliases(tree, names)
        wrapped = {id(arg) for node in ast.walk(tree) if isinstance(node, ast.Call)
                   and ast.unparse(node.func).rsplit(".", 1)[-1] in names_here for arg in node.args}
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and ast.unparse(node.func).rsplit(".", 1)[-1] in words:
                used.add(ast.unparse(node.func).rsplit(".", 1)[-1])
                if id(node) not in wrapped:
                    elsewhere.append(f"{path.relative_to(SRC)}:{node.lineno}: {ast.unparse(node)[:80]}")
    assert elsewhere == [], "\n".join(elsewhere)
    assert used == set(words), f"never raised: {sorted(set(words) - used)}"


# ----------------------------------------------------------------------------- the same words under both engines


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _words(call) -> tuple[str, str]:
    """The error ``call()`` raises: (its class, its sentence)."""
    with pytest.raises(ReglabError) as info:
        call()
    return type(info.value).__name__, str(info.value)


def no_such_container(engine, make, port):
    return _words(lambda: engine.containers.remove(make("nothing").object_name("registry")))


def no_such_volume(engine, make, port):
    return _words(lambda: engine.objects.remove_volume(make("novol").object_name("data")))


def volume_in_use(engine, make, port):
    lab = make("vol")
    registry = lab.run_registry(port=port, volume="data")
    return _words(lambda: engine.objects.remove_volume(registry.volume))


def push_missing_image(engine, make, port):
    make("push")
    return _words(lambda: engine.images.push(f"127.0.0.1:{port}/t-parity/never:1"))


def remove_missing_image(engine, make, port):
    make("rmi")
    return _words(lambda: engine.images.remove("t-parity/never:1"))


def run_missing_image(engine, make, port):
    lab = make("run")
    return _words(lambda: engine.containers.run(lab.scope, lab.object_name("hello"), "t-parity/never:1"))


def image_in_use(engine, make, port):
    """An image of one name, which a stopped container uses: a program that really runs under
    Docker (reglab's own stand-in writer), in an image of its own (a shared one would only lose a tag)."""
    lab = make("inuse")
    tag = "t-parity/inuse:1"
    program = elf.program("parity\n", course_images.go_arch())
    build = course_images.ImageBuild([tag], [course_images.Layer().file("hello", program, 0o755)], {"Cmd": ["/hello"]})
    engine.images.load(course_images.docker_archive([build]))
    try:
        engine.containers.run(lab.scope, lab.object_name("user"), tag)
        return _words(lambda: engine.images.remove(tag))
    finally:
        lab.cleanup()
        engine.images.remove(tag)


def port_taken(engine, make, port):
    lab = make("port")
    holder = socket.socket()
    holder.bind(("127.0.0.1", port))
    holder.listen()
    try:
        run = RegistryRun(lab.object_name("registry"), engine.settings.registry_image, port)
        return _words(lambda: engine.containers.start_registry(run, lab.scope))
    finally:
        holder.close()


def registry_does_not_start(engine, make, port):
    lab = make("broken")
    return _words(lambda: lab.run_registry(port=port, env={"REGISTRY_STORAGE": "nosuchdriver"}))


CASES = [no_such_container, no_such_volume, volume_in_use, push_missing_image, remove_missing_image,
         run_missing_image, image_in_use, port_taken, registry_does_not_start]

# The one difference allowed, and why: who holds a taken port. The daemonless engine finds the
# program in /proc ("another program (python3)"); Docker's daemon reports only that the bind failed.
HOLDER = ("another program (", "another program")


def _normalised(words: tuple[str, str]) -> tuple[str, str]:
    kind, text = words
    if HOLDER[0] in text:
        start = text.index(HOLDER[0])
        text = text[:start] + HOLDER[1] + text[text.index(")", start) + 1:]
    return kind, text


@pytest.mark.parametrize("case", CASES, ids=[c.__name__ for c in CASES])
def test_both_engines_say_the_same_words(case, engine):
    """Provoked under the Docker engine, then under the daemonless one, with the same names and
    port: the same error class and the same sentence."""
    from reglab.engines.local import LocalEngine

    port = _free_port()
    said = {}
    for kind, eng in (("docker", engine), ("local", LocalEngine())):
        with labs(eng, "t-parity-") as make:
            said[kind] = case(eng, make, port)
    assert _normalised(said["docker"]) == _normalised(said["local"])


def _expected(case: str, port: int) -> tuple[str, str] | None:
    """What both engines must say, as reglab.errors words it (None: a registry's own log line)."""
    e = reglab.errors
    sentence = {
        "no_such_container": lambda: e.no_container("reglab-t-parity-nothing-registry"),
        "no_such_volume": lambda: e.no_volume("reglab-t-parity-novol-data"),
        "volume_in_use": lambda: e.volume_in_use("reglab-t-parity-vol-data", "reglab-t-parity-vol-registry"),
        "push_missing_image": lambda: e.missing_image(f"127.0.0.1:{port}/t-parity/never:1"),
        "remove_missing_image": lambda: e.missing_image("t-parity/never:1"),
        "run_missing_image": lambda: e.no_image_to_run("t-parity/never:1"),
        "image_in_use": lambda: e.image_in_use("t-parity/inuse:1", "reglab-t-parity-inuse-user"),
        "port_taken": lambda: e.port_taken(port, "127.0.0.1"),
    }.get(case)
    return None if sentence is None else (type(sentence()).__name__, str(sentence()))


@pytest.mark.daemonless
@pytest.mark.parametrize("case", CASES, ids=[c.__name__ for c in CASES])
def test_the_daemonless_engine_says_the_shared_sentence(case):
    """Without Docker (Binder, the daemonless lane): each error is the sentence of reglab.errors that
    the Docker engine says too (test_both_engines_say_the_same_words proves it there)."""
    from reglab.engines.local import LocalEngine

    port = _free_port()
    eng = LocalEngine()
    with labs(eng, "t-parity-") as make:
        said = _normalised(case(eng, make, port))
    expected = _expected(case.__name__, port)
    if expected is None:  # the registry's own last words complete it
        assert said[0] == "RegistryUnavailable"
        assert said[1].startswith(f"the registry at 127.0.0.1:{port} did not start: it stopped (exited); its last "
                                  "log line: ") and "nosuchdriver" in said[1]
    else:
        assert said == expected


def test_a_name_held_by_an_object_reglab_did_not_create_is_a_docker_error(engine):
    """Docker only, and why: under Docker a typed ``docker volume create`` makes a volume reglab did not
    label, and the lab stops at once; the daemonless engine's ``docker`` (a sheet's passes its lab)
    files every object it makes under that lab, so the lab owns it and there is no stranger to name."""
    from reglab.dockercli import DockerCLI
    from reglab.engines.local import LocalEngine

    name = "reglab-t-parity-names-data"
    engine.client.volumes.create(name)  # as `docker volume create` typed in a terminal: no reglab labels
    try:
        with labs(engine, "t-parity-") as make:
            with pytest.raises(reglab.errors.NameConflict) as info:
                make("names")
        assert str(info.value) == str(reglab.errors.strangers_hold_names("t-parity-names", [("volume", name)]))
    finally:
        engine.client.volumes.get(name).remove(force=True)

    local = LocalEngine()
    with labs(local, "t-parity-") as make:
        lab = make("names")
        with open(os.devnull, "w") as quiet:
            assert DockerCLI(local, out=quiet, lab=lab.scope.lab).main(["volume", "create", name]) == 0
        assert local.objects.volume_exists(name)
        assert local.objects.strangers(Scope("t-parity-names")) == []
        assert [o.name for o in local.objects.of(lab.scope)] == [name]
