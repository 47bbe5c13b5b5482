"""Set up and run one job: load the Zuul config, freeze the job, lay out the workspace, fetch the
change under test, run the build. Used by `certkit ci run` and by the listener."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from certkit.ci.buildsettings import BuildSettings
from certkit.ci.executor import Build, BuildResult
from certkit.ci.jobs import freeze_job
from certkit.ci.workspace import Project, fetch_change, head_commit, check_project_name
from certkit.ci.zuulconfig import ZuulLayout, load_layout
from certkit.errors import CertkitError

LOCAL_HOSTNAME = "localhost"


def project_root() -> Path:
    """The certkit source tree this code runs from (holds ci/zuul.d and ci/playbooks)."""
    return Path(__file__).resolve().parents[2]


def default_config_dirs() -> list[Path]:
    """certkit's own Zuul configuration."""
    return [project_root() / "ci" / "zuul.d"]


def source_project(root: Path) -> Project:
    """A configuration repository as a workspace project (certkit's own is named certkit)."""
    name = root.name
    pyproject = root / "pyproject.toml"
    if pyproject.is_file() and re.search(r'(?m)^name\s*=\s*"certkit"', pyproject.read_text()):
        name = "certkit"
    return Project(canonical_hostname=LOCAL_HOSTNAME, name=name, path=root,
                   commit=head_commit(root))


@dataclass
class JobRequest(BuildSettings):
    """Everything `certkit ci run` or the listener decides before a build starts."""

    job: str
    config_dirs: list[Path]
    work_root: Path
    log_root: Path
    git_url: str | None = None
    canonical_hostname: str = "opendev.org"


def load(request: JobRequest) -> ZuulLayout:
    """The layout of the request's configuration directories."""
    return load_layout(request.config_dirs or default_config_dirs())


def run_job(request: JobRequest, layout: ZuulLayout | None = None) -> BuildResult:
    """Freeze, prepare and run the requested job; errors raise CertkitError (one line)."""
    layout = layout or load(request)
    branch = request.change.branch if request.change else "master"
    job = freeze_job(layout, request.job, branch=branch)
    build_dir = request.work_root / request.build
    projects = [source_project(source.root) for source in layout.sources]
    project = projects[0]
    if request.change:
        if not request.git_url:
            raise CertkitError("--change needs a Gerrit git URL (--gerrit-git-url or "
                               "CERTKIT_GERRIT_GIT_URL)")
        change_project = Project(canonical_hostname=request.canonical_hostname,
                                 name=check_project_name(request.change.project), path=Path(),
                                 branch=branch)
        change_project.path = build_dir / "work" / change_project.src_dir
        change_project.commit = fetch_change(request.git_url, request.change, change_project.path)
        projects.append(change_project)
        project = change_project
    build = Build(layout=layout, job=job, projects=projects, project=project,
                  build_dir=build_dir, log_dir=request.log_root, **request.build_settings())
    return build.run()
