# JupyterHub for a Registry Lab class on one machine (JupyterHub 6, run as root).
#
#   classroom/class start            # or: jupyterhub -f classroom/jupyterhub_config.py
#
# - one Unix account per learner, created at the learner's first start (LocalProcessSpawner):
#   each learner's server, kernels and registry processes run as that learner, in a home only
#   that learner can read; nobody but the teacher is root and no learner can reach a Docker socket;
# - the daemonless engine (REGLAB_ENGINE=local): registries are processes on 127.0.0.1 — the course's
#   registry:3 is the registry v3 binary built with Go (scripts/go-tools.sh), appendix A's registry:2
#   Debian's docker-registry — and images live in the learner's home;
# - the Go-built tools (registry v3, crane, weed) from a folder every learner can read
#   (REGLAB_CLASS_TOOLS, on each server as REGLAB_TOOLS_DIR): a learner's own ~/.cache has none;
# - REGLAB_LEARNER is the hub user's name, so every name, port and folder a lab makes is the
#   learner's own;
# - the course (START-HERE.ipynb, notebooks/, labs/) is copied into ~/registry-lab at each start,
#   without overwriting what the learner already has, and each new copy trusted by the learner (it
#   opens unmodified, its outputs shown); JupyterLab opens on START-HERE.ipynb, the course page; the
#   course's Jupyter configuration (jupyter/: no JupyterLab news prompt) is on every learner's
#   JUPYTER_CONFIG_PATH;
# - everything listens on 127.0.0.1 (put a TLS reverse proxy in front to open the class to a
#   network; see README.md).
#
# Settings (environment variables; the defaults suit a class):
#   REGLAB_CLASS_DIR      hub state: database, cookie secret, passwords, learners.txt  (/srv/reglab-class)
#   REGLAB_CLASS_HOMES    where learners' homes are created                           (/home)
#   REGLAB_CLASS_PYTHON   the Python of the learners' servers; every learner must be able to run it
#                         (classroom/class start makes one: REGLAB_CLASS_VENV/bin/python,
#                         /opt/reglab-class/bin/python)                              (this Python)
#   REGLAB_CLASS_TOOLS    the Go-built tools, <name>-<version>/<name> as scripts/go-tools.sh lays them out,
#                         where every learner can run them (classroom/class start copies them there:
#                         REGLAB_CLASS_VENV/reglab-tools)        (reglab-tools beside REGLAB_CLASS_PYTHON's bin/)
#   REGLAB_CLASS_PROXY    configurable-http-proxy    (REGLAB_CLASS_DIR/proxy/node_modules/.bin/…, else PATH)
#   REGLAB_CLASS_PORT     the class's address is http://127.0.0.1:<port>/            (8000)
#   REGLAB_CLASS_TEACHER  the admin user's name                                     (teacher)
#   REGLAB_CLASS_COURSE   the repository whose notebooks/ and labs/ are copied       (this repository)
import os
import pwd
import re
import secrets
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import course_copy  # noqa: E402 (classroom/course_copy.py: the course into a home, opening as committed)

c = get_config()  # noqa: F821 (JupyterHub's config loader provides it)

HERE = Path(__file__).resolve().parent
COURSE = Path(os.environ.get("REGLAB_CLASS_COURSE") or HERE.parent)
CLASS_DIR = Path(os.environ.get("REGLAB_CLASS_DIR") or "/srv/reglab-class")
HOMES = Path(os.environ.get("REGLAB_CLASS_HOMES") or "/home")
PYTHON = os.environ.get("REGLAB_CLASS_PYTHON") or sys.executable
# the class's environment's own folder of the tools: REGLAB_CLASS_VENV/reglab-tools, as classroom/class makes it
TOOLS = Path(os.environ.get("REGLAB_CLASS_TOOLS") or Path(PYTHON).parent.parent / "reglab-tools")
PORT = int(os.environ.get("REGLAB_CLASS_PORT") or 8000)
TEACHER = os.environ.get("REGLAB_CLASS_TEACHER") or "teacher"
# the marker on the Unix accounts this class made: the only accounts it will run servers as
ACCOUNT_MARK = "reglab learner"
# learner names: also Unix user names and part of every name reglab gives a learner's objects
LEARNER_NAME = r"^[a-z][a-z0-9-]{0,19}$"
COURSE_FOLDER = "registry-lab"
# the course's Jupyter configuration (labconfig/page_config.json: JupyterLab's news prompt off) and
# kernel (kernels/python3: no history database), copied into each learner's course folder and put
# on their server's JUPYTER_CONFIG_PATH and JUPYTER_PATH
JUPYTER_CONFIG = COURSE / "jupyter"

