"""A lab's cleanup removes the image names it and the learner made under the addresses the lab
took (a pull, a tag, a digest name Docker keeps after a tag moved), and not the names that were
under those addresses before the lab took them: a learner's own, from their own registry once on
that port."""

from __future__ import annotations

import pytest

from reglab import ports
from reglab.naming import Scope
from reglab.sandbox import Sandbox


@pytest.mark.engine
def test_cleanup_removes_names_made_under_the_labs_address_and_keeps_the_learners(engine, tmp_path):
    hello = engine.settings.hello_image
    port = ports.choose(5600)
    address = f"127.0.0.1:{port}"
    mine = f"{address}/mine:1"  # a learner's own name, from a registry they once ran on that port
    engine.images.tag(hello, mine)
    sandbox = Sandbox(Scope("zz"), engine, engine.settings.but(state_dir=tmp_path / "state",
                                                               workdir=tmp_path / "work"))
    try:
        assert sandbox.hold_port(port, "127.0.0.1")
        engine.images.tag(hello, f"{address}/typed:1")  # what the learner typed during the lab
        engine.images.tag(hello, f"{address}/second:1")
        assert {"tag " + name for name in (f"{address}/typed:1", f"{address}/second:1")} <= \
            {str(m) for m in sandbox.left()}
        removed = {str(m) for m in sandbox.clear()}
        assert {f"tag {address}/typed:1", f"tag {address}/second:1"} <= removed
        names = {name for info in engine.images.list() for name in (*info.tags, *info.repo_digests)}
        assert mine in names and f"{address}/typed:1" not in names and f"{address}/second:1" not in names
        assert engine.images.info(hello) is not None  # the course's image keeps its own name
    finally:
        for name in (mine, f"{address}/typed:1", f"{address}/second:1"):
            if engine.images.info(name) is not None:
                engine.images.remove(name)
        ports.release(Scope("zz").prefix)
