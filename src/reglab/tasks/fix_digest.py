"""Lab 08 · Break-fix: a delete script that gets "manifest unknown" (no Accept header).

The team's CI pushes OCI image manifests (as Buildah does by default, and BuildKit with
``oci-mediatypes=true``). Asked for one by tag without an ``Accept`` header naming the OCI type, a
registry answers 404 ``MANIFEST_UNKNOWN`` — registry:3 says "OCI manifest found, but accept header
does not support OCI manifests", registry 2.8 the same code — so the colleague's script gets no
digest at all and deletes nothing. True of registry:3 and registry:2 alike (registry:2 also
rewrote a *Docker* manifest asked for without ``Accept`` into schema 1: notebook A).
"""

from __future__ import annotations

import io
import os
import re
import subprocess

from .. import checks
from ..exercises import Sheet, done, missing, task
from ..images import ImageBuild, random_layer, synthetic_image
from ..media import OCI_MANIFEST, digest_of, short_digest
from ..registry_api import RegistryClient
from .evidence import image_deleted, silent

SCRIPT = """#!/bin/sh
# delete-tag.sh REPOSITORY TAG: delete an image from the team's registry at {address}.
# Written in a hurry by a colleague: "it worked with my images".
set -e
registry={address}
digest=$(curl -sI "http://$registry/v2/$1/manifests/$2" | tr -d '\\r' | sed -n 's/^[Dd]ocker-[Cc]ontent-[Dd]igest: //p')
echo "deleting $1:$2 ($digest)"
curl -sSf -X DELETE "http://$registry/v2/$1/manifests/$digest"
echo "deleted $1:$2"
"""


def push_oci(address: str, build: ImageBuild, repository: str, tag: str) -> str:
    """Push an image as an OCI image manifest, straight through the registry API (as an OCI build
    tool pushes it: the docker CLI 20.10 pushes Docker's manifest type); its manifest digest."""
    api = RegistryClient(address)
    for data in (build.config_bytes(), *(layer.gzipped() for layer in build.layers)):
        digest = digest_of(data)
        if not api.has_blob(repository, digest):
            location = api.start_upload(repository)
            api.upload(location, digest, lambda offset, length, data=data: io.BytesIO(data[offset:offset + length]),
                       len(data))
    return api.put_manifest(repository, tag, build.manifest_bytes(), OCI_MANIFEST)


class FixDigest(Sheet):
    id = "lab-08"
    title = "Fix: manifest unknown on delete"
    port_base = 5180

    def setup(self) -> None:
        self.new_folder("folder", "registry-data", "its data folder")
        registry = self.run_registry("registry", bind=self.folder)  # registry:3's config: deletes on
        self.name("registry", registry.name, "the team's registry (deletes allowed)")
        self.name("address", registry.address, "where it answers")
        self.digests = {}
        for tag in ("v1", "v2", "v3"):
            build = synthetic_image(registry.ref("app", tag), [random_layer("srv/app.bin", 10_000, f"lab-08-{tag}")])
            self.digests[tag] = push_oci(registry.address, build, "app", tag)
        scripts = self.lab.sandbox.folder("scripts")
        script = scripts / "delete-tag.sh"
        script.write_text(SCRIPT.format(address=registry.address))
        script.chmod(0o755)
        self.name("script", str(script), "your colleague's delete script (try: sh <script> app v1)")

    def _served(self, tags):
        for tag in tags:
            whole = checks.served(self.address, "app", tag)
            if not whole:
                return f"app:{tag} should have stayed: {whole.detail}"
        return None

    def _lookup(self, text: str, tag: str) -> str:
        """What the script's own look-up (its lines before the DELETE) finds as ``$digest`` for ``app:<tag>``."""
        lines = text.splitlines()
        cut = next((i for i, line in enumerate(lines) if re.search(r"-X\s*DELETE|--request\s+DELETE", line)),
                    len(lines))
        body = "\n".join(lines[:cut]) + '\nprintf "\\n%s\\n" "$digest"\n'
        try:
            done_ = subprocess.run(["sh", "-s", "app", tag], input=body, capture_output=True, text=True, timeout=30,
                                   env={**os.environ, "LC_ALL": "C"})
        except subprocess.TimeoutExpired:
            return ""
        out = done_.stdout.strip().splitlines()
        return out[-1].strip() if out else ""

    @task("Delete app:v1",
          hint="Run the script and read what curl says. Then GET the manifest yourself, once as the script asks "
               "(curl -s, no Accept header) and read the registry's error message. Which media type did the "
               "team's build tool push? Ask for that type in an Accept header, and read Docker-Content-Digest.",
          solution="curl -sI -H 'Accept: application/vnd.oci.image.manifest.v1+json' "
                   "http://{address}/v2/app/manifests/v1 | grep -i docker-content-digest\n"
                   "curl -sSf -X DELETE http://{address}/v2/app/manifests/<that digest>")
    def q1(self):
        problem = silent(self.address) or image_deleted(self.address, "app", "v1", self.digests["v1"]) \
            or self._served(("v3",))
        return missing(problem) if problem else done("app:v1 is deleted; v3 still serves whole")

    @task("Fix the script, and delete app:v2 with it",
          hint="Without an Accept header naming the manifest's type, the registry answers 404 for an OCI manifest "
               "asked for by tag, and the script's digest comes out empty. Make the script's HEAD request send "
               "-H 'Accept: application/vnd.oci.image.manifest.v1+json' (and Docker's type too, for images the "
               "docker CLI pushed), then run it: sh <script> app v2.",
          solution="sed -i \"s|curl -sI |curl -sI -H 'Accept: application/vnd.oci.image.manifest.v1+json' "
                   "-H 'Accept: application/vnd.docker.distribution.manifest.v2+json' |\" {script}\nsh {script} app v2")
    def q2(self):
        problem = silent(self.address)
        if problem:
            return missing(problem)
        try:
            with open(self.script) as fh:
                text = fh.read()
        except OSError:
            return missing(f"{self.script} is gone: start the lab again to get it back")
        found = self._lookup(text, "v3")
        if found != self.digests["v3"]:
            got = f"gives {short_digest(found)}" if found.startswith("sha256:") else "gives no digest"
            if not re.search(r"accept", text, re.IGNORECASE):
                why = "its HEAD request still sends no Accept header"
            elif OCI_MANIFEST not in text:
                why = "its Accept header does not name the OCI manifest type, so an OCI manifest still answers 404"
            else:
                why = "look at what its curl line prints"
            return missing(f"the script's look-up, run for app:v3, {got}, not {short_digest(self.digests['v3'])}: {why}")
        problem = image_deleted(self.address, "app", "v2", self.digests["v2"])
        if problem:
            return missing(f"the script finds the right digest now; {problem}: run it (sh "
                           f"{os.path.basename(self.script)} app v2)")
        problem = self._served(("v3",))
        return missing(problem) if problem else done("the script asks for the manifest's real digest; app:v2 is "
                                                     "deleted, v3 serves whole")
