# JupyterHub for a Registry Lab class on one machine (JupyterHub 6, run as root).
#
#   classroom/class start            # or: jupyterhub -f classroom/jupyterhub_config.py
#
# - one Unix account per learner, created at the learner's first start (LocalProcessSpawner):
#   each learner's server, kernels and registry processes run as that learner, in a home only
#   that learner can read; nobody but the teacher is root and no learner can reach a Docker socket;
# - the daemonless engine (REGLAB_ENGINE=local): registries are processes of Debian's
#   docker-registry binary on 127.0.0.1, images live in the learner's home;
# - REGLAB_LEARNER is the hub user's name, so every name, port and folder a lab makes is the
#   learner's own;
# - the course (notebooks/, labs/) is copied into ~/registry-lab at each start, without
#   overwriting what the learner already has;
# - everything listens on 127.0.0.1 (put a TLS reverse proxy in front to open the class to a
#   network; see README.md).
#
# Settings (environment variables; the defaults suit a class):
#   REGLAB_CLASS_DIR      hub state: database, cookie secret, passwords, learners.txt  (/srv/reglab-class)
#   REGLAB_CLASS_HOMES    where learners' homes are created                           (/home)
#   REGLAB_CLASS_PYTHON   the Python of the learners' servers; every learner must be able to run it
#                         (classroom/class start makes one in REGLAB_CLASS_DIR/venv)   (this Python)
#   REGLAB_CLASS_PROXY    configurable-http-proxy    (REGLAB_CLASS_DIR/proxy/node_modules/.bin/…, else PATH)
#   REGLAB_CLASS_PORT     the class's address is http://127.0.0.1:<port>/            (8000)
#   REGLAB_CLASS_TEACHER  the admin user's name                                     (teacher)
#   REGLAB_CLASS_COURSE   the repository whose notebooks/ and labs/ are copied       (this repository)
import os
import pwd
import re
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

c = get_config()  # noqa: F821 (JupyterHub's config loader provides it)

HERE = Path(__file__).resolve().parent
COURSE = Path(os.environ.get("REGLAB_CLASS_COURSE") or HERE.parent)
CLASS_DIR = Path(os.environ.get("REGLAB_CLASS_DIR") or "/srv/reglab-class")
HOMES = Path(os.environ.get("REGLAB_CLASS_HOMES") or "/home")
PYTHON = os.environ.get("REGLAB_CLASS_PYTHON") or sys.executable
PORT = int(os.environ.get("REGLAB_CLASS_PORT") or 8000)
TEACHER = os.environ.get("REGLAB_CLASS_TEACHER") or "teacher"
# the marker on the Unix accounts this class made: the only accounts it will run servers as
ACCOUNT_MARK = "reglab learner"
# learner names: also Unix user names and part of every name reglab gives a learner's objects
LEARNER_NAME = r"^[a-z][a-z0-9-]{0,19}$"
COURSE_FOLDER = "registry-lab"

CLASS_DIR.mkdir(parents=True, exist_ok=True, mode=0o700)


def _secret_file(name: str) -> str:
    """A password kept in a 0600 file of the class folder (made once, never printed)."""
    path = CLASS_DIR / name
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(12) + "\n")
    return path.read_text().strip()


def _learners() -> set[str]:
    path = CLASS_DIR / "learners.txt"
    if not path.exists():
        return set()
    return {line.split("#")[0].strip() for line in path.read_text().splitlines() if line.split("#")[0].strip()}


def _proxy_command() -> list[str]:
    configured = os.environ.get("REGLAB_CLASS_PROXY")
    local = CLASS_DIR / "proxy" / "node_modules" / ".bin" / "configurable-http-proxy"
    return [configured or (str(local) if local.exists() else "configurable-http-proxy")]


# ----------------------------------------------------------------------------- the hub

