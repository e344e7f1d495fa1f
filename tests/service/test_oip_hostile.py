"""Hostile /v2 requests (issue 26, rows 5, 6 and 1): each a 400 in the protocol's error form
(``{"error": ...}`` naming the tensor or field), on a connection that stays usable: every test
sends its requests and then a good one through one ``httpx.Client`` (one keep-alive
connection), and checks that the good one is answered on that same connection."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.service.conftest import MAX_BODY_BYTES
from tests.support.threaded_server import ThreadedServer

SHOWERS = "showers_tiny"  # one condition (incident energy, MeV), latent width 8
INFER = f"/v2/models/{SHOWERS}/infer"
GOOD = {"inputs": [{"name": "conditions", "shape": [2, 1], "datatype": "FP32", "data": [5e3, 2e4]}]}


@pytest.fixture
def one_connection(server: ThreadedServer) -> Iterator[httpx.Client]:
    """A client holding at most one connection, so a closed one shows as a new one."""
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    with httpx.Client(base_url=server.url, timeout=60, limits=limits) as client:
        yield client


def _connection_of(response: httpx.Response) -> object:
    """The network stream a response came on (a new object after a reconnect)."""
    return response.extensions["network_stream"]


def _tensor(name: str, shape: list[int], data: object, datatype: str = "FP32") -> dict:
    return {"name": name, "shape": shape, "datatype": datatype, "data": data}


def _assert_400_then_usable(client: httpx.Client, response: httpx.Response, names: str) -> None:
    assert response.status_code == 400, response.text
    assert names in response.json()["error"], response.json()
    good = client.post(INFER, json=GOOD)
    assert good.status_code == 200, good.text
    assert _connection_of(good) is _connection_of(response), "the connection was closed"


@pytest.mark.parametrize(
    ("inputs", "names"),
    [
        ([_tensor("conditions", [2**32, 2**32], [])], "values given for shape"),
        ([_tensor("conditions", [2**62, 4], [])], "values given for shape"),
        ([_tensor("conditions", [0, 2**63], [])], "'conditions'"),
        (
            [_tensor("conditions", [1, 1], [5e3]), _tensor("noise", [1, 8], [3e38] * 8)],
            "'noise'",
        ),
        (
            [_tensor("conditions", [1, 1], [5e3]), _tensor("noise", [1, 8], [1e300] * 8, "FP64")],
            "'noise'",
        ),
    ],
    ids=["2^32x2^32", "2^62x4", "0x2^63", "noise-3e38", "noise-1e300"],
)
def test_shapes_and_noise_that_gave_500_are_400(
    one_connection: httpx.Client, inputs: list[dict], names: str
) -> None:
    response = one_connection.post(INFER, json={"inputs": inputs})
    _assert_400_then_usable(one_connection, response, names)


@pytest.mark.parametrize("length", [b"\xb2", b"1\xb9", b"\xd9\xa3", b"1_2", b"-1"])
def test_a_header_length_that_is_not_ascii_digits_is_400(
    one_connection: httpx.Client, length: bytes
) -> None:
    """Superscript digits (Latin-1 "²") pass str.isdigit() but not int(): they gave a 500."""
    body = httpx.Request("POST", "/", json=GOOD).read()
    response = one_connection.post(
        INFER,
        content=body,
        headers={"Content-Type": "application/json", "Inference-Header-Content-Length": length},
    )
    _assert_400_then_usable(one_connection, response, "Inference-Header-Content-Length")


@pytest.mark.parametrize(
    "data",
    [["5000"], "5000", [True], [5e3, True], [[5e3], ["5000"]], {"0": 5e3}],
    ids=["string-item", "string", "bool", "bool-after-number", "nested-string", "object"],
)
def test_strings_booleans_and_objects_are_not_numbers(
    one_connection: httpx.Client, data: object
) -> None:
    n_values = len(data) if isinstance(data, list) else 1
    body = {"inputs": [_tensor("conditions", [n_values, 1], data)]}
    response = one_connection.post(INFER, json=body)
    _assert_400_then_usable(one_connection, response, "$.inputs[0].data")


@pytest.mark.parametrize(
    ("item", "names"),
    [
        (b"[[[]]]", "$.inputs[0].data[0][0]"),
        (b"[[[[[[[]]]]]]]", "$.inputs[0].data[0][0]"),
        (b'{"a":[]}', "$.inputs[0].data[0]"),
        (b"[]", "0 values given for shape"),  # rows of no values: well-typed, the wrong size
    ],
    ids=["3", "7", "object", "empty-rows"],
)
def test_nested_items_in_data_stop_at_the_first(
    one_connection: httpx.Client, item: bytes, names: str
) -> None:
    """A body of nested empty lists, as large as the limit allows, stops at its first item."""
    n_items = (MAX_BODY_BYTES - 200) // (len(item) + 1)
    head = b'{"inputs": [{"name": "conditions", "shape": [%d, 1], "datatype": "FP32", "data": ['
    body = head % n_items + b",".join([item] * n_items) + b"]}]}"
    response = one_connection.post(
        INFER, content=body, headers={"Content-Type": "application/json"}
    )
    _assert_400_then_usable(one_connection, response, names)
