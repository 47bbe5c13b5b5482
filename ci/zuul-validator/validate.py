"""Validate Zuul configuration files with Zuul's own parser schemas (run in .venv-zuul).

Each stanza goes through the voluptuous schema zuul/configloader.py applies to it (JobParser,
NodeSetParser, ProjectParser, ProjectTemplateParser, SecretParser, SemaphoreParser) and job
variables through Zuul's check_varnames. What is not checked: anything needing a running
tenant (connections, other projects' jobs, branch implications): certkit checks the job graph.
Prints one line per problem, `file: stanza name: message`; exit 1 when there is any.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

warnings.filterwarnings("ignore")

import voluptuous as vs  # noqa: E402
from zuul import configloader as cl  # noqa: E402
from zuul.lib import yamlutil  # noqa: E402


def _schemas():
    nodeset = cl.NodeSetParser.__new__(cl.NodeSetParser)
    project = cl.ProjectParser.__new__(cl.ProjectParser)
    template = cl.ProjectTemplateParser.__new__(cl.ProjectTemplateParser)
    return {
        "job": cl.JobParser.schema,
        "nodeset": nodeset.getSchema(False),
        "project": project.getSchema(),
        "project-template": template.getSchema(),
        "semaphore": cl.SemaphoreParser.schema if hasattr(cl.SemaphoreParser, "schema") else None,
    }


def validate(path: Path, schemas) -> list[str]:
    problems = []
    data = yamlutil.safe_load(path.read_text())
    if not isinstance(data, list):
        return [f"{path}: a Zuul configuration file is a list of stanzas"]
    for item in data:
        if not isinstance(item, dict) or len(item) != 1:
            problems.append(f"{path}: stanza is not a one-key mapping")
            continue
        (kind, body), = item.items()
        if kind not in cl.ConfigLoader.__dict__.get("_known", ()) and kind not in (
                "job", "project", "project-template", "nodeset", "secret", "semaphore",
                "queue", "pragma", "pipeline", "image", "flavor", "label", "section", "provider"):
            problems.append(f"{path}: unknown stanza {kind!r}")
            continue
        schema = schemas.get(kind)
        name = body.get("name", "") if isinstance(body, dict) else ""
        if schema is None:
            continue
        try:
            schema(body)
            if kind == "job":
                for key in ("vars", "extra-vars"):
                    cl.check_varnames(body.get(key, {}))
        except (vs.Invalid, vs.MultipleInvalid) as exc:
            problems.append(f"{path}: {kind} {name}: {exc}")
        except Exception as exc:  # noqa: BLE001 - Zuul's own config errors (bad variable names)
            problems.append(f"{path}: {kind} {name}: {type(exc).__name__}: {exc}")
        if kind == "job" and "cleanup-run" in body:
            problems.append(f"{path}: job {name}: cleanup-run is deprecated in Zuul "
                            f"(use post-run with cleanup: true)")
    return problems


def main(argv: list[str]) -> int:
    schemas = _schemas()
    problems: list[str] = []
    files = []
    for arg in argv:
        p = Path(arg)
        files += sorted(p.rglob("*.yaml")) if p.is_dir() else [p]
    for f in files:
        problems += validate(f, schemas)
    for line in problems:
        print(line)
    print(f"zuul {cl.__name__}: {len(files)} file(s), {len(problems)} problem(s)", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