c.JupyterHub.bind_url = f"http://127.0.0.1:{PORT}"
c.JupyterHub.hub_bind_url = f"http://127.0.0.1:{PORT + 81}"
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{PORT + 1}"
c.ConfigurableHTTPProxy.command = _proxy_command()
c.ConfigurableHTTPProxy.pid_file = str(CLASS_DIR / "proxy.pid")
c.JupyterHub.db_url = f"sqlite:///{CLASS_DIR / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(CLASS_DIR / "jupyterhub_cookie_secret")
c.JupyterHub.pid_file = str(CLASS_DIR / "jupyterhub.pid")
c.JupyterHub.cleanup_servers = True  # stopping the hub stops every learner's server
c.JupyterHub.cleanup_proxy = True

# ----------------------------------------------------------------------------- who may log in

# One class password for the learners, another for the teacher, each in a 0600 file of the
# class folder (class-password, teacher-password): JupyterHub's shared-password authenticator.
c.JupyterHub.authenticator_class = "shared-password"
c.SharedPasswordAuthenticator.user_password = _secret_file("class-password")
c.SharedPasswordAuthenticator.admin_password = _secret_file("teacher-password")
c.Authenticator.admin_users = {TEACHER}
c.Authenticator.allowed_users = _learners()  # learners.txt, one name a line (classroom/class add)
c.Authenticator.allow_existing_users = True  # and whoever the teacher adds on the admin page
c.Authenticator.username_pattern = LEARNER_NAME

# ----------------------------------------------------------------------------- each learner's server

c.JupyterHub.spawner_class = "localprocess"
c.Spawner.cmd = [PYTHON, "-m", "jupyterhub.singleuser"]
c.Spawner.ip = "127.0.0.1"
c.Spawner.notebook_dir = "~"
c.Spawner.default_url = f"/lab/tree/{COURSE_FOLDER}/notebooks/01-run-your-own-registry.ipynb"
c.Spawner.start_timeout = 120  # a class starting at once shares two cores
c.Spawner.http_timeout = 120
c.Spawner.environment = {
    "REGLAB_LEARNER": lambda spawner: spawner.user.name,
    "REGLAB_ENGINE": "local",  # the daemonless engine: no Docker daemon, no root
    "REGLAB_OFFLINE": "1",  # stand-in images built from Debian packages, the committed outputs' digests
    "DOCKER_HOST": "unix:///nonexistent/docker.sock",  # no Docker socket for learners, whatever they try
}


def learner_account(name: str) -> pwd.struct_passwd:
    """The learner's Unix account: made by this class (marked), or made now."""
    if not re.fullmatch(LEARNER_NAME, name):
        raise ValueError(f"{name!r} cannot be a learner's name: use 1-20 lowercase letters, digits or '-', "
                         "starting with a letter.")
    try:
        account = pwd.getpwnam(name)
    except KeyError:
        home = HOMES / name
        subprocess.run(["useradd", "--create-home", "--home-dir", str(home), "--shell", "/bin/bash",
                        "--user-group", "--comment", ACCOUNT_MARK, name], check=True, capture_output=True)
        os.chmod(home, 0o700)  # learners cannot read each other's homes
        return pwd.getpwnam(name)
    if account.pw_gecos.split(",")[0] != ACCOUNT_MARK:
        raise ValueError(f"{name} is an account on this machine that the class did not create: give the "
                         "learner another name.")
    return account


def copy_course(account: pwd.struct_passwd) -> None:
    """The course's notebooks and labs into ~/registry-lab; a learner's own copies are kept."""
    target = Path(account.pw_dir) / COURSE_FOLDER
    sources = [p for p in (COURSE / "notebooks").glob("*.ipynb")]
    labs = COURSE / "labs"
    if labs.is_dir():
        sources += [p for p in labs.rglob("*") if p.is_file() and ".ipynb_checkpoints" not in p.parts]
    for source in sources:
        dest = target / source.relative_to(COURSE)
        if dest.exists():
            continue
        for folder in reversed([d for d in dest.parents if d == target or target in d.parents]):
            if not folder.exists():
                folder.mkdir()
                os.chown(folder, account.pw_uid, account.pw_gid)
        shutil.copyfile(source, dest)
        os.chown(dest, account.pw_uid, account.pw_gid)


def prepare_learner(spawner) -> None:
    copy_course(learner_account(spawner.user.name))


c.Spawner.pre_spawn_hook = prepare_learner
