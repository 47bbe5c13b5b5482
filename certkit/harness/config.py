"""A back end's options, set on its own config group exactly as manila.conf would set them."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from typing import Any, Mapping

from certkit.errors import ProfileError
from certkit.manila_env import parse_conf, prepare_manila

_state: dict[str, Any] = {"dir": None, "text": None}


def render_value(value: Any) -> str:
    """An option value in oslo.config's file syntax (bool, list, dict, scalar)."""
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, (list, tuple)):
        return ",".join(render_value(v) for v in value)
    if isinstance(value, Mapping):
        return ",".join(f"{k}:{render_value(v)}" for k, v in value.items())
    return str(value)


def render_conf(sections: Mapping[str, Mapping[str, Any]], profile_path: str) -> str:
    """manila.conf text for `{group: {option: value}}`; newlines in values are refused."""
    lines: list[str] = []
    for group, options in sections.items():
        lines.append(f"[{group}]")
        for key, value in options.items():
            if value is None:
                continue
            text = render_value(value)
            if "\n" in text or "\r" in text:
                raise ProfileError(profile_path, f"config.{key}",
                                   "values must be one line (manila.conf cannot hold newlines)")
            lines.append(f"{key} = {text}")
        lines.append("")
    return "\n".join(lines)


def private_dir() -> str:
    """A 0700 directory for this process's config file and lock files, removed at exit."""
    if _state["dir"] is None:
        _state["dir"] = tempfile.mkdtemp(prefix="certkit-")
        atexit.register(shutil.rmtree, _state["dir"], True)
    return _state["dir"]


def load_conf(sections: Mapping[str, Mapping[str, Any]], profile_path: str) -> None:
    """Parse the rendered manila.conf into Manila's global CONF (re-parse only on change).

    The file may hold secrets from the environment: it is mode 0600 in a private directory and
    is removed as soon as oslo.config has read it, so that even SIGKILL leaves no secret behind
    (oslo.config keeps the parsed values; the driver reads them from CONF, never from the file).
    """
    prepare_manila()
    from oslo_config import cfg

    base = private_dir()
    full = {"DEFAULT": {"state_path": base}, "oslo_concurrency": {"lock_path": base},
            **sections}
    text = render_conf(full, profile_path)
    if text == _state["text"]:
        return
    path = os.path.join(base, "manila.conf")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    try:
        parse_conf([path])
    except cfg.Error as exc:
        raise ProfileError(profile_path, "config", f"manila.conf rejected it: {exc}") from None
    finally:
        os.unlink(path)
    _state["text"] = text


def driver_configuration(group: str) -> Any:
    """A real `manila.share.configuration.Configuration` for a back-end group."""
    prepare_manila()
    from manila.share import configuration, driver

    return configuration.Configuration(driver.share_opts, config_group=group)
