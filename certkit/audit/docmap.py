"""Doc drift: Manila's share back-end feature-support mapping (the rst grid tables in
doc/source/admin/share_back_ends_feature_support_mapping.rst) against the code evidence of the
audit. Every cell where the doc and the code disagree is listed with the code's evidence."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from certkit.audit.class_audit import DRIFT, IMPLEMENTED, NOT_IMPLEMENTED, UNKNOWN, ClassAudit
from certkit.errors import CertkitError

# The doc's driver names, matched against the rows' class paths (lower-case substrings, all
# must appear). A doc name missing here is reported as unmatched, never guessed.
DOC_ROWS: dict[str, tuple[str, ...]] = {
    "ZFSonLinux": ("zfsonlinux.driver",), "Container": ("container.driver",),
    "Generic (Cinder as back-end)": ("generic.genericsharedriver",),
    "NetApp Clustered Data ONTAP": ("netapp.dataontap.cluster_mode",),
    "Dell PowerMax": ("emc_share_backend = powermax",), "Dell VNX": ("emc_share_backend = vnx",),
    "Dell Unity": ("emc_share_backend = unity",), "Dell PowerScale": ("emc_share_backend = powerscale",),
    "EMC PowerScale": ("emc_share_backend = powerscale",),
    "Dell PowerStore": ("emc_share_backend = powerstore",),
    "Dell PowerFlex": ("emc_share_backend = powerflex",),
    "GlusterFS": ("glusterfs.glusterfssharedriver",), "GlusterFS-Native": ("glusterfs_native",),
    "HDFS": ("hdfs_native",), "Hitachi HNAS": ("hitachi.hnas",), "Hitachi HSP": ("hitachi.hsp",),
    "HPE 3PAR": ("hpe_3par",), "HPE Alletra MP B10000": ("alletra",), "Huawei": ("huawei",),
    "INFINIDAT": ("infinidat",), "Infortrend": ("infortrend",), "LVM": ("lvm.lvmsharedriver",),
    "Macrosan": ("macrosan",), "Quobyte": ("quobyte",), "Windows SMB": ("windows_smb",),
    "IBM GPFS": ("ibm.gpfs",), "Oracle ZFSSA": ("zfssa",), "CephFS": ("cephfs.driver",),
    "Tegile": ("tegile",), "NexentaStor4": ("nexenta.ns4",), "NexentaStor5": ("nexenta.ns5",),
    "MapRFS": ("maprfs",), "QNAP": ("qnap",), "INSPUR AS13000": ("as13000",),
    "INSPUR InStorage": ("instorage",), "Everpure FlashBlade": ("purestorage.flashblade",),
    "Pure Storage FlashBlade": ("purestorage.flashblade",), "Vastdata": ("vastdata",),
    "Lustre": ("lustre",), "Weka": ("weka",), "Zadara": ("zadara",), "Veritas Access": ("veritas",),
}

# Doc column (section-qualified for the access table) -> ("feature", id) | ("dhss", bool) |
# ("capability", stats key) | ("read-only", access feature): read-only access of one type needs
# access_ro and that type; code can contradict a "supported" cell there, never a "-". Columns not listed (security services, thick provisioning,
# ipv4_support) are not something the code can show; they are skipped and counted.
DOC_COLUMNS: dict[str, tuple[str, Any]] = {
    "create delete share": ("feature", "share"), "manage unmanage share": ("feature", "manage_share"),
    "extend share": ("feature", "extend"), "shrink share": ("feature", "shrink"),
    "create delete snapshot": ("feature", "snapshot"),
    "create share from snapshot": ("feature", "create_from_snapshot"),
    "manage unmanage snapshot": ("feature", "manage_snapshot"),
    "revert to snapshot": ("feature", "revert_to_snapshot"),
    "mountable snapshot": ("feature", "mountable_snapshot"),
    "read & write ipv4": ("feature", "access_ip"), "read & write user": ("feature", "access_user"),
    "read & write cert": ("feature", "access_cert"), "read & write cephx": ("feature", "access_cephx"),
    "read only ipv4": ("read-only", "access_ip"), "read only user": ("read-only", "access_user"),
    "read only cert": ("read-only", "access_cert"), "read only cephx": ("read-only", "access_cephx"),
    "read & write ipv6": ("feature", "ipv6"),
    "dhss=true": ("dhss", True), "dhss=false": ("dhss", False), "qos": ("feature", "qos"),
    "dedupe": ("capability", "dedupe"), "compression": ("capability", "compression"),
    "thin_provisioning": ("capability", "thin_provisioning"),
    "ipv6_support": ("feature", "ipv6"),
    "multiple subnets per az": ("capability", "share_server_multiple_subnet_support"),
    "mount point name support": ("capability", "mount_point_name_support"),
}


@dataclass(frozen=True)
class DocCell:
    """One cell of the doc's tables."""

    table: str
    doc_row: str
    column: str
    value: str
    line: int

    @property
    def supported(self) -> bool | None:
        """True: a release letter or text; False: `-`; None: `?` or empty."""
        text = self.value.strip()
        if text in ("-", "\\-"):
            return False
        if text in ("", "?"):
            return None
        return True


@dataclass(frozen=True)
class DocDrift:
    """A doc cell the code contradicts."""

    cell: DocCell
    row: str | None
    feature: str
    code: str
    evidence: str

    def __str__(self) -> str:
        return (f"line {self.cell.line}: {self.cell.doc_row} / {self.cell.column}: doc says "
                f"{self.cell.value!r}, code says {self.code} ({self.row}: {self.evidence})")

    def to_json(self) -> dict[str, Any]:
        """JSON form (audit.schema.json, doc_drift)."""
        return {"doc_row": self.cell.doc_row, "row": self.row, "column": self.cell.column,
                "feature": self.feature, "doc": self.cell.value, "code": self.code,
                "evidence": f"{self.evidence} (doc line {self.cell.line})"}