CLASS_DIR.mkdir(parents=True, exist_ok=True, mode=0o700)


def _secret_file(name: str, shortest: int) -> str:
    """A password kept in a 0600 file of the class folder (made once, never printed), at least
    `shortest` characters long: JupyterHub's shared-password authenticator refuses to start with a
    shorter one (6.1: 8 for the learners' password, 32 for the admin's)."""
    path = CLASS_DIR / name
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:  # token_urlsafe(n): about 1.3 n characters
            fh.write(secrets.token_urlsafe(max(12, shortest)) + "\n")
    password = path.read_text().strip()
    if len(password) < shortest:
        sys.exit(f"The password in {path} has {len(password)} characters and JupyterHub wants at least {shortest}: "
                 "write a longer one there (or delete the file: the next start makes a new one), then start again.")
    return password


def _learners_python_version(python: str) -> str:
    """The version of `python` as a learner runs it (as nobody, an account with no rights of its own,
    when the hub runs as root); exits with what to do when a learner cannot run it."""
    as_learner = ["runuser", "-u", "nobody", "--"] if os.geteuid() == 0 else []
    version = "import encodings, site, platform; print(platform.python_version())"
    ran = subprocess.run([*as_learner, python, "-c", version], check=False, capture_output=True, text=True)
    if ran.returncode == 0:
        return ran.stdout.strip()
    real, why = Path(python).resolve(), (ran.stderr.strip().splitlines() or ["it fails"])[-1]
    for folder in [*reversed(real.parents), real]:
        if subprocess.run([*as_learner, "test", "-x", str(folder)], check=False).returncode != 0:
            why = f"{folder} is closed to other accounts"
            break
    sys.exit(f"Learners cannot run {python} ({why}), so no learner's server would start: make the class's "
             "environment from a Python every account can run (classroom/class start does), or name one "
             "with REGLAB_CLASS_PYTHON.")


def _learners_tools(python: str, tools_dir: Path) -> None:
    """Exits with what to do when a learner (nobody, as above) cannot run the registry v3 or crane of
    ``tools_dir`` at the versions the learners' reglab pins: every notebook's registry:3 is that registry,
    and notebook 01 runs crane."""
    as_learner = ["runuser", "-u", "nobody", "--"] if os.geteuid() == 0 else []
    missing = ("import os, sys\nfrom pathlib import Path\nfrom reglab import tools\n"
               "def runs(path):\n"
               "    try:\n        return path.is_file() and os.access(path, os.X_OK)\n"
               "    except OSError:  # a folder on the way closed to this account\n        return False\n"
               "print(' and '.join(f'{n} {tools.tools()[n].version}' for n in ('registry', 'crane')\n"
               "                   if not runs(tools.tools()[n].path(Path(sys.argv[1])))))")
    ran = subprocess.run([*as_learner, python, "-c", missing, str(tools_dir)], check=False, capture_output=True,
                         text=True)
    if ran.returncode != 0 or ran.stdout.strip():
        what = ran.stdout.strip() or "the tools"
        sys.exit(f"Learners cannot run {what} from {tools_dir}, so every notebook's registry:3 would fail: run "
                 "classroom/class start (it copies there what scripts/go-tools.sh built), or name a folder of "
                 "them every account can read with REGLAB_CLASS_TOOLS.")


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
c.SharedPasswordAuthenticator.user_password = _secret_file("class-password", 8)
c.SharedPasswordAuthenticator.admin_password = _secret_file("teacher-password", 32)
if c.SharedPasswordAuthenticator.user_password == c.SharedPasswordAuthenticator.admin_password:
    sys.exit(f"The class password and the teacher password in {CLASS_DIR} are the same: make them differ "
             "(JupyterHub refuses to start otherwise), then start again.")
