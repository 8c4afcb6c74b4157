"""Parse untrusted XML (designer-made BPMN) without external entities, DTD loading or entity bombs.

lxml's defaults resolve internal entities, so a billion-laughs document would expand in memory; we
refuse any document that declares a DTD at all: BPMN never needs one.
"""

from __future__ import annotations

from pathlib import Path

from lxml import etree

from .._errors import InvalidXMLError, Problem
from .extensions import translate_camunda

__all__ = ["parse_xml_bytes", "parse_xml_file"]


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=False,
    )


def parse_xml_bytes(data: bytes, *, filename: str) -> etree._ElementTree:
    """Parse ``data``; raise ``InvalidXMLError`` naming ``filename`` and the line on any problem."""
    # A DOCTYPE is where entity definitions (XXE, billion laughs) live; BPMN has no use for one.
    head = data[:4096].lstrip()
    declared = [pos for pos in (data.find(b"<!DOCTYPE"), data.find(b"<!ENTITY")) if pos >= 0]
    if declared:
        at = data[: min(declared)].count(b"\n") + 1
        raise InvalidXMLError([Problem(filename, "DOCTYPE/ENTITY declarations are not allowed in BPMN files", line=at)])
    if not head:
        raise InvalidXMLError([Problem(filename, "file is empty", line=1)])
    try:
        root = etree.fromstring(data, parser=_parser(), base_url=None)
    except etree.XMLSyntaxError as err:
        line: int | None = err.lineno or None
        msg = str(err.msg if hasattr(err, "msg") and err.msg else err).splitlines()[0]
        raise InvalidXMLError([Problem(filename, f"malformed XML: {msg}", line=line)]) from None
    # Every BPMN reader (checks, deploy, runtime, diagram) parses here: read Camunda 7 extensions once.
    translate_camunda(root)
    return etree.ElementTree(root)


def parse_xml_file(path: Path) -> etree._ElementTree:
    try:
        data = path.read_bytes()
    except OSError as err:
        raise InvalidXMLError([Problem(str(path), f"cannot read file: {err.strerror}")]) from None
    return parse_xml_bytes(data, filename=str(path))
