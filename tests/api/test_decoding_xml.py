"""XML decoding: both eras equal the JSON of the same object; roots; hardening; garbage."""

from __future__ import annotations

import json
import sys

import pytest
from api_helpers import SAMPLES, XML, assert_same

from airflow_heywatch.api.decoding import (
    decode_body,
    decode_error_message,
    decode_json,
    decode_xml,
    normalise_datetime,
)
from airflow_heywatch.api.errors import HeyWatchDecodeError

# (resource, JSON sample of one object, JSON sample of a list)
RESOURCES = [
    ("download", "download_show_devdocs.json", "download_list_devdocs.json"),
    ("video", "video_show_devdocs.json", "video_list_devdocs.json"),
    ("encoded_video", "encoded_video_show_devdocs_unindented.json", "encoded_video_list_devdocs.json"),
    ("format", "format_show_devdocs.json", "format_list_devdocs.json"),
    ("job", "job_create_ruby_readme.json", "job_list_devdocs.json"),
]


@pytest.mark.parametrize("era", ["wiki", "rails"])
@pytest.mark.parametrize(("resource", "show", "listing"), RESOURCES)
def test_xml_equals_json_of_the_same_object(resource, show, listing, era):
    one = decode_xml((XML / f"{resource}_show_{era}.xml").read_bytes(), resource)
    many = decode_xml((XML / f"{resource}_list_{era}.xml").read_bytes(), resource)
    expected_one = json.loads((SAMPLES / show).read_text())
    expected_many = json.loads((SAMPLES / listing).read_text())
    if era == "wiki" and resource == "format":
        # Wiki XML has no way to tell "" from null: an empty element is null there.
        assert expected_many[1]["audio_codec"] == ""
        expected_many[1]["audio_codec"] = None
    assert_same(one, expected_one)
    assert_same(many, expected_many)


def test_rails_xml_empty_string_is_kept_and_nil_is_none():
    body = b'<job><id type="integer">1</id><error-msg nil="true"/><ftp-directive></ftp-directive></job>'
    assert_same(decode_xml(body, "job"), {"id": 1, "error_msg": None, "ftp_directive": ""})
    assert_same(
        decode_xml(b"<job><id>1</id><ftp-directive></ftp-directive></job>", "job"),
        {"id": 1, "ftp_directive": None},
    )
    typed = b'<job><extra type="integer">7</extra><when type="datetime">2009-11-06 09:55:59 UTC</when></job>'
    assert_same(decode_xml(typed, "job"), {"extra": 7, "when": "2009-11-06T09:55:59+00:00"})


@pytest.mark.parametrize("era", ["wiki", "rails"])
def test_account_user_root(era):
    account = decode_body((XML / f"account_{era}.xml").read_bytes(), fmt="xml", resource="account")
    assert_same(account, json.loads((XML / "account.json").read_text()))
    assert_same(account["upload_key"], "1234567890")  # str in the schema, digits or not


def test_encoded_video_format_id_stays_a_string_in_xml():
    data = decode_xml((XML / "encoded_video_show_wiki.xml").read_bytes(), "encoded_video")
    assert_same(data["specs"]["format_id"], "31")
    assert_same(data["specs"]["video"]["stream"], 0.0)
    assert_same(data["specs"]["audio"]["channels"], 0)


def test_format_roots():
    single = decode_xml(
        b"<format-specs><id>5</id><fps>25</fps><two-pass>false</two-pass></format-specs>", "format"
    )
    assert_same(single, {"id": 5, "fps": 25.0, "two_pass": False})
    listing = decode_xml(b"<formats><format-specs><id>5</id></format-specs></formats>", "format")
    assert_same(listing, [{"id": 5}])


@pytest.mark.parametrize("resource", ["download", "video", "encoded_video", "job", "format"])
@pytest.mark.parametrize(
    "body",
    [
        b"<nil-classes/>",
        b'<nil-classes type="array"/>',
        b'<?xml version="1.0"?>\n<nil-classes type="array"></nil-classes>',
    ],
)
def test_empty_list_roots(resource, body):
    assert decode_xml(body, resource) == []