def _spans(line: str) -> list[tuple[int, int, str]]:
    bars = [i for i, ch in enumerate(line) if ch == "|" and (i == 0 or line[i - 1] != "\\")]
    return [(a, b, line[a + 1:b].strip()) for a, b in zip(bars, bars[1:])]


def parse_tables(text: str) -> list[DocCell]:
    """Every data cell of every grid table, with its section, row name, column name and line."""
    cells: list[DocCell] = []
    lines = text.splitlines()
    section, header, in_body, previous = "", [], False, ""
    for number, line in enumerate(lines, 1):
        if re.fullmatch(r"-{3,}|={3,}", line.strip()) and previous.strip() and not previous.startswith(("+", "|")):
            section = previous.strip()
        previous = line
        if not line.startswith(("+", "|")):
            header, in_body = [], False
            continue
        if line.startswith("+") and "=" in line:
            in_body = True
            continue
        if line.startswith("+"):
            continue
        if not in_body:
            header.append(_spans(line))
            continue
        row = _spans(line)
        if not row or not row[0][2]:
            continue
        name = row[0][2]
        for start, end, value in row[1:]:
            column = _column_name(header, start, end)
            cells.append(DocCell(section, name, column, value.replace("\\-", "-"), number))
    return cells


def _column_name(header: list[list[tuple[int, int, str]]], start: int, end: int) -> str:
    parts = [text for spans in header for a, b, text in spans if a <= start and end <= b and text]
    return " ".join(parts)


def _rows_for(doc_row: str, rows: Sequence[ClassAudit]) -> list[ClassAudit]:
    needles = DOC_ROWS.get(doc_row)
    if not needles:
        return []
    return [r for r in rows if r.imported and all(n in r.path.lower() for n in needles)]


def _code_mark(rows: Sequence[ClassAudit], kind: str, key: Any) -> tuple[str, str, str]:
    """(mark, evidence, row) for the best of the rows (a doc row may cover several back ends)."""
    best: tuple[str, str, str] | None = None
    rank = {IMPLEMENTED: 0, DRIFT: 0, UNKNOWN: 1, NOT_IMPLEMENTED: 2}
    for row in rows:
        if kind == "feature":
            mark, why = row.features.get(key, UNKNOWN), row.evidence.get(key, "")
        elif kind == "read-only":
            worst = max(("access_ro", key), key=lambda k: rank.get(row.features.get(k, UNKNOWN), 1))
            mark, why = row.features.get(worst, UNKNOWN), f"{worst}: {row.evidence.get(worst, '')}"
        elif kind == "dhss":
            if row.dhss_modes is None:
                mark, why = UNKNOWN, "DHSS modes are not declared literally: needs a run"
            else:
                mark = IMPLEMENTED if key in row.dhss_modes else NOT_IMPLEMENTED
                why = f"declares driver_handles_share_servers {row.dhss_modes}"
        else:
            mark, why = row.capabilities.get(key, (UNKNOWN, "not examined"))
        candidate = (mark, why, row.path.removeprefix("manila.share.drivers."))
        if best is None or rank.get(mark, 1) < rank.get(best[0], 1):
            best = candidate
    assert best is not None
    return best


@dataclass
class DocComparison:
    """The outcome: disagreements, and what could not be compared (and why)."""

    drift: list[DocDrift]
    unmatched_rows: list[str]
    skipped_columns: list[str]
    agreed: int
    unknown: int


def compare_doc(path: str | Path, rows: Sequence[ClassAudit]) -> DocComparison:
    """Compare the doc's cells with the audit rows."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CertkitError(f"{path}: cannot read the feature-support mapping: {exc}") from None
    cells = parse_tables(text)
    if not cells:
        raise CertkitError(f"{path}: no grid table found (is this share_back_ends_feature_support_mapping.rst?)")
    result = DocComparison([], [], [], 0, 0)
    for cell in cells:
        column = cell.column.lower()
        mapping = DOC_COLUMNS.get(column)
        if mapping is None:
            if column not in result.skipped_columns:
                result.skipped_columns.append(column)
            continue
        matched = _rows_for(cell.doc_row, rows)
        if not matched:
            if cell.doc_row not in result.unmatched_rows:
                result.unmatched_rows.append(cell.doc_row)
            continue
        mark, evidence, row = _code_mark(matched, *mapping)
        doc = cell.supported
        code = {IMPLEMENTED: True, DRIFT: True, NOT_IMPLEMENTED: False}.get(mark)
        if mapping[0] == "read-only" and code is True:
            code = None  # both halves shown does not prove this combination
        if doc is None or code is None:
            result.unknown += 1
        elif doc == code:
            result.agreed += 1
        else:
            result.drift.append(DocDrift(cell, row, str(mapping[1]),
                                         "implemented" if code else "not implemented", evidence))
    return result


def render_comparison(result: DocComparison, path: str | Path) -> str:
    """The list a core reviewer turns into doc fixes."""
    lines = [f"{path}: {len(result.drift)} cell(s) where the doc and the code disagree "
             f"({result.agreed} agree, {result.unknown} need a run or say '?')"]
    lines += [f"  {d}" for d in result.drift]
    if result.unmatched_rows:
        lines.append(f"  doc rows with no in-tree back end: {', '.join(result.unmatched_rows)}")
    if result.skipped_columns:
        lines.append(f"  columns the code cannot show (not compared): {', '.join(result.skipped_columns)}")
    return "\n".join(lines)
