"""Sentences of the secure registry (notebook 05, :mod:`reglab.steps.secure`): TLS certificates,
trust, htpasswd users and logins."""

from __future__ import annotations

from . import EngineError, ReglabError

__all__ = ["bad_user_name", "cannot_write_trust", "certificates_and_user_first", "login_failed",
           "new_address_each_time", "no_ca_yet", "no_certificate_yet", "no_user_yet", "nobody_logged_in"]


def no_ca_yet() -> ReglabError:
    return ReglabError("there is no CA yet: run lab.secure.make_certificates() first.")


def no_certificate_yet() -> ReglabError:
    return ReglabError("there is no certificate yet: run lab.secure.make_certificates() first.")


def new_address_each_time(address: str) -> ReglabError:
    return ReglabError(f"the registry gets a new address each time it is re-created ({address}): issue its "
                       "certificate for the address it has, then restart it with `docker container restart`.")


def cannot_write_trust(path: str) -> ReglabError:
    return ReglabError(f"cannot write {path} (permission denied): run the two commands above in a terminal, "
                       "then go on.")


def certificates_and_user_first() -> ReglabError:
    return ReglabError("make the certificates and add a user first (lab.secure.make_certificates(), "
                       "lab.secure.add_user()).")


def no_user_yet(user: str) -> ReglabError:
    return ReglabError(f"there is no user {user} yet: add one with lab.secure.add_user({user!r}).")


def nobody_logged_in() -> ReglabError:
    return ReglabError("nobody is logged in yet: run lab.secure.login() first.")


def bad_user_name(user: str) -> str:
    """For the ValueError :func:`reglab.htpasswd.add` raises."""
    return f"{user!r} cannot be a user name in an htpasswd file (no ':' or spaces)."


def login_failed(host: str, reason: str) -> EngineError:
    """``docker login`` failed for a reason that is not one of the registry's answers."""
    return EngineError(f"docker login {host} failed: {reason}.")


__all__ += ["no_htpasswd_file", "no_htpasswd_in_image", "practice_05_needs_login", "trust_file_taken"]


def no_htpasswd_in_image(image: str):
    from . import ProgramMissing

    return ProgramMissing(
        f'{image} has no htpasswd program (exec: "htpasswd": executable file not found in $PATH): the registry images '
        "have shipped the registry alone since their rebuild of June 2020, so make the file with htpasswd -B from "
        "apache2-utils or the httpd:2 image, or with Python's bcrypt.")


def trust_file_taken(path):
    from . import NameConflict

    return NameConflict(f"{path} exists already and this lab did not create it: remove it (another lab's trust for "
                        "this address), then start lab 11 again.")


def no_htpasswd_file():
    from . import ReglabError

    return ReglabError("there is no htpasswd file yet: add a user first (lab.secure.add_user()).")


def practice_05_needs_login():
    from . import ReglabError

    return ReglabError("your turn starts from the registry with TLS and a login: run the notebook's cells above first "
                       "(lab.secure.run_with_login()).")
