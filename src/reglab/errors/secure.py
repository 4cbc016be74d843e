"""Notebook 05 and lab 11 (TLS, logins): the sentences their steps raise."""

from __future__ import annotations

__all__ = ["no_htpasswd_file", "no_htpasswd_in_image", "practice_05_needs_login", "trust_file_taken"]


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
