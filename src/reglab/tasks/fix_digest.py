"""Lab 08 · Break-fix: a delete script that gets "manifest unknown" (no Accept header, wrong digest)."""

from __future__ import annotations

import os
import re

from .. import checks
from ..checks import ACCEPT_MANIFESTS
from ..exercises import Sheet, done, missing, task
from ..steps.growth import DELETE_ENABLED

SCRIPT = """#!/bin/sh
# delete-tag.sh REPOSITORY TAG: delete an image from the team's registry at {address}.
# Written in a hurry by a colleague: "it worked with my old registry".
set -e
registry={address}
digest=$(curl -sI "http://$registry/v2/$1/manifests/$2" | tr -d '\\r' | sed -n 's/^[Dd]ocker-[Cc]ontent-[Dd]igest: //p')
echo "deleting $1:$2 ($digest)"
curl -sSf -X DELETE "http://$registry/v2/$1/manifests/$digest"
echo "deleted $1:$2"
"""


class FixDigest(Sheet):
    id = "lab-08"
    title = "Fix: manifest unknown on delete"
    port_base = 5180

    def setup(self) -> None:
        self.new_folder("folder", "registry-data", "its data folder")
        registry = self.run_registry("registry", bind=self.folder, env={DELETE_ENABLED: "true"})
        self.name("registry", registry.name, "the team's registry (deletes allowed)")
        self.name("address", registry.address, "where it answers")
        for tag in ("v1", "v2", "v3"):
            ref = registry.ref("app", tag)
            self.lab.make_image(ref, [("srv/app.bin", 10_000)], seed=f"lab-08-{tag}")
            self.lab.push(ref)
        scripts = self.lab.sandbox.folder("scripts")
        script = scripts / "delete-tag.sh"
        script.write_text(SCRIPT.format(address=registry.address))
        script.chmod(0o755)
        self.name("script", str(script), "your colleague's delete script (try: sh <script> app v1)")

    def _served(self, tags):
        for tag in tags:
            served = checks.served(self.address, "app", tag)
            if not served:
                return f"app:{tag} should have stayed: {served.detail}"
        return None

    @task("Delete app:v1",
          hint="Run the script and read what curl says. Then ask for the digest yourself: curl -sI the manifest, "
               "once as the script does, once with -H 'Accept: application/vnd.docker.distribution.manifest.v2+json'. "
               "Compare Content-Type and Docker-Content-Digest: which one names the manifest Docker pushed?",
          solution="curl -sI -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' "
                   "http://{address}/v2/app/manifests/v1 | grep -i docker-content-digest\n"
                   "curl -sSf -X DELETE http://{address}/v2/app/manifests/<that digest>")
    def q1(self):
        if checks.has_tag(self.address, "app", "v1"):
            return missing("app still has v1")
        problem = self._served(("v3",))
        return missing(problem) if problem else done("app:v1 is deleted; v3 still serves whole")

    @task("Fix the script, and delete app:v2 with it",
          hint="Without an Accept header, a 2.x registry converts the manifest to the old schema 1 and gives THAT "
               "document's digest, which it cannot delete. Make the script's HEAD request send the Accept header "
               "Docker sends (the OCI type too, if you like), then run it: sh <script> app v2.",
          solution="sed -i \"s|curl -sI |curl -sI -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' |\" "
                   "{script}\nsh {script} app v2")
    def q2(self):
        try:
            with open(self.script) as fh:
                text = fh.read()
        except OSError:
            return missing(f"{self.script} is gone: start the lab again to get it back")
        head = next((line for line in text.splitlines() if "curl" in line and re.search(r"\s-\w*I", line)), "")
        if not any(kind in head for kind in ACCEPT_MANIFESTS) or not re.search(r"accept", head, re.IGNORECASE):
            return missing("the script's HEAD request still sends no Accept header naming a manifest type")
        if checks.has_tag(self.address, "app", "v2"):
            return missing(f"the script looks fixed: now run it (sh {os.path.basename(self.script)} app v2)")
        problem = self._served(("v3",))
        return missing(problem) if problem else done("the script asks for the manifest's real digest; app:v2 is "
                                                     "deleted, v3 serves whole")
