"""Ansible's `!unsafe` YAML tag: strings from Gerrit or a change reach ansible as data.

Ansible templates any string variable containing `{{ }}` or `{% %}` when a playbook uses it;
a commit subject like `{{ lookup('pipe', 'id') }}` would then run on the CI machine. Zuul's
executor writes such values tagged `!unsafe` (zuul/lib/yamlutil.py `mark_strings_unsafe`,
`ansible_unsafe_dump`); ansible-core loads them as untrusted text that is never templated.
"""

from __future__ import annotations

from typing import Any

import yaml


class UnsafeText(str):
    """A string written with Ansible's `!unsafe` tag."""


class UnsafeDumper(yaml.SafeDumper):
    """yaml.SafeDumper that writes UnsafeText as `!unsafe 'text'` and never uses aliases."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


class UnsafeLoader(yaml.SafeLoader):
    """yaml.SafeLoader that reads `!unsafe` scalars back as UnsafeText (for tests and tools)."""


UnsafeDumper.add_representer(
    UnsafeText, lambda dumper, data: dumper.represent_scalar("!unsafe", str(data)))
UnsafeLoader.add_constructor(
    "!unsafe", lambda loader, node: UnsafeText(loader.construct_scalar(node)))


def mark_unsafe(value: Any) -> Any:
    """A copy of a JSON-like value with every string (not the keys) as UnsafeText."""
    if isinstance(value, str):
        return UnsafeText(value)
    if isinstance(value, dict):
        return {key: mark_unsafe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [mark_unsafe(item) for item in value]
    return value


def unsafe_dump(data: Any) -> str:
    """YAML for ansible: UnsafeText tagged `!unsafe`, everything else as yaml.safe_dump."""
    return yaml.dump(data, Dumper=UnsafeDumper, sort_keys=False, default_flow_style=False,
                     allow_unicode=True)


def unsafe_load(text: str) -> Any:
    """Read YAML written by unsafe_dump (`!unsafe` scalars become UnsafeText)."""
    return yaml.load(text, Loader=UnsafeLoader)
