"""Decoding of HeyWatch responses (JSON and both XML eras) into one normalised form.

The normalised form is the 2011 JSON API: a dict for one object, a list for a list, field names
with underscores, the types of :mod:`airflow_heywatch.api.models`, dates as ISO-8601 strings with
an offset. JSON values are kept exactly as the server sent them.

XML comes in two shapes and both are understood:

- the wiki's hand-built XML (2006-2009): dashed element names, empty elements for null,
  ``<progress percent="100" current_length="2109"/>`` (attributes of an empty element are its
  fields), dates as Ruby ``Time#to_s`` (``Fri Oct 27 14:26:18 CEST 2006``);
- Rails ``to_xml``: ``type="integer|float|boolean|datetime|array"`` and ``nil="true"``
  attributes, ``<nil-classes/>`` for an empty list. A document with ``nil=`` attributes, a
  ``type="array"`` root or ``type=`` on the fields of its objects is read as Rails XML: null is
  ``nil="true"`` there, so an empty string element stays ``""``. In either shape an empty
  element with ``type="string"`` is ``""``.

In both, an empty free-form object (``<encoding-options/>``) is ``{}``. Fields named in the
schemas get the schema's type (``specs.format_id`` stays the string ``"31"``); other fields keep
a Rails ``type=`` or get an inferred type (``true``/``false``, integers, decimals, dates).

XML is untrusted: it is parsed with defusedxml, and any DTD, entity declaration or external
reference is refused (:class:`HeyWatchDecodeError`). defusedxml is imported only when XML is
decoded.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

from airflow_heywatch.api.errors import HeyWatchDecodeError
from airflow_heywatch.api.models import DATETIME, XML_NAMES, FieldType, Schema, schema_for
from airflow_heywatch.api.redact import redact_text as _mask

if TYPE_CHECKING:
    from xml.etree.ElementTree import Element

__all__ = [
    "decode_body",
    "decode_error_message",
    "decode_json",
    "decode_xml",
    "normalise_datetime",
]

# --------------------------------------------------------------------------- dates

# Zone abbreviations printed by Ruby 1.8 Time#to_s on the servers and clients of the time.
_ZONES: dict[str, str] = {
    "UTC": "+00:00",
    "GMT": "+00:00",
    "Z": "+00:00",
    "WET": "+00:00",
    "WEST": "+01:00",
    "BST": "+01:00",
    "CET": "+01:00",
    "CEST": "+02:00",
    "MET": "+01:00",
    "MEST": "+02:00",
    "EET": "+02:00",
    "EEST": "+03:00",
    "MSK": "+03:00",
    "EST": "-05:00",
    "EDT": "-04:00",
    "CST": "-06:00",
    "CDT": "-05:00",
    "MST": "-07:00",
    "MDT": "-06:00",
    "PST": "-08:00",
    "PDT": "-07:00",
    "AKST": "-09:00",
    "AKDT": "-08:00",
    "HST": "-10:00",
    "JST": "+09:00",
}
_MONTHS = {
    name: number
    for number, name in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), start=1
    )
}
# Ruby 1.8: "Fri Oct 27 14:26:18 CEST 2006", "Fri Nov 06 10:55:59 +0100 2009"
_RUBY18 = re.compile(
    r"^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) (?P<mon>[A-Z][a-z]{2}) +(?P<day>\d{1,2}) "
    r"(?P<time>\d{2}:\d{2}:\d{2}) (?P<zone>[A-Z]{1,5}|[+-]\d{4}) (?P<year>\d{4})$"
)
# Ruby 1.9+ / Rails: "2009-11-06 10:55:59 +0100", "2009-11-06 09:55:59 UTC"
_RUBY19 = re.compile(
    r"^(?P<date>\d{4}-\d{2}-\d{2}) (?P<time>\d{2}:\d{2}:\d{2}) (?P<zone>[A-Z]{1,5}|[+-]\d{4})$"
)
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?$")


def _offset(zone: str) -> str | None:
    if zone[0] in "+-":
        return f"{zone[:3]}:{zone[3:]}"
    return _ZONES.get(zone)


def normalise_datetime(text: str) -> str:
    """A date as ISO-8601 with offset; Ruby ``Time#to_s`` forms are converted.

    ``Fri Oct 27 14:26:18 CEST 2006`` → ``2006-10-27T14:26:18+02:00``;
    ``Fri Nov 06 10:55:59 +0100 2009`` → ``2009-11-06T10:55:59+01:00``. ISO-8601 input, and
    anything not understood (e.g. an unknown zone name), is returned unchanged.
    """
    value = text.strip()
    match = _RUBY18.match(value)
    if match and match["mon"] in _MONTHS:
        offset = _offset(match["zone"])
        if offset is not None:
            return (
                f"{match['year']}-{_MONTHS[match['mon']]:02d}-{int(match['day']):02d}T{match['time']}{offset}"
            )
        return text
    match = _RUBY19.match(value)
    if match:
        offset = _offset(match["zone"])
        if offset is not None:
            return f"{match['date']}T{match['time']}{offset}"
    return text


def _looks_like_date(text: str) -> bool:
    value = text.strip()
    return bool(_RUBY18.match(value) or _RUBY19.match(value))


# --------------------------------------------------------------------------- scalar coercion

_INT = re.compile(r"^[+-]?(?:0|[1-9]\d*)$")
_FLOAT = re.compile(r"^[+-]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?$")
_RAILS_TYPES = {
    "integer",
    "float",
    "decimal",
    "boolean",
    "datetime",
    "date",
    "array",
    "string",
    "symbol",
    "yaml",
    "hash",
}


def _to_int(text: str) -> int | str:
    value = text.strip()
    if _INT.match(value):
        return int(value)
    if _FLOAT.match(value) and float(value).is_integer():  # "100.0" where an int is expected
        return int(float(value))
    return text


def _to_float(text: str) -> float | str:
    value = text.strip()
    return float(value) if _FLOAT.match(value) else text


def _to_bool(text: str) -> bool | str:
    value = text.strip().lower()
    if value in ("true", "1"):
        return True
    if value in ("false", "0"):
        return False
    return text


def _infer(text: str) -> Any:
    """The JSON type a field outside the schemas most likely had."""
    value = text.strip()
    if value in ("true", "false"):
        return value == "true"
    if _INT.match(value):
        return int(value)
    if _FLOAT.match(value) and "." in value:
        return float(value)
    if _looks_like_date(value):
        return normalise_datetime(value)
    return text


def _coerce(text: str, ftype: FieldType | None, rails_type: str | None) -> Any:
    """Element text in the type of the schema; Rails ``type=`` or inference outside it."""
    if ftype is int:
        return _to_int(text)
    if ftype is float:
        return _to_float(text)
    if ftype is bool:
        return _to_bool(text)
    if ftype is str:
        return text
    if ftype == DATETIME:
        return normalise_datetime(text)
    if rails_type in ("integer",):
        return _to_int(text)
    if rails_type in ("float", "decimal"):
        return _to_float(text)
    if rails_type == "boolean":
        return _to_bool(text)
    if rails_type in ("datetime",):
        return normalise_datetime(text)
    if rails_type in ("string", "symbol", "date", "yaml"):
        return text
    return _infer(text)


# --------------------------------------------------------------------------- XML tree → data


def _name(tag: str) -> str:
    """Element or attribute name in normalised form: no namespace, dashes → underscores."""
    if "}" in tag:
        tag = tag.rsplit("}", 1)[1]
    return tag.replace("-", "_")


def _meta(element: Element) -> tuple[str | None, bool, dict[str, str]]:
    """Split Rails meta attributes (``type``, ``nil``) from data attributes."""
    rails_type = None
    is_nil = False
    data: dict[str, str] = {}
    for key, value in element.attrib.items():
        name = _name(key)
        if name == "type" and value in _RAILS_TYPES:
            rails_type = value
        elif name == "nil" and value in ("true", "false"):
            is_nil = value == "true"
        else:
            data[name] = value
    return rails_type, is_nil, data


def _text(element: Element) -> str:
    return element.text or ""


def _is_rails(root: Element, objects: list[Element]) -> bool:
    """True for Rails ``to_xml`` output.

    Rails marks every null with ``nil="true"``, a list root with ``type="array"`` and the typed
    fields of each object with ``type=`` (never ``type="string"``). Wiki XML may carry ``type=``
    inside free-form objects (``<encoding-options>``) and ``type="string"`` on an empty string
    field; neither is taken as a sign of Rails.
    """
    if any(element.get("nil") in ("true", "false") for element in root.iter()):
        return True
    if _meta(root)[0] == "array":
        return True
    return any(_meta(field)[0] not in (None, "string") for obj in objects for field in obj)


def _element_to_value(element: Element, ftype: FieldType | None, rails: bool = False) -> Any:
    """One element as a value of type ``ftype`` (``None`` when the field is outside the schema).

    An empty element is ``None`` in wiki XML; in Rails XML (where null is ``nil="true"``) it is
    ``""`` for a string field.
    """
    rails_type, is_nil, attributes = _meta(element)
    if is_nil:
        return None
    children = list(element)
    schema: Schema = ftype if isinstance(ftype, Mapping) else {}
    if rails_type == "array":
        return [_element_to_value(child, schema or None, rails) for child in children]
    text = _text(element)
    if children or (attributes and not text.strip()):
        return _fields(children, attributes, schema, rails)
    if not text.strip():
        if ftype is dict or rails_type == "hash":
            return {}
        if rails_type == "string" or (rails and ftype is str) or (rails and ftype is None and not rails_type):
            return text
        return None
    return _coerce(text, ftype, rails_type)


def _fields(
    children: list[Element], attributes: Mapping[str, str], schema: Schema, rails: bool = False
) -> dict[str, Any]:
    """A dict from data attributes and child elements, typed by ``schema``.

    An empty attribute value is ``None``; repeated sibling elements become a list.
    """
    result: dict[str, Any] = {}
    for name, raw in attributes.items():
        result[name] = None if raw == "" else _coerce(raw, schema.get(name), None)
    repeated: set[str] = set()
    for child in children:
        name = _name(child.tag)
        value = _element_to_value(child, schema.get(name), rails)
        if name in repeated:
            result[name].append(value)
        elif name in result and name not in attributes:
            result[name] = [result[name], value]
            repeated.add(name)
        else:
            result[name] = value
    return result


def _parse_xml(data: bytes | str) -> Element:
    import defusedxml
    from defusedxml.ElementTree import ParseError, fromstring

    try:
        return fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except defusedxml.DTDForbidden as exc:
        raise HeyWatchDecodeError(
            "XML with a document type declaration (DTD) is refused: HeyWatch responses never "
            f"carry one, and it could expand entities or fetch external files ({exc})"
        ) from None
    except (defusedxml.EntitiesForbidden, defusedxml.ExternalReferenceForbidden) as exc:
        raise HeyWatchDecodeError(
            f"XML with entity declarations or external references is refused ({exc})"
        ) from None
    except defusedxml.DefusedXmlException as exc:
        raise HeyWatchDecodeError(f"unsafe XML refused ({exc})") from None
    except (ParseError, ValueError, TypeError) as exc:
        raise HeyWatchDecodeError(f"not well-formed XML ({exc}); body starts with {_snippet(data)}") from None


def _snippet(data: bytes | str, limit: int = 120) -> str:
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    text = " ".join(text.split())
    if len(text) > limit:
        text = text[:limit] + "…"
    return repr(_mask(text))


def _looks_like_html(data: bytes | str) -> bool:
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    head = text.lstrip("\ufeff \t\r\n")[:200].lower()
    return head.startswith(("<!doctype html", "<html")) or "<html" in head[:100]


def decode_xml(text: bytes | str, resource: str) -> Any:
    """Decode an XML body of ``resource`` (``download``, ``format``, …) into normalised data.

    List roots (``<downloads>``, ``<formats>``, ``<nil-classes/>``, any ``type="array"``) give a
    list; single roots (``<download>``, ``<format-specs>``, ``<encoded-video>``,
    ``<account><user>…</user></account>``) give a dict. Raises :class:`HeyWatchDecodeError` for
    anything else (HTML pages, an error ``<message>``, another resource, unsafe XML).
    """
    if _looks_like_html(text):
        raise HeyWatchDecodeError(
            f"expected XML for a HeyWatch {resource}, got an HTML page; body starts with {_snippet(text)}"
        )
    root = _parse_xml(text)
    schema = schema_for(resource)
    tag = _name(root.tag)
    rails_type, is_nil, attributes = _meta(root)
    single, plural = XML_NAMES.get(resource, (resource, resource + "s"))
    single, plural = _name(single), _name(plural)

    if tag == "nil_classes" or rails_type == "array" or (tag == plural and tag != single):
        items = list(root)
        rails = _is_rails(root, items)
        return [_element_to_value(item, schema, rails) for item in items]
    if tag == "message" and attributes.get("status") == "fail":
        raise HeyWatchDecodeError(
            f"expected a HeyWatch {resource}, got an error message: {_mask(_text(root).strip())!r}"
        )
    if is_nil:
        return None
    if resource == "account" and tag == "account":
        users = [child for child in root if _name(child.tag) == "user"]
        others = [child for child in root if _name(child.tag) != "user"]
        rails = _is_rails(root, [root, *users])
        result = _fields(others, attributes, schema, rails)
        for user in users:
            user_value = _element_to_value(user, schema, rails)
            if isinstance(user_value, dict):
                result.update(user_value)
        return result
    if tag == single or (resource == "format" and tag == "format") or resource not in XML_NAMES:
        value = _element_to_value(root, schema, _is_rails(root, [root]))
        return {} if value is None else value
    raise HeyWatchDecodeError(
        f"expected XML for a HeyWatch {resource} (<{single}> or <{plural}>), got a <{root.tag}> document"
    )


# --------------------------------------------------------------------------- JSON


def decode_json(text: bytes | str, resource: str) -> Any:
    """Decode a JSON body of ``resource``: a dict or a list, values kept exactly."""
    try:
        data = json.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:
        what = "an HTML page" if _looks_like_html(text) else "not valid JSON"
        raise HeyWatchDecodeError(
            f"expected JSON for a HeyWatch {resource}, got {what} ({exc}); body starts with {_snippet(text)}"
        ) from None
    if data is None:
        return None
    if not isinstance(data, (dict, list)):
        raise HeyWatchDecodeError(
            f"expected a JSON object or list for a HeyWatch {resource}, got {type(data).__name__} "
            f"{_snippet(json.dumps(data))}"
        )
    return data


# --------------------------------------------------------------------------- entry points


def decode_body(body: bytes | str | None, *, fmt: Literal["json", "xml"], resource: str) -> Any:
    """Decode a response body in ``fmt``; an empty body gives ``None``."""
    if body is None:
        return None
    if not body.strip():
        return None
    if fmt == "json":
        return decode_json(body, resource)
    if fmt == "xml":
        return decode_xml(body, resource)
    raise ValueError(f"fmt must be 'json' or 'xml', not {fmt!r}")


def _message_from_json(data: Any) -> str | None:
    if isinstance(data, dict):
        for key in ("message", "error", "errors"):
            value = data.get(key)
            if isinstance(value, str):
                return value
            if isinstance(value, list) and all(isinstance(item, str) for item in value):
                return "; ".join(value)
        return ""
    if isinstance(data, list) and data and all(isinstance(item, str) for item in data):
        return "; ".join(data)
    return None


def _message_from_xml(body: bytes | str) -> str | None:
    try:
        root = _parse_xml(body)
    except HeyWatchDecodeError:
        return None
    tag = _name(root.tag)
    if tag in ("message", "error"):
        return "".join(root.itertext()).strip()
    if tag == "errors":  # Rails: <errors><error>Url is invalid</error></errors>
        return "; ".join("".join(child.itertext()).strip() for child in root)
    return ""


def decode_error_message(body: bytes | str | None, fmt: str | None = None) -> str:
    """The server's message in an error body; ``""`` when there is none.

    Understands ``{"message": …}`` and ``<message status="fail">…</message>`` (whatever ``fmt``
    says, since error pages do not always follow the requested format), Rails
    ``<errors><error>…</error></errors>``, and a short plain-text body. Never raises.
    """
    if not body:
        return ""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body)
    stripped = text.strip().lstrip("\ufeff")
    if not stripped:
        return ""
    message: str | None = None
    if stripped[0] in "{[":
        try:
            message = _message_from_json(json.loads(stripped))
        except ValueError:
            message = None
    elif stripped[0] == "<":
        if _looks_like_html(stripped):
            return ""
        message = _message_from_xml(body)
    elif len(stripped) <= 300 and "\n" not in stripped:
        message = stripped  # e.g. Rails' "HTTP Basic: Access denied."
    return _mask(message or "").strip()