c.Authenticator.admin_users = {TEACHER}
c.Authenticator.allowed_users = _learners()  # learners.txt, one name a line (classroom/class add)
c.Authenticator.allow_existing_users = True  # and whoever the teacher adds on the admin page
c.Authenticator.username_pattern = LEARNER_NAME

# ----------------------------------------------------------------------------- each learner's server

PYTHON_VERSION = _learners_python_version(PYTHON)
_learners_tools(PYTHON, TOOLS)
c.JupyterHub.spawner_class = "localprocess"
c.Spawner.cmd = [PYTHON, "-m", "jupyterhub.singleuser"]
c.Spawner.ip = "127.0.0.1"
c.Spawner.notebook_dir = "~"
c.Spawner.default_url = f"/lab/tree/{COURSE_FOLDER}/START-HERE.ipynb"  # the course page, as make lab opens it
c.Spawner.start_timeout = 120  # a class starting at once shares two cores
c.Spawner.http_timeout = 120
c.Spawner.environment = {
    "REGLAB_LEARNER": lambda spawner: spawner.user.name,
    "REGLAB_ENGINE": "local",  # the daemonless engine: no Docker daemon, no root
    "REGLAB_OFFLINE": "1",  # stand-in images built from Debian packages, the committed outputs' digests
    "REGLAB_TOOLS_DIR": str(TOOLS),  # registry v3 (registry:3), crane, weed: the class's copy, not ~/.cache
    "DOCKER_HOST": "unix:///nonexistent/docker.sock",  # no Docker socket for learners, whatever they try
    "JUPYTER_CONFIG_PATH": lambda spawner: str(learner_jupyter_config(pwd.getpwnam(spawner.user.name))),
    # and its kernel: python3 as ipykernel's, without IPython's history database (a sqlite write per
    # cell: ~8% of a learner's kernel CPU with a class running at once, benchmarks/classroom.py)
    "JUPYTER_PATH": lambda spawner: str(learner_jupyter_config(pwd.getpwnam(spawner.user.name))),
    # numpy's OpenBLAS starts a thread per core at import (~50 ms CPU more per kernel that imports
    # numpy, benchmarks/classroom_profile.py): pointless for a class sharing a few cores
    "OPENBLAS_NUM_THREADS": "1",
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


def copy_course(account: pwd.struct_passwd, teacher: bool = False) -> list[Path]:
    """The course's notebooks and labs into ~/registry-lab, each new copy naming the learners'
    Python (course_copy.py; a learner's own copies are kept), for the teacher also
    classroom/progress.ipynb (the class's progress); the course's Jupyter configuration into
    ~/registry-lab/.jupyter (always the course's); returns the new notebooks."""
    target, owner = Path(account.pw_dir) / COURSE_FOLDER, (account.pw_uid, account.pw_gid)
    files = course_copy.sources(COURSE) + ([(HERE / "progress.ipynb", Path("progress.ipynb"))] if teacher else [])
    new = course_copy.copy_course(files, target, PYTHON_VERSION, owner)
    for source in [p for p in JUPYTER_CONFIG.rglob("*") if p.is_file()]:
        course_copy.copy_file(source, learner_jupyter_config(account) / source.relative_to(JUPYTER_CONFIG), target,
                              owner)
    return new


def learner_jupyter_config(account: pwd.struct_passwd) -> Path:
    """Where a learner's server finds the course's Jupyter configuration (on JUPYTER_CONFIG_PATH)."""
    return Path(account.pw_dir) / COURSE_FOLDER / ".jupyter"


def trust(account: pwd.struct_passwd, notebooks: list[Path]) -> None:
    """The course's notebooks, as copied, trusted by the learner (signed in the learner's own
    notebook database, as `jupyter trust` does): their outputs were made by executing them, and
    an untrusted notebook opens in JupyterLab with its outputs held back and marked modified."""
    if notebooks:
        env = {"HOME": account.pw_dir, "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8"}
        subprocess.run(["runuser", "-u", account.pw_name, "--", PYTHON, "-m", "nbformat.sign", "--log-level=WARN",
                        *map(str, notebooks)], env=env, cwd=account.pw_dir, check=True, capture_output=True)


def prepare_learner(spawner) -> None:
    account = learner_account(spawner.user.name)
    trust(account, copy_course(account, teacher=spawner.user.name == TEACHER))


c.Spawner.pre_spawn_hook = prepare_learner