def test_type_array_root_and_plural_root_with_no_children():
    assert decode_xml(b'<downloads type="array"/>', "download") == []
    assert decode_xml(b"<downloads></downloads>", "download") == []
    assert decode_xml(b'<records type="array"><job><id>1</id></job></records>', "job") == [{"id": 1}]


def test_empty_elements_attributes_and_unknown_fields():
    body = b"""<job>
      <id>1</id><error-msg></error-msg><error-code/>
      <encoding-options></encoding-options>
      <progress>55</progress>
      <new-flag>true</new-flag><new-count>0012</new-count><new-number>42</new-number>
      <new-ratio>1.5</new-ratio><new-text>hello</new-text>
      <new-time>Fri Nov 06 10:55:59 +0100 2009</new-time>
      <new-box a="1" b-c=""/>
      <tags><tag>a</tag><tag>b</tag></tags>
    </job>"""
    assert_same(
        decode_xml(body, "job"),
        {
            "id": 1,
            "error_msg": None,
            "error_code": None,
            "encoding_options": {},
            "progress": 55,
            "new_flag": True,
            "new_count": "0012",
            "new_number": 42,
            "new_ratio": 1.5,
            "new_text": "hello",
            "new_time": "2009-11-06T10:55:59+01:00",
            "new_box": {"a": 1, "b_c": None},
            "tags": {"tag": ["a", "b"]},
        },
    )


def test_dynamic_format_id_string_is_kept_when_not_numeric():
    assert decode_xml(b"<job><format-id>mp4:h263</format-id></job>", "job") == {"format_id": "mp4:h263"}


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("Fri Oct 27 14:26:18 CEST 2006", "2006-10-27T14:26:18+02:00"),
        ("Fri Nov 06 10:55:59 +0100 2009", "2009-11-06T10:55:59+01:00"),
        ("Mon Jan  1 00:00:00 UTC 2007", "2007-01-01T00:00:00+00:00"),
        ("Tue Jul 03 08:00:00 PDT 2007", "2007-07-03T08:00:00-07:00"),
        ("2009-11-06 10:55:59 +0100", "2009-11-06T10:55:59+01:00"),
        ("2009-11-06 09:55:59 UTC", "2009-11-06T09:55:59+00:00"),
        ("2011-02-09T17:44:44+01:00", "2011-02-09T17:44:44+01:00"),
        ("Fri Oct 27 14:26:18 XYZT 2006", "Fri Oct 27 14:26:18 XYZT 2006"),
        ("yesterday", "yesterday"),
    ],
)
def test_normalise_datetime(text, iso):
    assert normalise_datetime(text) == iso


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<download><title>&lol3;</title></download>"""

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE download [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<download><title>&xxe;</title></download>"""

