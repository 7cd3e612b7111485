"""Write resources the way HeyWatch v1 did: JSON in the 2011 shape, XML in the wiki shape.

The input is always the normalised JSON form (what :mod:`airflow_heywatch.api.decoding` returns),
so for every resource ``decode_xml(to_xml(r, x), r) == x`` and ``json.loads(to_json(x)) == x``.

XML shape (HEYWATCH_API.md §2.6, §4.4, §5.6, §6.4, §7):

- element names are dasherized (``video_id`` → ``<video-id>``); attribute names keep underscores;
- ``None`` is an empty element (``<error-msg></error-msg>``);
- booleans are ``true`` / ``false``; dates are Ruby ``Time#to_s`` with a numeric offset
  (``Wed Feb 09 17:44:44 +0100 2011``);
- download ``progress`` and specs ``audio`` / ``video`` are empty elements whose data sits in
  attributes (``<progress percent="100" current_length="2109"/>``); ``None`` attributes are left out;
- free-form objects (``encoding_options``) hold one child per key, typed with Rails ``type=``
  attributes where the value is not a string;
- list roots are ``<downloads>``, ``<videos>``, ``<jobs>``, ``<encoded-videos>``, ``<formats>``
  (of ``<format-specs>``); an empty list is ``<nil-classes/>``;
- one format is ``<format-specs>``; the account is ``<account><user>…</user></account>``;
- errors are ``<message status="fail">…</message>``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from xml.etree.ElementTree import Element, SubElement, indent, tostring  # building only, never parsing

from airflow_heywatch.api.models import XML_ATTRIBUTE_FIELDS, XML_NAMES, field_type

__all__ = ["error_json", "error_xml", "ruby_time", "to_json", "to_xml"]

_XML_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def to_json(data: Any) -> bytes:
    """The compact JSON body Rails' ``to_json`` produced."""
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def error_json(message: str) -> bytes:
    """``{"message": …}`` — the 2011 error body."""
    return to_json({"message": message})


def error_xml(message: str) -> bytes:
    """``<message status="fail">…</message>`` — the wiki error body."""
    root = Element("message", {"status": "fail"})
    root.text = message
    return _finish(root)


def ruby_time(value: str) -> str:
    """An ISO-8601 date with offset as Ruby ``Time#to_s`` wrote it: ``Fri Nov 06 10:55:59 +0100 2009``."""
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    offset = moment.strftime("%z") or "+0000"
    return (
        f"{_DAYS[moment.weekday()]} {_MONTHS[moment.month - 1]} {moment.day:02d} "
        f"{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d} {offset} {moment.year}"
    )


def to_xml(resource: str, data: Mapping[str, Any] | Sequence[Mapping[str, Any]]) -> bytes:
    """One object or a list of objects of ``resource`` (``download``, ``format``, …) as wiki XML."""
    item_name, list_name = XML_NAMES.get(resource, (_dash(resource), _dash(resource) + "s"))
    if isinstance(data, Mapping):
        return _finish(_object(resource, item_name, data))
    items = list(data)
    if not items:
        return _finish(Element("nil-classes"))
    root = Element(list_name)
    for item in items:
        root.append(_object(resource, item_name, item))
    return _finish(root)


def _object(resource: str, name: str, data: Mapping[str, Any]) -> Element:
    if resource == "account":
        root = Element(name)
        _fill(resource, SubElement(root, "user"), data, ())
        return root
    element = Element(name)
    _fill(resource, element, data, ())
    return element


def _fill(resource: str, parent: Element, data: Mapping[str, Any], path: tuple[str, ...]) -> None:
    attribute_fields = XML_ATTRIBUTE_FIELDS.get(resource, ())
    for key, value in data.items():
        here = (*path, key)
        child = SubElement(parent, _dash(key))
        kind = field_type(resource, *here)
        if value is None:
            continue
        if here in attribute_fields and isinstance(value, Mapping):
            for attr, attr_value in value.items():
                if attr_value is not None:
                    child.set(attr, _text(attr_value))
        elif isinstance(value, Mapping):
            if kind is dict:
                _free_form(child, value)
            else:
                _fill(resource, child, value, here)
        elif isinstance(value, (list, tuple)):
            raise TypeError(f"{resource}.{'.'.join(here)}: lists inside objects have no XML shape")
        elif kind == "datetime" and isinstance(value, str):
            child.text = ruby_time(value)
        else:
            child.text = _text(value)


def _free_form(parent: Element, data: Mapping[str, Any]) -> None:
    """A free-form object: one child per key, Rails ``type=`` on non-string values."""
    for key, value in data.items():
        child = SubElement(parent, _dash(str(key)))
        if value is None:
            child.set("nil", "true")
        elif isinstance(value, bool):
            child.set("type", "boolean")
            child.text = _text(value)
        elif isinstance(value, int):
            child.set("type", "integer")
            child.text = _text(value)
        elif isinstance(value, float):
            child.set("type", "float")
            child.text = _text(value)
        elif isinstance(value, Mapping):
            _free_form(child, value)
        else:
            child.text = str(value)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _dash(name: str) -> str:
    return name.replace("_", "-")


def _finish(root: Element) -> bytes:
    indent(root, space="  ")
    return _XML_DECLARATION + tostring(root, encoding="unicode").encode("utf-8")