EXTERNAL_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE download SYSTEM "http://127.0.0.1:1/evil.dtd">
<download><id>1</id></download>"""


@pytest.mark.parametrize("body", [BILLION_LAUGHS, XXE, EXTERNAL_DTD], ids=["billion-laughs", "xxe", "dtd"])
def test_unsafe_xml_is_refused(body):
    with pytest.raises(HeyWatchDecodeError, match="refused"):
        decode_body(body, fmt="xml", resource="download")
    assert decode_error_message(body, "xml") == ""


@pytest.mark.parametrize(
    "body",
    [
        b"garbage",
        b"<download><id>1</id>",
        b"<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>",
        b"<!DOCTYPE html><html><body>Oops</body></html>",
        b"<video><id>1</id></video>",
        b'<message status="fail">No URL submitted.</message>',
    ],
)
def test_garbage_xml_raises_decode_error(body):
    with pytest.raises(HeyWatchDecodeError):
        decode_body(body, fmt="xml", resource="download")


@pytest.mark.parametrize(
    "body",
    [b"garbage", b"<html><body>502</body></html>", b'{"id": 1', b'"just a string"', b"42"],
)
def test_garbage_json_raises_decode_error(body):
    with pytest.raises(HeyWatchDecodeError):
        decode_body(body, fmt="json", resource="download")


def test_decode_error_text_hides_credentials():
    with pytest.raises(HeyWatchDecodeError) as info:
        decode_json(b"oops ftp://bob:hunter22@host/x", "job")
    assert "hunter22" not in str(info.value)


def test_json_values_kept_exactly_including_unknown_fields():
    body = b'{"id": "12", "progress": 5, "extra": {"a-b": 1.0}, "format_id": "31"}'
    assert_same(
        decode_json(body, "job"), {"id": "12", "progress": 5, "extra": {"a-b": 1.0}, "format_id": "31"}
    )
    assert decode_body(b"null", fmt="json", resource="job") is None
    with pytest.raises(ValueError, match="fmt"):
        decode_body(b"{}", fmt="yaml", resource="job")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("body", "fmt", "message"),
    [
        (b'{"message":"Url is invalid"}', "json", "Url is invalid"),
        (b'<message status="fail">No URL submitted.</message>', "xml", "No URL submitted."),
        (
            b'<?xml version="1.0"?>\n<message status="fail">No URL submitted.</message>',
            "json",
            "No URL submitted.",
        ),
        (b'{"message":"Url is invalid"}', "xml", "Url is invalid"),
        (
            b"<errors><error>Url is invalid</error><error>Title too long</error></errors>",
            "xml",
            "Url is invalid; Title too long",
        ),
        (b'{"errors": ["a", "b"]}', "json", "a; b"),
        (b"HTTP Basic: Access denied.\n", "json", "HTTP Basic: Access denied."),
        (b"", "json", ""),
        (b"{}", "json", ""),
        (b"<download><id>1</id></download>", "xml", ""),
        (b"<html><body>Internal error</body></html>", "xml", ""),
        (b"not json {", "json", "not json {"),
        (b'{"message": "ftp://u:secretpass@h/ refused"}', "json", "ftp://u:***@h/ refused"),
    ],
)
def test_decode_error_message(body, fmt, message):
    assert decode_error_message(body, fmt) == message


def test_xml_parser_is_loaded_only_when_xml_is_decoded():
    import subprocess

    code = (
        "import sys, airflow_heywatch.api as api\n"
        "from airflow_heywatch.api import decoding, errors, status, models, options, redact\n"
        "api.decode_body(b'{}', fmt='json', resource='job'); api.classify({'status': 'finished'})\n"
        "assert 'defusedxml' not in sys.modules, 'defusedxml imported'\n"
        "assert not [m for m in sys.modules if m.split('.')[0] == 'airflow'], 'airflow imported'\n"
        "api.decode_body(b'<job/>', fmt='xml', resource='job')\n"
        "assert 'defusedxml' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_typed_values_inside_free_form_objects_do_not_make_wiki_xml_rails():
    body = (
        b"<job><id>1</id><error-msg /><ftp-directive></ftp-directive>"
        b'<encoding-options><keep-video-size type="boolean">true</keep-video-size>'
        b'<x264-options type="string"></x264-options></encoding-options>'
        b'<audio-codec type="string"></audio-codec></job>'
    )
    assert_same(
        decode_xml(body, "job"),
        {
            "id": 1,
            "error_msg": None,
            "ftp_directive": None,
            "encoding_options": {"keep_video_size": True, "x264_options": ""},
            "audio_codec": "",
        },
    )


def test_rails_detection_from_list_items_and_account_user():
    listing = (
        b'<formats><format-specs><id type="integer">1</id><audio-codec></audio-codec></format-specs>'
        b"</formats>"
    )
    assert_same(decode_xml(listing, "format"), [{"id": 1, "audio_codec": ""}])
    account = b'<account><user><io type="integer">5</io><env></env></user></account>'
    assert_same(decode_xml(account, "account"), {"io": 5, "env": ""})
